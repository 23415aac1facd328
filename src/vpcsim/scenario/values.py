"""Parsers for the scalar values of a scenario file: durations, CIDRs, addresses, ports, bandwidths.

Each raises ValueError with a sentence a user can act on; the schema turns it into a key-path error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Network, ip_address, ip_network
from typing import Any

from vpcsim.model.security import ALL_PORTS, PortRange

MAX_TIME = 86_400.0
"""Longest simulated time a scenario may mention (one day): longer ones are refused as absurd."""

_DURATION = re.compile(r"^\s*([-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\s*(us|µs|ms|s|m|h)?\s*$")
_UNITS = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_BANDWIDTH = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(bps|kbps|mbps|gbps|tbps)\s*$", re.IGNORECASE)
_BW_UNITS = {"bps": 1.0, "kbps": 1e3, "mbps": 1e6, "gbps": 1e9, "tbps": 1e12}


def _short(value: Any, limit: int = 40) -> Any:
    """The value itself, or a shortened copy of a long string, for messages."""
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 3] + "..."
    return value


def shown(value: Any) -> str:
    """A value as a message shows it: ``null``, ``true``, ``a list``, or its (shortened) repr."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(_short(value))


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return value
    if isinstance(value, int):
        return float(value) if abs(value) < 10**300 else math.copysign(math.inf, value)
    return None


def duration(value: Any, *, limit: float = MAX_TIME) -> float:
    """Seconds from a number (seconds) or a string with a unit: ``20s``, ``500ms``, ``250us``, ``2m``."""
    n = _number(value)
    if n is None:
        if not isinstance(value, str):
            raise ValueError(
                f"expected a time (a number of seconds or a string like '20s', '500ms'), got {shown(value)}"
            )
        m = _DURATION.match(value) if len(value) <= 64 else None
        if m is None:
            raise ValueError(f"{_short(value)!r} is not a time: write a number of seconds or '20s', '500ms', '250us'")
        n = float(m.group(1)) * _UNITS[m.group(2)]
    if n != n:
        raise ValueError("a time cannot be NaN: write a number of seconds or '20s', '500ms'")
    if n < 0:
        raise ValueError(f"time {_short(value)!r} is negative: times are zero or positive")
    if n > limit:
        raise ValueError(f"time {_short(value)!r} is longer than the {limit:g} s allowed")
    return n


def duration_between(low: float, high: float, *, above: bool = False) -> Callable[[Any], float]:
    """A :func:`duration` parser that also enforces ``low <= t <= high`` (``low < t`` when ``above``)."""

    def parse(value: Any) -> float:
        t = duration(value, limit=high)
        if t < low or (above and t == low):
            bound = f"more than {low:g} s" if above else f"at least {low:g} s"
            raise ValueError(f"time {_short(value)!r} is too short: it must be {bound}")
        return t

    return parse


def bandwidth(value: Any) -> float:
    """Bits per second from a number (Mbps) or ``'100Mbps'``, ``'1Gbps'``, ``'10Kbps'``."""
    n = _number(value)
    if n is not None:
        bps = n * 1e6
    elif isinstance(value, str) and len(value) <= 64 and (m := _BANDWIDTH.match(value)):
        bps = float(m.group(1)) * _BW_UNITS[m.group(2).lower()]
    else:
        raise ValueError(f"{shown(value)} is not a bandwidth: write Mbps as a number, or '100Mbps', '1Gbps', '10Kbps'")
    if not 1e3 <= bps <= 1e12:
        raise ValueError(f"bandwidth {shown(value)} is outside 1 Kbps .. 1 Tbps")
    return bps


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*$")
_SIZE_UNITS = {
    None: 1,
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KiB": 1 << 10,
    "MiB": 1 << 20,
    "GiB": 1 << 30,
    "TiB": 1 << 40,
}


