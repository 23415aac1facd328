"""Route tables (Tencent 路由表): which table and route a packet takes, ECMP, the timeline, load errors.

vpc-a (app1 in subnet-app on rtb-app; r1, r2 in subnet-gw on the default rtb-gw) peers with vpc-b (srv
listens on 22); r1 and r2 forward when a route names them (docs/decisions.md Q29, Q30).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.scenarios.networks import dropped, ends, found, net, no_route, refusal

from vpcsim import Reason, Verdict, assert_reachable
from vpcsim.trace import CircuitsDown, EcmpChoice, GatewayHit, LocalHit, Relayed, RouteHit

Data = dict[str, Any]
OPEN = {
    "ingress": [{"action": "accept", "protocol": "all", "source": "0.0.0.0/0"}],
    "egress": [{"action": "accept", "protocol": "all", "destination": "0.0.0.0/0"}],
}
A, B, IDC, C = "10.10.0.0/16", "10.20.0.0/16", "10.88.0.0/16", "192.168.1.0/24"
CONNECTED = (Verdict.CONNECTED, Reason.ESTABLISHED)
NO_ROUTE = (Verdict.TIMEOUT, Reason.NO_ROUTE)


def inst(vpc: str, subnet: str, ip: str, sg: str = "sg-open", listen: tuple[int, ...] = ()) -> Data:
    return {"vpc": vpc, "subnet": subnet, "ip": ip, "security_groups": [sg], "listen": list(listen)}


def route(destination: str, kind: str, target: str, **extra: Any) -> Data:
    return {"destination": destination, "next_hop": {"type": kind, "id": target}, **extra}


def vpc(cidr: str, **subnets: str) -> Data:
    return {
        "region": "ap-chengdu",
        "account": "100012345678",
        "cidr": cidr,
        "subnets": {sid: {"cidr": c, "zone": "ap-chengdu-1"} for sid, c in subnets.items()},
    }


def scenario() -> Data:
    return {
        "version": 1,
        "vpcs": {
            "vpc-a": vpc("10.10.0.0/16", **{"subnet-app": "10.10.1.0/24", "subnet-gw": "10.10.2.0/24"}),
            "vpc-b": vpc("10.20.0.0/16", **{"subnet-b": "10.20.1.0/24"}),
        },
        "security_groups": {"sg-open": OPEN, "sg-closed": {}},
        "instances": {
            "app1": inst("vpc-a", "subnet-app", "10.10.1.10"),
            "r1": inst("vpc-a", "subnet-gw", "10.10.2.10"),
            "r2": inst("vpc-a", "subnet-gw", "10.10.2.11"),
            "srv": inst("vpc-b", "subnet-b", "10.20.1.10", listen=(22,)),
        },
        "peerings": {"pcx-ab": {"vpcs": ["vpc-a", "vpc-b"]}},
        "route_tables": {
            "rtb-app": {"vpc": "vpc-a", "subnets": ["subnet-app"], "routes": {"to-b": route(B, "peering", "pcx-ab")}},
            "rtb-gw": {"vpc": "vpc-a", "default": True, "routes": {"to-b": route(B, "peering", "pcx-ab")}},
            "rtb-b": {"vpc": "vpc-b", "default": True, "routes": {"to-a": route(A, "peering", "pcx-ab")}},
        },
    }


def with_office(d: Data, *, tunnel: str = "up") -> Data:
    """An office (10.88.0.0/16) behind a VPN gateway and a Direct Connect gateway of vpc-a."""
    hosts = {"office-pc": {"ip": "10.88.1.20", "listen": [22]}}
    d["idcs"] = {
        "idc-office": {"cidrs": [IDC], "hosts": hosts, "routes": {"to-a": {"destination": A, "gateway": "dcg-a"}}}
    }
    tunnels = {"tun-1": {"idc": "idc-office", "state": tunnel}}
    d["vpn_gateways"] = {"vpngw-a": {"vpc": "vpc-a", "tunnels": tunnels, "delay": "2ms"}}
    d["dc_gateways"] = {"dcg-a": {"vpc": "vpc-a", "idc": "idc-office", "delay": "1ms"}}
    return d


def with_ccn(d: Data) -> Data:
    """vpc-c (192.168.0.0/16) joined to vpc-a by a CCN."""
    d["vpcs"]["vpc-c"] = vpc("192.168.0.0/16", **{"subnet-c": C})
    d["instances"]["cvm-c"] = inst("vpc-c", "subnet-c", "192.168.1.10", listen=(22,))
    d["ccns"] = {"ccn-1": {"attachments": ["vpc-a", "vpc-c"]}}
    return d


def app_routes(d: Data) -> Data:
    routes: Data = d["route_tables"]["rtb-app"]["routes"]
    return routes


# -- which route wins --------------------------------------------------------------------------------


def test_local_wins_over_a_default_route_and_a_route_inside_the_vpc_is_refused(tmp_path: Path, capsys: Any) -> None:
    d = scenario()
    d["instances"]["r1"]["security_groups"] = ["sg-closed"]
    d["instances"]["r2"]["listen"] = [80]
    app_routes(d)["default"] = route("0.0.0.0/0", "instance", "r1")
    n = net(d)
    r = n.telnet("app1", "r2", 80)  # inside vpc-a: the Local route, not r1
    assert ends(r) == CONNECTED
    assert r.packets[0].nodes == ("app1", "vpc-a", "r2")
    assert found(r, LocalHit)[0].prefix == A
    r = n.telnet("app1", "srv", 22)  # /16 to the peering beats the default route to r1
    assert ends(r) == CONNECTED
    del app_routes(d)["to-b"]
    r = net(d).telnet("app1", "srv", 22)  # now only 0.0.0.0/0 matches: r1 drops it
    assert (*ends(r), r.blocked_at) == (Verdict.TIMEOUT, Reason.SG_INGRESS_DENIED, "r1")
    assert (found(r, RouteHit)[0].table, found(r, RouteHit)[0].entry) == ("rtb-app", "default")
    app_routes(d)["inside"] = route("10.10.5.0/24", "instance", "r1")
    path, problem = refusal(tmp_path, capsys, d)
    assert path == "route_tables.rtb-app.routes.inside.destination"
    assert "lies inside VPC vpc-a's range 10.10.0.0/16" in problem


def test_the_longest_prefix_wins_whatever_the_order() -> None:
    d = scenario()
    d["instances"]["r1"]["security_groups"] = ["sg-closed"]
    app_routes(d)["srv-only"] = route("10.20.1.0/24", "instance", "r1")  # after the /16, yet it wins
    r = net(d).telnet("app1", "srv", 22)
    assert (*ends(r), r.blocked_at) == (Verdict.TIMEOUT, Reason.SG_INGRESS_DENIED, "r1")
    hit = found(r, RouteHit)[0]
    assert (hit.table, hit.entry, hit.prefix, hit.next_hop) == ("rtb-app", "srv-only", "10.20.1.0/24", "r1")
    app_routes(d)["srv-only"]["destination"] = "10.20.0.0/15"  # now the shorter one: the peering wins
    r = net(d).telnet("app1", "srv", 22)
    assert ends(r) == CONNECTED
    assert (found(r, RouteHit)[0].entry, found(r, RouteHit)[0].hop_noun) == ("to-b", "peering connection")


@pytest.mark.parametrize("vpn_first", [True, False])
def test_a_direct_connect_route_outranks_a_vpn_route_to_the_same_prefix(vpn_first: bool) -> None:
    d = with_office(scenario(), tunnel="down")
    vpn, dc = ("via-vpn", route(IDC, "vpn_gateway", "vpngw-a")), ("via-dc", route(IDC, "dc_gateway", "dcg-a"))
    app_routes(d).update(dict([vpn, dc] if vpn_first else [dc, vpn]))
    r = net(d).telnet("app1", "office-pc", 22)
    assert ends(r) == CONNECTED  # the VPN's tunnel is down, but the DC route forwards
    hit = found(r, RouteHit)[0]
    assert (hit.table, hit.entry, hit.hop_noun) == ("rtb-app", "via-dc", "Direct Connect gateway")
    assert found(r, GatewayHit)[0].gateway == "dcg-a"
    app_routes(d)["via-dc"]["enabled"] = False  # now the VPN route forwards, into a tunnel that is down
    r = net(d).telnet("app1", "office-pc", 22)
    assert (*ends(r), r.blocked_at) == (Verdict.TIMEOUT, Reason.TUNNEL_DOWN, "vpngw-a")
    assert found(r, RouteHit, r.decisive)[0].entry == "via-vpn"
    assert dropped(r) == CircuitsDown("vpngw-a", "VPN gateway", (("tun-1", "DOWN"),), "tunnel", "10.88.1.20")


def test_a_ccn_route_beats_a_static_route_of_equal_prefix_but_not_a_longer_one() -> None:
    d = with_ccn(scenario())
    d["instances"]["r1"]["security_groups"] = ["sg-closed"]
    app_routes(d)["to-c"] = route(C, "instance", "r1")
    r = net(d).telnet("app1", "cvm-c", 22)
    assert ends(r) == CONNECTED
    assert r.packets[0].nodes == ("app1", "vpc-a", "ccn-1", "vpc-c", "cvm-c")
    assert (found(r, RouteHit)[0].learned_from, found(r, RouteHit)[0].entry) == ("ccn-1", "")
    app_routes(d)["to-c"]["destination"] = "192.168.1.0/25"
    r = net(d).telnet("app1", "cvm-c", 22)
    assert (*ends(r), r.blocked_at) == (Verdict.TIMEOUT, Reason.SG_INGRESS_DENIED, "r1")
    assert (found(r, RouteHit)[0].table, found(r, RouteHit)[0].entry) == ("rtb-app", "to-c")


# -- instances as routers, ECMP ----------------------------------------------------------------------


def test_an_instance_next_hop_forwards_and_its_groups_check_both_ways() -> None:
    d = scenario()
    app_routes(d)["to-b"] = route(B, "instance", "r1")
    d["security_groups"]["sg-relay"] = {
        "ingress": [{"action": "accept", "protocol": "tcp", "source": "10.10.1.0/24"}],
        "egress": [{"action": "accept", "protocol": "tcp", "destination": "10.30.0.0/16"}],
    }
    d["instances"]["r1"]["security_groups"] = ["sg-relay"]
    r = net(d).telnet("app1", "srv", 22)
    assert (*ends(r), r.blocked_at) == (Verdict.TIMEOUT, Reason.SG_EGRESS_DENIED, "r1")  # against 10.20.1.10
    d["security_groups"]["sg-relay"]["egress"][0]["destination"] = B
    r = net(d).telnet("app1", "srv", 22)
    assert ends(r) == CONNECTED
    assert r.packets[0].nodes == ("app1", "vpc-a", "r1", "vpc-a", "pcx-ab", "vpc-b", "srv")
    assert found(r, Relayed) == [Relayed("r1", "10.20.1.10", "vpc-a")]
    assert [(h.table, h.entry) for h in found(r, RouteHit)][:2] == [("rtb-app", "to-b"), ("rtb-gw", "to-b")]
    d["security_groups"]["sg-relay"]["ingress"][0]["source"] = "10.10.9.0/24"
    r = net(d).telnet("app1", "srv", 22)
    assert (*ends(r), r.blocked_at) == (Verdict.TIMEOUT, Reason.SG_INGRESS_DENIED, "r1")  # against 10.10.1.10


def test_a_next_hop_whose_own_table_sends_it_back_loops_until_the_ttl_runs_out() -> None:
    """Q30: a table that sends the packet back to its own next hop loops until the TTL runs out."""
    d = scenario()
    app_routes(d)["to-b"] = route(B, "instance", "r1")
    d["route_tables"]["rtb-gw"]["routes"]["to-b"] = route(B, "instance", "r1")
    r = net(d).telnet("app1", "srv", 22)
    assert r.packets[0].nodes[1:5] == ("vpc-a", "r1", "vpc-a", "r1")
    assert ends(r) == (Verdict.TIMEOUT, Reason.TTL_EXCEEDED)


def ecmp(d: Data) -> Data:
    app_routes(d).clear()
    app_routes(d).update({"via-r1": route(B, "instance", "r1"), "via-r2": route(B, "instance", "r2")})
    return d


def test_two_instance_routes_to_one_destination_are_two_branches() -> None:
    r = net(ecmp(scenario())).telnet("app1", "srv", 22)
    assert [ends(b) for b in r.branches] == [CONNECTED, CONNECTED]
    assert sorted(b.packets[0].nodes[2] for b in r.branches) == ["r1", "r2"]
    for b in r.branches:
        (choice,) = {c for c in b.choices}  # SYN and ACK of a flow take one path
        assert (choice.kind, choice.balancer, choice.listener) == ("next_hop", "vpc-a", "rtb-app 10.20.0.0/16")
        assert (choice.candidates, choice.backend) == (("r1", "r2"), b.packets[0].nodes[2])
        step = found(b, EcmpChoice)[0]
        assert (step.table, step.prefix, step.candidates, step.chosen) == ("rtb-app", B, ("r1", "r2"), choice.backend)
        assert found(b, RouteHit)[0].entry == f"via-{choice.backend}"
    assert [c.pinned for b in r.branches for c in b.choices[:1]] == [False, True]  # the other branch is pinned


def test_a_check_holds_on_every_ecmp_path_unless_it_asks_for_any() -> None:
    d = ecmp(scenario())
    d["instances"]["r2"]["security_groups"] = ["sg-closed"]
    n = net(d)
    r = n.telnet("app1", "srv", 22)
    by_hop = {b.packets[0].nodes[2]: ends(b) for b in r.branches}
    assert by_hop == {"r1": CONNECTED, "r2": (Verdict.TIMEOUT, Reason.SG_INGRESS_DENIED)}
    with pytest.raises(AssertionError, match="sg_ingress_denied"):
        assert_reachable(n, "app1", "srv:22")
    assert_reachable(n, "app1", "srv:22", branches="any")
    d["checks"] = [{"from": "app1", "to": "srv:22", "expect": "connected", "branches": b} for b in ("all", "any")]
    assert [c.passed for c in net(d).run_checks()] == [False, True]


def test_backends_pins_an_ecmp_next_hop() -> None:
    r = net(ecmp(scenario())).telnet("app1", "srv", 22, backends=["r2"])
    assert [b.packets[0].nodes[2] for b in r.branches] == ["r2"]


# -- disabled routes and the timeline ----------------------------------------------------------------


def test_a_disabled_route_does_not_forward_and_the_drop_names_it() -> None:
    d = scenario()
    app_routes(d)["to-b"]["enabled"] = False
    r = net(d).telnet("app1", "srv", 22)
    assert (*ends(r), r.blocked_at, r.ref) == (*NO_ROUTE, "vpc-a", "route table rtb-app")
    drop = no_route(r)
    assert (drop.router, drop.table, drop.entered_from) == ("vpc-a", "rtb-app", "")
    assert [(i.prefix, i.domain, i.status) for i in drop.invalid] == [(B, "rtb-app", "disabled (route to-b)")]


def test_route_changes_on_the_timeline_take_effect_at_their_time() -> None:
    d = scenario()
    app_routes(d).clear()
    events = [("add_route", 1000), ("disable_route", 2000), ("enable_route", 3000), ("delete_route", 4000)]
    d["timeline"] = [{"at": f"{t}s", "action": a, "route_table": "rtb-app", "route": "to-b"} for a, t in events]
    d["timeline"][0].update(destination=B, next_hop={"type": "peering", "id": "pcx-ab"})
    n = net(d)
    verdicts = {t: ends(n.telnet("app1", "srv", 22, at=t)) for t in (500, 1500, 2500, 3500, 4500)}
    assert verdicts == {500: NO_ROUTE, 1500: CONNECTED, 2500: NO_ROUTE, 3500: CONNECTED, 4500: NO_ROUTE}
    assert no_route(n.telnet("app1", "srv", 22, at=2500)).invalid[0].status == "disabled (route to-b)"
    assert no_route(n.telnet("app1", "srv", 22, at=4500)).invalid == ()
    assert found(n.telnet("app1", "srv", 22, at=1500), RouteHit)[0].entry == "to-b"
    # SYNs sent at 990, 991, 993 and 997 s find no route; the one at 1005 s does.
    r = n.telnet("app1", "srv", 22, at=990)
    assert (ends(r), r.attempts) == (CONNECTED, 5)
    assert r.connect_time == pytest.approx(15.0 + 0.0002)


def conflicting_enable(d: Data) -> Data:
    app_routes(d)["via-r1"] = route(B, "instance", "r1", enabled=False)  # disabled: no conflict at load
    d["timeline"] = [{"at": "10s", "action": "enable_route", "route_table": "rtb-app", "route": "via-r1"}]
    return d


def test_enabling_a_route_that_conflicts_is_a_load_error_at_the_event(tmp_path: Path, capsys: Any) -> None:
    d = conflicting_enable(scenario())
    del d["timeline"]
    assert ends(net(d).telnet("app1", "srv", 22)) == CONNECTED  # disabled, it sits beside the peering route
    path, problem = refusal(tmp_path, capsys, conflicting_enable(scenario()))
    assert path.startswith("timeline[0]")
    assert "route to-b of rtb-app already sends 10.20.0.0/16 to peering connection pcx-ab" in problem


def test_a_conflicting_enable_names_a_key_the_event_has(tmp_path: Path, capsys: Any) -> None:
    path, _ = refusal(tmp_path, capsys, conflicting_enable(scenario()))
    assert path in ("timeline[0]", "timeline[0].route")


# -- which table a packet uses; no transit -----------------------------------------------------------


def test_a_packet_is_routed_by_the_table_of_its_senders_subnet() -> None:
    d = scenario()
    d["vpcs"]["vpc-a"]["subnets"]["subnet-ops"] = {"cidr": "10.10.3.0/24", "zone": "ap-chengdu-1"}
    d["instances"]["ops1"] = inst("vpc-a", "subnet-ops", "10.10.3.10")
    d["route_tables"]["rtb-ops"] = {"vpc": "vpc-a", "subnets": ["subnet-ops"]}
    n = net(d)
    assert found(n.telnet("app1", "srv", 22), RouteHit)[0].table == "rtb-app"
    r = n.telnet("ops1", "srv", 22)
    assert (*ends(r), r.blocked_at, no_route(r).table) == (*NO_ROUTE, "vpc-a", "rtb-ops")
    d["route_tables"]["rtb-ops"]["subnets"] = []  # unbound, subnet-ops falls back to the default table
    r = net(d).telnet("ops1", "srv", 22)
    assert ends(r) == CONNECTED
    assert (found(r, RouteHit)[0].table, found(r, RouteHit)[0].entry) == ("rtb-gw", "to-b")


def test_a_packet_from_a_gateway_reaches_the_vpc_but_is_not_forwarded_out_of_it() -> None:
    d = with_office(scenario())
    d["idcs"]["idc-office"]["routes"]["to-b"] = {"destination": B, "gateway": "vpngw-a"}
    app_routes(d)["to-office"] = route(IDC, "vpn_gateway", "vpngw-a")
    n = net(d)
    r = n.telnet("office-pc", "app1", 22)
    assert (ends(r), r.blocked_at) == ((Verdict.REFUSED, Reason.PORT_CLOSED), "app1")  # delivered inside vpc-a
    r = n.telnet("office-pc", "srv", 22)  # vpc-a has a route to vpc-b, but not for what came in from the VPN
    assert (*ends(r), r.blocked_at) == (*NO_ROUTE, "vpc-a")
    assert (no_route(r).address, no_route(r).entered_from) == ("10.20.1.10", "vpngw-a")
    assert r.packets[r.decisive].nodes == ("office-pc", "idc-office", "vpngw-a", "vpc-a")


# -- load errors -------------------------------------------------------------------------------------


def more_vpcs(d: Data) -> None:
    with_office(with_ccn(d))
    d["peerings"]["pcx-ac"] = {"vpcs": ["vpc-a", "vpc-c"]}
    d["vpn_gateways"]["vpngw-c"] = {"vpc": "vpc-c", "tunnels": {"t": {"idc": "idc-office"}}, "delay": "1ms"}
    for i in range(3, 10):
        d["instances"][f"r{i}"] = inst("vpc-a", "subnet-gw", f"10.10.2.{10 + i}")


def rt(**routes: Data) -> Any:
    return lambda d: app_routes(d).update(routes)


def tables(d: Data) -> Data:
    declared: Data = d["route_tables"]
    return declared


RTB = "route_tables.rtb-app"
CASES = [
    ("ninth-ecmp", rt(**{f"r{i}": route("10.30.0.0/16", "instance", f"r{i}") for i in range(1, 10)}),
     f"{RTB}.routes.r9.next_hop", "already has 8 ECMP routes to 10.30.0.0/16"),
    ("peering-and-instance", rt(x=route(B, "instance", "r1")), f"{RTB}.routes.x.next_hop",
     "need next hops of one type (ECMP) or of ranked types"),
    ("two-peerings", rt(x=route(B, "peering", "pcx-ac")), f"{RTB}.routes.x.next_hop",
     "peering connection routes cannot form ECMP"),
    ("subnet-in-two-tables", lambda d: tables(d)["rtb-gw"].update(default=False, subnets=["subnet-gw", "subnet-app"]),
     "route_tables.rtb-gw.subnets[1]", "already bound to route table rtb-app: a subnet has one route table"),
    ("two-defaults", lambda d: tables(d).update({"rtb-x": {"vpc": "vpc-a", "default": True}}),
     "route_tables.rtb-x.default", "VPC vpc-a already has a default table, rtb-gw"),
    ("default-lists-subnets", lambda d: tables(d)["rtb-gw"].update(subnets=["subnet-gw"]),
     "route_tables.rtb-gw.subnets", "the default table serves every subnet bound to no other table"),
    ("unknown-instance", rt(x=route(IDC, "instance", "r-nope")), f"{RTB}.routes.x.next_hop",
     "unknown instance 'r-nope'"),
    ("unknown-peering", rt(x=route(IDC, "peering", "pcx-nope")), f"{RTB}.routes.x.next_hop",
     "unknown peering connection 'pcx-nope'"),
    ("unknown-vpn", rt(x=route(IDC, "vpn_gateway", "dcg-a")), f"{RTB}.routes.x.next_hop",
     "unknown VPN gateway 'dcg-a'"),
    ("unknown-dc", rt(x=route(IDC, "dc_gateway", "vpngw-a")), f"{RTB}.routes.x.next_hop",
     "unknown Direct Connect gateway 'vpngw-a'"),
    ("vpn-of-another-vpc", rt(x=route(IDC, "vpn_gateway", "vpngw-c")), f"{RTB}.routes.x.next_hop",
     "VPN gateway vpngw-c is in VPC vpc-c, not in VPC vpc-a"),
    ("instance-of-another-vpc", rt(x=route(IDC, "instance", "cvm-c")), f"{RTB}.routes.x.next_hop",
     "instance cvm-c is in VPC vpc-c, not in vpc-a"),
    ("type-local", rt(x=route(IDC, "local", "vpc-a")), f"{RTB}.routes.x.next_hop.type", "local routes are automatic"),
    ("type-ccn", rt(x=route(IDC, "ccn", "ccn-1")), f"{RTB}.routes.x.next_hop.type", "ccn routes are automatic"),
    ("51-routes", rt(**{f"r{i:02}": route(f"10.30.{i}.0/24", "peering", "pcx-ab") for i in range(50)}),
     f"{RTB}.routes.r49", "already holds 50 routes, the most a table may hold"),
    ("11-tables", lambda d: tables(d).update({f"rtb-{i:02}": {"vpc": "vpc-a"} for i in range(9)}),
     "route_tables.rtb-gw", "VPC vpc-a already has 10 route tables, the most a VPC may have"),
    ("10-tables-and-the-implicit-default",
     lambda d: tables(d).update({"rtb-b": {"vpc": "vpc-b"}, **{f"rtb-b{i}": {"vpc": "vpc-b"} for i in range(9)}}),
     "route_tables.rtb-b8", "VPC vpc-b has 10 route tables besides its default one"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "path", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_bad_route_table_is_one_clear_error(tmp_path: Path, capsys: Any, change: Any, path: str, needle: str) -> None:
    d = scenario()
    more_vpcs(d)
    net(d)  # loads before the change
    change(d)
    where, problem = refusal(tmp_path, capsys, d)
    assert (where, needle in problem) == (path, True), problem
