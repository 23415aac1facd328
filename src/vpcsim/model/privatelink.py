"""Private Link endpoint services and endpoints (Tencent 私有连接 [PL1]-[PL12]; Huawei VPCEP)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network


class EndpointState(StrEnum):
    """Connection state of one endpoint [API1]. Only ACTIVE forwards (docs/decisions.md Q3)."""

    ACTIVE = "ACTIVE"
    PENDING = "PENDING"
    ACCEPTING = "ACCEPTING"
    REJECTED = "REJECTED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointService:
    """An endpoint service publishing one load balancer.

    Same-account endpoints are always accepted; other accounts need the whitelist, then either
    ``auto_accept`` or an explicit accept [PL6].
    """

    id: str
    vpc: str
    load_balancer: str
    auto_accept: bool
    whitelist: tuple[str, ...]
    snat_cidr: IPv4Network


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """An endpoint: a VIP in the consumer's subnet that leads to one endpoint service.

    ``ip`` is the VIP (given, or assigned deterministically at load). ``initial_state`` is what
    admission gives it at t=0, with ``state_reason`` saying why.
    """

    id: str
    vpc: str
    subnet: str
    ip: IPv4Address
    ip_assigned: bool
    service: str
    security_groups: tuple[str, ...]
    initial_state: EndpointState
    state_reason: str
