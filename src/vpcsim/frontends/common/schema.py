"""The parts of a scenario document every cloud shares (pydantic), before cross-references are checked.

Field names are the file format; README documents them. ``extra='forbid'`` makes a typo an error
instead of a silently ignored key.
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationInfo

from vpcsim.model.security import PortRange
from vpcsim.scenario import values
from vpcsim.scenario.limits import DEFAULT_LIMITS

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Seconds = Annotated[float, BeforeValidator(values.duration)]
Cidr = Annotated[IPv4Network, BeforeValidator(values.cidr)]
Address = Annotated[IPv4Address, BeforeValidator(values.address)]
Port = Annotated[int, BeforeValidator(values.port)]
Ports = Annotated[PortRange, BeforeValidator(values.port_range)]
Bandwidth = Annotated[float, BeforeValidator(values.bandwidth)]
HostPort = Annotated[tuple[str, int], BeforeValidator(values.host_port)]
HostMaybePort = Annotated[tuple[str, int | None], BeforeValidator(values.host_maybe_port)]
Socket = Annotated[tuple[str, int], BeforeValidator(values.socket)]


# Times with bounds are checked by the parser, so the message speaks in seconds of the value written.
Rto = Annotated[float, BeforeValidator(values.duration_between(0, 60, above=True))]
AcceptDelay = Annotated[float, BeforeValidator(values.duration_between(0, 3600))]
HealthInterval = Annotated[float, BeforeValidator(values.duration_between(2, 300))]
HealthTimeout = Annotated[float, BeforeValidator(values.duration_between(2, 60))]
Wait = Annotated[float, BeforeValidator(values.duration_between(0, 60, above=True))]


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

MAX_RULES = 1_000


def _at_most_objects(value: Any, info: ValidationInfo) -> Any:
    """A section or list of objects holds at most the loader's ``max_objects`` (a setting). Counted
    before its entries are validated, so an oversized section costs nothing."""
    limit = int((info.context or {}).get("max_objects", DEFAULT_LIMITS.max_objects))
    if isinstance(value, dict | list) and len(value) > limit:
        raise ValueError(f"too many entries: {len(value)} (at most {limit})")
    return value


Many = BeforeValidator(_at_most_objects)


class Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DelaysDoc(Doc):
    same_zone: Seconds | None = None
    cross_zone: Seconds | None = None
    privatelink: Seconds | None = None
    regions: dict[str, Seconds] = Field(default_factory=dict, max_length=1000)
    """Keys ``'REGION_A/REGION_B'``."""


class TcpDoc(Doc):
    syn_retries: Annotated[int, Field(ge=0, le=15)] = 6
    initial_rto: Rto = 1.0
    congestion_control: Literal["cubic", "reno"] = "cubic"
    sack: bool = True
    initial_window: Annotated[int, Field(ge=1, le=100)] = 10
    min_rto: Annotated[float, BeforeValidator(values.duration_between(0, 60, above=True))] = 0.2
    max_rto: Annotated[float, BeforeValidator(values.duration_between(0, 600, above=True))] = 120.0
    retries: Annotated[int, Field(ge=1, le=30)] = 15
    delayed_ack: Annotated[float, BeforeValidator(values.duration_between(0, 1))] = 0.04
    receive_window: Annotated[int, Field(ge=1024, le=1 << 30)] = 3 << 20
    window_scale: Annotated[int, Field(ge=0, le=14)] = 7
    timestamps: bool = False
    mss_option: bool = True
    time_wait: Annotated[float, BeforeValidator(values.duration_between(0, 3600))] = 60.0
    mtu: Annotated[int, Field(ge=576, le=9000)] = 1500


LinkDelay = Annotated[float, BeforeValidator(values.duration_between(0, 10))]
ServiceTime = Annotated[float, BeforeValidator(values.duration_between(0, 1, above=True))]
IdleTimeout = Annotated[float, BeforeValidator(values.duration_between(0, 864000, above=True))]


class LinkDoc(Doc):
    bandwidth: Bandwidth | None = None
    queue: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    overhead: Annotated[int, Field(ge=0, le=1000)] | None = None
    mtu: Annotated[int, Field(ge=576, le=9000)] | None = None
    delay: LinkDelay | None = None


class CapacityDoc(Doc):
    service_time: ServiceTime | None = None
    queue: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    max_sessions: Annotated[int, Field(ge=0, le=100_000_000)] | None = None
    new_per_second: Annotated[float, Field(ge=0, le=1e9)] | None = None
    idle_timeout: IdleTimeout | None = None


LINK_KINDS = ("host", "endpoint", "load_balancer", "peering", "vpn", "direct_connect")
"""The kinds of link every cloud has (a front-end may add its own)."""
CAPACITY_KINDS = ("endpoint", "load_balancer", "vpn", "direct_connect")


class LinksDoc(Doc):
    host: LinkDoc | None = None
    endpoint: LinkDoc | None = None
    load_balancer: LinkDoc | None = None
    peering: LinkDoc | None = None
    vpn: LinkDoc | None = None
    direct_connect: LinkDoc | None = None


class CapacitiesDoc(Doc):
    endpoint: CapacityDoc | None = None
    load_balancer: CapacityDoc | None = None
    vpn: CapacityDoc | None = None
    direct_connect: CapacityDoc | None = None


class SettingsDoc(Doc):
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0
    delays: DelaysDoc = Field(default_factory=DelaysDoc)
    tcp: TcpDoc = Field(default_factory=TcpDoc)
    endpoint_accept_delay: AcceptDelay = 2.0
    snat_ports: Ports | None = None
    links: LinksDoc = Field(default_factory=LinksDoc)
    capacity: CapacitiesDoc = Field(default_factory=CapacitiesDoc)


class SubnetDoc(Doc):
    cidr: Cidr
    zone: Id


class VpcDoc(Doc):
    region: Id
    account: Id
    cidr: Cidr
    subnets: Annotated[dict[Id, SubnetDoc], Many] = Field(min_length=1)


class RuleDoc(Doc):
    action: Literal["accept", "drop"]
    protocol: Literal["tcp", "udp", "icmp", "all"] = "all"
    port: Ports | None = None
    source: Cidr | None = None
    destination: Cidr | None = None
    description: Description = ""


class SecurityGroupDoc(Doc):
    ingress: list[RuleDoc] = Field(default_factory=list, max_length=MAX_RULES)
    egress: list[RuleDoc] = Field(default_factory=list, max_length=MAX_RULES)
    description: Description = ""


MAX_ACL_RULES = 20
"""Rules per direction of a network ACL [ACL1]."""


class NetworkAclDoc(Doc):
    vpc: Id
    subnets: list[Id] = Field(default_factory=list, max_length=1000)
    ingress: list[RuleDoc] = Field(default_factory=list, max_length=MAX_ACL_RULES)
    egress: list[RuleDoc] = Field(default_factory=list, max_length=MAX_ACL_RULES)
    description: Description = ""


class InstanceDoc(Doc):
    vpc: Id
    subnet: Id
    ip: Address
    security_groups: list[Id] = Field(default_factory=list, max_length=100)
    listen: list[Socket] = Field(default_factory=list, max_length=1000)
    """Ports (TCP), or ``udp/PORT`` / ``tcp/PORT``."""
    link: LinkDoc | None = None
    """Its NIC's link (over ``settings.links.host``)."""


