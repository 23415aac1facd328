"""Steps, hops and packet traces.

A packet trace is a list of hops; a hop is a node and the typed steps taken there. A step is a
kind (what happened: filter, route, transform, ...), an action (permitted, forwarded, ...), typed
data saying exactly what decided it (the rule, the route, the NAT diffs, the chosen backend) and,
on a drop, the reason. Nothing here is prose: ``vpcsim.report`` renders steps as text, and nothing
parses that text back.

``Step``, ``Hop`` and the data records are NamedTuples rather than frozen dataclasses because the
engine creates tens of them per check: a NamedTuple costs a third of a frozen dataclass to build,
and is just as immutable. Records that do not depend on the packet (a security-group rule, a
route) are built once by the front-end and shared by every step that cites them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address
from typing import NamedTuple

from vpcsim.trace.verdict import Disposition, Reason


class StepKind(StrEnum):
    ORIGINATE = "originate"
    INGRESS = "ingress"
    FILTER = "filter"
    SESSION = "session"
    ROUTE = "route"
    TRANSFORM = "transform"
    LOAD_BALANCE = "load_balance"
    EGRESS = "egress"
    DELIVER = "deliver"
    DROP = "drop"


class StepAction(StrEnum):
    ORIGINATED = "originated"
    RECEIVED = "received"
    PERMITTED = "permitted"
    DENIED = "denied"
    MATCHED = "matched"
    CREATED = "created"
    FORWARDED = "forwarded"
    TRANSFORMED = "transformed"
    CHOSEN = "chosen"
    TRANSMITTED = "transmitted"
    DELIVERED = "delivered"
    DROPPED = "dropped"


# -- what a host sends and receives ------------------------------------------------------------------


class Cause(StrEnum):
    """Why a host sent a packet."""

    CONNECT = "connect"
    """The first SYN of ``connect()``."""
    RETRANSMISSION = "retransmission"
    """A SYN sent again after the retransmission timer expired."""
    HANDSHAKE = "handshake"
    """The ACK that completes a handshake."""
    LISTENING = "listening"
    """A server's SYN-ACK: something listens on the port."""
    CLOSED = "closed"
    """A server's RST (TCP) or ICMP port unreachable (UDP): nothing listens on the port."""
    DATAGRAM = "datagram"
    """A UDP datagram a client sends (``nc -u``)."""
    ECHO = "echo"
    """An ICMP echo request (``ping``)."""
    ECHO_REPLY = "echo_reply"
    """The kernel answers an echo request."""
    HANDMADE = "handmade"
    """A packet handed in whole (``Network.send``)."""
    STREAM = "stream"
    """A segment of an established connection: data (``number`` bytes), an ACK, a FIN."""


class Originated(NamedTuple):
    host: str
    packet: str
    """SYN, SYN-ACK, ACK, RST; UDP; ECHO, ECHO-REPLY, UNREACHABLE."""
    cause: Cause
    number: int = 0
    """The retransmission's number, or the port for LISTENING and CLOSED."""
    protocol: str = "tcp"


class Received(NamedTuple):
    neighbour: str


class Transmitted(NamedTuple):
    neighbour: str


class Delivered(NamedTuple):
    node: str
    protocol: str
    port: int


class Loopback(NamedTuple):
    """A host sent to its own address (or to 127/8): the kernel delivers it over ``lo``."""

    host: str
    address: str


# -- filters -------------------------------------------------------------------------------------------


class RuleMatch(NamedTuple):
    """The first rule of a filter that matched a packet (one per rule, built once)."""

    group: str
    direction: str
    """``ingress`` or ``egress``."""
    number: int
    """The rule's position in its group's list for that direction, from 0."""
    accept: bool
    protocol: str
    """``tcp``, ``udp``, ``icmp`` or ``all``."""
    low: int
    high: int
    peer: str
    """The rule's source (ingress) or destination (egress) CIDR."""


class NoRuleMatch(NamedTuple):
    """No rule of the bound groups matched (or no group is bound): the implicit deny."""

    owner: str
    direction: str
    groups: tuple[str, ...]
    rules_checked: int
    protocol: str
    port: int
    peer: str
    """The packet's source (ingress) or destination (egress) address."""


class AclMatch(NamedTuple):
    """The first rule of a network ACL that matched a packet (one per rule, built once)."""

    acl: str
    direction: str
    """``ingress`` (into the bound subnet) or ``egress`` (out of it)."""
    number: int
    """The rule's position in the ACL's list for that direction, from 0; -1 for the immutable
    deny-all that ends every list; -2, -3, ... for the rules the cloud adds before it (Huawei's
    default rules)."""
    accept: bool
    protocol: str
    low: int
    high: int
    peer: str
    """The rule's source (ingress) or destination (egress) CIDR."""
    subnet: str
    """The CIDR of the bound subnet the packet entered or left."""


