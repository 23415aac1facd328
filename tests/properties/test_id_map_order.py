"""The order of keys in id maps means nothing; list order and timeline times do.

The design contract (README "Contract"): object sections map ids to objects and their key order is
not meaningful; rules, group bindings and CCN attachments are lists whose order is; timeline events
are ordered by time, and by file order only among equal times. Where the engine must pick between
equals that no list orders (auto-assigned endpoint addresses, SNAT addresses, least-connections
ties), it picks by sorted id.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from ipaddress import IPv4Address
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import DETERMINISTIC, Doc, map_orders, seed_document, sg_scenarios, shuffled_maps
from vpcsim import Network, ProbeResult, ScenarioError
from vpcsim.frontends import from_data
from vpcsim.report import check_to_dict, probe_to_dict, render_trace
from vpcsim.trace import StepKind, Translated

ID_MAPS = (
    "vpcs",
    "security_groups",
    "instances",
    "load_balancers",
    "endpoint_services",
    "endpoints",
    "ccns",
)


def enrich(doc: Doc) -> Doc:
    """The seed (or a variant of it) with objects whose choices tie unless ids break the tie: two
    endpoints without a chosen address in one subnet, three endpoints sharing one SNAT pool, a
    least-connections listener with equal backends, a second service, a second subnet per client
    VPC, an empty CCN, and a timeline at distinct times; plus checks over all of them."""
    doc = copy.deepcopy(doc)
    doc["vpcs"]["vpc1"]["subnets"]["subnet-b"] = {"cidr": "172.16.3.0/24", "zone": "ap-chengdu-2"}
    doc["vpcs"]["vpc3"]["subnets"]["subnet-cq2"] = {"cidr": "192.168.2.0/24", "zone": "ap-chongqing-1"}
    doc["instances"]["cvm-vpc1b"] = {
        "vpc": "vpc1",
        "subnet": "subnet-b",
        "ip": "172.16.3.10",
        "security_groups": ["sg-client"],
    }
    doc["load_balancers"]["lb-service"]["listeners"]["lbl-2000"] = {
        "port": 2000,
        "scheduler": "least_conn",
        "backends": [{"instance": "cvm-backend2", "port": 8080}, {"instance": "cvm-backend1", "port": 8080}],
    }
    doc["load_balancers"]["lb-other"] = {
        "vpc": "vpc2",
        "subnet": "subnet-clb",
        "vip": "10.0.1.101",
        "listeners": {"lbl-other": {"port": 1044, "backends": [{"instance": "cvm-backend2", "port": 8080}]}},
    }
    doc["endpoint_services"]["vpcsvc-other"] = {"vpc": "vpc2", "load_balancer": "lb-other"}
    for eid, service in (("vpce-b", "vpcsvc-service"), ("vpce-a", "vpcsvc-service"), ("vpce-other", "vpcsvc-other")):
        doc["endpoints"][eid] = {"vpc": "vpc1", "subnet": "subnet-consumer", "service": service}
    doc["ccns"]["ccn-empty"] = {"attachments": []}
    doc["timeline"] = [
        {"at": "60s", "action": "start_listener", "instance": "cvm-backend1", "port": 8080},
        {
            "at": "10s",
            "action": "add_rule",
            "security_group": "sg-backend",
            "direction": "ingress",
            "index": 0,
            "rule": {"action": "drop", "protocol": "all"},
        },
        {"at": "30s", "action": "stop_listener", "instance": "cvm-backend1", "port": 8080},
        {"at": "20s", "action": "remove_rule", "security_group": "sg-backend", "direction": "ingress", "index": 0},
    ]
    doc["checks"] = [
        {"from": source, "to": f"{host}:{port}", "at": at, "expect": "connected"}
        for source in ("cvm-vpc3", "cvm-vpc1b")
        for host, port in (("vpce-vpc1", 1044), ("vpce-a", 1044), ("vpce-b", 2000), ("vpce-other", 1044))
        for at in (0, 15, 31, 45, 90)
    ]
    return doc


def results_json(doc: Doc) -> str:
    """Everything a user can get out of ``doc``: every check as ``vpcsim check --json`` reports it,
    and a probe of each path as JSON, as text and as captured packets, in one JSON text."""
    net = Network(from_data(doc, source="<order>"))
    out: dict[str, Any] = {"checks": [check_to_dict(r) for r in net.run_checks()], "probes": []}
    for source, host, port in (
        ("cvm-vpc3", "vpce-b", 2000),
        ("cvm-vpc1", "vpce-a", 1044),
        ("cvm-vpc1b", "vpce-other", 1044),
    ):
        r = net.telnet(source, host, port, capture=True)
        out["probes"].append(
            {
                "result": probe_to_dict(r),
                "text": render_trace(r),
                "captures": [[t, point, list(h), kind] for t, point, h, kind in r.captures],
            }
        )
    return json.dumps(out)


def _reordered(original: Doc, shuffled: Doc) -> bool:
    before, after = map_orders(original), map_orders(shuffled)
    return any(before[path] != after[path] for path in before if path and path[0] in ID_MAPS)


scenarios = st.one_of(st.just(seed_document()), sg_scenarios()).map(enrich)


def test_results_do_not_depend_on_the_key_order_of_any_mapping() -> None:
    tally: Counter[str] = Counter()

    @settings(DETERMINISTIC, max_examples=40)
    @given(case=scenarios.flatmap(lambda doc: st.tuples(st.just(doc), shuffled_maps(doc))))
    def same_results(case: tuple[Doc, Doc]) -> None:
        original, shuffled = case
        tally["id maps reordered" if _reordered(original, shuffled) else "same id-map order"] += 1
        assert results_json(shuffled) == results_json(original)

    same_results()
    assert tally["id maps reordered"] >= 25, tally


def test_timeline_events_at_distinct_times_apply_by_time_whatever_their_list_order() -> None:
    doc = enrich(seed_document())
    times = [e["at"] for e in doc["timeline"]]
    assert len(set(times)) == len(times)
    reordered = copy.deepcopy(doc)
    reordered["timeline"] = sorted(doc["timeline"], key=lambda e: float(e["at"].rstrip("s")))
    assert reordered["timeline"] != doc["timeline"]
    assert results_json(reordered) == results_json(doc)


# -- list order and times are meaningful --------------------------------------------------------


def _verdict(doc: Doc, source: str, host: str, port: int, at: float = 0.0) -> ProbeResult:
    return Network(from_data(doc, source="<order>")).telnet(source, host, port, at=at)


def test_reversing_a_rule_list_can_change_a_verdict() -> None:
    doc = seed_document()
    reversed_rules = copy.deepcopy(doc)
    reversed_rules["security_groups"]["sg-backend"]["ingress"].reverse()
    as_written = _verdict(doc, "cvm-vpc1", "172.16.2.16", 1044)
    reversed_result = _verdict(reversed_rules, "cvm-vpc1", "172.16.2.16", 1044)
    assert as_written.connected
    assert reversed_result.verdict != as_written.verdict
    assert reversed_result.ref == "sg-backend: no accept for tcp/8080 from 11.163.0.0/16 before rule #0"


def test_reversing_group_bindings_can_change_a_verdict() -> None:
    doc = seed_document()
    doc["security_groups"]["sg-deny"] = {"ingress": [{"action": "drop", "protocol": "all"}], "egress": []}
    for backend in ("cvm-backend1", "cvm-backend2"):
        doc["instances"][backend]["security_groups"] = ["sg-backend", "sg-deny"]
    flipped = copy.deepcopy(doc)
    for backend in ("cvm-backend1", "cvm-backend2"):
        flipped["instances"][backend]["security_groups"].reverse()
    as_written = _verdict(doc, "cvm-vpc3", "172.16.2.16", 1044)
    reversed_result = _verdict(flipped, "cvm-vpc3", "172.16.2.16", 1044)
    assert as_written.connected
    assert reversed_result.verdict != as_written.verdict
    assert reversed_result.ref == "sg-deny: no accept for tcp/8080 from 11.163.0.0/16 before rule #0"


def test_ccn_attachment_order_decides_which_of_two_identical_subnets_is_reachable() -> None:
    doc = seed_document()
    doc["vpcs"]["vpc4"] = {
        "region": "ap-chongqing",
        "account": "100012345678",
        "cidr": "192.168.0.0/16",
        "subnets": {"subnet-cq4": {"cidr": "192.168.1.0/24", "zone": "ap-chongqing-1"}},
    }
    doc["instances"]["cvm-vpc4"] = {
        "vpc": "vpc4",
        "subnet": "subnet-cq4",
        "ip": "192.168.1.10",
        "security_groups": ["sg-client"],
    }
    vpc3_first = copy.deepcopy(doc)
    vpc3_first["ccns"]["ccn-chengdu-chongqing"]["attachments"] = ["vpc1", "vpc3", "vpc4"]
    vpc4_first = copy.deepcopy(doc)
    vpc4_first["ccns"]["ccn-chengdu-chongqing"]["attachments"] = ["vpc1", "vpc4", "vpc3"]
    for source in ("cvm-vpc3", "cvm-vpc4"):
        first = _verdict(vpc3_first, source, "172.16.2.16", 1044)
        second = _verdict(vpc4_first, source, "172.16.2.16", 1044)
        assert first.verdict != second.verdict, source
    assert _verdict(vpc3_first, "cvm-vpc3", "172.16.2.16", 1044).connected
    assert _verdict(vpc4_first, "cvm-vpc4", "172.16.2.16", 1044).connected


def test_events_at_the_same_time_apply_in_list_order() -> None:
    add = {
        "action": "add_rule",
        "security_group": "sg-backend",
        "direction": "ingress",
        "index": 0,
        "rule": {"action": "drop", "protocol": "all"},
    }
    remove = {"action": "remove_rule", "security_group": "sg-backend", "direction": "ingress", "index": 0}
    add_first, remove_first = seed_document(), seed_document()
    add_first["timeline"] = [{"at": 10, **add}, {"at": 10, **remove}]
    remove_first["timeline"] = [{"at": 10, **remove}, {"at": 10, **add}]
    results = [_verdict(d, "cvm-vpc1", "vpce-vpc1", 1044, at=12) for d in (add_first, remove_first)]
    assert results[0].connected
    assert results[1].verdict != results[0].verdict


def test_moving_an_event_in_time_changes_the_verdict_at_a_time_between() -> None:
    doc = seed_document()
    doc["timeline"] = [
        {"at": "10s", "action": "stop_listener", "instance": "cvm-backend1", "port": 8080},
        {"at": "10s", "action": "stop_listener", "instance": "cvm-backend2", "port": 8080},
    ]
    later = copy.deepcopy(doc)
    for event in later["timeline"]:
        event["at"] = "100s"
    early, late = (
        _verdict(doc, "cvm-vpc1", "vpce-vpc1", 1044, at=50),
        _verdict(later, "cvm-vpc1", "vpce-vpc1", 1044, at=50),
    )
    assert late.connected
    assert early.verdict != late.verdict


# -- ties break by sorted id ------------------------------------------------------------------


def _snat_source(r: ProbeResult) -> str:
    """The source address the endpoint's translation gave the SYN."""
    step = next(s for h in r.packets[0].hops for s in h.steps if s.kind is StepKind.TRANSFORM)
    assert isinstance(step.data, Translated)
    return next(d.new for d in step.data.diffs if d.field == "src")