class HealthCheckDoc(Doc):
    enabled: bool = True
    port: Port | None = None
    interval: HealthInterval = 5.0
    timeout: HealthTimeout = 2.0
    healthy_threshold: Annotated[int, Field(ge=2, le=10)] = 3
    unhealthy_threshold: Annotated[int, Field(ge=2, le=10)] = 3


class BackendDoc(Doc):
    instance: Id
    port: Port
    weight: Annotated[int, Field(ge=0, le=100)] = 10


class ListenerDoc(Doc):
    protocol: Literal["tcp", "udp"] = "tcp"
    port: Port
    scheduler: Literal["wrr", "least_conn"] = "wrr"
    backends: Annotated[list[BackendDoc], Many] = Field(default_factory=list)
    health_check: HealthCheckDoc = Field(default_factory=HealthCheckDoc)


class NextHopDoc(Doc):
    type: Literal["peering", "vpn_gateway", "dc_gateway", "instance", "local", "ccn"]
    id: Id | None = None


class RouteDoc(Doc):
    destination: Cidr
    next_hop: NextHopDoc
    enabled: bool = True
    description: Description = ""


class RouteTableDoc(Doc):
    vpc: Id
    default: bool = False
    subnets: list[Id] = Field(default_factory=list, max_length=1000)
    routes: Annotated[dict[Id, RouteDoc], Many] = Field(default_factory=dict)


class PeeringDoc(Doc):
    vpcs: list[Id] = Field(min_length=2, max_length=2)
    bandwidth: Bandwidth = 1e9


class FirewallDoc(Doc):
    ingress: list[RuleDoc] | None = Field(default=None, max_length=MAX_RULES)
    egress: list[RuleDoc] | None = Field(default=None, max_length=MAX_RULES)


class IdcHostDoc(Doc):
    ip: Address
    listen: list[Socket] = Field(default_factory=list, max_length=1000)
    firewall: FirewallDoc = Field(default_factory=FirewallDoc)


class IdcRouteDoc(Doc):
    destination: Cidr
    gateway: Id


class IdcDoc(Doc):
    cidrs: list[Cidr] = Field(min_length=1, max_length=100)
    hosts: Annotated[dict[Id, IdcHostDoc], Many] = Field(default_factory=dict)
    routes: Annotated[dict[Id, IdcRouteDoc], Many] = Field(default_factory=dict)