class AclDenied(NamedTuple):
    """A network ACL's drop: where (a router, or a load balancer on a leg no router sees), the rule
    that decided and the packet it denied."""

    node: str
    match: AclMatch
    protocol: str
    port: int
    peer: str
    """The packet's source (ingress) or destination (egress) address."""


class Denied(NamedTuple):
    """A filter's drop, as the drop step records it: whose filter, and the match that decided."""

    owner: str
    """The filtering object, with the noun that names it where one is needed (``endpoint vpce-1``)."""
    direction: str
    match: RuleMatch | NoRuleMatch
    protocol: str = ""
    """The denied packet's protocol (``tcp``), port and peer address: its source on the way in, its
    destination on the way out (a rule's match names only the rule)."""
    port: int = 0
    peer: str = ""


class Tracked(NamedTuple):
    """Connection tracking passed the packet without consulting rules."""

    reply: bool
    """True for the reply direction of an admitted flow; False for an ESTABLISHED flow's packet."""
    related: bool = False
    """An ICMP error about a tracked flow (RELATED, as Linux conntrack calls it)."""


# -- routing -------------------------------------------------------------------------------------------


class RouteHit(NamedTuple):
    """A route that forwarded a packet (one per route, built once and shared)."""

    router: str
    prefix: str
    next_hop: str
    origin_subnet: str
    """The subnet the route was published for."""
    origin_network: str
    """The network (VPC) that published it."""
    learned_from: str
    """The routing domain it was learned from, or "" for the domain's own table."""
    table: str = ""
    """For a route of a static table: the table (``route table rtb-1``), its entry's id and what
    the next hop is (``VPN gateway``)."""
    entry: str = ""
    hop_noun: str = ""
    origin_noun: str = "subnet"
    """What ``origin_subnet`` names: a ``subnet``, or a ``data centre`` a gateway published."""


class LocalHit(NamedTuple):
    """The router's connected (Local) prefix: the address's owner is on the network."""

    router: str
    address: str
    prefix: str
    owner: str
    owner_noun: str


class NoOwner(NamedTuple):
    """An address inside the connected prefix that nothing owns."""

    router: str
    address: str
    prefix: str


class InvalidRoute(NamedTuple):
    """A route that exists but does not forward, kept to explain a drop it would have routed."""

    prefix: str
    next_hop: str
    domain: str
    """The routing domain the route belongs to."""
    domain_noun: str
    """The domain as the front-end names it (``CCN``)."""
    status: str
    """What the control plane says of it (``invalid: overlaps ... (attached first)``)."""


class NoRoute(NamedTuple):
    router: str
    address: str
    own_table: bool
    """True when the router is a routing domain itself (its own table had no route)."""
    invalid: tuple[InvalidRoute, ...]
    """Invalid routes that cover the address."""
    note: str = ""
    """Why the router learns nothing, when it does not (set by the front-end)."""
    table: str = ""
    """The static table that was looked up, if any (``route table rtb-1``)."""
    entered_from: str = ""
    """Set when the router routes nothing that enters from this neighbour (no transit): only
    addresses on its own networks are reached that way."""


class EcmpChoice(NamedTuple):
    """Equal-cost routes: the next hops a router's table offers for a prefix and the one taken."""

    router: str
    table: str
    prefix: str
    candidates: tuple[str, ...]
    chosen: str
    pinned: bool


class GatewayHit(NamedTuple):
    """A gateway carried the packet over one of its circuits (a tunnel, a dedicated line)."""

    gateway: str
    noun: str
    circuit: str
    circuit_noun: str
    state: str
    toward: str
    """The router on the far side of the crossing."""


class CircuitsDown(NamedTuple):
    """Every circuit a gateway could carry the packet over is down."""

    gateway: str
    noun: str
    circuits: tuple[tuple[str, str], ...]
    """(circuit id, state) of each circuit toward the packet's network."""
    circuit_noun: str
    address: str


class NoCircuit(NamedTuple):
    """A gateway has no circuit to a network holding the address."""

    gateway: str
    noun: str
    address: str


class Relayed(NamedTuple):
    """A host that is a route's next hop forwarded a packet addressed to another, back to its router."""

    host: str
    address: str
    router: str


class ReturnSteered(NamedTuple):
    """A reply the router sent back to the load balancer whose connection it belongs to."""

    balancer: str