def size(value: Any) -> int:
    """Bytes from a whole number or ``'100MB'``, ``'64KiB'``, ``'1GB'`` (decimal and binary units)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and len(value) <= 64 and (m := _SIZE.match(value)):
        n = float(m.group(1)) * _SIZE_UNITS[m.group(2)]
        if n == int(n):
            return int(n)
    raise ValueError(f"{shown(value)} is not a size in bytes: write a whole number, or '100MB', '64KiB', '1GB'")


def cidr(value: Any) -> IPv4Network:
    """An IPv4 network; host bits set are an error, not something to fix silently."""
    if not isinstance(value, str):
        raise ValueError(f"expected an IPv4 CIDR like '10.0.0.0/16', got {shown(value)}")
    text = value.strip()
    if "/" not in text:
        raise ValueError(f"{_short(value)!r} is not a CIDR: it needs a prefix length, like '10.0.0.0/16'")
    try:
        net = ip_network(text, strict=True)
    except ValueError as exc:
        if "has host bits set" in str(exc):
            try:
                fixed = ip_network(text, strict=False)
            except ValueError:  # pragma: no cover - strict=False accepts what strict rejected for host bits
                fixed = None
            raise ValueError(
                f"{_short(value)!r} has host bits set: the network is {fixed}"
                if fixed
                else f"{value!r} has host bits set"
            ) from None
        raise ValueError(f"{_short(value)!r} is not a valid IPv4 CIDR") from None
    if not isinstance(net, IPv4Network):
        raise ValueError(f"{_short(value)!r} is not IPv4 (vpcsim models IPv4 only)")
    return net


def address(value: Any) -> IPv4Address:
    if not isinstance(value, str):
        raise ValueError(f"expected an IPv4 address like '10.0.0.5', got {shown(value)}")
    try:
        ip = ip_address(value.strip())
    except ValueError:
        raise ValueError(f"{_short(value)!r} is not a valid IPv4 address") from None
    if not isinstance(ip, IPv4Address):
        raise ValueError(f"{_short(value)!r} is not IPv4 (vpcsim models IPv4 only)")
    return ip


def port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        hint = " (without quotes)" if isinstance(value, str) and value.strip().isdigit() else ""
        raise ValueError(f"expected a port number 1-65535{hint}, got {shown(value)}")
    if not 1 <= value <= 65535:
        raise ValueError(f"port {value} is out of range 1-65535")
    return value


def _port_text(text: str) -> int:
    """A port written as decimal digits inside a string (``'8000-8080'``, ``'HOST:PORT'``)."""
    text = text.strip()
    if len(text) > 6:
        raise ValueError(f"port {_short(text, 12)} is out of range 1-65535")
    return port(int(text))


def port_range(value: Any) -> PortRange:
    """``all``, a port, or ``'LOW-HIGH'`` (Tencent's Port field)."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("all", "any", "*"):
            return ALL_PORTS
        if "-" in text:
            lo_s, _, hi_s = text.partition("-")
            if not (_digits(lo_s) and _digits(hi_s)):
                raise ValueError(f"{_short(value)!r} is not a port range: write 'all', 80, or '8000-8080'")
            lo, hi = _port_text(lo_s), _port_text(hi_s)
            if lo > hi:
                raise ValueError(f"port range {value!r} is reversed: write the lower port first")
            return PortRange(low=lo, high=hi)
        if _digits(text):
            p = _port_text(text)
            return PortRange(low=p, high=p)
        raise ValueError(f"{_short(value)!r} is not a port range: write 'all', 80, or '8000-8080'")
    if value is None or isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected 'all', a port, or a range like '8000-8080', got {shown(value)}")
    p = port(value)
    return PortRange(low=p, high=p)


def socket(value: Any) -> tuple[str, int]:
    """A listener: a bare port (TCP), or ``'udp/53'`` / ``'tcp/8080'``."""
    if isinstance(value, str) and "/" in value:
        protocol, _, port_text = value.partition("/")
        if protocol not in ("tcp", "udp") or not _digits(port_text):
            raise ValueError(f"expected a port, or 'udp/PORT' or 'tcp/PORT', got {shown(value)}")
        return protocol, _port_text(port_text)
    return "tcp", port(value)


def host_maybe_port(value: Any) -> tuple[str, int | None]:
    """``'HOST:PORT'``, or ``'HOST'`` alone (what a ping names)."""
    if isinstance(value, str) and ":" not in value:
        if not value.strip():
            raise ValueError("expected 'HOST:PORT' or, for a ping, 'HOST' (an IP or object id)")
        return value.strip(), None
    return host_port(value)


def host_port(value: Any) -> tuple[str, int]:
    """``'HOST:PORT'`` where HOST is an IPv4 address or an object id."""
    if not isinstance(value, str) or ":" not in value:
        raise ValueError(f"expected 'HOST:PORT' (an IP or object id, a colon, a port), got {shown(value)}")
    host, _, port_text = value.rpartition(":")
    if not host.strip() or not _digits(port_text):
        raise ValueError(f"{_short(value)!r} is not 'HOST:PORT' (an IP or object id, a colon, a port)")
    return host.strip(), _port_text(port_text)


def _digits(text: str) -> bool:
    """ASCII decimal digits only (``str.isdigit`` also accepts '²' and other digits ``int`` rejects)."""
    text = text.strip()
    return bool(text) and text.isascii() and text.isdigit()
