"""One simulation: a SimPy clock, the sessions flows share, and packets moving hop by hop.

A packet's effects at a node happen when it arrives there: the node reads the forwarding state in
force at that moment and the sessions as earlier arrivals left them. Between nodes a packet
travels: the delay of the step from one node to the next (a translator's processing, a routing
domain's inter-region crossing and serialisation, the zone-to-zone delay into a zoned node) is
waited out as a SimPy timeout; a hop with no delay is taken at once, in the same call, so a
check costs an event only where time passes.

Each node kind has one handler in :data:`vpcsim.sim.nodes.HANDLERS`, with one signature: it
appends its steps, rewrites the header if it translates, and returns the next node (or None when
the packet is delivered there); a drop is raised as :class:`DropError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from heapq import heappush
from typing import Any, NamedTuple, cast

import simpy

from vpcsim.ir import PROTO_NAMES, CompiledNetwork, Host, Node, NodeKind
from vpcsim.sim.connection import Connection, ConnKey
from vpcsim.sim.datagram import answer_icmp, answer_udp
from vpcsim.sim.flight import DropError, Flight
from vpcsim.sim.nodes import HANDLERS, stateful
from vpcsim.sim.packet import Header, ip_text
from vpcsim.sim.ports import EphemeralPorts, SnatPorts
from vpcsim.sim.queues import Fifo
from vpcsim.sim.rng import SplitMix64
from vpcsim.sim.sessions import Sessions
from vpcsim.sim.tcp import answer as answer_tcp
from vpcsim.trace import (
    Choice,
    Delivered,
    Disposition,
    Hop,
    HopLimit,
    Loopback,
    Originated,
    Outcome,
    PacketTrace,
    QueueFull,
    Reason,
    Received,
    Step,
    StepAction,
    StepKind,
    Transmitted,
)

STACKS = {6: answer_tcp, 17: answer_udp, 1: answer_icmp}
"""What a host's kernel does with a delivered packet, by IP protocol."""

MAX_HOPS = 256
"""A guard beyond any TTL: a forwarding loop ends where the TTL runs out (``ttl_exceeded``)."""

Capture = tuple[float, str, Header, str]
"""(time, capture point 'node:iface', header as seen there, packet kind)."""


def queue_name(key: Any) -> str:
    """How a report names a queue: ``a->b`` for a link's, ``name a->b`` for a region pair's."""
    if isinstance(key, tuple) and len(key) == 3:
        base, here, there = key
        return f"{base if isinstance(base, str) else '->'.join(base)} {here}->{there}"
    return key if isinstance(key, str) else "->".join(key)


def _hop(node: str, time: float, steps: list[Step]) -> Hop:
    # tuple.__new__ skips the NamedTuple's Python-level __new__: a hop per node per packet adds up.
    return tuple.__new__(Hop, (node, time, tuple(steps)))


class Edge(NamedTuple):
    """Leaving one node toward a neighbour: the steps either side, the delays it adds, the
    capture points. Nothing here changes with the control state, so it is computed once."""

    out_step: Step
    in_step: Step
    processing: float
    """The leaving node's processing (a translator's)."""
    trunk: str | None
    """For a routing domain spanning regions: the neighbour's region (crossing into it costs)."""
    fixed: float
    """A crossing's own one-way delay (a tunnel's), or -1 when the region pair's applies."""
    home: tuple[str, str] | None
    """For a host: its (zone, region), where the packet starts out."""
    zone: str
    """The neighbour's zone ("" for a router: no zone delay into it)."""
    region: str
    out_point: str
    in_point: str
    capped: bool
    """Whether the link serialises, clamps or adds a delay of its own (the fields below)."""
    bandwidth: float
    pair_bandwidth: Mapping[str, float]
    overhead: int
    queue: int
    queue_key: Any
    latency: float
    mss: int
    """The largest MSS a SYN may carry across (0: any)."""
    service: float
    """The leaving node's per-packet service time (0: none), served by its own FIFO."""
    node_queue: int


