"""The kernel oracle's own control plane against the simulator's, state by state.

The two are written apart on purpose; here they must say the same about every scenario vpcsim
ships and every generated variant, at every time a check runs and every time either side changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.emulate.generator import variant
from tests.emulate.shapes import shaped
from vpcsim.control import control_timeline
from vpcsim.emulate.plan_control import Oracle, health_flips
from vpcsim.frontends import from_data, huawei, load, tencent
from vpcsim.model import HealthCheck, Topology

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


def _compare(topo: Topology) -> None:
    oracle = Oracle(topo)
    states = control_timeline(topo)
    compiled = (huawei if topo.cloud == "huawei" else tencent).compile_network(topo, states)
    times = sorted({0.0, *oracle.change_times(), *(s.time for s in states), *(c.at for c in topo.checks)})
    for t in times:
        cs = next(s for s in reversed(states) if s.time <= t)
        mine = oracle.at(t)
        assert {e: s.value for e, s in cs.endpoint_states.items()} == mine.endpoint_states, t
        assert {c: tab.attachments for c, tab in cs.ccn_tables.items()} == mine.attached, t
        for c, tab in cs.ccn_tables.items():
            assert [(r.prefix, r.vpc, r.enabled) for r in tab.routes] == [
                (r.prefix, r.vpc, r.enabled) for r in mine.ccn_routes[c]
            ], t
        assert cs.security_groups == mine.groups, t
        assert cs.listening == mine.listening, t
        assert {t: tab.routes for t, tab in cs.route_tables.items()} == mine.routes, t
        assert {k: s.value == "up" for k, s in cs.tunnels.items()} == mine.tunnels_up, t
        fs = compiled.state_at(t)
        for (lb, listener), pool in mine.candidates.items():
            node: Any = fs.nodes[lb]
            lst = next(x for x in node.listeners.values() if x.id == listener)
            if not lst.takers:
                expected: set[str] = set()
            elif not lst.health_checked:
                expected = set(lst.taker_keys)
            elif lst.healthy_takers:
                expected = set(lst.healthy_keys)
            elif lst.any_healthy:
                expected = set()
            else:
                expected = set(lst.backend_keys)
            assert {f"{b.instance}:{b.port}" for b in pool} == expected, (t, lb, listener)
    assert set(oracle.change_times()) >= {s.time for s in states if s.time > 0}


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_bundled_scenarios(path: Path) -> None:
    _compare(load(path))


def test_generated_variants(seed_data: dict[str, Any]) -> None:
    for n in range(40):
        _compare(from_data(variant(seed_data, n), source=f"variant-{n}"))
    for n in range(160):
        shape, doc = shaped(n)
        _compare(from_data(doc, source=f"{shape}-{n}"))


def test_health_needs_the_thresholds_in_a_row() -> None:
    hc = HealthCheck(interval=5.0, timeout=2.0, healthy_threshold=3, unhealthy_threshold=2)
    # Stops listening at 12: probes at 15 and 20 fail, unhealthy once the second times out (22);
    # starts again at 31: probes at 35, 40, 45 succeed, healthy at 45.
    assert health_flips(hc, [(0.0, True), (12.0, False), (31.0, True)]) == [(22.0, False), (45.0, True)]
    # A gap shorter than the threshold changes nothing.
    assert health_flips(hc, [(0.0, True), (12.0, False), (16.0, True)]) == []
