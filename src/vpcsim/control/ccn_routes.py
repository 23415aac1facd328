"""CCN route propagation and conflicts [CCN4][CCN5] (docs/decisions.md Q10).

Each attached VPC publishes one route per subnet CIDR. A new route that overlaps (equals or
contains, or is contained in) an enabled route is invalid: the instance attached first wins.
Invalid routes stay invalid while their VPC stays attached, even when the conflicting one leaves
(the stricter reading: Tencent re-enables routes only on request).

Finding the route a new one conflicts with is a prefix-index query, not a scan of every route, so
attaching thousands of VPCs costs time linear in their subnets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from ipaddress import IPv4Network

Subnets = Iterable[tuple[str, IPv4Network]]


@dataclass(frozen=True, slots=True, kw_only=True)
class CcnRoute:
    prefix: IPv4Network
    vpc: str
    subnet: str
    enabled: bool
    note: str = ""


def _mask(length: int) -> int:
    return (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF if length else 0


class _Overlaps:
    """The enabled routes, indexed so that "the earliest-learned enabled route that overlaps this
    prefix" takes at most 33 dictionary lookups.

    ``exact`` holds each enabled prefix; ``within`` holds, for every prefix that contains at least
    one enabled route, the earliest-learned of the routes inside it (itself included).
    """

    def __init__(self) -> None:
        self.exact: dict[tuple[int, int], tuple[int, CcnRoute]] = {}
        self.within: dict[tuple[int, int], tuple[int, CcnRoute]] = {}

    def add(self, order: int, route: CcnRoute) -> None:
        net, length = int(route.prefix.network_address), route.prefix.prefixlen
        self.exact[(net, length)] = (order, route)
        for k in range(length + 1):
            key = (net & _mask(k), k)
            known = self.within.get(key)
            if known is None or known[0] > order:
                self.within[key] = (order, route)

    def first_clash(self, prefix: IPv4Network) -> CcnRoute | None:
        net, length = int(prefix.network_address), prefix.prefixlen
        best = self.within.get((net, length))  # enabled routes inside the new prefix (or equal)
        for k in range(length):  # enabled routes that contain it
            found = self.exact.get((net & _mask(k), k))
            if found is not None and (best is None or found[0] < best[0]):
                best = found
        return None if best is None else best[1]


@dataclass(frozen=True, slots=True, kw_only=True)
class CcnRouteTable:
    """The routes of one CCN, in the order they were learned."""

    ccn: str
    attachments: tuple[str, ...]
    routes: tuple[CcnRoute, ...]

    def attach(self, vpc: str, subnets: Subnets) -> CcnRouteTable:
        return self.attach_all([(vpc, subnets)])

    def attach_all(self, vpcs: Iterable[tuple[str, Subnets]]) -> CcnRouteTable:
        """Attach VPCs in order, each publishing its subnets (sorted by CIDR, then id)."""
        routes = list(self.routes)
        index = _Overlaps()
        for order, r in enumerate(routes):
            if r.enabled:
                index.add(order, r)
        attached = list(self.attachments)
        for vpc, subnets in vpcs:
            attached.append(vpc)
            for subnet_id, prefix in sorted(subnets, key=lambda s: (s[1], s[0])):
                clash = index.first_clash(prefix)
                if clash is None:
                    route = CcnRoute(prefix=prefix, vpc=vpc, subnet=subnet_id, enabled=True)
                    index.add(len(routes), route)
                else:
                    note = f"invalid: overlaps {clash.prefix} of {clash.vpc} (attached first)"
                    route = CcnRoute(prefix=prefix, vpc=vpc, subnet=subnet_id, enabled=False, note=note)
                routes.append(route)
        return replace(self, attachments=tuple(attached), routes=tuple(routes))

    def detach(self, vpc: str) -> CcnRouteTable:
        return replace(
            self,
            attachments=tuple(v for v in self.attachments if v != vpc),
            routes=tuple(r for r in self.routes if r.vpc != vpc),
        )

    def enabled(self) -> tuple[CcnRoute, ...]:
        return tuple(r for r in self.routes if r.enabled)
