"""The shaped scenario generator (``tests/emulate/shapes.py``), with the simulator only: no kernel.

A generated variant that does not load is a generator bug, and a generator whose checks all end
alike (or all run inside a control change the kernel build cannot hold) would make the
differential suite prove nothing; these tests catch both on the first 60 variants in about 2 s.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.emulate.shapes import MAX_OBJECTS, SHAPES, shaped
from vpcsim.control import control_timeline
from vpcsim.frontends import from_data
from vpcsim.model import Topology
from vpcsim.probes import Network

VARIANTS = 60

Variant = tuple[str, dict[str, Any], Topology]


@pytest.fixture(scope="module")
def variants() -> list[Variant]:
    out = []
    for n in range(VARIANTS):
        name, doc = shaped(n)
        out.append((name, doc, from_data(doc, source=f"shape-{n}")))
    return out


def test_every_variant_loads_and_the_shapes_vary(variants: list[Variant]) -> None:
    names = Counter(name for name, _, _ in variants)
    assert set(names) <= set(SHAPES)
    assert len(names) >= 5, names


def test_variants_are_deterministic() -> None:
    assert shaped(7) == shaped(7)
    assert shaped(7) != shaped(7, seed=1)
    assert shaped(7)[0] == shaped(7, seed=1)[0]


def test_variants_keep_to_their_sizes(variants: list[Variant]) -> None:
    for name, doc, topo in variants:
        objects = len(topo.instances) + len(topo.vpcs) + len(topo.ccns) + len(topo.endpoints) + len(topo.load_balancers)
        assert objects <= MAX_OBJECTS, name
        assert 12 <= len(topo.checks) <= 30, name
        assert 1 <= len(topo.vpcs) <= 6, name
        assert len(topo.load_balancers) <= 3, name
        assert len(topo.endpoints) <= 3, name
        assert len(topo.ccns) <= 2, name
        assert {v.region for v in topo.vpcs.values()} <= {"ap-chengdu", "ap-chongqing"}, name
        for inst in topo.instances.values():
            assert 1 <= len(inst.security_groups) <= 3, (name, inst.id)
        per_subnet = Counter((i["vpc"], i["subnet"]) for i in doc["instances"].values())
        assert max(per_subnet.values()) <= 4, name


def test_checks_stay_clear_of_control_changes_and_own_addresses(variants: list[Variant]) -> None:
    """The kernel build holds one control state: no change may fall from 5 s before a check to
    130 s after it (a TCP connect that times out lasts 127 s)."""
    for name, _, topo in variants:
        changes = [s.time for s in control_timeline(topo) if s.changes]
        for c in topo.checks:
            assert not [t for t in changes if c.at - 5 < t < c.at + 130], (name, c.name, changes)
            address, _ = topo.resolve_host(c.host)
            assert address != topo.instances[c.source].ip, (name, c.name)
            assert not address.is_loopback, (name, c.name)
            assert not address.is_multicast, (name, c.name)
            assert not address.is_reserved, (name, c.name)


def test_verdicts_and_protocols_are_mixed(variants: list[Variant]) -> None:
    """Every protocol and every ending is common, and load balancers give checks several branches
    (looser bounds than over 300 variants: 60 are a smaller sample)."""
    verdicts: Counter[str] = Counter()
    protocols: Counter[str] = Counter()
    checks = several = 0
    for _, _, topo in variants:
        net = Network(topo)
        for c in topo.checks:
            branches = net.run_check(c).result.branches
            checks += 1
            several += len(branches) > 1
            for b in branches:
                verdicts[b.verdict.value] += 1
                protocols[b.protocol] += 1
    total = sum(verdicts.values())
    summary = f"{dict(verdicts)} {dict(protocols)}, {several} of {checks} checks with several branches"
    for protocol in ("tcp", "udp", "icmp"):
        assert protocols[protocol] >= 0.15 * total, summary
    for verdict in ("connected", "answered", "refused", "timeout"):
        assert verdicts[verdict] >= 0.15 * total, summary
    assert several >= 0.05 * checks, summary
