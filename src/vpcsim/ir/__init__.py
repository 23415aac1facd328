"""The cloud-neutral forwarding IR: what every front-end lowers to and the engine walks.

Five node kinds (hosts, routers, translators, load balancers, gateways) with filters, route tables and
listeners; one :class:`ForwardingState` per control-plane snapshot; the delay model.
"""

from vpcsim.ir.lpm import LpmTable
from vpcsim.ir.network import CompiledNetwork, Delays, ForwardingState, TcpStack
from vpcsim.ir.nodes import (
    PROTO_NAMES,
    PROTO_NUMBERS,
    Backend,
    Balancer,
    Circuit,
    Filter,
    FilterRule,
    Gateway,
    Host,
    Limits,
    Link,
    Listener,
    Node,
    NodeKind,
    Owner,
    Router,
    RouteTable,
    SharedRoute,
    StaticRoute,
    StaticTable,
    SubnetFilter,
    Translator,
    acl_rule,
)

__all__ = [
    "PROTO_NAMES",
    "PROTO_NUMBERS",
    "Backend",
    "Balancer",
    "Circuit",
    "CompiledNetwork",
    "Delays",
    "Filter",
    "FilterRule",
    "ForwardingState",
    "Gateway",
    "Host",
    "Limits",
    "Link",
    "Listener",
    "LpmTable",
    "Node",
    "NodeKind",
    "Owner",
    "RouteTable",
    "Router",
    "SharedRoute",
    "StaticRoute",
    "StaticTable",
    "SubnetFilter",
    "TcpStack",
    "Translator",
    "acl_rule",
]
