"""The nodes of the forwarding IR: hosts, routers, translators and load balancers.

Nothing here belongs to one cloud. A front-end lowers its vocabulary into these four kinds:
a server is a :class:`Host`, a network's router or a routing domain between networks is a
:class:`Router`, a node that rewrites flows and keeps sessions is a :class:`Translator`, a layer-4
load balancer is a :class:`Balancer`. Words a trace shows (``label``, ``noun``) and the notes a
front-end attaches are data for the report; the engine never reads them.

Addresses are ints on purpose: the per-packet path compares and hashes ints, never ``ipaddress``
objects. Records a step cites (a rule, a route) are built once here and shared by every step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, NamedTuple

from vpcsim.ir.lpm import LpmTable
from vpcsim.trace import AclMatch, InvalidRoute, Reason, RuleMatch, Step, StepAction, StepKind

PROTO_NUMBERS = {"tcp": 6, "udp": 17, "icmp": 1, "all": 0}
PROTO_NAMES = {6: "tcp", 17: "udp", 1: "icmp"}


class NodeKind(StrEnum):
    HOST = "host"
    ROUTER = "router"
    TRANSLATOR = "translator"
    BALANCER = "balancer"


class FilterRule(NamedTuple):
    net: int
    mask: int
    proto: int
    """0 matches every protocol."""
    low: int
    high: int
    accept: bool
    match: RuleMatch | AclMatch
    """What a step records when this rule is the first match."""
    step: Step
    """The filter step of a first match, built once."""


def filter_rule(net: int, mask: int, match: RuleMatch) -> FilterRule:
    """A rule of a filter, with the step its first match records."""
    reason = None
    if not match.accept:
        reason = Reason.SG_INGRESS_DENIED if match.direction == "ingress" else Reason.SG_EGRESS_DENIED
    step = Step(StepKind.FILTER, StepAction.PERMITTED if match.accept else StepAction.DENIED, match, reason)
    return FilterRule(net, mask, PROTO_NUMBERS[match.protocol], match.low, match.high, match.accept, match, step)


def acl_rule(net: int, mask: int, match: AclMatch) -> FilterRule:
    """A rule of a subnet's stateless filter, with the step its first match records."""
    reason = None
    if not match.accept:
        reason = Reason.ACL_INGRESS_DENIED if match.direction == "ingress" else Reason.ACL_EGRESS_DENIED
    step = Step(StepKind.FILTER, StepAction.PERMITTED if match.accept else StepAction.DENIED, match, reason)
    return FilterRule(net, mask, PROTO_NUMBERS[match.protocol], match.low, match.high, match.accept, match, step)


@dataclass(frozen=True, slots=True)
class Filter:
    """The rules of the groups bound to one object, in bound order, for one direction: one list,
    first match wins, and an implicit deny ends it. Objects bound to the same groups share one."""

    direction: str
    groups: tuple[str, ...]
    rules: tuple[FilterRule, ...]

    def first_match(self, proto: int, peer: int, port: int) -> FilterRule | None:
        for r in self.rules:
            if (
                (peer & r.mask) == r.net
                and (r.proto == 0 or r.proto == proto)
                and (proto not in (6, 17) or r.low <= port <= r.high)
            ):
                return r
        return None


@dataclass(frozen=True, slots=True)
class Host:
    """An end system: one address on one network, filters, and what it listens on."""

    kind: ClassVar[NodeKind] = NodeKind.HOST
    processing_delay: ClassVar[float] = 0.0
    id: str
    label: str
    address: int
    gateway: str
    """The router of its network."""
    zone: str
    region: str
    ingress: Filter
    egress: Filter
    listening: frozenset[tuple[int, int]]
    """(protocol number, port) pairs with a listener."""


class SharedRoute(NamedTuple):
    """A route of a routing domain, shared by the domain and every member that learns it."""

    prefix: str
    next_hop: str
    """The member network the prefix belongs to."""
    origin_subnet: str


@dataclass(frozen=True, slots=True)
class RouteTable:
    """A routing domain's routes: LPM over the valid ones, and the invalid ones (to explain drops)."""

    domain: str
    routes: LpmTable[SharedRoute]
    invalid: tuple[tuple[int, int, InvalidRoute], ...]
    """(net, mask, route) of routes that exist but do not forward."""

    def invalid_for(self, address: int) -> tuple[InvalidRoute, ...]:
        return tuple(r for net, mask, r in self.invalid if (address & mask) == net)


class Owner(NamedTuple):
    node: str
    noun: str


@dataclass(frozen=True, slots=True)
class Router:
    """A router. Inside its connected prefix, an address is delivered to its owner (or dropped when
    nothing owns it): the connected prefix wins over every learned route. Outside it, the longest
    prefix of ``table`` decides; the next hop is ``via`` (the routing domain the table was learned
    from) or, for the domain itself, the route's own next hop.

    A routing domain never sends a packet back to the neighbour it came from (``split_horizon``);
    what crossing regions costs is its links' business (:class:`Link`).
    """

    kind: ClassVar[NodeKind] = NodeKind.ROUTER
    processing_delay: ClassVar[float] = 0.0
    id: str
    label: str
    noun: str
    region: str
    connected: tuple[int, int, str] | None
    """(net, mask, prefix text) of the connected prefix."""
    owners: Mapping[int, Owner]
    table: RouteTable | None
    via: str | None
    note: str = ""
    """Why nothing is learned, for a router with no table (a front-end's words)."""
    split_horizon: bool = False
    zone: str = ""
    """Routers have no zone: the delay of a path through them is the zones' at either end."""
    subnet_filters: Mapping[str, SubnetFilter] = field(default_factory=dict)
    """Attached node → the stateless filter of the subnet it sits in, checked by the router on
    packets that leave that subnet from the node and packets it hands to the node from outside it."""


