"""The validated, immutable cloud model: VPCs, subnets, security groups, instances, load balancers,
endpoint services, endpoints, CCNs, the control-plane timeline and the checks.

The model speaks cloud nouns only. It knows nothing of files (see :mod:`vpcsim.scenario`) nor of
forwarding (see :mod:`vpcsim.ir` and :mod:`vpcsim.frontends`).
"""

from vpcsim.model.acl import NetworkAcl
from vpcsim.model.ccn import Ccn
from vpcsim.model.checks import BranchMode, Check, Expectation
from vpcsim.model.cloud import CloudService
from vpcsim.model.compute import Instance
from vpcsim.model.loadbalancer import Backend, HealthCheck, Listener, LoadBalancer, Scheduler
from vpcsim.model.network import Subnet, Vpc
from vpcsim.model.peering import Peering
from vpcsim.model.premises import Firewall, Gateway, Idc, IdcHost, IdcRoute, Tunnel, TunnelState
from vpcsim.model.privatelink import (
    Endpoint,
    EndpointService,
    EndpointState,
    GatewayEndpoint,
    PortMapping,
    ServiceBackend,
)
from vpcsim.model.routing import NextHopKind, RouteEntry, RouteTable
from vpcsim.model.security import Action, PortRange, Protocol, Rule, SecurityGroup
from vpcsim.model.settings import Delays, Settings, TcpSettings
from vpcsim.model.timeline import Event, EventKind
from vpcsim.model.topology import Topology

__all__ = [
    "Action",
    "Backend",
    "BranchMode",
    "Ccn",
    "Check",
    "CloudService",
    "Delays",
    "Endpoint",
    "EndpointService",
    "EndpointState",
    "Event",
    "EventKind",
    "Expectation",
    "Firewall",
    "Gateway",
    "GatewayEndpoint",
    "HealthCheck",
    "Idc",
    "IdcHost",
    "IdcRoute",
    "Instance",
    "Listener",
    "LoadBalancer",
    "NetworkAcl",
    "NextHopKind",
    "Peering",
    "PortMapping",
    "PortRange",
    "Protocol",
    "RouteEntry",
    "RouteTable",
    "Rule",
    "Scheduler",
    "SecurityGroup",
    "ServiceBackend",
    "Settings",
    "Subnet",
    "TcpSettings",
    "Topology",
    "Tunnel",
    "TunnelState",
    "Vpc",
]
