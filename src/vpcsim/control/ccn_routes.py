"""CCN route propagation and conflicts [CCN4][CCN5] (docs/decisions.md Q10).

Each attached VPC publishes one route per subnet CIDR. A new route that overlaps (equals or
contains, or is contained in) an enabled route is invalid: the instance attached first wins.
Invalid routes stay invalid while their VPC stays attached, even when the conflicting one leaves
(the stricter reading: Tencent re-enables routes only on request).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from ipaddress import IPv4Network


@dataclass(frozen=True, slots=True, kw_only=True)
class CcnRoute:
    prefix: IPv4Network
    vpc: str
    subnet: str
    enabled: bool
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CcnRouteTable:
    """The routes of one CCN, in the order they were learned."""

    ccn: str
    attachments: tuple[str, ...]
    routes: tuple[CcnRoute, ...]

    def attach(self, vpc: str, subnets: list[tuple[str, IPv4Network]]) -> CcnRouteTable:
        routes = list(self.routes)
        for subnet_id, prefix in sorted(subnets, key=lambda s: (s[1], s[0])):
            clash = next((r for r in routes if r.enabled and r.prefix.overlaps(prefix)), None)
            if clash is None:
                routes.append(CcnRoute(prefix=prefix, vpc=vpc, subnet=subnet_id, enabled=True))
            else:
                note = f"invalid: overlaps {clash.prefix} of {clash.vpc} (attached first)"
                routes.append(CcnRoute(prefix=prefix, vpc=vpc, subnet=subnet_id, enabled=False, note=note))
        return replace(self, attachments=(*self.attachments, vpc), routes=tuple(routes))

    def detach(self, vpc: str) -> CcnRouteTable:
        return replace(
            self,
            attachments=tuple(v for v in self.attachments if v != vpc),
            routes=tuple(r for r in self.routes if r.vpc != vpc),
        )

    def enabled(self) -> tuple[CcnRoute, ...]:
        return tuple(r for r in self.routes if r.enabled)
