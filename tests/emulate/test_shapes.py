"""The shaped scenario generator (``tests/emulate/shapes.py``), with the simulator only: no kernel.

A generated variant that does not load is a generator bug, and a generator whose checks all end
alike (or all run inside a control change the kernel build cannot hold) would make the
differential suite prove nothing; these tests catch both on the first 60 variants in about 2 s.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.emulate.shapes import ACL_SHAPES, LINUX_EPHEMERAL, MAX_ACL_RULES, MAX_OBJECTS, SHAPES, shaped
from vpcsim.control import control_timeline
from vpcsim.frontends import from_data
from vpcsim.model import Topology
from vpcsim.probes import Network
from vpcsim.trace import AclMatch

VARIANTS = 80

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
            assert address != topo.resolve_host(c.source)[0], (name, c.name)
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


def test_some_variants_bind_network_acls_that_bite(variants: list[Variant]) -> None:
    """About a third of the ACL shapes' variants bind ACLs, within Tencent's 20 rules a direction;
    their checks end in both ACL reasons, and others pass through an ACL (to a connection or an
    answer, or to what decides further on). No rule covers part of Linux's ephemeral range: the
    kernel and the simulator pick different ports in it."""
    with_acls = [(name, topo) for name, _, topo in variants if topo.network_acls]
    assert len(with_acls) >= 5, len(with_acls)
    assert {name for name, _ in with_acls} <= set(ACL_SHAPES)
    reasons: Counter[str] = Counter()
    for _, topo in with_acls:
        for acl in topo.network_acls.values():
            for rule in (*acl.ingress, *acl.egress):
                low, high = rule.ports.low, rule.ports.high
                assert high < LINUX_EPHEMERAL[0] or (low <= LINUX_EPHEMERAL[0] and high >= LINUX_EPHEMERAL[1]), rule
            assert len(acl.ingress) <= MAX_ACL_RULES
            assert len(acl.egress) <= MAX_ACL_RULES
        net = Network(topo)
        for c in topo.checks:
            for b in net.run_check(c).result.branches:
                reasons[b.reason.value] += 1
                steps = [s for p in b.packets for h in p.hops for s in h.steps]
                if any(isinstance(s.data, AclMatch) for s in steps) and not b.reason.value.startswith("acl_"):
                    reasons["through an ACL"] += 1
                    reasons["answered through an ACL"] += b.succeeded
    assert reasons["acl_ingress_denied"] >= 10, reasons
    assert reasons["acl_egress_denied"] >= 10, reasons
    assert reasons["through an ACL"] >= 25, reasons
    assert reasons["answered through an ACL"] >= 8, reasons


def test_the_network_around_the_endpoints_varies(variants: list[Variant]) -> None:
    """Peered and data-centre variants: routes through peerings, instances and gateways (some
    disabled, some changed on the timeline), tunnels up and down, hosts with firewalls."""
    topos = [topo for name, _, topo in variants if name in ("peered", "premises")]
    assert len(topos) >= 16
    routes = [r for t in topos for table in t.route_tables.values() for r in table.routes]
    kinds = Counter(r.kind.value for r in routes)
    assert min(kinds[k] for k in ("peering", "vpn_gateway", "dc_gateway", "instance")) >= 1, kinds
    assert sum(not r.enabled for r in routes) >= 1
    assert sum(bool(t.peerings) for t in topos) >= 8
    gateways = [g for t in topos for g in t.gateways.values()]
    assert any(g.ccn for g in gateways)
    assert any(g.vpc for g in gateways)
    assert any(tun.state.value == "down" for g in gateways for tun in g.tunnels)
    events = Counter(ev.kind.value for t in topos for ev in t.timeline)
    assert events["tunnel_down"] + events["tunnel_up"] >= 2, events
    assert sum(events[k] for k in ("add_route", "delete_route", "enable_route", "disable_route")) >= 2, events
    hosts = [h for t in topos for h in t.idc_hosts.values()]
    assert any(h.firewall.ingress is not None for h in hosts)
    assert any(c.source in t.idc_hosts for t in topos for c in t.checks)
