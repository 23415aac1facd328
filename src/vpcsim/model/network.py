"""VPCs and subnets (Tencent 私有网络 / Huawei VPC)."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network


@dataclass(frozen=True, slots=True, kw_only=True)
class Subnet:
    """A subnet of a VPC, in one availability zone."""

    id: str
    vpc: str
    cidr: IPv4Network
    zone: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Vpc:
    """A VPC: one region, one account, one CIDR, its subnets.

    Its route table holds the Local route (the VPC CIDR, which always wins) and the routes it
    learns from the CCNs it is attached to; lookups are longest-prefix match.
    """

    id: str
    region: str
    account: str
    cidr: IPv4Network
    subnets: tuple[Subnet, ...]

    def subnet(self, subnet_id: str) -> Subnet | None:
        for s in self.subnets:
            if s.id == subnet_id:
                return s
        return None
