"""The nodes of the forwarding IR: hosts, routers, translators, load balancers and gateways.

Nothing here belongs to one cloud. A front-end lowers its vocabulary into these five kinds:
a server is a :class:`Host`, a network's router or a routing domain between networks is a
:class:`Router`, a node that rewrites flows and keeps sessions is a :class:`Translator`, a layer-4
load balancer is a :class:`Balancer`, a node joining a network to far networks over circuits that
go up and down is a :class:`Gateway`. Words a trace shows (``label``, ``noun``) and the notes a
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


@dataclass(frozen=True, slots=True)
class Limits:
    """What a gateway or load balancer can carry: a per-packet service time with a FIFO of waiting
    packets (tail drop beyond ``queue``), at most ``max_sessions`` concurrent sessions, at most
    ``new_per_second`` new ones in any second (a bucket of that many tokens, refilled evenly), and
    sessions forgotten after ``idle_timeout`` without a packet. Zero means none of that limit."""

    service_time: float = 0.0
    queue: int = 0
    max_sessions: int = 0
    new_per_second: float = 0.0
    idle_timeout: float = 0.0


class NodeKind(StrEnum):
    HOST = "host"
    ROUTER = "router"
    TRANSLATOR = "translator"
    BALANCER = "balancer"
    GATEWAY = "gateway"


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


DENIED = {
    ("sg", "ingress"): Reason.SG_INGRESS_DENIED,
    ("sg", "egress"): Reason.SG_EGRESS_DENIED,
    ("firewall", "ingress"): Reason.FIREWALL_INGRESS_DENIED,
    ("firewall", "egress"): Reason.FIREWALL_EGRESS_DENIED,
    ("acl", "ingress"): Reason.ACL_INGRESS_DENIED,
    ("acl", "egress"): Reason.ACL_EGRESS_DENIED,
    ("allowlist", "ingress"): Reason.SOURCE_NOT_ALLOWED,
}
"""(kind of filter, direction) → the reason of its drops."""


def filter_rule(net: int, mask: int, match: RuleMatch, kind: str = "sg") -> FilterRule:
    """A rule of a filter (``kind``: ``sg`` or ``firewall``), with the step its first match records."""
    reason = None
    if not match.accept:
        reason = DENIED[(kind, match.direction)]
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
    denied: Reason = Reason.SG_INGRESS_DENIED
    """The reason of the implicit deny (set from ``kind`` and ``direction``)."""
    kind: str = "sg"
    """``sg`` (security groups), ``firewall`` (a host's own), ``acl`` (a subnet's) or ``allowlist``
    (the sources a translator admits)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "denied", DENIED[(self.kind, self.direction)])

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
    forwards: bool = False
    """Whether it forwards packets addressed to others (a route's next hop): its filters apply
    both ways, with connection tracking, and it hands them back to its router."""
    source_checked: bool = False
    """Whether a packet for another address, its aliases included, is dropped as such (a NIC's
    source/destination check), rather than never arriving."""
    aliases: frozenset[int] = frozenset()
    """Further addresses it answers on (a virtual IP)."""


class SharedRoute(NamedTuple):
    """A route of a routing domain, shared by the domain and every member that learns it."""

    prefix: str
    next_hop: str
    """The member network the prefix belongs to."""
    origin_subnet: str
    plen: int
    """The prefix length (a learned route and a static one to the same destination compare it)."""
    origin_noun: str = "subnet"
    """What ``origin_subnet`` is (a ``subnet``, a ``data centre`` behind a gateway)."""


class StaticRoute(NamedTuple):
    """A route of a router's own table: where it sends ``prefix``, and the step that records it."""

    prefix: str
    plen: int
    next_hop: str
    step: Step
    """The route step of a packet it forwards, built once."""


@dataclass(frozen=True, slots=True)
class StaticTable:
    """A router's table for the packets of some of its neighbours: per prefix, the routes that
    forward (several are equal-cost paths, a branch point), and the routes that exist but do not
    forward (disabled, or outranked), to explain a drop."""

    id: str
    label: str
    """How traces name it (``route table rtb-1``)."""
    routes: LpmTable[tuple[StaticRoute, ...]]
    invalid: tuple[tuple[int, int, InvalidRoute], ...] = ()
    onward: frozenset[str] | None = None
    """The next hops its packets may take (None: every one); a packet whose best route leads
    elsewhere has no route: it entered from outside and the network carries it no further."""
    onward_note: str = ""
    """Why, for the drop."""

    def invalid_for(self, address: int) -> tuple[InvalidRoute, ...]:
        return tuple(r for net, mask, r in self.invalid if (address & mask) == net)


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
    """A router. Inside its connected prefixes, an address is delivered to its owner (or dropped
    when nothing owns it): a connected prefix wins over every route. Outside them, a packet from a
    neighbour with an entry in ``tables`` meets that static table and the learned ``table``
    together: the longest prefix wins, and on equal prefixes the learned route. The next hop of a
    learned route is ``via`` (the routing domain it was learned from) or, for the domain itself,
    the route's own next hop. A packet from any other neighbour is routed only by a router that
    gives ``transit``; otherwise it reaches only connected addresses.

    A routing domain never sends a packet back to the neighbour it came from (``split_horizon``);
    what crossing regions costs is its links' business (:class:`Link`).
    """

    kind: ClassVar[NodeKind] = NodeKind.ROUTER
    processing_delay: ClassVar[float] = 0.0
    id: str
    label: str
    noun: str
    region: str
    connected: tuple[tuple[int, int, str], ...]
    """(net, mask, prefix text) of each connected prefix."""
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
    tables: Mapping[str, StaticTable] = field(default_factory=dict)
    """Neighbour → the static table its packets are routed by."""
    transit: bool = True
    """Whether packets from a neighbour without a static table are routed (by ``table``)."""
    closed: Mapping[str, tuple[frozenset[str], str]] = field(default_factory=dict)
    """Owner → (neighbours whose packets never reach it, why): an address on the network that only
    some ways in lead to."""


