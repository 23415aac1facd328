"""Simulator against the Linux kernel: the bundled scenarios and generated variants of many shapes,
zero disagreements in verdict and in where a packet stopped; and bugs planted in the control plane,
the lowering and the engine, each caught and shrunk to a small scenario.

The kernel side is built from the model by the oracle's own code (``vpcsim.emulate.plan*``), so
these tests check the simulator's control plane and compiler as well as its walk. Each variant is
simulated; each emulable branch becomes a real connect, datagram or ping in network namespaces.
Many variants share one build, so the suite costs a handful of builds and connect rounds.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import summaries
from tests.emulate.generator import variant
from tests.emulate.huawei_shapes import huawei_shaped
from tests.emulate.shapes import shaped
from tests.emulate.shrinking import dump, lines, shrink
from vpcsim.control import CcnRoute, CcnRouteTable
from vpcsim.emulate import EmulationReport, Prepared, execute, prepare, report
from vpcsim.errors import VpcsimError
from vpcsim.frontends import from_data, load
from vpcsim.ir import Filter, FilterRule

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))
"""Every scenario vpcsim ships."""
VARIANTS = 400
"""Generated variants of varied shape (``tests/emulate/shapes.py``)."""
SEED_VARIANTS = 40
"""Variants of the bundled scenario's own layout (``tests/emulate/generator.py``)."""
HUAWEI_VARIANTS = 60
"""Huawei Cloud variants (``tests/emulate/huawei_shapes.py``)."""
DEADLINE = 1.0
"""Seconds before a real connect counts as timed out (answers take well under 10 ms here)."""
SHRINK_DEADLINE = 0.5
SCAN = 24
"""Variants a planted bug is looked for in at a time (every shape is in each batch)."""

pytestmark = pytest.mark.kernel

Data = dict[str, Any]


def _documents(seed_data: Data) -> Iterator[tuple[str, str, Data]]:
    """(tag, shape, scenario) of every generated variant."""
    for n in range(VARIANTS):
        shape, doc = shaped(n)
        yield f"v{n}", shape, doc
    for n in range(SEED_VARIANTS):
        yield f"s{n}", "seed-mutations", variant(seed_data, n)
    for n in range(HUAWEI_VARIANTS):
        shape, doc = huawei_shaped(n)
        yield f"h{n}", shape, doc


def fails_many(candidates: list[Data]) -> list[bool]:
    """Whether each candidate still shows a disagreement: all of them in one kernel build."""
    preps: dict[int, Prepared] = {}
    for i, doc in enumerate(candidates):
        try:
            topo = from_data(doc, source="<shrink>")
        except VpcsimError:
            continue
        if topo.checks:
            preps[i] = prepare(topo, f"k{i}")
    execute(list(preps.values()), deadline=SHRINK_DEADLINE)
    return [i in preps and not report(preps[i], SHRINK_DEADLINE).agree for i in range(len(candidates))]


def _tally(reports: list[EmulationReport]) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """Verdicts and protocols of the emulated branches, and statuses and locations of every branch."""
    verdicts: Counter[str] = Counter()
    protocols: Counter[str] = Counter()
    other: Counter[str] = Counter()
    for rep in reports:
        for c in rep.checks:
            other[c.status] += 1
            if c.status != "not_emulable":
                verdicts[c.simulator] += 1
                protocols[c.protocol] += 1
                other[f"location {c.location}"] += 1
                if c.simulator not in ("connected", "answered"):
                    other["stopped"] += 1
    return verdicts, protocols, other


def _share(counter: Counter[str], total: int) -> str:
    return ", ".join(f"{k} {v} ({100 * v / max(total, 1):.0f} %)" for k, v in sorted(counter.items()))