class HopLimit(NamedTuple):
    node: str
    limit: int


class TtlExpired(NamedTuple):
    """A router received a packet whose TTL would reach 0 if forwarded (it drops it silently)."""

    router: str
    ttl: int
    """The TTL the packet arrived with."""


# -- translation and load balancing --------------------------------------------------------------------


class FlowDiff(NamedTuple):
    """One header field a transformation changed."""

    field: str
    old: str
    new: str


class Translated(NamedTuple):
    """A NAT rewrite: the forward translation of a new or known flow, or the reverse of a session."""

    node: str
    noun: str
    """``endpoint``, ``load balancer``: the translating node as the front-end names it."""
    reverse: bool
    translation: str
    """What the front-end calls a forward translation (``Private Link NAT``), or ""."""
    target: str
    """Where the forward translation sends the packet (a load balancer, a backend)."""
    service: str
    """The published service behind the translation, or ""."""
    listener: str
    """The load balancer's listener, or ""."""
    diffs: tuple[FlowDiff, ...]


class SessionEvent(NamedTuple):
    """A translator's or load balancer's session created or matched."""

    node: str
    label: str
    """The node in a sentence (``endpoint vpce-1``, ``lb-1``), as the front-end names it."""
    created: bool
    reply: bool
    service: str = ""
    listener: str = ""
    backend: str = ""


class Inactive(NamedTuple):
    """A translator that does not forward in its current state."""

    node: str
    label: str
    noun: str
    state: str
    note: str
    forwarding_state: str
    """The state in which it would forward (``ACTIVE``)."""


class NoSession(NamedTuple):
    node: str
    label: str
    flow: str
    """The reply as it arrived: ``src:sport > dst:dport KIND``."""


class PortsExhausted(NamedTuple):
    """A translator has no free port left on its pool address for a new flow."""

    node: str
    label: str
    address: str
    ports: int
    """How many ports the pool has (all of them in use)."""


class NotForwarded(NamedTuple):
    """A node that forwards only some protocols (an endpoint, a load balancer) stopped a packet:
    an echo request to its address, or an ICMP error coming back from behind it."""

    node: str
    label: str
    noun: str
    protocol: str
    what: str
    """``echo request`` or ``ICMP error``."""


class NoPortMapping(NamedTuple):
    """A translator that maps ports has no mapping for the port a packet came to."""

    node: str
    label: str
    protocol: str
    port: int
    ports: tuple[int, ...]
    """The ports it maps for that protocol."""


class SessionLimit(NamedTuple):
    """A translator or load balancer holds as many concurrent sessions as it may: a new flow is refused."""

    node: str
    label: str
    limit: int


class RateLimited(NamedTuple):
    """A translator or load balancer opened as many new sessions in the last second as it may."""

    node: str
    label: str
    per_second: float


class QueueFull(NamedTuple):
    """A FIFO was full when the packet arrived: a link's (``node`` toward ``toward``) or a node's own
    (``toward`` empty), holding ``limit`` packets."""

    node: str
    toward: str
    limit: int


class SourceChecked(NamedTuple):
    """A host that does not forward (its source/destination check is on) got a packet for another
    address."""

    host: str
    destination: str


class NoListener(NamedTuple):
    balancer: str
    protocol: str
    port: int
    ports: tuple[int, ...]


class Pool(StrEnum):
    """Which backends a scheduler chose among."""

    HEALTHY = "healthy"
    BOUND = "bound"
    """Every backend with weight > 0 (health checks off, or all-dead-all-alive)."""


class Chosen(NamedTuple):
    """A load balancer's choice for a new connection."""

    balancer: str
    listener: str
    listener_port: int
    scheduler: str
    backend: str
    """``instance:port``."""
    address: str
    port: int
    weight: int
    candidates: int
    pool: Pool
    pinned: bool = False
    """True when the choice was forced (one branch of a check, or ``--backend``), not the scheduler's."""


class Choice(NamedTuple):
    """A branch point a connection met: a load balancer scheduling a new connection, the backends it
    may pick in the state in force (``candidates``, ``instance:port`` in pool order), and the one
    this connection took; or a router with equal-cost routes (``kind='next_hop'``: ``balancer`` is
    the router, ``listener`` the table and prefix, the candidates its next hops)."""

    balancer: str
    listener: str
    listener_port: int
    candidates: tuple[str, ...]
    backend: str
    """``instance:port`` of the backend taken."""
    instance: str
    port: int
    pinned: bool
    kind: str = "backend"

    @property
    def point(self) -> tuple[str, str]:
        """(balancer, listener): what a pin names."""
        return (self.balancer, self.listener)