@dataclass(frozen=True, slots=True)
class SubnetFilter:
    """A stateless filter at a subnet's boundary: each list ends with a rule that drops everything,
    so a lookup always matches; packets between two addresses of the subnet are not checked."""

    net: int
    mask: int
    ingress: Filter
    egress: Filter


class Backend(NamedTuple):
    instance: str
    address: int
    gateway: str
    """The router of the backend's network (where its replies are steered back)."""
    port: int
    weight: int
    healthy: bool
    key: str
    """``instance:port``: the backend's name in traces and scheduler state."""


@dataclass(frozen=True, slots=True)
class Listener:
    id: str
    proto: int
    port: int
    scheduler: str
    """``wrr`` (smooth weighted round robin) or ``least_conn``."""
    backends: tuple[Backend, ...]
    health_checked: bool
    takers: tuple[Backend, ...] = field(init=False)
    """Backends that take new connections (weight > 0), in bound order."""
    healthy_takers: tuple[Backend, ...] = field(init=False)
    any_healthy: bool = field(init=False)
    """Whether any bound backend, whatever its weight, passes its health checks."""
    backend_keys: tuple[str, ...] = field(init=False, compare=False)
    """The keys of ``backends`` (what the record of a choice names its candidates by, built once)."""
    taker_keys: tuple[str, ...] = field(init=False, compare=False)
    healthy_keys: tuple[str, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        takers = tuple(b for b in self.backends if b.weight > 0)
        healthy = tuple(b for b in takers if b.healthy)
        object.__setattr__(self, "takers", takers)
        object.__setattr__(self, "healthy_takers", healthy)
        object.__setattr__(self, "any_healthy", any(b.healthy for b in self.backends))
        object.__setattr__(self, "backend_keys", tuple(b.key for b in self.backends))
        object.__setattr__(self, "taker_keys", tuple(b.key for b in takers))
        object.__setattr__(self, "healthy_keys", tuple(b.key for b in healthy))


@dataclass(frozen=True, slots=True)
class Balancer:
    """A layer-4 load balancer: a virtual address, listeners, optional filters, and backends that
    see the client's own source address (so their replies are steered back to it)."""

    kind: ClassVar[NodeKind] = NodeKind.BALANCER
    processing_delay: ClassVar[float] = 0.0
    id: str
    label: str
    noun: str
    address: int
    gateway: str
    zone: str
    region: str
    filter: Filter | None
    listeners: Mapping[tuple[int, int], Listener]
    """(protocol number, port) → listener."""
    subnet_filter: SubnetFilter | None = None
    """The stateless filter of its subnet, for the packets that reach it or leave it without a router
    (from and to translators); its router checks the rest."""


@dataclass(frozen=True, slots=True)
class Translator:
    """A node that forwards flows to its address on to a target: destination NAT to the target's
    address (port unchanged), source NAT to its own pool address and a port per flow, with a
    session for each flow so that replies are translated back. It forwards only while ``active``.
    """

    kind: ClassVar[NodeKind] = NodeKind.TRANSLATOR
    id: str
    label: str
    noun: str
    address: int
    gateway: str
    zone: str
    region: str
    active: bool
    state: str
    state_note: str
    forwarding_state: str
    """The state in which it forwards, as the front-end names it."""
    inactive_reason: Reason
    filter: Filter | None
    """Applied to the original source, before translation."""
    target: str
    target_address: int
    snat_address: int
    service: str
    translation: str
    """What the front-end calls the translation, for traces."""
    processing_delay: float
    snat_pool: str = ""
    """The CIDR (as text) that ``snat_address`` is drawn from: the range a filter behind the target
    must admit for translated flows. Reports read it; the engine does not."""
    snat_label: str = ""
    """What the front-end calls a source address of that pool, for reports (``<label> of <id>``)."""


Node = Host | Router | Translator | Balancer


@dataclass(frozen=True, slots=True)
class Link:
    """One direction of the connection between two neighbours, and what crossing it costs.

    Into a zoned node (a host, translator or load balancer: ``zone`` set), a packet pays the delay
    between the zone it last left and this one, as one fabric carries it from node to node;
    routers in between add none. A link between regions (``inter_region``) pays the region pair's
    delay and its serialisation at ``bandwidth_bps`` when the packet comes from another region,
    which then forgets its zone. The delays themselves are the network's
    (:class:`~vpcsim.ir.network.Delays`).
    """

    zone: str
    """The far end's zone ("" for a router)."""
    region: str
    """The far end's region."""
    inter_region: bool = False
    bandwidth_bps: float = 0.0
