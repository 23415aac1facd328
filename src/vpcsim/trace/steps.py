"""Steps, hops and packet traces.

A packet trace is a list of hops; a hop is a node and the typed steps taken there. NAT is recorded
as field diffs; replies name the session they matched. ``Step`` and ``Hop`` are NamedTuples
rather than frozen dataclasses because the engine creates tens of them per check: a NamedTuple
costs a third of a frozen dataclass to build, and is just as immutable.
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


class FlowDiff(NamedTuple):
    """One header field a transformation changed."""

    field: str
    old: str
    new: str


class Step(NamedTuple):
    """One decision at a node. ``ref`` names the object to look at or change (a security group
    and rule, an endpoint, a listener, a route); ``reason`` is set on drop steps."""

    kind: StepKind
    action: StepAction
    detail: str
    ref: str = ""
    diffs: tuple[FlowDiff, ...] = ()
    reason: Reason | None = None

    def render(self) -> str:
        text = f"{self.kind.value} {self.action.value.upper()}: {self.detail}"
        if self.diffs:
            text += " [" + ", ".join(f"{d.field} {d.old} -> {d.new}" for d in self.diffs) + "]"
        return text


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