class AllDead(NamedTuple):
    """Every backend fails its health checks: all of them are scheduled (all-dead-all-alive)."""

    balancer: str
    listener: str
    backends: int


class NoBackend(NamedTuple):
    balancer: str
    listener: str
    bound: int
    healthy_zero_weight: bool
    """True when healthy backends exist but all have weight 0 (the others fail their checks)."""


class SelfBackend(NamedTuple):
    """The load balancer sent a backend's own connection back to it (no loopback through a VIP)."""

    balancer: str
    listener: str
    backend: str


StepData = (
    Originated
    | Received
    | Transmitted
    | Delivered
    | Loopback
    | RuleMatch
    | NoRuleMatch
    | Denied
    | AclMatch
    | AclDenied
    | Tracked
    | RouteHit
    | LocalHit
    | NoOwner
    | NoRoute
    | EcmpChoice
    | Relayed
    | GatewayHit
    | CircuitsDown
    | NoCircuit
    | ReturnSteered
    | HopLimit
    | TtlExpired
    | Translated
    | SessionEvent
    | Inactive
    | NoSession
    | PortsExhausted
    | NotForwarded
    | NoPortMapping
    | SessionLimit
    | RateLimited
    | QueueFull
    | SourceChecked
    | NoListener
    | Chosen
    | AllDead
    | NoBackend
    | SelfBackend
)


class Step(NamedTuple):
    """One decision at a node: what happened, and the typed record of what decided it."""

    kind: StepKind
    action: StepAction
    data: StepData
    reason: Reason | None = None
    """Set on drop steps (and on a filter's deny)."""


class Hop(NamedTuple):
    """A node a packet visited, the simulated time it arrived (seconds) and its steps there."""

    node: str
    time: float
    steps: tuple[Step, ...]


_ENTRY = (StepKind.INGRESS, StepKind.ORIGINATE)
_EXIT = StepKind.EGRESS


@dataclass(frozen=True, slots=True, kw_only=True)
class PacketTrace:
    """One packet's walk: what it was (``kind``: SYN, SYN-ACK, ACK, RST), its header when sent,
    its hops and how it ended. Validates its own structure (Batfish ``Trace.validateHops``)."""

    kind: str
    attempt: int
    sent_at: float
    flow: tuple[int, int, int, int]
    """The packet's (src, sport, dst, dport) when sent; addresses as ints."""
    hops: tuple[Hop, ...]
    disposition: Disposition
    reason: Reason | None
    """The drop reason, for packets that did not arrive; None when delivered."""
    flow_id: int = 0
    """Which flow of the simulation the packet belongs to."""

    def __post_init__(self) -> None:
        hops = self.hops
        if not hops:
            raise ValueError("a packet trace needs at least one hop")
        for i, hop in enumerate(hops):
            steps = hop.steps
            if not steps:
                raise ValueError(f"hop {i} ({hop.node}) has no steps")
            if steps[0].kind not in _ENTRY:
                raise ValueError(f"hop {i} ({hop.node}) does not start with an ingress step")
        for i, hop in enumerate(hops[:-1]):
            if hop.steps[-1].kind is not _EXIT:
                raise ValueError(f"hop {i} ({hop.node}) does not end with an egress step")
        end = hops[-1].steps[-1].kind
        if self.disposition is Disposition.DELIVERED and end is not StepKind.DELIVER:
            raise ValueError("a delivered packet's last step must be a delivery")
        if self.disposition is not Disposition.DELIVERED and end is not StepKind.DROP:
            raise ValueError("a dropped packet's last step must be a drop")

    @property
    def summary(self) -> str:
        """``src:sport > dst:dport KIND`` as sent."""
        src, sport, dst, dport = self.flow
        return f"{IPv4Address(src)}:{sport} > {IPv4Address(dst)}:{dport} {self.kind}"

    @property
    def arrived_at(self) -> float:
        return self.hops[-1].time

    @property
    def drop(self) -> Step | None:
        last = self.hops[-1].steps[-1]
        return last if last.kind is StepKind.DROP else None

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(h.node for h in self.hops)


class Outcome(NamedTuple):
    """How one packet ended, kept even when no trace is: what a verdict's explanation reads.

    ``first`` is the originating step (its data says why the host sent the packet); ``last`` the
    delivery or the drop, at ``last_node``.
    """

    kind: str
    attempt: int
    flow_id: int
    sent_at: float
    flow: tuple[int, int, int, int]
    origin: str
    first: Step
    last_node: str
    arrived_at: float
    last: Step
    disposition: Disposition
    reason: Reason | None
