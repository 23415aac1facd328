"""The kernel build plan and the emulability rules, checked without a kernel (no root needed)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import Any

import yaml

from tests.conftest import SEED
from vpcsim import Network
from vpcsim.emulate import plan_state, prepare
from vpcsim.emulate.plan import LINK_POOLS, DropPoint, NetPlan, NsPlan, choose_pool, pin_document
from vpcsim.emulate.plan_control import Oracle
from vpcsim.frontends import from_data, load
from vpcsim.model import Topology
from vpcsim.report.steps import step_text


def _plan(topo: Topology, at: float = 0.0) -> NetPlan:
    return plan_state("t", topo, Oracle(topo).at(at), LINK_POOLS[0])


def _seed_plan() -> Any:
    return _plan(load(SEED))


def test_one_namespace_per_node_and_a_link_per_edge() -> None:
    plan = _seed_plan()
    kinds = sorted(n.kind for n in plan.namespaces)
    assert kinds.count("instance") == 4
    assert kinds.count("router") == 3
    assert kinds.count("ccn") == 1
    assert kinds.count("endpoint") == 1
    assert kinds.count("load_balancer") == 1
    assert len(plan.links) == 9
    for nsp in plan.namespaces:
        for iface in nsp.ifaces:
            assert len(iface.name) <= 15


def test_scenario_addresses_stay_in_their_owners_namespaces() -> None:
    plan = _seed_plan()
    by = {n.node: n for n in plan.namespaces}
    assert [i.address for i in by["cvm-vpc1"].ifaces] == ["172.16.2.10/32"]
    assert "172.16.2.16/32" in [i.address for i in by["vpce-vpc1"].ifaces]
    assert "10.0.1.100/32" in [i.address for i in by["lb-service"].ifaces]
    for router in ("vpc1", "vpc2", "vpc3", "ccn-chengdu-chongqing"):
        for iface in by[router].ifaces:
            assert IPv4Address(iface.address.split("/")[0]) in LINK_POOLS[0]


def test_routers_drop_silently_and_route_as_compiled() -> None:
    by = {n.node: n for n in _seed_plan().namespaces}
    vpc1 = by["vpc1"].ip_lines
    assert "route add default dev sink" in vpc1
    assert "route add 172.16.0.0/16 dev sink table 200" in vpc1
    assert "rule add to 172.16.0.0/16 table 200 priority 1000" in vpc1
    assert any(line.startswith("route add 192.168.1.0/24 via") for line in vpc1)
    assert not any("10.0." in line for line in vpc1), "VPC1 has no route to the provider VPC"
    assert "route add default dev sink" in by["ccn-chengdu-chongqing"].ip_lines
    # What the sinks receive is logged as the simulator's reasons, then dropped.
    drops = {p.kind for p in by["vpc1"].drops}
    assert drops == {"no_route", "no_host"}
    assert "-A FORWARD -o sink -d 172.16.0.0/16 -j DROP" in by["vpc1"].iptables


def test_security_groups_are_ordered_stateful_default_deny() -> None:
    by = {n.node: n for n in _seed_plan().namespaces}
    rules = by["cvm-backend1"].iptables.splitlines()
    assert ":INPUT DROP [0:0]" in rules
    assert ":OUTPUT DROP [0:0]" in rules
    assert rules.index("-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT") < rules.index(
        "-A INPUT -j VPCSIM-IN"
    )
    sg = [r for r in rules if r.startswith("-A VPCSIM-IN")]
    points = by["cvm-backend1"].drops
    rule = points.index(DropPoint("cvm-backend1", "sg_ingress_denied", "sg-backend", 1))
    deny = points.index(DropPoint("cvm-backend1", "sg_ingress_denied"))
    assert sg == [
        "-A VPCSIM-IN -s 11.163.0.0/16 -p tcp -m tcp --dport 8080:8080 -j ACCEPT",
        f"-A VPCSIM-IN -j NFLOG --nflog-group 1 --nflog-prefix d{rule}",
        "-A VPCSIM-IN -j DROP",
        f"-A VPCSIM-IN -j NFLOG --nflog-group 1 --nflog-prefix d{deny}",
        "-A VPCSIM-IN -j DROP",
    ]


def test_endpoint_translates_only_when_active(seed_data: dict[str, Any]) -> None:
    by = {n.node: n for n in _seed_plan().namespaces}
    ep = by["vpce-vpc1"].iptables
    assert "-j DNAT --to-destination 10.0.1.100" in ep
    assert "-j SNAT --to-source 11.163.0.1" in ep
    seed_data["timeline"] = [{"at": 0, "action": "reject_endpoint", "endpoint": "vpce-vpc1"}]
    rejected = {n.node: n for n in _plan(from_data(seed_data)).namespaces}
    assert [p.kind for p in rejected["vpce-vpc1"].drops] == ["endpoint_not_active"]
    assert "DNAT" not in rejected["vpce-vpc1"].iptables
    assert ":FORWARD DROP" in rejected["vpce-vpc1"].iptables


def test_pins_replace_the_chain() -> None:
    plan = _seed_plan()
    lb = next(n for n in plan.namespaces if n.kind == "load_balancer")
    assert [(p.port, p.backend, p.backend_port) for p in lb.default_pins] == [(1044, "10.0.2.11", 8080)]
    doc = pin_document(list(lb.default_pins))
    assert "-F VPCSIM-PIN" in doc
    assert "--dport 1044 -j DNAT --to-destination 10.0.2.11:8080" in doc


def test_link_pool_avoids_the_scenario() -> None:
    assert choose_pool([IPv4Network("10.0.0.0/16")]) == LINK_POOLS[0]
    assert choose_pool([IPv4Network("169.254.10.0/24")]) == LINK_POOLS[1]
    assert choose_pool(list(LINK_POOLS)) is None


def test_not_emulable_reasons(seed_data: dict[str, Any]) -> None:
    seed_data["instances"]["cvm-vpc2"] = {
        "vpc": "vpc2",
        "subnet": "subnet-app",
        "ip": "10.0.2.20",
        "security_groups": ["sg-client"],
    }
    seed_data["timeline"] = [
        {"at": 50, "action": "remove_rule", "security_group": "sg-backend", "direction": "ingress", "index": 0}
    ]
    seed_data["checks"] = [
        {"from": "cvm-vpc1", "to": "172.16.2.16:1044", "at": 0, "expect": "connected"},
        {"from": "cvm-vpc1", "to": "172.16.2.16:1045", "at": 0, "expect": "timeout"},
        {"from": "cvm-vpc1", "to": "cvm-vpc1:22", "expect": "refused"},
        {"from": "cvm-backend1", "to": "lb-service:1044", "at": 60, "expect": "timeout"},
        {"from": "cvm-vpc1", "to": "127.0.0.1:22", "at": 60, "expect": "timeout"},
        {"from": "cvm-vpc2", "to": "lb-service:1044", "at": 100, "expect": "timeout"},
    ]
    prep = prepare(from_data(seed_data))
    # One entry per branch: the checks through the load balancer have two (one per backend).
    assert [(e.check_index, e.branch) for e in prep.entries] == [
        (0, 0),
        (0, 1),
        (1, 0),
        (2, 0),
        (3, 0),
        (3, 1),
        (4, 0),
        (5, 0),
        (5, 1),
    ]
    assert all(e.not_emulable == prep.entries[i - 1].not_emulable for i, e in enumerate(prep.entries) if e.branch)
    why = [e.not_emulable for e in prep.entries if e.branch == 0]
    assert why[0] == "", "connected in a millisecond, long before the change at 50 s"
    assert "control-state change at 50s" in why[1]
    assert "own address" in why[2]
    assert why[3] == "", "a backend scheduled to itself: the kernel drops it as the cloud does"
    assert "loopback" in why[4]
    assert why[5] == ""
    assert sorted(prep.plans) == [0, 1]


def _lb_plan(data: dict[str, Any]) -> tuple[Network, NsPlan]:
    topo = from_data(data)
    return Network(topo), next(n for n in _plan(topo).namespaces if n.kind == "load_balancer")


def test_a_listener_whose_backends_all_fail_health_checks_still_dnats_to_one(seed_data: dict[str, Any]) -> None:
    """All-dead-all-alive: the simulator schedules among every backend, so the kernel must forward too."""
    seed_data["load_balancers"]["lb-service"]["listeners"]["lbl-1044"]["health_check"]["port"] = 9999
    net, lb = _lb_plan(seed_data)
    r = net.telnet("cvm-vpc1", "172.16.2.16", 1044)
    assert r.connected
    assert any("all-dead-all-alive" in step_text(s) for h in r.packets[0].hops for s in h.steps)
    (pin,) = lb.default_pins
    assert pin.port == 1044
    assert (pin.backend, pin.backend_port) in {("10.0.2.11", 8080), ("10.0.2.12", 8080)}
    doc = pin_document(list(lb.default_pins))
    assert f"--dport 1044 -j DNAT --to-destination {pin.backend}:{pin.backend_port}" in doc


def test_a_listener_whose_only_healthy_backend_has_weight_0_gets_no_pin(seed_data: dict[str, Any]) -> None:
    """Someone passes the checks, so all-dead-all-alive does not apply: nobody is scheduled, nothing DNATs."""
    listener = seed_data["load_balancers"]["lb-service"]["listeners"]["lbl-1044"]
    listener["health_check"]["port"] = 9000
    listener["backends"][0]["weight"] = 0
    seed_data["instances"]["cvm-backend1"]["listen"] = [8080, 9000]
    net, lb = _lb_plan(seed_data)
    r = net.telnet("cvm-vpc1", "172.16.2.16", 1044)
    assert (r.verdict.value, r.reason.value) == ("timeout", "no_backend")
    assert lb.default_pins == ()
    assert "DNAT" not in pin_document(list(lb.default_pins))


def test_an_acl_rule_over_part_of_the_ephemeral_ports_makes_the_scenario_not_emulable() -> None:
    """The kernel's clients and SNAT take other ports than the simulator's: a stateless rule over part
    of those ranges could judge their replies differently, so nothing is compared."""
    data = yaml.safe_load((SEED.parent / "acl_return_traffic.yaml").read_text(encoding="utf-8"))
    assert all(not e.not_emulable for e in prepare(from_data(data)).entries)
    data["network_acls"]["acl-web-fixed"]["ingress"][0]["port"] = "40000-65535"
    why = {e.not_emulable for e in prepare(from_data(data)).entries}
    assert len(why) == 1
    (reason,) = why
    assert "acl-web-fixed ingress rule #0 (ports 40000-65535) covers part of the clients' ephemeral ports" in reason
