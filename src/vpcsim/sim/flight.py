"""A packet on its way through the engine, and how a node stops it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from vpcsim.ir import Node
from vpcsim.sim.packet import Header
from vpcsim.trace import Hop, Reason, Step, StepAction, StepData, StepKind

if TYPE_CHECKING:
    from vpcsim.sim.engine import Simulation


class DropError(Exception):
    """Raised by a node handler to end a packet's walk there."""

    def __init__(self, reason: Reason, data: StepData) -> None:
        self.step = Step(StepKind.DROP, StepAction.DROPPED, data, reason)


class Flight:
    """A packet on its way: its header now, its trace so far, and where it is in the delay model
    (the zone and region it last entered; the zone is "" after crossing regions)."""

    __slots__ = (
        "at",
        "attempt",
        "callbacks",
        "came_from",
        "first",
        "flow_id",
        "header",
        "hop_count",
        "hops",
        "origin",
        "original",
        "point",
        "region",
        "routed",
        "sent_at",
        "size",
        "slot",
        "steps",
        "zone",
    )

    def __init__(self, header: Header, slot: int, attempt: int, flow_id: int, sent_at: float, first: Step) -> None:
        self.header = header
        self.slot = slot
        self.attempt = attempt
        self.flow_id = flow_id
        self.sent_at = sent_at
        self.original = header
        """The header as sent (before any translation on the way)."""
        self.size = header.size
        """Bytes on the wire (no node on the way changes them: NAT rewrites, a clamp edits the MSS)."""
        self.first = first
        self.origin = ""
        self.hops: list[Hop] = []
        self.hop_count = 0
        """Hops taken without a trace (when the simulation keeps none)."""
        self.steps: list[Step] = [first]
        self.zone = ""
        self.region = ""
        self.callbacks: tuple[Callable[[Flight], None], ...] | None = None
        """While between two nodes: what SimPy calls when the packet arrives (the flight is its
        own event; see ``Simulation._leave``)."""
        self.at = ""
        self.came_from = ""
        self.point = ""
        """While between two nodes: the node it goes to, the node it left, the capture point."""
        self.routed = 0
        """Routers passed: each lowers the TTL by one (applied to the header where it is shown)."""

    _ok = True
    """A flight between two nodes is its own SimPy event (see ``Simulation._leave``): it
    never fails."""

    @property
    def kind(self) -> str:
        """SYN, DATA, ACK, ... (no node on the way changes it; computed when a record needs it)."""
        return self.header.kind

    @property
    def flow(self) -> tuple[int, int, int, int]:
        """The flow as sent: (source, source port, destination, destination port)."""
        h = self.original
        return (h.src, h.sport, h.dst, h.dport)

    def wire(self) -> Header:
        """The header as it is on the wire here: the TTL lowered by the routers passed."""
        h = self.header
        return h if not self.routed else h._replace(ttl=h.ttl - self.routed)


Handler = Callable[["Simulation", Node, "Flight", str], "str | None"]
