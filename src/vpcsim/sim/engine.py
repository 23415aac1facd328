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

from collections.abc import Callable
from functools import partial
from typing import Any

import simpy

from vpcsim.ir import CompiledNetwork, Host, Node, NodeKind, Router
from vpcsim.sim.packet import Header, ip_text
from vpcsim.sim.ports import EphemeralPorts, SnatPorts
from vpcsim.sim.rng import SplitMix64
from vpcsim.sim.sessions import Sessions
from vpcsim.trace import (
    Delivered,
    Disposition,
    Hop,
    HopLimit,
    Loopback,
    Originated,
    Outcome,
    PacketTrace,
    Reason,
    Received,
    Step,
    StepAction,
    StepData,
    StepKind,
    Transmitted,
)

MAX_HOPS = 64
PACKET_BITS = 44 * 8
"""Size of a SYN with an MSS option, for serialisation on bandwidth-capped inter-region links."""

Capture = tuple[float, str, Header, str]
"""(time, capture point 'node:iface', header as seen there, packet kind)."""


class DropError(Exception):
    """Raised by a node handler to end a packet's walk there."""

    def __init__(self, reason: Reason, data: StepData) -> None:
        self.step = Step(StepKind.DROP, StepAction.DROPPED, data, reason)


class Flight:
    """A packet on its way: its header now, its trace so far, and where it is in the delay model
    (the zone and region it last entered; the zone is "" after crossing regions)."""

    __slots__ = (
        "attempt",
        "first",
        "flow",
        "flow_id",
        "header",
        "hops",
        "kind",
        "origin",
        "region",
        "sent_at",
        "slot",
        "steps",
        "zone",
    )

    def __init__(self, header: Header, slot: int, attempt: int, flow_id: int, sent_at: float, first: Step) -> None:
        self.header = header
        self.slot = slot
        self.kind = header.kind
        self.attempt = attempt
        self.flow_id = flow_id
        self.sent_at = sent_at
        self.flow = (header.src, header.sport, header.dst, header.dport)
        self.first = first
        self.origin = ""
        self.hops: list[Hop] = []
        self.steps: list[Step] = [first]
        self.zone = ""
        self.region = ""


Handler = Callable[["Simulation", Node, Flight, str], "str | None"]


def _hop(node: str, time: float, steps: list[Step]) -> Hop:
    # tuple.__new__ skips the NamedTuple's Python-level __new__: a hop per node per packet adds up.
    return tuple.__new__(Hop, (node, time, tuple(steps)))


