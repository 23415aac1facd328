"""Instances (Tencent CVM / Huawei ECS)."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address

from vpcsim.model.capacity import LinkSettings


@dataclass(frozen=True, slots=True, kw_only=True)
class Instance:
    """A server with one private IP in one subnet, its security groups in bound order and the
    TCP and UDP ports it listens on (at t=0; the timeline can stop and start listeners)."""

    id: str
    vpc: str
    subnet: str
    ip: IPv4Address
    security_groups: tuple[str, ...]
    listen: frozenset[int]
    """TCP ports."""
    listen_udp: frozenset[int] = frozenset()
    """UDP ports (a UDP listener echoes each datagram back)."""
    source_dest_check: bool = False
    """Whether its NIC drops packets not addressed to it (Huawei ECS, on by default there): with
    the check on, an instance that is a route's next hop forwards nothing."""
    virtual_ips: tuple[IPv4Address, ...] = ()
    """Further addresses of its subnet it answers on (a virtual IP bound to it)."""
    link: LinkSettings | None = None
    """Its NIC's link, where it differs from the settings for hosts."""

    @property
    def sockets(self) -> frozenset[tuple[str, int]]:
        """Every listener as (protocol, port): ``("tcp", 8080)``, ``("udp", 53)``."""
        return frozenset({("tcp", p) for p in self.listen} | {("udp", p) for p in self.listen_udp})