@pytest.mark.usefixtures("kernel_ready")
def test_simulator_agrees_with_the_kernel(seed_data: Data) -> None:
    t0 = time.perf_counter()
    preps: list[Prepared] = []
    data: dict[str, Data] = {}
    shapes: Counter[str] = Counter()
    for path in BUNDLED:
        preps.append(prepare(load(path), f"bundled-{path.stem}"))
        data[preps[-1].tag] = yaml.safe_load(path.read_text(encoding="utf-8"))
    for tag, shape, doc in _documents(seed_data):
        preps.append(prepare(from_data(doc, source=f"{shape}-{tag}"), tag))
        data[tag] = doc
        shapes[shape] += 1
    execute(preps, deadline=DEADLINE)
    reports = [report(p, DEADLINE) for p in preps]
    elapsed = time.perf_counter() - t0

    verdicts, protocols, other = _tally(reports)
    emulated = sum(verdicts.values())
    total = emulated + other["not_emulable"]
    checks = sum(r.counts()["checks"] for r in reports)
    branched = sum(1 for r in reports for c in r.checks if c.branch == 0 and c.branches > 1)
    builds = {id(b): b for r in reports for b in r.builds}.values()
    located = other["location same"] + other["location different"]
    line = (
        f"kernel differential: {len(preps)} scenarios ({sum(shapes.values())} generated variants of "
        f"{len(shapes)} shapes: {', '.join(f'{k} {v}' for k, v in sorted(shapes.items()))}), {checks} checks "
        f"({branched} with several branches) on {total} branches: {emulated} emulated "
        f"(verdicts: {_share(verdicts, emulated)}; protocols: {_share(protocols, emulated)}), "
        f"{other['not_emulable']} not emulable ({100 * other['not_emulable'] / max(total, 1):.1f} %); "
        f"{located} of {other['stopped']} that did not get through compared by where they stopped "
        f"({100 * located / max(other['stopped'], 1):.1f} %); {other['disagree']} disagreements "
        f"({other['location different']} in location); {len(builds)} builds of "
        f"{sum(b.namespaces for b in builds)} namespaces in {sum(b.build_seconds for b in builds):.1f}s, "
        f"connects {sum(b.run_seconds for b in builds):.1f}s, total {elapsed:.1f}s"
    )
    summaries.add("vpcsim kernel differential", line)

    messages: list[str] = []
    for prep, rep in zip(preps, reports, strict=True):
        if rep.agree:
            continue
        bad = rep.disagreements
        if len(messages) < 2:
            minimal = shrink(data[prep.tag], fails_many, rounds=12)
            messages.append(f"{prep.tag}: {bad[0].name}: {bad[0].note}\nminimal scenario:\n{dump(minimal)}")
        else:
            messages.append(f"{prep.tag}: {len(bad)} disagreements, first: {bad[0].name}: {bad[0].note}")
    assert not messages, f"{other['disagree']} disagreements between simulator and kernel\n" + "\n".join(messages)

    assert len(shapes) >= 5, line
    assert other["not_emulable"] <= 0.05 * total, line
    assert located >= 0.9 * other["stopped"], line
    assert branched >= 0.05 * checks, f"too few checks meet a choice of backends: {line}"
    groups = {
        "connected": verdicts["connected"],
        "refused or answered": verdicts["refused"] + verdicts["answered"],
        "timeout": verdicts["timeout"],
        "connected or answered": verdicts["connected"] + verdicts["answered"],
        "refused": verdicts["refused"],
    }
    for name, count in groups.items():
        assert count >= 0.15 * emulated, f"too few {name} verdicts: {line}"
    for protocol in ("tcp", "udp", "icmp"):
        assert protocols[protocol] >= 0.15 * emulated, f"too few {protocol} checks: {line}"


# -- planted bugs ----------------------------------------------------------------------------------------


def _ccn_last_attached_wins(self: CcnRouteTable, vpcs: Any) -> CcnRouteTable:
    """control/: a new route that overlaps an enabled one takes over, instead of being invalid."""
    routes = list(self.routes)
    attached = list(self.attachments)
    for vpc, subnets in vpcs:
        attached.append(vpc)
        for subnet_id, prefix in sorted(subnets, key=lambda s: (s[1], s[0])):
            net = IPv4Network(prefix)
            for i, r in enumerate(routes):
                if r.enabled and (r.prefix.subnet_of(net) or net.subnet_of(r.prefix)):
                    routes[i] = replace(r, enabled=False, note=f"invalid: overlaps {net} of {vpc}")
            routes.append(CcnRoute(prefix=net, vpc=vpc, subnet=subnet_id, enabled=True))
    return replace(self, attachments=tuple(attached), routes=tuple(routes))