class TunnelDoc(Doc):
    idc: Id
    state: Literal["up", "down"] = "up"


GatewayDelay = Annotated[float, BeforeValidator(values.duration_between(0, 10))]


class VpnGatewayDoc(Doc):
    vpc: Id | None = None
    ccn: Id | None = None
    region: Id | None = None
    tunnels: Annotated[dict[Id, TunnelDoc], Many] = Field(min_length=1)
    delay: GatewayDelay
    bandwidth: Bandwidth = 5e6
    route_tables: list[Id] = Field(default_factory=list, max_length=100)


class DcGatewayDoc(Doc):
    vpc: Id | None = None
    ccn: Id | None = None
    region: Id | None = None
    idc: Id
    delay: GatewayDelay
    bandwidth: Bandwidth = 1e9
    route_tables: list[Id] = Field(default_factory=list, max_length=100)


class EventDoc(Doc):
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
        "add_route",
        "delete_route",
        "enable_route",
        "disable_route",
        "tunnel_down",
        "tunnel_up",
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
    protocol: Literal["tcp", "udp"] | None = None
    route_table: Id | None = None
    route: Id | None = None
    destination: Cidr | None = None
    next_hop: NextHopDoc | None = None
    vpn_gateway: Id | None = None
    tunnel: Id | None = None


class CheckDoc(Doc):
    name: Name | None = None
    from_: Id = Field(alias="from")
    to: HostMaybePort
    at: Seconds = 0.0
    protocol: Literal["tcp", "udp", "icmp"] = "tcp"
    expect: Literal["connected", "answered", "refused", "timeout"]
    wait: Wait | None = None
    """How long a UDP probe or a ping waits for its answer (default 2 s and 1 s)."""
    reason: Annotated[str, Field(max_length=64), _text(one_line=True)] | None = None
    branches: Literal["all", "any"] = "all"


class ScenarioBase(Doc):
    """The sections every cloud's document has; each cloud adds its own (load balancers, endpoint
    services, endpoints, and what only it offers)."""

    version: Annotated[Literal[1], BeforeValidator(_version)]
    cloud: str
    settings: SettingsDoc = Field(default_factory=SettingsDoc)
    vpcs: Annotated[dict[Id, VpcDoc], Many] = Field(min_length=1)
    security_groups: Annotated[dict[Id, SecurityGroupDoc], Many] = Field(default_factory=dict)
    network_acls: Annotated[dict[Id, NetworkAclDoc], Many] = Field(default_factory=dict)
    instances: Annotated[Mapping[Id, InstanceDoc], Many] = Field(default_factory=dict)
    # A cloud gives these its own documents; declared here so every cloud lists its keys in one order.
    load_balancers: Annotated[Mapping[Id, Doc], Many] = Field(default_factory=dict)
    endpoint_services: Annotated[Mapping[Id, Doc], Many] = Field(default_factory=dict)
    endpoints: Annotated[Mapping[Id, Doc], Many] = Field(default_factory=dict)
    route_tables: Annotated[dict[Id, RouteTableDoc], Many] = Field(default_factory=dict)
    peerings: Annotated[dict[Id, PeeringDoc], Many] = Field(default_factory=dict)
    idcs: Annotated[dict[Id, IdcDoc], Many] = Field(default_factory=dict)
    vpn_gateways: Annotated[dict[Id, VpnGatewayDoc], Many] = Field(default_factory=dict)
    dc_gateways: Annotated[dict[Id, DcGatewayDoc], Many] = Field(default_factory=dict)
    timeline: Annotated[list[EventDoc], Many] = Field(default_factory=list)
    checks: Annotated[list[CheckDoc], Many] = Field(default_factory=list)


NOUNS: dict[type[BaseModel], str] = {
    SettingsDoc: "settings",
    DelaysDoc: "delay settings",
    TcpDoc: "TCP settings",
    VpcDoc: "VPC",
    SubnetDoc: "subnet",
    SecurityGroupDoc: "security group",
    RuleDoc: "rule",
    NetworkAclDoc: "network ACL",
    InstanceDoc: "instance",
    ListenerDoc: "listener",
    BackendDoc: "backend",
    HealthCheckDoc: "health check",
    RouteTableDoc: "route table",
    RouteDoc: "route",
    NextHopDoc: "next hop",
    PeeringDoc: "peering connection",
    IdcDoc: "data centre",
    IdcHostDoc: "data-centre host",
    IdcRouteDoc: "data-centre route",
    FirewallDoc: "firewall",
    TunnelDoc: "tunnel",
    VpnGatewayDoc: "VPN gateway",
    DcGatewayDoc: "Direct Connect gateway",
    EventDoc: "timeline event",
    CheckDoc: "check",
    LinkDoc: "link settings",
    LinksDoc: "link settings",
    CapacityDoc: "capacity settings",
    CapacitiesDoc: "capacity settings",
}
"""What a message calls each shared part of the document (each cloud adds its own)."""
