"""A cloud's own services reached through endpoints (Huawei OBS, DNS [HW2][HW20])."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network


@dataclass(frozen=True, slots=True, kw_only=True)
class CloudService:
    """A service of the cloud in one region: an address in ``cidr`` (the range a gateway endpoint
    routes to it) that answers on its ports, to every source."""

    id: str
    kind: str
    """``obs``, ``dns``: what traces call it."""
    region: str
    ip: IPv4Address
    cidr: IPv4Network
    gateway: bool
    """Offered as a gateway service (reached by routes) rather than an interface one."""
    listen: frozenset[int]
    """TCP ports."""
    listen_udp: frozenset[int] = frozenset()

    @property
    def sockets(self) -> frozenset[tuple[str, int]]:
        return frozenset({("tcp", p) for p in self.listen} | {("udp", p) for p in self.listen_udp})
