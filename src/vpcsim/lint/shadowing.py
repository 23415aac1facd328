"""Security-group rules that can never match.

First match wins (Q18), so a rule whose whole match — every protocol, port and address it matches
— is already matched by the union of the rules before it never decides anything: an accept that
never admits, or worse, a drop that never blocks. Each group's own lists are checked
(``rule-shadowed``), and so is each bound list of several groups, where a later group's rule may
be covered by the groups bound before it (``rule-shadowed-by-earlier-group``). Endpoints and load
balancers use only their groups' ingress rules (Q8, Q6), so only those are checked for them.

A bound list is checked when it is no longer than the longest one Tencent allows in a direction,
5 groups of 100 rules [SG5]: the check is quadratic in the list's length, and vpcsim's own limits
(100 groups of 1,000 rules) would let a document ask for billions of steps.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from vpcsim.errors import ScenarioWarning, WarningCode
from vpcsim.lint.context import BoundRule, Context, listing
from vpcsim.lint.rulespace import RuleList
from vpcsim.scenario.yamlsafe import Path

DIRECTIONS = ("ingress", "egress")
MAX_BOUND_RULES = 500
"""Longest bound list checked across groups: 5 groups x 100 rules per direction [SG5]."""


def check(ctx: Context) -> Iterator[ScenarioWarning]:
    shadowed: set[tuple[str, str, int]] = set()
    for gid in sorted(ctx.topology.security_groups):
        for direction in DIRECTIONS:
            rules = RuleList(ctx.rules_of(gid, direction))
            for i, br in enumerate(rules.rules):
                cover = rules.covering(i)
                if cover is not None:
                    shadowed.add((gid, direction, i))
                    yield ctx.warn(
                        br.path,
                        WarningCode.RULE_SHADOWED,
                        f"{br.label()} can never match: {_names(cover)} before it already "
                        f"match{'es' if len(cover) == 1 else ''} everything it matches{_verdict(br, cover)}; "
                        f"remove it, or move it above {_first(cover)}",
                    )
    yield from _bindings(ctx, shadowed)


def _names(cover: Sequence[BoundRule]) -> str:
    return listing([f"rule #{c.index} ({c.rule.summary()})" for c in cover], limit=3)


def _first(cover: Sequence[BoundRule]) -> str:
    return f"rule #{cover[0].index}"


def _verdict(br: BoundRule, cover: Sequence[BoundRule]) -> str:
    """Says what is lost when the shadowed rule decides otherwise than the rules that win."""
    if all(c.rule.action is not br.rule.action for c in cover):
        return f", so its {br.rule.action.value} never applies"
    return ""


def _bindings(ctx: Context, shadowed: set[tuple[str, str, int]]) -> Iterator[ScenarioWarning]:
    """Bound lists of two groups or more, each distinct (groups, direction) once, at its first binder."""
    topo = ctx.topology
    binders: dict[tuple[tuple[str, ...], str], list[tuple[Path, str]]] = {}
    owners: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = [
        *(("instances", i, o.security_groups, DIRECTIONS) for i, o in sorted(topo.instances.items())),
        *(("load_balancers", i, o.security_groups, ("ingress",)) for i, o in sorted(topo.load_balancers.items())),
        *(("endpoints", i, o.security_groups, ("ingress",)) for i, o in sorted(topo.endpoints.items())),
    ]
    for section, oid, groups, directions in owners:
        if len(groups) < 2:
            continue
        for direction in directions:
            binders.setdefault((groups, direction), []).append(((section, oid, "security_groups"), oid))
    for (groups, direction), objects in binders.items():
        bound = ctx.bound(groups, direction)
        if len(bound) > MAX_BOUND_RULES:
            continue
        rules = RuleList(bound)
        for pos, br in enumerate(rules.rules):
            if br.group == groups[0] or (br.group, direction, br.index) in shadowed:
                continue  # the first group's list is its own; shadowing inside a group is reported there
            cover = rules.covering(pos)
            if cover is None:
                continue
            path, first = objects[0]
            others = [name for _, name in objects[1:]]
            also = f" (and where {listing(others)} bind{'s' if len(others) == 1 else ''} the same)" if others else ""
            earlier = listing([c.label() for c in cover], limit=3)
            yield ctx.warn(
                (*path, groups.index(br.group)),
                WarningCode.RULE_SHADOWED_BY_EARLIER_GROUP,
                f"where {first} binds {', '.join(groups)}{also}, {br.label()} can never match: {earlier}, bound "
                f"before it, already match{'es' if len(cover) == 1 else ''} everything it matches"
                f"{_verdict(br, cover)}; remove it there, or bind {br.group} earlier",
            )
