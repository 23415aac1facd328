"""What links and gateways can carry: bandwidth, queues, MTU, service time and connection limits.

Settings come per kind (``settings.links.host``, ``settings.capacity.load_balancer``) and per object
(an instance's ``link``, a load balancer's ``capacity``); a value set on the object wins over its
kind's, and anything set nowhere is unlimited. Nothing here has a cloud default: a front-end applies
its cloud's published numbers (docs list them with their sources).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

DEFAULT_QUEUE_PACKETS = 1000
"""A link's queue when none is set: Linux's default ``txqueuelen``. No cloud publishes its queues;
only a link with a bandwidth ever fills one."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkSettings:
    """A link's capacity (None: not set here)."""

    bandwidth_bps: float | None = None
    """Serialisation rate; unset, a packet crosses in no time."""
    queue: int | None = None
    """Packets that may wait to be serialised; one more is dropped (unset: 1,000; 0: no limit)."""
    overhead: int | None = None
    """Bytes a frame adds to each IP packet (Ethernet: 14 header + 4 FCS + 8 preamble + 12 gap = 38)."""
    mtu: int | None = None
    """The largest IP packet; a SYN crossing has its MSS clamped to MTU - 40."""
    delay: float | None = None
    """A one-way delay of the link's own, added to the zones' or regions'."""

    def over(self, base: LinkSettings | None) -> LinkSettings:
        """These settings, with ``base``'s wherever these are unset."""
        if base is None:
            return self
        return LinkSettings(**{f.name: _first(getattr(self, f.name), getattr(base, f.name)) for f in fields(self)})


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayCapacity:
    """A gateway's or load balancer's capacity (None: not set here)."""

    service_time: float | None = None
    """Seconds it spends on each packet, one at a time: it can forward 1/service_time packets a second."""
    queue: int | None = None
    """Packets that may wait for service; one more is dropped (0 or unset: no limit)."""
    max_sessions: int | None = None
    """Concurrent connections it holds; a new one beyond is dropped (``session_limit``)."""
    new_per_second: float | None = None
    """New connections it opens in any second; one more is dropped (``rate_limit``)."""
    idle_timeout: float | None = None
    """Seconds without a packet after which it forgets a connection."""

    def over(self, base: GatewayCapacity | None) -> GatewayCapacity:
        if base is None:
            return self
        return GatewayCapacity(**{f.name: _first(getattr(self, f.name), getattr(base, f.name)) for f in fields(self)})


def _first(value: Any, fallback: Any) -> Any:
    return fallback if value is None else value