def _endpoint_file_orders() -> list[Doc]:
    doc = enrich(seed_document())
    out = []
    for order in (["vpce-vpc1", "vpce-b", "vpce-a", "vpce-other"], ["vpce-other", "vpce-a", "vpce-vpc1", "vpce-b"]):
        d = copy.deepcopy(doc)
        d["endpoints"] = {eid: doc["endpoints"][eid] for eid in order}
        out.append(d)
    return out


def test_endpoints_without_a_chosen_address_take_free_addresses_in_sorted_id_order() -> None:
    assigned = []
    for doc in _endpoint_file_orders():
        topo = Network(from_data(doc, source="<order>")).topology
        auto = {eid: ep.ip for eid, ep in topo.endpoints.items() if ep.ip_assigned}
        assert sorted(auto) == sorted(auto, key=auto.__getitem__)
        assigned.append(auto)
    assert assigned[0] == assigned[1]


def test_endpoints_of_one_service_take_snat_addresses_in_sorted_id_order() -> None:
    snat = []
    for doc in _endpoint_file_orders():
        net = Network(from_data(doc, source="<order>"))
        sources = {eid: _snat_source(net.telnet("cvm-vpc1", eid, 1044)) for eid in ("vpce-vpc1", "vpce-b", "vpce-a")}
        assert sorted(sources) == sorted(sources, key=lambda eid: IPv4Address(sources[eid]))
        snat.append(sources)
    assert snat[0] == snat[1]


