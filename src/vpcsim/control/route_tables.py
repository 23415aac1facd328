"""What a route table may hold [RT1][RT2] (docs/decisions.md Q29): one implementation, used for the
routes a scenario declares and for the routes the timeline adds and enables.

A destination inside the VPC's range is refused (the Local route covers it). Routes to one
destination coexist when their next-hop types rank differently (the better rank forwards: Direct
Connect gateway > VPN gateway > the others) or when they form ECMP: up to eight routes of one type
that allows it (instance, VPN gateway, Direct Connect gateway), each to a different next hop.
Disabled routes take part in no conflict.
"""

from __future__ import annotations

from collections.abc import Sequence

from vpcsim.model import NextHopKind, RouteEntry, RouteTable, Topology
from vpcsim.model.routing import ECMP_KINDS, KIND_NOUNS, MAX_ECMP, MAX_ROUTES, RANK


class RouteError(Exception):
    """A route a table cannot take; ``key`` names the field to blame ("" for the whole route)."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key = key
        self.problem = problem


def check_target(topo: Topology, table: RouteTable, entry: RouteEntry) -> None:
    """The next hop exists and can serve this VPC."""
    vpc = table.vpc
    target, kind = entry.target, entry.kind
    if kind is NextHopKind.PEERING:
        p = topo.peerings.get(target)
        if p is None:
            raise RouteError("next_hop", f"unknown peering connection {target!r}")
        if vpc not in p.vpcs:
            raise RouteError("next_hop", f"peering connection {target} joins {p.vpcs[0]} and {p.vpcs[1]}, not {vpc}")
    elif kind in (NextHopKind.VPN_GATEWAY, NextHopKind.DC_GATEWAY):
        g = topo.gateways.get(target)
        want = "vpn" if kind is NextHopKind.VPN_GATEWAY else "dc"
        if g is None or g.kind != want:
            raise RouteError("next_hop", f"unknown {KIND_NOUNS[kind]} {target!r}")
        if g.vpc != vpc:
            where = f"attached to CCN {g.ccn}" if g.ccn else f"in VPC {g.vpc}"
            raise RouteError("next_hop", f"{KIND_NOUNS[kind]} {target} is {where}, not in VPC {vpc}")
    else:
        inst = topo.instances.get(target)
        if inst is None:
            raise RouteError("next_hop", f"unknown instance {target!r}")
        if inst.vpc != vpc:
            raise RouteError("next_hop", f"instance {target} is in VPC {inst.vpc}, not in {vpc}")


def check_entry(topo: Topology, table: RouteTable, others: Sequence[RouteEntry], entry: RouteEntry) -> None:
    """Raise :class:`RouteError` if ``table``, holding ``others``, cannot take ``entry``."""
    cidr = topo.vpcs[table.vpc].cidr
    if entry.destination.subnet_of(cidr):
        raise RouteError(
            "destination",
            f"destination {entry.destination} lies inside VPC {table.vpc}'s range {cidr}: the Local route covers it",
        )
    check_target(topo, table, entry)
    if any(r.id == entry.id for r in others):
        raise RouteError("route", f"route table {table.id} already has a route {entry.id!r}")
    if len(others) >= MAX_ROUTES:
        raise RouteError("", f"route table {table.id} already holds {MAX_ROUTES} routes, the most a table may hold")
    if entry.enabled:
        check_conflicts(table, others, entry)


def check_conflicts(table: RouteTable, others: Sequence[RouteEntry], entry: RouteEntry) -> None:
    """Whether enabled ``entry`` may sit beside the enabled routes to the same destination."""
    same = [r for r in others if r.enabled and r.destination == entry.destination and r.id != entry.id]
    for r in same:
        if r.kind is entry.kind and r.target == entry.target:
            raise RouteError("next_hop", f"route {r.id} of {table.id} already sends {r.destination} to {r.target}")
        if r.kind is not entry.kind and RANK[r.kind] == RANK[entry.kind]:
            raise RouteError(
                "next_hop",
                f"route {r.id} of {table.id} already sends {r.destination} to {KIND_NOUNS[r.kind]} {r.target}: "
                f"two routes to one destination need next hops of one type (ECMP) or of ranked types "
                "(Direct Connect gateway > VPN gateway > others)",
            )
        if r.kind is entry.kind and entry.kind not in ECMP_KINDS:
            raise RouteError(
                "next_hop",
                f"route {r.id} of {table.id} already sends {r.destination} to {KIND_NOUNS[r.kind]} {r.target}: "
                f"{KIND_NOUNS[entry.kind]} routes cannot form ECMP",
            )
    peers = [r for r in same if r.kind is entry.kind]
    if len(peers) >= MAX_ECMP:
        raise RouteError(
            "next_hop", f"{table.id} already has {MAX_ECMP} ECMP routes to {entry.destination}, the most allowed"
        )
