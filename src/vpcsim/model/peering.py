"""VPC peering connections (Tencent 对等连接 [PEER1])."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Peering:
    """A peering connection between two VPCs of the same or different regions.

    It carries traffic only between the two VPCs' ranges, and only where each side has a route
    through it; it is not transitive. Between regions it pays the region pair's delay and
    serialisation at ``bandwidth_bps``.
    """

    id: str
    vpcs: tuple[str, str]
    bandwidth_bps: float
