"""The shape of a scenario document (pydantic), before cross-references are checked.

Field names are the file format; README documents them. ``extra='forbid'`` makes a typo an error
instead of a silently ignored key.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from vpcsim.model.security import PortRange
from vpcsim.scenario import values

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Seconds = Annotated[float, BeforeValidator(values.duration)]
Cidr = Annotated[IPv4Network, BeforeValidator(values.cidr)]
Address = Annotated[IPv4Address, BeforeValidator(values.address)]
Port = Annotated[int, BeforeValidator(values.port)]
Ports = Annotated[PortRange, BeforeValidator(values.port_range)]
Bandwidth = Annotated[float, BeforeValidator(values.bandwidth)]
HostPort = Annotated[tuple[str, int], BeforeValidator(values.host_port)]


# Times with bounds are checked by the parser, so the message speaks in seconds of the value written.
Rto = Annotated[float, BeforeValidator(values.duration_between(0, 60, above=True))]
AcceptDelay = Annotated[float, BeforeValidator(values.duration_between(0, 3600))]
HealthInterval = Annotated[float, BeforeValidator(values.duration_between(2, 300))]
HealthTimeout = Annotated[float, BeforeValidator(values.duration_between(2, 60))]


def _version(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected the scenario format version, the number 1, got {values.shown(value)}")
    if value != 1:
        raise ValueError(f"unsupported scenario format version {value}: this vpcsim reads version 1")
    return value


def _text(one_line: bool) -> Any:
    def check(value: str) -> str:
        for ch in value:
            if (ch < " " and not (ch in "\t\n\r" and not one_line)) or ch == "\x7f" or (0xD800 <= ord(ch) <= 0xDFFF):
                raise ValueError(f"contains the control character U+{ord(ch):04X}: write plain text")
        if one_line and ("\u2028" in value or "\u2029" in value):
            raise ValueError("must fit on one line")
        return value

    return AfterValidator(check)


Name = Annotated[str, Field(max_length=200), _text(one_line=True)]
Description = Annotated[str, Field(max_length=1000), _text(one_line=False)]

MAX_OBJECTS = 10_000
MAX_RULES = 1_000


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DelaysDoc(_Doc):
    same_zone: Seconds | None = None
    cross_zone: Seconds | None = None
    privatelink: Seconds | None = None
    regions: dict[str, Seconds] = Field(default_factory=dict, max_length=1000)
    """Keys ``'REGION_A/REGION_B'``."""


class TcpDoc(_Doc):
    syn_retries: Annotated[int, Field(ge=0, le=15)] = 6
    initial_rto: Rto = 1.0


class SettingsDoc(_Doc):
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0
    delays: DelaysDoc = Field(default_factory=DelaysDoc)
    tcp: TcpDoc = Field(default_factory=TcpDoc)
    endpoint_accept_delay: AcceptDelay = 2.0
    snat_ports: Ports | None = None


class SubnetDoc(_Doc):
    cidr: Cidr
    zone: Id


class VpcDoc(_Doc):
    region: Id
    account: Id
    cidr: Cidr
    subnets: dict[Id, SubnetDoc] = Field(min_length=1, max_length=MAX_OBJECTS)


class RuleDoc(_Doc):
    action: Literal["accept", "drop"]
    protocol: Literal["tcp", "udp", "icmp", "all"] = "all"
    port: Ports | None = None
    source: Cidr | None = None
    destination: Cidr | None = None
    description: Description = ""


class SecurityGroupDoc(_Doc):
    ingress: list[RuleDoc] = Field(default_factory=list, max_length=MAX_RULES)
    egress: list[RuleDoc] = Field(default_factory=list, max_length=MAX_RULES)
    description: Description = ""


class InstanceDoc(_Doc):
    vpc: Id
    subnet: Id
    ip: Address
    security_groups: list[Id] = Field(default_factory=list, max_length=100)
    listen: list[Port] = Field(default_factory=list, max_length=1000)


class HealthCheckDoc(_Doc):
    enabled: bool = True
    port: Port | None = None
    interval: HealthInterval = 5.0
    timeout: HealthTimeout = 2.0
    healthy_threshold: Annotated[int, Field(ge=2, le=10)] = 3
    unhealthy_threshold: Annotated[int, Field(ge=2, le=10)] = 3


class BackendDoc(_Doc):
    instance: Id
    port: Port
    weight: Annotated[int, Field(ge=0, le=100)] = 10


class ListenerDoc(_Doc):
    protocol: Literal["tcp"] = "tcp"
    port: Port
    scheduler: Literal["wrr", "least_conn"] = "wrr"
    backends: list[BackendDoc] = Field(default_factory=list, max_length=MAX_OBJECTS)
    health_check: HealthCheckDoc = Field(default_factory=HealthCheckDoc)


class LoadBalancerDoc(_Doc):
    vpc: Id
    subnet: Id
    vip: Address
    security_groups: list[Id] = Field(default_factory=list, max_length=5)
    listeners: dict[Id, ListenerDoc] = Field(default_factory=dict, max_length=MAX_OBJECTS)


class EndpointServiceDoc(_Doc):
    vpc: Id
    load_balancer: Id
    auto_accept: bool = False
    whitelist: list[Annotated[str, StringConstraints(pattern=r"^(\*|[A-Za-z0-9][A-Za-z0-9._:-]{0,127})$")]] = Field(
        default_factory=list, max_length=MAX_OBJECTS
    )


class EndpointDoc(_Doc):
    vpc: Id
    subnet: Id
    ip: Address | None = None
    service: Id
    security_groups: list[Id] = Field(default_factory=list, max_length=5)


class CcnDoc(_Doc):
    attachments: list[Id] = Field(default_factory=list, max_length=MAX_OBJECTS)
    bandwidth: Bandwidth = 1e9


class EventDoc(_Doc):
    at: Seconds
    action: Literal[
        "accept_endpoint",
        "reject_endpoint",
        "attach_vpc",
        "detach_vpc",
        "add_rule",
        "remove_rule",
        "stop_listener",
        "start_listener",
    ]
    endpoint: Id | None = None
    ccn: Id | None = None
    vpc: Id | None = None
    security_group: Id | None = None
    direction: Literal["ingress", "egress"] | None = None
    index: Annotated[int, Field(ge=0, le=MAX_RULES)] | None = None
    rule: RuleDoc | None = None
    instance: Id | None = None
    port: Port | None = None


class CheckDoc(_Doc):
    name: Name | None = None
    from_: Id = Field(alias="from")
    to: HostPort
    at: Seconds = 0.0
    expect: Literal["connected", "refused", "timeout"]
    reason: Annotated[str, Field(max_length=64), _text(one_line=True)] | None = None


class ScenarioDoc(_Doc):
    version: Annotated[Literal[1], BeforeValidator(_version)]
    settings: SettingsDoc = Field(default_factory=SettingsDoc)
    vpcs: dict[Id, VpcDoc] = Field(min_length=1, max_length=MAX_OBJECTS)
    security_groups: dict[Id, SecurityGroupDoc] = Field(default_factory=dict, max_length=MAX_OBJECTS)
    instances: dict[Id, InstanceDoc] = Field(default_factory=dict, max_length=MAX_OBJECTS)
    load_balancers: dict[Id, LoadBalancerDoc] = Field(default_factory=dict, max_length=MAX_OBJECTS)
    endpoint_services: dict[Id, EndpointServiceDoc] = Field(default_factory=dict, max_length=MAX_OBJECTS)
    endpoints: dict[Id, EndpointDoc] = Field(default_factory=dict, max_length=MAX_OBJECTS)
    ccns: dict[Id, CcnDoc] = Field(default_factory=dict, max_length=MAX_OBJECTS)
    timeline: list[EventDoc] = Field(default_factory=list, max_length=MAX_OBJECTS)
    checks: list[CheckDoc] = Field(default_factory=list, max_length=MAX_OBJECTS)


def parse_document(data: Any) -> ScenarioDoc:
    """Validate the shape; raises pydantic.ValidationError."""
    return ScenarioDoc.model_validate(data)
