"""Security groups are monotone: an accept rule never disconnects, a drop rule never connects.

Rules are matched top to bottom and the first match wins, so inserting an accept rule anywhere can
only turn some drops into accepts, and inserting a drop rule only turns accepts into drops. That
holds for a whole probe only if nothing else moves with the rule: backend health depends on
listeners alone, and no scenario drawn here changes a listener, so the load balancer schedules the
same way on both sides of every change (each test checks that from the compiled networks).

Each test runs its property through Hypothesis, then checks that the examples exercised it: some
probes connected before the change and some verdicts did change.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import given, settings

from tests.strategies import (
    DETERMINISTIC,
    PROBES,
    Doc,
    Probe,
    listeners_of,
    rule_insertions,
    rule_removals,
    sg_scenarios,
)
from vpcsim import Network, ProbeResult, Verdict
from vpcsim.frontends import from_data
from vpcsim.ir import Balancer
from vpcsim.report import probe_to_dict

EXAMPLES = 150


def _network(doc: Doc) -> Network:
    return Network(from_data(doc, source="<sg property>"))


def _health(net: Network) -> dict[tuple[str, str, str, int], bool]:
    """Every backend's health in every control-plane state, as the compiler lowered it."""
    return {
        (node.id, listener.id, b.instance, b.port): b.healthy
        for state in net.compiled.states
        for node in state.nodes.values()
        if isinstance(node, Balancer)
        for listener in node.listeners.values()
        for b in listener.backends
    }


def _run_pair(before_doc: Doc, after_doc: Doc) -> tuple[dict[Probe, ProbeResult], ...]:
    assert listeners_of(after_doc) == listeners_of(before_doc), "the generator must not touch listeners"
    before_net, after_net = _network(before_doc), _network(after_doc)
    assert _health(after_net) == _health(before_net), "a security-group change moved a backend's health"
    return {p: before_net.telnet(*p) for p in PROBES}, {p: after_net.telnet(*p) for p in PROBES}


def _explain(what: str, probe: Probe, before: ProbeResult, after: ProbeResult) -> str:
    return (
        f"{what}: telnet {probe[1]} {probe[2]} from {probe[0]} went from {before.verdict.value} "
        f"({before.reason.value}) to {after.verdict.value} ({after.reason.value}): {after.detail}"
    )


def _tally(tally: Counter[tuple[Verdict, Verdict]], before: ProbeResult, after: ProbeResult) -> None:
    tally[(before.verdict, after.verdict)] += 1


def _changed(tally: Counter[tuple[Verdict, Verdict]], *, connected_before: bool) -> int:
    return sum(n for (b, a), n in tally.items() if (b is Verdict.CONNECTED) == connected_before and b != a)


insertions: Any = sg_scenarios().flatmap(lambda doc: rule_insertions(doc, "accept").map(lambda c: (doc, *c)))
drop_insertions: Any = sg_scenarios().flatmap(lambda doc: rule_insertions(doc, "drop").map(lambda c: (doc, *c)))


def test_adding_an_accept_rule_anywhere_never_turns_connected_into_not_connected() -> None:
    tally: Counter[tuple[Verdict, Verdict]] = Counter()

    @settings(DETERMINISTIC, max_examples=EXAMPLES)
    @given(case=insertions)
    def accept_rule_keeps_connections(case: tuple[Doc, Doc, str]) -> None:
        base, with_rule, what = case
        before, after = _run_pair(base, with_rule)
        for p in PROBES:
            _tally(tally, before[p], after[p])
            if before[p].connected:
                assert after[p].connected, _explain(what, p, before[p], after[p])

    accept_rule_keeps_connections()
    assert tally[(Verdict.CONNECTED, Verdict.CONNECTED)] >= 20, tally
    assert _changed(tally, connected_before=False) >= 20, f"no accept rule ever opened a path: {tally}"


def test_removing_an_accept_rule_never_turns_not_connected_into_connected() -> None:
    tally: Counter[tuple[Verdict, Verdict]] = Counter()

    @settings(DETERMINISTIC, max_examples=EXAMPLES)
    @given(case=sg_scenarios().flatmap(rule_removals))
    def removal_keeps_blocks(case: tuple[Doc, Doc, str]) -> None:
        with_rule, without, what = case
        before, after = _run_pair(with_rule, without)
        for p in PROBES:
            _tally(tally, before[p], after[p])
            if not before[p].connected:
                assert not after[p].connected, _explain(what, p, before[p], after[p])

    removal_keeps_blocks()
    assert sum(n for (b, _), n in tally.items() if b is not Verdict.CONNECTED) >= 20, tally
    assert _changed(tally, connected_before=True) >= 20, f"no removal ever closed a path: {tally}"


def test_adding_a_drop_rule_anywhere_never_turns_not_connected_into_connected() -> None:
    tally: Counter[tuple[Verdict, Verdict]] = Counter()

    @settings(DETERMINISTIC, max_examples=EXAMPLES)
    @given(case=drop_insertions)
    def drop_rule_keeps_blocks(case: tuple[Doc, Doc, str]) -> None:
        base, with_rule, what = case
        before, after = _run_pair(base, with_rule)
        for p in PROBES:
            _tally(tally, before[p], after[p])
            if not before[p].connected:
                assert not after[p].connected, _explain(what, p, before[p], after[p])

    drop_rule_keeps_blocks()
    assert sum(n for (b, _), n in tally.items() if b is not Verdict.CONNECTED) >= 20, tally
    assert _changed(tally, connected_before=True) >= 20, f"no drop rule ever closed a path: {tally}"


def _timeline_insertion(case: tuple[Doc, Doc, str], at: float) -> Doc:
    """The base scenario of ``case`` with its inserted rule added by a timeline event at ``at``."""
    base, with_rule, _ = case
    for gid, group in with_rule["security_groups"].items():
        for direction in ("ingress", "egress"):
            rules, before = group[direction], base["security_groups"][gid][direction]
            if rules != before:
                index = next((i for i, (a, b) in enumerate(zip(rules, before, strict=False)) if a != b), len(before))
                event = {"at": at, "action": "add_rule", "security_group": gid, "direction": direction}
                return {**base, "timeline": [{**event, "index": index, "rule": rules[index]}]}
    raise AssertionError("the insertion changed no rule list")


@settings(DETERMINISTIC, max_examples=60)
@given(case=sg_scenarios().flatmap(lambda doc: rule_insertions(doc, "accept").map(lambda c: (doc, *c))))
def test_a_rule_added_by_a_timeline_event_acts_from_then_on_as_if_written_in_the_file(
    case: tuple[Doc, Doc, str],
) -> None:
    event_at = 200.0  # later than a probe started at 0 can last (127 s of SYN retries)
    base, with_rule, what = case
    timed, static_before, static_after = (_network(d) for d in (_timeline_insertion(case, event_at), base, with_rule))
    for p in PROBES:
        early, late = probe_to_dict(timed.telnet(*p)), probe_to_dict(timed.telnet(*p, at=event_at))
        late.pop("at_s")
        assert early == probe_to_dict(static_before.telnet(*p)), (what, p)
        assert late == {k: v for k, v in probe_to_dict(static_after.telnet(*p)).items() if k != "at_s"}, (what, p)
