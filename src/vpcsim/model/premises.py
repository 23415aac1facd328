"""On-premises data centres (IDCs) and the gateways that join them to the cloud: VPN gateways with
their tunnels and Direct Connect gateways."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network

from vpcsim.model.security import Rule


@dataclass(frozen=True, slots=True, kw_only=True)
class Firewall:
    """A host's stateful firewall: ordered rules, first match wins. A direction given as a list
    ends in an implicit deny; a direction not given (None) lets everything through."""

    ingress: tuple[Rule, ...] | None = None
    egress: tuple[Rule, ...] | None = None

    def rules(self, direction: str) -> tuple[Rule, ...] | None:
        return self.ingress if direction == "ingress" else self.egress


@dataclass(frozen=True, slots=True, kw_only=True)
class IdcHost:
    """A server in a data centre: one address, a firewall and the ports it listens on."""

    id: str
    idc: str
    ip: IPv4Address
    firewall: Firewall
    listen: frozenset[int]
    listen_udp: frozenset[int] = frozenset()

    @property
    def sockets(self) -> frozenset[tuple[str, int]]:
        return frozenset({("tcp", p) for p in self.listen} | {("udp", p) for p in self.listen_udp})


@dataclass(frozen=True, slots=True, kw_only=True)
class IdcRoute:
    """A route on the data centre's side: ``destination`` goes out through ``gateway``."""

    id: str
    destination: IPv4Network
    gateway: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Idc:
    """An on-premises network: its address ranges, hosts and its own static routes."""

    id: str
    cidrs: tuple[IPv4Network, ...]
    hosts: tuple[IdcHost, ...]
    routes: tuple[IdcRoute, ...]


class TunnelState(StrEnum):
    UP = "up"
    DOWN = "down"


@dataclass(frozen=True, slots=True, kw_only=True)
class Tunnel:
    """A VPN connection from a gateway to a data centre, UP or DOWN (the timeline may change it)."""

    id: str
    idc: str
    state: TunnelState


@dataclass(frozen=True, slots=True, kw_only=True)
class Gateway:
    """A VPN gateway (``kind='vpn'``, with tunnels) or a Direct Connect gateway (``kind='dc'``, one
    connection to ``tunnels[0].idc`` that is always up).

    A VPC-type gateway (``vpc`` set) is reached from its VPC's route tables: static routes, and the
    routes to its data centres' ranges it propagates into ``route_tables``. A CCN-type gateway
    (``ccn`` set) publishes those ranges to its CCN, with itself as next hop.
    """

    id: str
    kind: str
    region: str
    vpc: str | None
    ccn: str | None
    tunnels: tuple[Tunnel, ...]
    delay: float
    """One way, between the gateway and the data centre."""
    bandwidth_bps: float
    route_tables: tuple[str, ...] = ()

    @property
    def idcs(self) -> tuple[str, ...]:
        seen: list[str] = []
        for t in self.tunnels:
            if t.idc not in seen:
                seen.append(t.idc)
        return tuple(seen)