class Simulation:
    """Flows in one network: a fresh clock, sessions and port allocators, seeded.

    ``trace=False`` keeps only each packet's :class:`Outcome` (what a verdict needs), not its hops.
    """

    def __init__(
        self, net: CompiledNetwork, *, seed: int, start: float = 0.0, capture: bool = False, trace: bool = True
    ) -> None:
        from vpcsim.sim.nodes import HANDLERS  # the handlers import this module's DropError and Flight

        self.net = net
        self.env = simpy.Environment(initial_time=start)
        self.rng = SplitMix64(seed)
        self.sessions = Sessions()
        self.captures: list[Capture] | None = [] if capture else None
        self.tracing = trace
        self.handlers = HANDLERS
        self.ephemeral = EphemeralPorts(self.rng.next64(), *net.ephemeral_ports)
        self.snat = SnatPorts(self.rng.randint(net.snat_ports[0], net.snat_ports[1]), *net.snat_ports)
        self.sockets: dict[tuple[str, int], Any] = {}
        """(host, local port) → what a connect() waits for (see :mod:`vpcsim.sim.tcp`)."""
        self.stopped = False
        """Set once every flow's connect() has returned: packets still in flight finish their walk,
        but the hosts they reach no longer answer."""
        self._outcomes: list[Outcome | None] = []
        self._traces: list[PacketTrace | None] = []
        self._inflight = 0
        self._idle: simpy.Event | None = None
        self._sending = 0
        self._static = net.states[0].nodes if len(net.states) == 1 else None
        self._link_steps: dict[tuple[str, str], tuple[Step, Step]] = {}

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
        return self._static if self._static is not None else self.net.state_at(self.env.now).nodes

    def host(self, host_id: str) -> Host:
        node = self.nodes_now()[host_id]
        assert isinstance(node, Host)
        return node

    def drain(self) -> None:
        """Stop the hosts answering and run until every packet in flight has ended."""
        self.stopped = True
        if self._inflight:
            self._idle = self.env.event()
            self.env.run(until=self._idle)

    # -- sending -----------------------------------------------------------------------------------
    def send(self, h: Header, origin: str, data: Originated, *, attempt: int, flow_id: int = 0) -> None:
        """Originate ``h`` at host ``origin`` now; it moves on as it arrives at each node."""
        now = self.env.now
        host = self.host(origin)
        fl = Flight(
            h, len(self._outcomes), attempt, flow_id, now, Step(StepKind.ORIGINATE, StepAction.ORIGINATED, data)
        )
        fl.origin = origin
        self._outcomes.append(None)
        self._traces.append(None)
        self._inflight += 1
        self._sending += 1
        try:
            if h.dst == host.address or h.dst >> 24 == 127 or h.dst == 0:  # own address, 127/8, 0.0.0.0
                self._loopback(fl, host)
                return
            from vpcsim.sim.nodes import stateful  # one implementation of conntrack, egress and ingress

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
        now = self.env.now
        if self.captures is not None:
            self.captures.append((now, f"{host.id}:lo", h, h.kind))
        fl.steps.append(Step(StepKind.ROUTE, StepAction.FORWARDED, Loopback(host.id, ip_text(h.dst))))
        fl.steps.append(Step(StepKind.DELIVER, StepAction.DELIVERED, Delivered(host.id, "tcp", h.dport)))
        self._delivered(fl, host.id, now)

    # -- moving between nodes ----------------------------------------------------------------------
    def _link(self, here: str, there: str) -> tuple[Step, Step]:
        """The steps of leaving ``here`` toward ``there`` and of arriving there from here."""
        key = (here, there)
        pair = self._link_steps.get(key)
        if pair is None:
            pair = self._link_steps[key] = (
                Step(StepKind.EGRESS, StepAction.TRANSMITTED, Transmitted(there)),
                Step(StepKind.INGRESS, StepAction.RECEIVED, Received(here)),
            )
        return pair

    def _leave(self, fl: Flight, node: Node, nxt: str, arrived: float) -> None:
        """Close ``node``'s hop toward ``nxt`` and carry the packet there, now or after the delay."""
        out_step, in_step = self._link(node.id, nxt)
        fl.steps.append(out_step)
        fl.hops.append(_hop(node.id, arrived, fl.steps))
        now = self.env.now
        leave = now + node.processing_delay
        if isinstance(node, Router) and node.regions is not None:
            into = node.regions[nxt]
            if into != fl.region:
                # The inter-region delay covers the whole path between the two regions.
                leave += self.net.region_delay(fl.region, into) + PACKET_BITS / node.bandwidth_bps
                fl.zone, fl.region = "", into
        kind = node.kind
        if kind is NodeKind.HOST:
            fl.zone, fl.region = node.zone, node.region
        h = fl.header
        if self.captures is not None:
            iface = "eth0" if kind is NodeKind.HOST else nxt
            self.captures.append((leave, f"{node.id}:{iface}", h, h.kind))
        target = self.nodes_now()[nxt]
        arrive = leave
        if target.zone:  # a zoned node: the zone-to-zone delay from where the packet last was
            if fl.zone:
                arrive += self.net.zone_delay(fl.zone, fl.region, target.zone, target.region)
            fl.zone, fl.region = target.zone, target.region
        fl.steps = [in_step]
        if arrive == now:
            self._arrive(fl, nxt, node.id)
        else:
            ev = self.env.timeout(arrive - now)
            ev.callbacks.append(partial(self._resume, fl, nxt, node.id))

    def _resume(self, fl: Flight, node_id: str, prev: str, _event: object) -> None:
        self._arrive(fl, node_id, prev)

    def _arrive(self, fl: Flight, node_id: str, prev: str) -> None:
        """The packet reaches ``node_id`` now: the node decides, with the state in force now."""
        now = self.env.now
        node = self.nodes_now()[node_id]
        if self.captures is not None:
            h = fl.header
            iface = "eth0" if node.kind is NodeKind.HOST else prev
            self.captures.append((now, f"{node_id}:{iface}", h, h.kind))
        try:
            if len(fl.hops) >= MAX_HOPS:
                raise DropError(Reason.LOOP, HopLimit(node_id, MAX_HOPS))
            nxt = self.handlers[node.kind](self, node, fl, prev)
        except DropError as drop:
            self._dropped(fl, node_id, now, drop)
            return
        if nxt is None:
            self._delivered(fl, node_id, now)
        else:
            self._leave(fl, node, nxt, now)

    # -- how a packet ends -------------------------------------------------------------------------
    def _dropped(self, fl: Flight, node_id: str, at: float, drop: DropError) -> None:
        fl.steps.append(drop.step)
        reason = drop.step.reason
        assert reason is not None
        self._end(fl, node_id, at, drop.step, reason.disposition, reason)

    def _delivered(self, fl: Flight, node_id: str, at: float) -> None:
        self._end(fl, node_id, at, fl.steps[-1], Disposition.DELIVERED, None)
        if self.stopped:
            return
        from vpcsim.sim.tcp import answer

        if self._sending:  # delivered inside send(): answer from the event loop, not recursively
            ev = self.env.timeout(0)
            ev.callbacks.append(lambda _e: answer(self, node_id, fl.header, fl.flow_id))
        else:
            answer(self, node_id, fl.header, fl.flow_id)

    def _end(
        self, fl: Flight, node_id: str, at: float, last: Step, disposition: Disposition, reason: Reason | None
    ) -> None:
        fl.hops.append(_hop(node_id, at, fl.steps))
        self._outcomes[fl.slot] = Outcome(
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
        )
        if self.tracing:
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
        self._inflight -= 1
        if not self._inflight and self._idle is not None and not self._idle.triggered:
            self._idle.succeed()