@dataclass(frozen=True, slots=True)
class SubnetFilter:
    """A stateless filter at a subnet's boundary: each list ends with a rule that drops everything,
    so a lookup always matches; packets between two addresses of the subnet are not checked."""

    net: int
    mask: int
    ingress: Filter
    egress: Filter
    stateful: bool = False
    """Whether it tracks connections: a packet of a flow it admitted, or its reply, passes unchecked."""


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
    snat_address: int = 0
    """The source address backends see, with a port per connection (0: the client's own)."""
    snat_pool: str = ""
    """The CIDR (as text) that address is drawn from: what a backend's filter must admit. Reports
    read it; the engine does not."""
    snat_label: str = ""
    """What the front-end calls that address, for reports."""
    limits: Limits | None = None
    """Its capacity (None: unlimited, no service time)."""


@dataclass(frozen=True, slots=True)
class Translator:
    """A node that forwards flows to its address on to a target: destination NAT to the target's
    address (the port unchanged, or mapped by ``ports``), source NAT to its own pool address and a
    port per flow, with a session for each flow so that replies are translated back. It forwards
    only while ``active``.

    A translator reached by routes rather than at its address (``keep_destination``) leaves the
    destination as it is and sends the packet to ``target``, a router. When ``target`` is a router
    (``steer``), the translator asks it to send the replies of the flow back to it.
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
    ports: Mapping[tuple[int, int], int] | None = None
    """(protocol number, client port) → server port; None passes every port unchanged."""
    keep_destination: bool = False
    steer: bool = False
    target_label: str = ""
    """What a trace calls the target, when not its id (a service behind a router)."""
    limits: Limits | None = None
    """Its capacity (None: unlimited, no service time)."""


class Circuit(NamedTuple):
    """One connection of a gateway to a far network (a tunnel, a dedicated line)."""

    id: str
    noun: str
    """``tunnel``, ``connection``: what a trace calls it."""
    far: str
    """The far side's router."""
    nets: tuple[tuple[int, int], ...]
    """(net, mask) of the far network's prefixes."""
    up: bool
    state: str
    """Its state as the front-end names it (``UP``, ``DOWN``)."""
    outbound: Step
    """The step of a packet it carries toward the far side, built once."""
    inbound: Step
    """The step of a packet it carries from the far side."""


@dataclass(frozen=True, slots=True)
class Gateway:
    """A gateway between a near network (``near``: a network's router or a routing domain) and far
    networks reached over circuits. Toward the far side a packet takes the first circuit that is
    up among those whose far network holds its destination; from the far side it takes the
    circuit of the network it came from, if that circuit is up."""

    kind: ClassVar[NodeKind] = NodeKind.GATEWAY
    processing_delay: ClassVar[float] = 0.0
    id: str
    label: str
    noun: str
    near: str
    circuits: tuple[Circuit, ...]
    region: str
    zone: str = ""
    limits: Limits | None = None
    """Its per-packet service time and queue (sessions: none, it keeps no state)."""


Node = Host | Router | Translator | Balancer | Gateway


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
    """Serialisation rate (0: none). On a link between regions it applies to packets that cross."""
    delay: float | None = None
    """A fixed one-way delay of the crossing (a tunnel), instead of the region pair's."""
    pair_bandwidth: Mapping[str, float] = field(default_factory=dict)
    """On a link between regions: the region a packet comes from → the rate for that region pair,
    where it differs from ``bandwidth_bps``."""
    queue: int = 0
    """Packets that may wait to be serialised (0: no limit); one more is dropped (tail drop)."""
    overhead: int = 0
    """Bytes each frame adds to an IP packet on this link (link-layer header, preamble, gap)."""
    mtu: int = 0
    """The largest IP packet it carries (0: any); a SYN crossing it has its MSS clamped to fit."""
    latency: float = 0.0
    """One-way delay of its own, added to the zones' or regions'."""
    shared: str = ""
    """Links with the same non-empty name share one queue and one rate (a gateway's bandwidth over
    its tunnels); else each link has its own."""
