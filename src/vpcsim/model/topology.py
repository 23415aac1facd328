"""The whole validated scenario as one immutable value."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address

from vpcsim.errors import ScenarioWarning
from vpcsim.model.acl import NetworkAcl
from vpcsim.model.ccn import Ccn
from vpcsim.model.checks import Check
from vpcsim.model.cloud import CloudService
from vpcsim.model.compute import Instance
from vpcsim.model.loadbalancer import LoadBalancer
from vpcsim.model.network import Subnet, Vpc
from vpcsim.model.peering import Peering
from vpcsim.model.premises import Gateway, Idc, IdcHost
from vpcsim.model.privatelink import Endpoint, EndpointService, GatewayEndpoint
from vpcsim.model.routing import RouteTable
from vpcsim.model.security import SecurityGroup
from vpcsim.model.settings import Settings
from vpcsim.model.timeline import Event


@dataclass(frozen=True, slots=True, kw_only=True)
class Topology:
    """Everything a scenario declares. Object maps are keyed by id; ``timeline`` is sorted by time
    (file order among equal times); ``checks`` keep file order. ``coded_warnings`` are what loading
    itself found worth the user's attention (admission failures, an instance without groups); the
    rest of the warnings need the whole model and live in :mod:`vpcsim.lint`."""

    source: str
    settings: Settings
    vpcs: dict[str, Vpc]
    security_groups: dict[str, SecurityGroup]
    instances: dict[str, Instance]
    load_balancers: dict[str, LoadBalancer]
    endpoint_services: dict[str, EndpointService]
    endpoints: dict[str, Endpoint]
    ccns: dict[str, Ccn]
    timeline: tuple[Event, ...]
    checks: tuple[Check, ...]
    network_acls: dict[str, NetworkAcl] = field(default_factory=dict)
    route_tables: dict[str, RouteTable] = field(default_factory=dict)
    """Every VPC's tables, its default one included (declared or implicit)."""
    peerings: dict[str, Peering] = field(default_factory=dict)
    idcs: dict[str, Idc] = field(default_factory=dict)
    gateways: dict[str, Gateway] = field(default_factory=dict)
    """VPN and Direct Connect gateways."""
    cloud_services: dict[str, CloudService] = field(default_factory=dict)
    gateway_endpoints: dict[str, GatewayEndpoint] = field(default_factory=dict)
    cloud: str = "tencent"
    """The front-end that read it (and lowers it)."""
    coded_warnings: tuple[ScenarioWarning, ...] = ()

    @property
    def warnings(self) -> tuple[str, ...]:
        """The load-time warnings as sentences, as ``vpcsim check`` prints them."""
        return tuple(w.message for w in self.coded_warnings)

    def acl_of(self, vpc_id: str, subnet_id: str) -> NetworkAcl | None:
        """The network ACL bound to a subnet, if any."""
        for acl in self.network_acls.values():
            if acl.vpc == vpc_id and subnet_id in acl.subnets:
                return acl
        return None

    def table_of(self, vpc_id: str, subnet_id: str) -> RouteTable:
        """The route table a subnet is bound to, or its VPC's default table."""
        default = None
        for t in self.route_tables.values():
            if t.vpc == vpc_id:
                if subnet_id in t.subnets:
                    return t
                if t.default:
                    default = t
        assert default is not None, f"VPC {vpc_id} has no default route table"
        return default

    @property
    def idc_hosts(self) -> dict[str, IdcHost]:
        return {h.id: h for idc in self.idcs.values() for h in idc.hosts}

    def host_ids(self) -> tuple[str, ...]:
        """Every object a probe may start from: instances and data-centre hosts."""
        return (*self.instances, *self.idc_hosts)

    def subnet(self, vpc_id: str, subnet_id: str) -> Subnet:
        s = self.vpcs[vpc_id].subnet(subnet_id)
        assert s is not None
        return s

    def zone_of(self, vpc_id: str, subnet_id: str) -> str:
        return self.subnet(vpc_id, subnet_id).zone

    def resolve_host(self, host: str) -> tuple[IPv4Address, str | None]:
        """An IP, or the address of an object id (instance, data-centre host, endpoint, load balancer,
        cloud service).

        Returns the address and the id it came from (None for a literal IP). Raises KeyError.
        """
        if host in self.instances:
            return self.instances[host].ip, host
        if host in self.endpoints:
            return self.endpoints[host].ip, host
        for idc in self.idcs.values():
            for h in idc.hosts:
                if h.id == host:
                    return h.ip, host
        if host in self.load_balancers:
            return self.load_balancers[host].vip, host
        if host in self.cloud_services:
            return self.cloud_services[host].ip, host
        return IPv4Address(host), None