def _plant_last_attached_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CcnRouteTable, "attach_all", _ccn_last_attached_wins)


def _plant_last_match_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    """compile/ (the front-ends' shared lowering): each filter's rules in reverse, so the last match
    wins."""
    from vpcsim.frontends.common import lower

    original = lower.lower_filter

    def reversed_filter(direction: str, bound: tuple[str, ...], groups: Any) -> Filter:
        f = original(direction, bound, groups)
        return Filter(direction=f.direction, groups=f.groups, rules=tuple(reversed(f.rules)))

    monkeypatch.setattr(lower, "lower_filter", reversed_filter)


def _plant_ports_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """sim/: the engine's filter match forgets the rule's ports."""

    def portless_first_match(self: Filter, proto: int, peer: int, port: int) -> FilterRule | None:
        for r in self.rules:
            if (peer & r.mask) == r.net and (r.proto == 0 or r.proto == proto):
                return r
        return None

    monkeypatch.setattr(Filter, "first_match", portless_first_match)


def _plant_one_table_per_vpc(monkeypatch: pytest.MonkeyPatch) -> None:
    """compile/ (the front-ends' shared lowering): every subnet routed by the route table of its
    VPC's first subnet, whatever table it is bound to."""
    from vpcsim.frontends.common import lower

    original = lower.placements

    def first_subnet(topo: Any) -> dict[str, list[tuple[str, str]]]:
        return {
            vpc: [(node, min(s.id for s in topo.vpcs[vpc].subnets)) for node, _ in placed]
            for vpc, placed in original(topo).items()
        }

    monkeypatch.setattr(lower, "placements", first_subnet)


PLANTED: dict[str, tuple[str, Callable[[pytest.MonkeyPatch], None]]] = {
    "control": ("CCN route conflicts resolved last-attached-wins", _plant_last_attached_wins),
    "compile": ("security-group rules taken last-match-wins", _plant_last_match_wins),
    "sim": ("security-group rule ports ignored", _plant_ports_ignored),
    "routes": ("every subnet routed by its VPC's first subnet's route table", _plant_one_table_per_vpc),
}


@pytest.mark.usefixtures("kernel_ready")
@pytest.mark.parametrize("where", PLANTED)
def test_the_kernel_catches_a_planted_bug(where: str, seed_data: Data, monkeypatch: pytest.MonkeyPatch) -> None:
    """The oracle is only worth something if it can disagree: plant one bug, and the kernel must catch
    it in some variant, which shrinks to a small scenario that still shows it."""
    bug, plant = PLANTED[where]
    plant(monkeypatch)
    docs = list(_documents(seed_data))
    caught: list[tuple[str, Data]] = []
    for start in range(0, len(docs), SCAN):
        chunk = docs[start : start + SCAN]
        preps = {tag: prepare(from_data(doc, source=tag), tag) for tag, _, doc in chunk}
        execute(list(preps.values()), deadline=SHRINK_DEADLINE)
        caught = [(tag, doc) for tag, _, doc in chunk if not report(preps[tag]).agree]
        if caught:
            break
    assert caught, f"a simulator with {bug} went unnoticed by the kernel"
    tag, doc = min(caught, key=lambda c: lines(c[1]))
    minimal = shrink(doc, fails_many, rounds=20, max_batch=24)
    assert fails_many([minimal]) == [True]
    assert len(minimal["checks"]) == 1
    summaries.add(
        "vpcsim kernel differential",
        f"planted in {where}/ ({bug}): caught in {len(caught)} of the first variants checked; {tag} shrunk "
        f"{lines(doc)} -> {lines(minimal)} YAML lines:\n{dump(minimal)}",
    )
    assert lines(minimal) < 40, dump(minimal)
