"""Simulator against the Linux kernel: the bundled scenarios and generated variants, zero disagreements.

Each variant is simulated; each emulable check becomes a real TCP connect in network namespaces
built from the same control state. Many variants share one build (up to a few hundred namespaces),
so the suite costs a handful of builds and connect rounds, not one per check.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests import summaries
from tests.emulate.generator import variant
from tests.emulate.shrink import disagrees, dump, shrink
from vpcsim.emulate import EmulationReport, Prepared, execute, prepare, report
from vpcsim.frontends import from_data, load

ROOT = Path(__file__).resolve().parents[2]
SEEDS = [ROOT / "scenarios" / "chengdu_chongqing.yaml", ROOT / "scenarios" / "chengdu_chongqing_cross_account.yaml"]
VARIANTS = 220
DEADLINE = 1.5
"""Seconds before a real connect counts as timed out (answers take well under 10 ms here)."""

pytestmark = pytest.mark.kernel


def _tally(reports: list[EmulationReport]) -> tuple[Counter[str], Counter[str], int, int]:
    """Verdicts and protocols of the emulated branches (a report's rows), the not emulable ones
    and the disagreements."""
    verdicts: Counter[str] = Counter()
    protocols: Counter[str] = Counter()
    not_emulable = disagree = 0
    for rep in reports:
        for c in rep.checks:
            if c.status == "not_emulable":
                not_emulable += 1
            else:
                verdicts[c.simulator] += 1
                protocols[c.protocol] += 1
                disagree += c.status == "disagree"
    return verdicts, protocols, not_emulable, disagree


@pytest.mark.usefixtures("kernel_ready")
def test_simulator_agrees_with_the_kernel(seed_data: dict[str, object]) -> None:
    t0 = time.perf_counter()
    preps: list[Prepared] = []
    data: dict[str, dict[str, object]] = {}
    for path in SEEDS:
        if path.exists():
            preps.append(prepare(load(path), f"seed-{path.stem}"))
            data[preps[-1].tag] = yaml.safe_load(path.read_text(encoding="utf-8"))
    for n in range(VARIANTS):
        doc = variant(seed_data, n)
        tag = f"v{n}"
        preps.append(prepare(from_data(doc, source=f"variant-{n}"), tag))
        data[tag] = doc
    execute(preps, deadline=DEADLINE)
    reports = [report(p, DEADLINE) for p in preps]
    elapsed = time.perf_counter() - t0

    verdicts, protocols, not_emulable, disagree = _tally(reports)
    total = sum(verdicts.values()) + not_emulable
    emulated = sum(verdicts.values())
    checks = sum(r.counts()["checks"] for r in reports)
    branched = sum(1 for r in reports for c in r.checks if c.branch == 0 and c.branches > 1)
    builds = {id(b): b for r in reports for b in r.builds}.values()
    line = (
        f"kernel differential: {len(preps)} scenarios ({VARIANTS} generated variants), {checks} checks "
        f"({branched} with several branches) on {total} branches: "
        f"{emulated} emulated ({', '.join(f'{k} {v}' for k, v in sorted(verdicts.items()))}; "
        f"{', '.join(f'{k} {v}' for k, v in sorted(protocols.items()))}), "
        f"{not_emulable} not emulable, {disagree} disagreements; {len(builds)} builds of "
        f"{sum(b.namespaces for b in builds)} namespaces in {sum(b.build_seconds for b in builds):.1f}s, "
        f"connects {sum(b.run_seconds for b in builds):.1f}s, total {elapsed:.1f}s"
    )
    summaries.add("vpcsim kernel differential", line)

    messages: list[str] = []
    for prep, rep in zip(preps, reports, strict=True):
        if rep.agree:
            continue
        bad = [c for c in rep.checks if c.status == "disagree"]
        doc = data[prep.tag]
        if len(messages) < 3:
            minimal = shrink(doc, lambda d: disagrees(d, deadline=DEADLINE))
            messages.append(f"{prep.tag}: {bad[0].name}: {bad[0].note}\nminimal scenario:\n{dump(minimal)}")
        else:
            messages.append(f"{prep.tag}: {len(bad)} disagreements, first: {bad[0].name}: {bad[0].note}")
    assert not messages, f"{disagree} disagreements between simulator and kernel\n" + "\n".join(messages)

    assert not_emulable <= 0.05 * total, line
    assert branched >= 0.05 * checks, f"too few checks meet a choice of backends: {line}"
    ends = {"connected or answered": verdicts["connected"] + verdicts["answered"], **verdicts}
    for verdict in ("connected or answered", "refused", "timeout"):
        assert ends[verdict] >= 0.15 * emulated, f"too few {verdict} verdicts: {line}"
    for protocol in ("tcp", "udp", "icmp"):
        assert protocols[protocol] >= 0.15 * emulated, f"too few {protocol} checks: {line}"


@pytest.mark.usefixtures("kernel_ready")
def test_the_kernel_catches_a_planted_simulator_bug(
    seed_data: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The oracle is only worth something if it can disagree: make the simulator ignore the port
    of security-group rules, and the kernel must catch it and shrink it to a small scenario."""
    from vpcsim.ir import Filter, FilterRule

    def portless_first_match(self: Filter, proto: int, peer: int, port: int) -> FilterRule | None:
        for r in self.rules:
            if (peer & r.mask) == r.net and (r.proto == 0 or r.proto == proto):
                return r
        return None

    monkeypatch.setattr(Filter, "first_match", portless_first_match)
    preps = [prepare(from_data(variant(seed_data, n), source=f"variant-{n}"), f"m{n}") for n in range(40)]
    execute(preps, deadline=DEADLINE)
    bad = [(p, r) for p in preps if not (r := report(p, DEADLINE)).agree]
    assert bad, "a simulator that ignores rule ports went unnoticed by the kernel"
    doc = variant(seed_data, int(bad[0][0].tag[1:]))
    minimal = shrink(doc, lambda d: disagrees(d, deadline=0.5), budget=80)
    assert len(minimal["checks"]) == 1
    assert disagrees(minimal, deadline=0.5)
    assert len(dump(minimal)) < len(dump(doc))
    summaries.add(
        "vpcsim kernel differential",
        f"planted bug (rule ports ignored): {len(bad)} of 40 variants disagree; shrunk "
        f"{len(dump(doc).splitlines())} -> {len(dump(minimal).splitlines())} YAML lines",
    )
