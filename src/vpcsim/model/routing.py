"""VPC route tables (Tencent 路由表 [RT1][RT2][RT3]).

A table belongs to one VPC and serves the subnets bound to it; each VPC has one default table for
the subnets bound to no other. Its entries are static routes the user writes; the Local route (the
VPC's own range) and the routes learned from a CCN are automatic and not entries here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Network


class NextHopKind(StrEnum):
    """The next-hop types a route entry may name."""

    PEERING = "peering"
    VPN_GATEWAY = "vpn_gateway"
    DC_GATEWAY = "dc_gateway"
    INSTANCE = "instance"
    ENDPOINT = "endpoint"
    """A gateway endpoint's route to its cloud service (the endpoint adds it; no entry names it)."""


AUTOMATIC_KINDS = ("local", "ccn")
"""Next-hop types that exist only as automatic routes: no entry may name them."""

RANK: dict[NextHopKind, int] = {
    NextHopKind.DC_GATEWAY: 1,
    NextHopKind.VPN_GATEWAY: 2,
    NextHopKind.PEERING: 3,
    NextHopKind.INSTANCE: 3,
    NextHopKind.ENDPOINT: 3,
}
"""Among routes to the same destination the lowest rank forwards: CCN (rank 0, learned) > Direct
Connect gateway > VPN gateway > the others [RT1]."""

ECMP_KINDS = frozenset({NextHopKind.INSTANCE, NextHopKind.VPN_GATEWAY, NextHopKind.DC_GATEWAY})
"""Types whose routes to one destination may form ECMP (equal-cost multipath) [RT1]."""

MAX_ECMP = 8
MAX_ROUTES = 50
"""Routes per table [RT2]."""
MAX_TABLES = 10
"""Route tables per VPC [RT2]."""

KIND_NOUNS: dict[str, str] = {
    "local": "Local",
    "ccn": "CCN",
    NextHopKind.PEERING: "peering connection",
    NextHopKind.VPN_GATEWAY: "VPN gateway",
    NextHopKind.DC_GATEWAY: "Direct Connect gateway",
    NextHopKind.INSTANCE: "instance",
    NextHopKind.ENDPOINT: "gateway endpoint",
}
"""What traces call each type of next hop."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteEntry:
    """A static route: traffic to ``destination`` goes to the next hop ``target`` of type ``kind``."""

    id: str
    destination: IPv4Network
    kind: NextHopKind
    target: str
    enabled: bool = True
    description: str = ""
    propagated: str = ""
    """The gateway that put it there, for a route a gateway propagates (its id is then derived)."""

    def summary(self) -> str:
        off = "" if self.enabled else " (disabled)"
        return f"{self.destination} -> {KIND_NOUNS[self.kind]} {self.target}{off}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteTable:
    """A route table of ``vpc``: bound to ``subnets`` (the default table serves every other)."""

    id: str
    vpc: str
    subnets: tuple[str, ...]
    default: bool
    routes: tuple[RouteEntry, ...]
    implicit: bool = False
    """A default table the scenario did not declare (it holds only routes that endpoints add)."""

    def entry(self, route_id: str) -> RouteEntry | None:
        for r in self.routes:
            if r.id == route_id:
                return r
        return None
