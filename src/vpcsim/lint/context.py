"""What every warning rule reads: the validated model, the file positions, and a few derived facts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from vpcsim.control import ControlState, control_timeline
from vpcsim.errors import ScenarioWarning, WarningCode
from vpcsim.model import EventKind, Rule, Topology
from vpcsim.scenario.locate import Locator
from vpcsim.scenario.yamlsafe import Path


@dataclass(frozen=True, slots=True)
class BoundRule:
    """One rule of a group as it sits in a bound list: which group, which direction, which index."""

    group: str
    direction: str
    index: int
    rule: Rule

    @property
    def path(self) -> Path:
        return ("security_groups", self.group, self.direction, self.index)

    def label(self) -> str:
        return f"{self.group} {self.direction} rule #{self.index} ({self.rule.summary()})"


class Context:
    """The scenario under inspection. Rules call :meth:`warn`; what they need twice is cached here."""

    def __init__(self, topology: Topology, locator: Locator) -> None:
        self.topology = topology
        self.locator = locator

    def warn(self, path: Path, code: WarningCode, message: str) -> ScenarioWarning:
        return self.locator.warning(path, code, message)

    def rules_of(self, group: str, direction: str) -> list[BoundRule]:
        """A group's own list, as declared (t=0)."""
        rules = self.topology.security_groups[group].rules(direction)
        return [BoundRule(group, direction, i, r) for i, r in enumerate(rules)]

    def bound(self, groups: Sequence[str], direction: str) -> list[BoundRule]:
        """The groups' rules concatenated in bound order: the one list that first match walks (Q18)."""
        return [br for g in groups for br in self.rules_of(g, direction)]

    @cached_property
    def states(self) -> list[ControlState]:
        """The control plane over time; computed only for the rules that ask about time."""
        return control_timeline(self.topology)

    @cached_property
    def started_listeners(self) -> frozenset[tuple[str, str, int]]:
        """(instance, protocol, port) a timeline ``start_listener`` opens at some time."""
        return frozenset(
            (ev.instance, ev.protocol, ev.port)
            for ev in self.topology.timeline
            if ev.kind is EventKind.START_LISTENER and ev.instance is not None and ev.port is not None
        )

    def ever_listens(self, instance: str, port: int, protocol: str = "tcp") -> bool:
        """Listens at t=0, or a timeline event starts it: either way the author meant it to."""
        if (protocol, port) in self.topology.instances[instance].sockets:
            return True
        return (instance, protocol, port) in self.started_listeners

    @cached_property
    def groups_given_rules(self) -> frozenset[tuple[str, str]]:
        """(group, direction) pairs a timeline ``add_rule`` adds to at some time."""
        return frozenset(
            (ev.security_group, ev.direction)
            for ev in self.topology.timeline
            if ev.kind is EventKind.ADD_RULE and ev.security_group is not None and ev.direction is not None
        )


def listing(items: Sequence[str], limit: int = 4) -> str:
    """``a, b, c`` — or ``a, b, c, d and 3 more``: messages stay one readable line."""
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit} more"
