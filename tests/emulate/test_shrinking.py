"""The batched shrinker (``tests/emulate/shrinking.py``) with a fake oracle: no kernel, no root.

The fake stands in for "the kernel still disagrees": a failure that needs one check, one
instance, and a drop rule at a given position in one of its groups, so the shrinker must keep
exactly those (and the rule before it) while deleting everything else around them.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from tests.emulate.shapes import SHAPES, shaped
from tests.emulate.shrinking import (
    DELETERS,
    _delete_subnet,
    _keep_check_pruned,
    _moves,
    _size,
    _Sizes,
    _tidy,
    candidates,
    dump,
    lines,
    shrink,
)
from vpcsim.errors import VpcsimError
from vpcsim.frontends import from_data

Data = dict[str, Any]

PLANTED = {"action": "drop", "protocol": "tcp", "port": 22, "source": "0.0.0.0/0"}
PROBE_TO = "8.8.8.8:22"
INDEX = 1
"""Where the planted rule sits in its group: the rule before it must survive too."""


def _planted(n: int) -> tuple[Data, str]:
    """Shaped variant ``n`` with a drop rule for tcp/22 planted at :data:`INDEX` of the first
    group of an instance whose group no timeline event edits, and a check from that instance
    slipped in among the others."""
    _, doc = shaped(n)
    edited = {e.get("security_group") for e in doc.get("timeline", [])}
    for iid, inst in doc["instances"].items():
        gid = inst["security_groups"][0]
        rules = doc["security_groups"][gid].get("ingress", [])
        if gid not in edited and len(rules) >= INDEX:
            rules.insert(INDEX, dict(PLANTED))
            doc["checks"].insert(len(doc["checks"]) // 2, {"from": iid, "to": PROBE_TO, "expect": "connected"})
            return doc, iid
    raise AssertionError(f"variant {n} has no instance to plant a rule in")


def _fails(doc: Data, iid: str) -> bool:
    """The fake disagreement: the probe check exists, ``iid`` exists and binds a group whose rule
    at :data:`INDEX` drops tcp/22, and the scenario loads."""
    if not any(c.get("from") == iid and c.get("to") == PROBE_TO for c in doc.get("checks", [])):
        return False
    inst = doc.get("instances", {}).get(iid)
    if inst is None:
        return False
    planted = False
    for gid in inst.get("security_groups", []):
        rules = doc.get("security_groups", {}).get(gid, {}).get("ingress", [])
        if len(rules) > INDEX and all(rules[INDEX].get(k) == PLANTED[k] for k in ("action", "protocol", "port")):
            planted = True
    if not planted:
        return False
    try:
        from_data(doc, source="<candidate>")
    except VpcsimError:
        return False
    return True


class Oracle:
    """A ``fails_many`` that counts its calls (each would be one kernel build)."""

    def __init__(self, iid: str, max_batch: int = 64) -> None:
        self.iid = iid
        self.max_batch = max_batch
        self.calls = 0
        self.candidates = 0

    def __call__(self, docs: list[Data]) -> list[bool]:
        assert 0 < len(docs) <= self.max_batch
        self.calls += 1
        self.candidates += len(docs)
        return [_fails(d, self.iid) for d in docs]


def _biggest(count: int = 12) -> int:
    return max(range(count), key=lambda n: lines(shaped(n)[1]))


def test_dump_writes_leaves_in_flow_style() -> None:
    doc = {"version": 1, "vpcs": {"v": {"cidr": "10.0.0.0/16", "subnets": {"s": {"cidr": "10.0.1.0/24"}}}}}
    text = dump(doc)
    assert "s: {cidr: 10.0.1.0/24}" in text
    assert yaml.safe_load(text) == doc
    assert lines(doc) == len(text.splitlines()) == 6


def test_sizes_are_those_of_the_dump() -> None:
    """Candidates are ordered by a memoised size, summed entry by entry: it must equal the dump's."""
    sizes = _Sizes()
    for n in range(len(SHAPES)):
        doc, _ = _planted(n)
        assert sizes(doc) == _size(dump(doc))
        for _, cand in candidates(doc, sizes)[::40]:
            assert sizes(cand) == _size(dump(cand))


def test_deleting_an_object_takes_what_names_it() -> None:
    """Every object deletion of every shape leaves a scenario that loads (but the last VPC's)."""
    for n in range(len(SHAPES)):
        _, doc = shaped(n)
        for section, delete in DELETERS.items():
            for oid in doc.get(section, {}):
                cand = copy.deepcopy(doc)
                delete(cand, oid)
                _tidy(cand)
                if not cand["vpcs"]:
                    continue
                try:
                    from_data(cand, source=f"{section}.{oid}")
                except VpcsimError as exc:
                    pytest.fail(f"variant {n}: deleting {section}.{oid} leaves an invalid scenario: {exc}")


def test_every_move_applies_and_version_and_vpcs_stay() -> None:
    _, doc = shaped(2)
    for move in _moves(doc):
        cand = copy.deepcopy(doc)
        move(cand)
        _tidy(cand)
        assert cand["version"] == 1
        assert "vpcs" in cand