def test_least_connections_breaks_a_tie_by_sorted_backend_id_not_by_bound_order() -> None:
    doc = enrich(seed_document())
    listener = doc["load_balancers"]["lb-service"]["listeners"]["lbl-2000"]
    chosen = []
    for backends in (listener["backends"], list(reversed(listener["backends"]))):
        listener["backends"] = backends
        net = Network(from_data(doc, source="<order>"))
        r = net.telnet("cvm-vpc1", "vpce-vpc1", 2000)
        to = {int(inst.ip): iid for iid, inst in net.topology.instances.items()}
        lb_step = next(
            s for h in r.packets[0].hops if h.node == "lb-service" for s in h.steps if s.kind is StepKind.TRANSFORM
        )
        assert isinstance(lb_step.data, Translated)
        chosen.append(to[int(IPv4Address(next(d.new for d in lb_step.data.diffs if d.field == "dst")))])
    assert chosen[0] == chosen[1] == min(b["instance"] for b in listener["backends"])


# -- one region pair, two spellings ------------------------------------------------------------


def test_a_region_pair_delay_does_not_depend_on_which_spelling_comes_last() -> None:
    delays = {"ap-chengdu/ap-chongqing": "3ms", "ap-chongqing/ap-chengdu": "5ms"}
    outcomes = []
    for keys in (list(delays), list(reversed(delays))):
        doc = seed_document()
        doc["settings"]["delays"]["regions"] = {k: delays[k] for k in keys}
        try:
            net = Network(from_data(doc, source="<order>"))
        except ScenarioError:
            outcomes.append("invalid input")  # rejecting the pair as given twice is a fix too
            continue
        outcomes.append(json.dumps(probe_to_dict(net.telnet("cvm-vpc3", "vpce-vpc1", 1044))))
    assert outcomes[0] == outcomes[1]
