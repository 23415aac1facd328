"""Parsers for the scalar values of a scenario file: durations, CIDRs, addresses, ports, bandwidths.

Each raises ValueError with a sentence a user can act on; the schema turns it into a key-path error.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Network, ip_address, ip_network
from typing import Any

from vpcsim.model.security import ALL_PORTS, PortRange

MAX_TIME = 86_400.0
"""Longest simulated time a scenario may mention (one day): longer ones are refused as absurd."""

_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(us|µs|ms|s|m|h)?\s*$")
_UNITS = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_BANDWIDTH = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(bps|kbps|mbps|gbps)\s*$", re.IGNORECASE)
_BW_UNITS = {"bps": 1.0, "kbps": 1e3, "mbps": 1e6, "gbps": 1e9}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return None


def duration(value: Any, *, limit: float = MAX_TIME) -> float:
    """Seconds from a number (seconds) or a string with a unit: ``20s``, ``500ms``, ``250us``, ``2m``."""
    n = _number(value)
    if n is None:
        if not isinstance(value, str):
            raise ValueError(f"expected a time (a number of seconds or a string like '20s', '500ms'), got {value!r}")
        m = _DURATION.match(value)
        if m is None:
            raise ValueError(f"{value!r} is not a time: write a number of seconds or '20s', '500ms', '250us'")
        n = float(m.group(1)) * _UNITS[m.group(2)]
    if n != n or n < 0:
        raise ValueError(f"time {value!r} must be zero or positive")
    if n > limit:
        raise ValueError(f"time {value!r} is longer than the {limit:g} s allowed")
    return n


def bandwidth(value: Any) -> float:
    """Bits per second from a number (Mbps) or ``'100Mbps'``, ``'1Gbps'``, ``'10Kbps'``."""
    n = _number(value)
    if n is not None:
        bps = n * 1e6
    elif isinstance(value, str) and (m := _BANDWIDTH.match(value)):
        bps = float(m.group(1)) * _BW_UNITS[m.group(2).lower()]
    else:
        raise ValueError(f"{value!r} is not a bandwidth: write Mbps as a number, or '100Mbps', '1Gbps', '10Kbps'")
    if not 1e3 <= bps <= 1e12:
        raise ValueError(f"bandwidth {value!r} is outside 1 Kbps .. 1 Tbps")
    return bps


def cidr(value: Any) -> IPv4Network:
    """An IPv4 network; host bits set are an error, not something to fix silently."""
    if not isinstance(value, str):
        raise ValueError(f"expected an IPv4 CIDR string like '10.0.0.0/16', got {value!r}")
    text = value.strip()
    if "/" not in text:
        raise ValueError(f"{value!r} is not a CIDR: it needs a prefix length, like '10.0.0.0/16'")
    try:
        net = ip_network(text, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid IPv4 CIDR: {exc}") from None
    if not isinstance(net, IPv4Network):
        raise ValueError(f"{value!r} is not IPv4 (vpcsim models IPv4 only)")
    return net


def address(value: Any) -> IPv4Address:
    if not isinstance(value, str):
        raise ValueError(f"expected an IPv4 address string like '10.0.0.5', got {value!r}")
    try:
        ip = ip_address(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a valid IPv4 address") from None
    if not isinstance(ip, IPv4Address):
        raise ValueError(f"{value!r} is not IPv4 (vpcsim models IPv4 only)")
    return ip


def port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a port number 1-65535, got {value!r}")
    if not 1 <= value <= 65535:
        raise ValueError(f"port {value} is out of range 1-65535")
    return value


def port_range(value: Any) -> PortRange:
    """``all``, a port, or ``'LOW-HIGH'`` (Tencent's Port field)."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("all", "any", "*"):
            return ALL_PORTS
        if "-" in text:
            lo_s, _, hi_s = text.partition("-")
            if not (lo_s.strip().isdigit() and hi_s.strip().isdigit()):
                raise ValueError(f"{value!r} is not a port range: write 'all', 80, or '8000-8080'")
            lo, hi = port(int(lo_s)), port(int(hi_s))
            if lo > hi:
                raise ValueError(f"port range {value!r} is reversed")
            return PortRange(low=lo, high=hi)
        if text.isdigit():
            p = port(int(text))
            return PortRange(low=p, high=p)
        raise ValueError(f"{value!r} is not a port range: write 'all', 80, or '8000-8080'")
    p = port(value)
    return PortRange(low=p, high=p)


def host_port(value: Any) -> tuple[str, int]:
    """``'HOST:PORT'`` where HOST is an IPv4 address or an object id."""
    if not isinstance(value, str) or ":" not in value:
        raise ValueError(f"expected 'HOST:PORT' (an IP or object id, a colon, a port), got {value!r}")
    host, _, port_text = value.rpartition(":")
    if not host or not port_text.strip().isdigit():
        raise ValueError(f"{value!r} is not 'HOST:PORT'")
    return host.strip(), port(int(port_text))