class Simulation:
    """Flows in one network: a fresh clock, sessions and port allocators, seeded.

    ``trace=False`` keeps only each packet's :class:`Outcome` (what a verdict needs), not its hops;
    ``outcomes=False`` (untraced) not even that, only the drops by reason and each flow's first.
    ``pins`` forces load balancers' choices: (balancer, listener) → backend key (``instance:port``),
    taken when that backend is among those the scheduler may pick; :attr:`choices` records every
    choice made, pinned or not (the branch points of the flows).
    """

    def __init__(
        self,
        net: CompiledNetwork,
        *,
        seed: int,
        start: float = 0.0,
        capture: bool = False,
        trace: bool = True,
        pins: Mapping[tuple[str, str], str] | None = None,
        outcomes: bool = True,
    ) -> None:
        self.net = net
        self.env = simpy.Environment(initial_time=start)
        self.rng = SplitMix64(seed)
        self.sessions = Sessions()
        self.captures: list[Capture] | None = [] if capture else None
        self.tracing = trace
        self.keeps_outcomes = outcomes or trace
        """Whether each packet's :class:`Outcome` is kept (a transfer or a load of millions of
        packets keeps only :attr:`drops` and :attr:`first_drop`)."""
        self.sent = 0
        """Packets originated (by hosts and probes)."""
        self.drops: dict[Reason, int] = {}
        """Packets dropped, by reason (always kept)."""
        self.first_drop: dict[int, Reason] = {}
        """Flow id → the reason of its first dropped packet (always kept)."""
        self.handlers = HANDLERS
        self.ephemeral = EphemeralPorts(self.rng.next64(), *net.ephemeral_ports)
        self.snat = SnatPorts(self.rng.randint(net.snat_ports[0], net.snat_ports[1]), *net.snat_ports)
        self.sockets: dict[tuple[str, int, int], Any] = {}
        """(host, protocol, local port or echo identifier) → what a client socket waits for (see
        :mod:`vpcsim.sim.tcp` and :mod:`vpcsim.sim.datagram`)."""
        self.pins: Mapping[tuple[str, str], str] = pins or {}
        self.choices: list[tuple[int, Choice]] = []
        """(flow id, choice), in the order they were made."""
        self.stopped = False
        """Set once every flow's connect() has returned: packets still in flight finish their walk,
        but the hosts they reach no longer answer."""
        self.silent: set[str] = set()
        """Hosts whose stack does not answer what reaches them (the sender of a hand-made packet)."""
        self.arrived: dict[int, Header] | None = None
        """When a dict: each packet's header as it ended (where it was delivered or dropped), by
        send order; :meth:`send`'s callers read it."""
        self._outcomes: list[Outcome | None] = []
        self._traces: list[PacketTrace | None] = []
        self._inflight = 0
        self._idle: simpy.Event | None = None
        self._sending = 0
        self._static = net.states[0].nodes if len(net.states) == 1 else None
        self.queues: dict[Any, Fifo] = {}
        """Every FIFO that carried a packet: a link's by (from, to), a shared one by its name, a
        region pair's by (link or name, from region, to region), a node's by its id."""
        self.streams = False
        """Whether hosts keep connections that carry data (listeners accept into a
        :class:`~vpcsim.sim.connection.Connection`); connect() probes leave it off."""
        self.connections: dict[ConnKey, Connection] = {}
        """Open connections that carry data, by (host, local port, remote address, remote port)."""
        self._arrival: tuple[Callable[[Flight], None], ...] = (self._arrive,)
        self._eid = self.env._eid
        self.on_accept: Callable[[Connection], None] | None = None
        """Called with each connection a listener accepts (before its SYN-ACK leaves)."""

    # -- what a probe reads ------------------------------------------------------------------------
    @property
    def outcomes(self) -> list[Outcome]:
        """How each packet ended, in the order they were sent (packets still in flight left out)."""
        return [o for o in self._outcomes if o is not None]

    @property
    def packets(self) -> list[PacketTrace]:
        """Every packet's trace, in the order they were sent (empty when not tracing)."""
        return [p for p in self._traces if p is not None]

    def nodes_now(self) -> Any:
        return self._static if self._static is not None else self.net.state_at(self.env._now).nodes

    def host(self, host_id: str) -> Host:
        node = self.nodes_now()[host_id]
        assert isinstance(node, Host)
        return node

    def close(self) -> None:
        """Let go of what refers back to this simulation (its connections' callbacks, its pending
        events), so that reference counting frees it, and the hundreds of thousands of records a
        long run makes, as soon as its caller lets go of it, without the cyclic collector walking
        them all. Read the results first: the connections and the clock's queue are emptied."""
        for conn in self.connections.values():
            conn.on_established = conn.on_closed = conn.on_delivered = None
        self.connections.clear()
        self.env._queue.clear()
        self._arrival = ()
        self.on_accept = None

    def drain(self) -> None:
        """Stop the hosts answering and run until every packet in flight has ended."""
        self.stopped = True
        if self._inflight:
            self._idle = self.env.event()
            self.env.run(until=self._idle)

    # -- sending -----------------------------------------------------------------------------------
    def send(self, h: Header, origin: str, data: Originated, *, attempt: int, flow_id: int = 0) -> None:
        """Originate ``h`` at host ``origin`` now; it moves on as it arrives at each node."""
        now = self.env._now
        host = cast(Host, (self._static or self.net.state_at(now).nodes)[origin])
        # tuple.__new__ skips a NamedTuple's Python-level __new__ (a frame per packet).
        first = tuple.__new__(Step, (StepKind.ORIGINATE, StepAction.ORIGINATED, data, None))
        fl = Flight(h, len(self._outcomes) if self.keeps_outcomes else -1, attempt, flow_id, now, first)
        fl.origin = origin
        self.sent += 1
        if self.keeps_outcomes:
            self._outcomes.append(None)
            self._traces.append(None)
        self._inflight += 1
        self._sending += 1
        try:
            if h.dst == host.address or h.dst >> 24 == 127 or h.dst == 0:  # own address, 127/8, 0.0.0.0
                self._loopback(fl, host)
                return
            try:
                stateful(self, host, host.egress, h.dst, h, fl.steps)
            except DropError as drop:
                self._dropped(fl, origin, now, drop)
                return
            self._leave(fl, host, host.gateway, now)
        finally:
            self._sending -= 1

    def _loopback(self, fl: Flight, host: Host) -> None:
        """A host talking to its own address: the kernel uses lo, the network never sees it."""
        h = fl.header
        now = self.env._now
        if self.captures is not None:
            self.captures.append((now, f"{host.id}:lo", h, h.kind))
        fl.steps.append(Step(StepKind.ROUTE, StepAction.FORWARDED, Loopback(host.id, ip_text(h.dst))))
        fl.steps.append(Step(StepKind.DELIVER, StepAction.DELIVERED, Delivered(host.id, PROTO_NAMES[h.proto], h.dport)))
        self._delivered(fl, host.id, now)

    # -- moving between nodes ----------------------------------------------------------------------
    def _edge(self, node: Node, nxt: str) -> Edge:
        """What leaving ``node`` toward ``nxt`` involves (static, so cached on the network)."""
        edges = self.net.engine_cache
        key = (node.id, nxt)
        edge = edges.get(key)
        if edge is None:
            target = self.nodes_now()[nxt]
            host = node.kind is NodeKind.HOST
            link = self.net.state_at(self.env._now).links[(node.id, nxt)]
            trunk = link.region if link.inter_region else None
            limits = getattr(node, "limits", None)
            edge = edges[key] = Edge(
                Step(StepKind.EGRESS, StepAction.TRANSMITTED, Transmitted(nxt)),
                Step(StepKind.INGRESS, StepAction.RECEIVED, Received(node.id)),
                node.processing_delay,
                trunk,
                -1.0 if link.delay is None else link.delay,
                (node.zone, node.region) if host else None,
                link.zone,
                link.region,
                f"{node.id}:{'eth0' if host else nxt}",
                f"{nxt}:{'eth0' if target.kind is NodeKind.HOST else node.id}",
                bool(link.bandwidth_bps or link.pair_bandwidth or link.latency or link.mtu),
                link.bandwidth_bps,
                link.pair_bandwidth,
                link.overhead,
                link.queue,
                link.shared or key,
                link.latency,
                link.mtu - 40 if link.mtu else 0,
                limits.service_time if limits is not None else 0.0,
                limits.queue if limits is not None else 0,
            )
        return edge

    def _fifo(self, key: Any, limit: int) -> Fifo:
        fifo = self.queues[key] = Fifo(limit)
        return fifo

    def _leave(self, fl: Flight, node: Node, nxt: str, arrived: float) -> None:
        """Close ``node``'s hop toward ``nxt`` and carry the packet there, now or after the delay."""
        env = self.env
        net = self.net
        edges = net.engine_cache
        tracing = self.tracing
        while True:
            edge = edges.get((node.id, nxt)) or self._edge(node, nxt)
            now = env._now
            leave = now + edge.processing
            if edge.service:
                fifo = self.queues.get(node.id) or self._fifo(node.id, edge.node_queue)
                leave = fifo.admit(leave, edge.service)
                if leave < 0:
                    self._dropped(fl, node.id, now, DropError(Reason.QUEUE_FULL, QueueFull(node.id, "", fifo.limit)))
                    return
            came_from = ""
            if edge.trunk is not None and edge.trunk != fl.region:
                # The inter-region delay covers the whole path between the two regions.
                came_from = fl.region
                leave += edge.fixed if edge.fixed >= 0 else net.zone_delay("", came_from, "", edge.trunk)
                fl.zone, fl.region = "", edge.trunk
            elif edge.home is not None:
                fl.zone, fl.region = edge.home
            if edge.capped:
                h = fl.header
                if edge.mss and h.flags & 0x02 and h.proto == 6 and h.mss > edge.mss:
                    fl.header = h = h._replace(mss=edge.mss)  # the way clamps the SYN's MSS to its MTU
                if came_from:  # across regions: the pair's rate, one queue per pair and direction
                    rate = edge.pair_bandwidth.get(came_from, edge.bandwidth)
                    qkey: Any = (edge.queue_key, came_from, edge.trunk)
                elif edge.trunk is None:
                    rate, qkey = edge.bandwidth, edge.queue_key
                else:  # through a domain inside one region: only a rate set for that region applies
                    rate = edge.pair_bandwidth.get(edge.trunk, 0.0)
                    qkey = (edge.queue_key, edge.trunk, edge.trunk)
                if rate:
                    fifo = self.queues.get(qkey) or self._fifo(qkey, edge.queue)
                    leave = fifo.admit(leave, (fl.size + edge.overhead) * 8 / rate)
                    if leave < 0:
                        self._dropped(
                            fl, node.id, now, DropError(Reason.QUEUE_FULL, QueueFull(node.id, nxt, fifo.limit))
                        )
                        return
            steps = fl.steps
            steps.append(edge.out_step)
            if tracing:
                fl.hops.append(tuple.__new__(Hop, (node.id, arrived, tuple(steps))))
            else:
                fl.hop_count += 1
            if self.captures is not None:
                self.captures.append((leave, edge.out_point, fl.wire(), fl.kind))
            arrive = leave + edge.latency  # captured as it leaves; its own delay is the way there
            if edge.zone:  # a zoned node: the zone-to-zone delay from where the packet last was
                if fl.zone:
                    arrive += net.zone_delay(fl.zone, fl.region, edge.zone, edge.region)
                fl.zone, fl.region = edge.zone, edge.region
            steps.clear()  # a traced hop kept its own tuple of them
            steps.append(edge.in_step)
            if arrive != now:
                queue = env._queue
                if self._sending or (queue and queue[0][0] <= arrive):
                    # The flight is its own SimPy event (what Environment.step reads of one: its
                    # callbacks and _ok): no Timeout and no closure per hop.
                    fl.callbacks = self._arrival
                    fl.at, fl.came_from, fl.point = nxt, node.id, edge.in_point
                    heappush(queue, (arrive, 1, next(self._eid), fl))  # type: ignore[misc]
                    return
                # Nothing else happens before the packet arrives: its arrival would be the next
                # event anyway, so take it now instead of scheduling it. Not inside send(): a
                # process that sent the packet reads the clock after send() returns.
                env._now = arrive
            prev = node.id
            node = (self._static or net.state_at(arrive).nodes)[nxt]
            step = self._visit(fl, node, prev, edge.in_point)
            if step is None:
                return
            nxt, arrived = step, arrive

    def _arrive(self, fl: Flight) -> None:
        """A flight scheduled in :meth:`_leave` reaches its next node (SimPy calls this)."""
        node = (self._static or self.net.state_at(self.env._now).nodes)[fl.at]
        nxt = self._visit(fl, node, fl.came_from, fl.point)
        if nxt is not None:
            self._leave(fl, node, nxt, self.env._now)

    def _visit(self, fl: Flight, node: Node, prev: str, point: str) -> str | None:
        """The packet reaches ``node`` now: the node decides, with the state in force now. Returns
        where it goes next, or None when it ended here (delivered or dropped)."""
        now = self.env._now
        if self.captures is not None:
            self.captures.append((now, point, fl.wire(), fl.kind))
        try:
            if fl.hop_count + len(fl.hops) >= MAX_HOPS:
                raise DropError(Reason.LOOP, HopLimit(node.id, MAX_HOPS))
            nxt = self.handlers[node.kind](self, node, fl, prev)
        except DropError as drop:
            self._dropped(fl, node.id, now, drop)
            return None
        if nxt is None:
            self._delivered(fl, node.id, now)
        return nxt

    # -- how a packet ends -------------------------------------------------------------------------
    def _dropped(self, fl: Flight, node_id: str, at: float, drop: DropError) -> None:
        fl.steps.append(drop.step)
        reason = drop.step.reason
        assert reason is not None
        self._end(fl, node_id, at, drop.step, reason.disposition, reason)

    def _delivered(self, fl: Flight, node_id: str, at: float) -> None:
        self._end(fl, node_id, at, fl.steps[-1], Disposition.DELIVERED, None)
        if self.stopped or node_id in self.silent:
            return
        if self._sending:  # delivered inside send(): answer from the event loop, not recursively
            ev = self.env.timeout(0)
            ev.callbacks.append(lambda _e: STACKS[fl.header.proto](self, node_id, fl.header, fl.flow_id))
        else:
            STACKS[fl.header.proto](self, node_id, fl.header, fl.flow_id)

    def _end(
        self, fl: Flight, node_id: str, at: float, last: Step, disposition: Disposition, reason: Reason | None
    ) -> None:
        if reason is not None:
            self.drops[reason] = self.drops.get(reason, 0) + 1
            if fl.flow_id not in self.first_drop:
                self.first_drop[fl.flow_id] = reason
        self._inflight -= 1
        if not self._inflight and self._idle is not None and not self._idle.triggered:
            self._idle.succeed()  # its waiters run later, from the event loop
        if fl.slot < 0:
            return
        if self.arrived is not None:
            self.arrived[fl.slot] = fl.wire()
        self._outcomes[fl.slot] = tuple.__new__(
            Outcome,
            (
                fl.kind,
                fl.attempt,
                fl.flow_id,
                fl.sent_at,
                fl.flow,
                fl.origin,
                fl.first,
                node_id,
                at,
                last,
                disposition,
                reason,
            ),
        )
        if self.tracing:
            fl.hops.append(_hop(node_id, at, fl.steps))
            self._traces[fl.slot] = PacketTrace(
                kind=fl.kind,
                attempt=fl.attempt,
                sent_at=fl.sent_at,
                flow=fl.flow,
                hops=tuple(fl.hops),
                disposition=disposition,
                reason=reason,
                flow_id=fl.flow_id,
            )
