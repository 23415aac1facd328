"""The shape of a Huawei Cloud scenario document (pydantic), before cross-references are checked.

The sections every cloud shares are in :mod:`vpcsim.frontends.common.schema`; here are Huawei's
ELB, VPC Endpoint (VPCEP) services and endpoints, its cloud services, and the fields Huawei's
API gives its objects (``service_type``, ``server_type``, ``approval_enabled``, ``ports``,
``routetables``, ``enable_whitelist``, ``whitelist``, ``policy_statement``) [HW9][HW10][HW12].
"""

from __future__ import annotations

import re
from ipaddress import IPv4Network
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from vpcsim.frontends.common.schema import (
    NOUNS as COMMON_NOUNS,
)
from vpcsim.frontends.common.schema import (
    Address,
    CapacityDoc,
    Cidr,
    Description,
    Doc,
    Id,
    InstanceDoc,
    ListenerDoc,
    Many,
    Port,
    ScenarioBase,
    SettingsDoc,
)
from vpcsim.scenario.shape import Shape

MAX_PORT_MAPPINGS = 50
"""Port mappings per endpoint service [HW1][HW9]."""
MAX_ALLOWED_SOURCES = 20
"""Entries of an interface endpoint's access control [HW13]."""


class HuaweiSettingsDoc(SettingsDoc):
    vpcep_cidr: Cidr = IPv4Network("198.19.128.0/17")
    """The range endpoint services reach backends from; ``198.19.128.0/20`` for older regions [HW11]."""
    endpoint_connections: Annotated[int, Field(ge=0, le=10_000_000)] = 3000
    """Concurrent connections per endpoint [HW17]; 0 lifts the limit."""
    cloud_service_cidr: Cidr = IPv4Network("100.125.0.0/16")
    """Where Huawei's cloud services have their addresses [HWACL1][HW22]."""


class HuaweiInstanceDoc(InstanceDoc):
    source_dest_check: bool = True
    """On by default [HWECS1]; off lets the ECS forward (a route's next hop)."""
    virtual_ips: list[Address] = Field(default_factory=list, max_length=64)


class ElbDoc(Doc):
    vpc: Id
    subnet: Id
    vip: Address
    type: Literal["shared", "dedicated"] = "shared"
    transfer_client_ip: bool | None = None
    """Layer-4 listeners pass the client's address: off by default on a shared ELB, always on for a
    dedicated one [HWELB5][HWELB7]."""
    backend_subnet: Id | None = None
    """A dedicated ELB's backend subnet (default its own subnet)."""
    backend_ip: Address | None = None
    """The address of the backend subnet it probes and forwards from (assigned when not given)."""
    listeners: Annotated[dict[Id, ListenerDoc], Many] = Field(default_factory=dict)
    capacity: CapacityDoc | None = None


class PortMappingDoc(Doc):
    client_port: Port
    server_port: Port
    protocol: Literal["TCP", "UDP"] = "TCP"


_PRINCIPAL = re.compile(r"\*|iam:domain::[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _principal(value: str) -> str:
    if not _PRINCIPAL.fullmatch(value):
        raise ValueError(
            f"expected 'iam:domain::ACCOUNT' (the account id of the VPC that may connect) or '*', got {value!r}"
        )
    return value


Principal = Annotated[str, AfterValidator(_principal)]


class EndpointServiceDoc(Doc):
    vpc: Id
    service_type: Literal["interface", "gateway"] = "interface"
    server_type: Literal["LB", "VM", "VIP"]
    port_id: Id
    """The backend: an ELB (LB) or an ECS (VM, VIP)."""
    vip: Address | None = None
    """For ``server_type: VIP``: the virtual IP, one of the ECS's ``virtual_ips``."""
    approval_enabled: bool = True
    ports: list[PortMappingDoc] = Field(min_length=1, max_length=MAX_PORT_MAPPINGS)
    whitelist: Annotated[list[Principal], Many] = Field(default_factory=list)
    tcp_proxy: Literal["close", "toa_open", "proxy_open", "open"] = "close"
    description: Description = ""


class PolicyStatementDoc(Doc):
    Effect: Literal["Allow", "Deny"]
    Action: list[Annotated[str, StringConstraints(max_length=200)]] = Field(min_length=1, max_length=100)
    Resource: list[Annotated[str, StringConstraints(max_length=500)]] = Field(default_factory=list, max_length=100)


class EndpointDoc(Doc):
    vpc: Id
    service: Id
    """An endpoint service, or a cloud service."""
    subnet: Id | None = None
    ip: Address | None = None
    routetables: list[Id] | None = Field(default=None, max_length=100)
    enable_whitelist: bool = False
    whitelist: list[Cidr] = Field(default_factory=list, max_length=MAX_ALLOWED_SOURCES)
    policy_statement: list[PolicyStatementDoc] | None = Field(default=None, max_length=100)
    enable_dns: bool = False
    capacity: CapacityDoc | None = None


class CloudServiceDoc(Doc):
    type: Literal["obs", "dns"]
    region: Id
    ip: Address


class ScenarioDoc(ScenarioBase):
    cloud: Literal["huawei"]
    settings: HuaweiSettingsDoc = Field(default_factory=HuaweiSettingsDoc)
    instances: Annotated[dict[Id, HuaweiInstanceDoc], Many] = Field(default_factory=dict)
    load_balancers: Annotated[dict[Id, ElbDoc], Many] = Field(default_factory=dict)
    endpoint_services: Annotated[dict[Id, EndpointServiceDoc], Many] = Field(default_factory=dict)
    endpoints: Annotated[dict[Id, EndpointDoc], Many] = Field(default_factory=dict)
    cloud_services: Annotated[dict[Id, CloudServiceDoc], Many] = Field(default_factory=dict)


NOUNS: dict[type[BaseModel], str] = {
    **COMMON_NOUNS,
    ScenarioDoc: "scenario",
    HuaweiSettingsDoc: "settings",
    HuaweiInstanceDoc: "ECS",
    ElbDoc: "ELB",
    PortMappingDoc: "port mapping",
    EndpointServiceDoc: "VPC endpoint service",
    PolicyStatementDoc: "policy statement",
    EndpointDoc: "VPC endpoint",
    CloudServiceDoc: "cloud service",
}
"""What a message calls each part of the document."""

SHAPE = Shape(ScenarioDoc, NOUNS)