def test_shrinks_a_big_variant_to_a_small_scenario_in_few_rounds() -> None:
    n = _biggest()
    doc, iid = _planted(n)
    assert _fails(doc, iid)
    oracle = Oracle(iid)
    minimal = shrink(doc, oracle, rounds=12)
    assert _fails(minimal, iid)
    assert lines(minimal) <= 25 < lines(doc) // 5, dump(minimal)
    assert minimal["checks"] == [{"from": iid, "to": PROBE_TO, "expect": "connected"}]
    assert list(minimal["instances"]) == [iid]
    assert len(minimal["vpcs"]) == 1
    # One call per round that found something, one more for the last: a handful of builds for a
    # scenario of ~200 lines (the one-at-a-time shrinker took one per candidate tried).
    assert oracle.calls <= 12, (oracle.calls, oracle.candidates)


def test_the_batch_size_does_not_change_the_result() -> None:
    """Each round takes the smallest failing candidate whatever the batches: smaller batches cost
    more calls, never a different minimum."""
    doc, iid = _planted(3)
    big, small = Oracle(iid), Oracle(iid, max_batch=7)
    assert shrink(doc, small, max_batch=7) == shrink(doc, big)
    assert small.calls > big.calls


def test_nothing_failing_keeps_the_scenario_and_asks_once_per_batch() -> None:
    _, doc = shaped(0)
    asked: list[int] = []

    def never(docs: list[Data]) -> list[bool]:
        asked.append(len(docs))
        return [False] * len(docs)

    assert shrink(doc, never, max_batch=50) == doc
    assert sum(asked) == len(candidates(doc))
    assert max(asked) <= 50


def test_a_wrong_number_of_answers_is_an_error() -> None:
    _, doc = shaped(0)
    with pytest.raises(ValueError, match="verdicts for"):
        shrink(doc, lambda docs: [False])


def test_network_acls_go_with_their_subnets_and_vpcs() -> None:
    """Deleting a subnet unbinds it from its ACL; deleting a VPC deletes its ACLs; pruning to one
    check keeps the ACLs of the VPCs that check needs."""
    n = next(n for n in range(60) if len(shaped(n)[1].get("network_acls", {})) > 1)
    _, doc = shaped(n)
    for aid, acl in doc["network_acls"].items():
        vid = acl["vpc"]
        for sid in acl.get("subnets", []):
            if len(doc["vpcs"][vid]["subnets"]) > 1:
                cand = copy.deepcopy(doc)
                _delete_subnet(vid, sid, cand)
                _tidy(cand)
                assert sid not in cand["network_acls"][aid].get("subnets", [])
                from_data(cand, source=f"{vid}.{sid}")
        if len(doc["vpcs"]) > 1:
            cand = copy.deepcopy(doc)
            DELETERS["vpcs"](cand, vid)
            _tidy(cand)
            assert all(a["vpc"] != vid for a in cand.get("network_acls", {}).values())
    cand = copy.deepcopy(doc)
    _keep_check_pruned(0, cand)
    _tidy(cand)
    assert {a["vpc"] for a in cand.get("network_acls", {}).values()} <= set(cand["vpcs"])
    assert [aid for aid, a in doc["network_acls"].items() if a["vpc"] in cand["vpcs"]] == list(
        cand.get("network_acls", {})
    )


def test_the_network_around_the_endpoints_goes_with_what_it_serves() -> None:
    """Pruning to a check from a data-centre host keeps the way it takes: the data centre, its
    gateways, their VPC or CCN and route tables; deleting any object of a peered or data-centre
    variant leaves a scenario that loads, and deleting a gateway takes the routes that name it."""
    for n in range(48):
        shape, doc = shaped(n)
        if shape not in ("peered", "premises"):
            continue
        for section, delete in DELETERS.items():
            for oid in doc.get(section, {}):
                cand = copy.deepcopy(doc)
                delete(cand, oid)
                _tidy(cand)
                if cand["vpcs"]:
                    from_data(cand, source=f"{shape}-{n}: {section}.{oid}")
        if shape != "premises":
            continue
        i = next(i for i, c in enumerate(doc["checks"]) if c["from"].startswith("idc-"))
        cand = copy.deepcopy(doc)
        _keep_check_pruned(i, cand)
        _tidy(cand)
        if not cand["vpcs"]:  # a check to a bare address names no VPC: nothing to keep
            continue
        idc = cand["checks"][0]["from"].rpartition("-h")[0]
        assert idc in cand["idcs"]
        gateways = {**cand.get("vpn_gateways", {}), **cand.get("dc_gateways", {})}
        for route in cand["idcs"][idc].get("routes", {}).values():
            gw = gateways[route["gateway"]]
            assert gw.get("vpc", gw.get("ccn")) in {*cand["vpcs"], *cand.get("ccns", {})}
        for gid in gateways:
            cand2 = copy.deepcopy(cand)
            DELETERS["vpn_gateways"](cand2, gid)
            _tidy(cand2)
            named = [r for t in cand2.get("route_tables", {}).values() for r in t.get("routes", {}).values()]
            assert all(r["next_hop"]["id"] != gid for r in named)
            from_data(cand2, source=f"{gid}")
