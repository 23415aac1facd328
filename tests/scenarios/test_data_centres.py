"""On-premises data centres (IDCs): hosts and their firewalls, VPN gateways with tunnels that go down
and up, Direct Connect gateways of either type, the delay of crossing, and the load errors.

Built on scenarios/tencent_idc_vpn.yaml: the office (office-pc) behind vpngw-office, a VPC-type VPN
gateway of vpc1 (tun-main up, tun-standby down; tun-main goes down at 200 s and back up at 400 s), and
the factory behind dcg-factory, a CCN-type Direct Connect gateway in Chongqing (docs/decisions.md
Q31-Q33). Every verdict and every time is the engine's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.conftest import SCENARIOS, read_data
from tests.scenarios.networks import dropped, ends, found, net, refusal

from vpcsim import Reason, Verdict
from vpcsim.trace import CircuitsDown, GatewayHit, NoCircuit, NoRoute, RouteHit, Tracked

Data = dict[str, Any]
CONNECTED = (Verdict.CONNECTED, Reason.ESTABLISHED)
REFUSED = (Verdict.REFUSED, Reason.PORT_CLOSED)
NO_ROUTE = (Verdict.TIMEOUT, Reason.NO_ROUTE)
TUNNEL_DOWN = (Verdict.TIMEOUT, Reason.TUNNEL_DOWN)
VIP, VPORT = "vpce-vpc1", 1044


def scenario() -> Data:
    """The bundled scenario, the parts these tests rely on written out, plus cvm-ops in vpc1 and cvm-cq
    in vpc3 admitting ssh from the data centres."""
    d = read_data(SCENARIOS / "tencent_idc_vpn.yaml")
    office = d["idcs"]["idc-office"]
    office["routes"] = {"to-vpc1": {"destination": "172.16.0.0/16", "gateway": "vpngw-office"}}
    office["hosts"]["office-pc"] = {"ip": "10.88.1.20", "firewall": {"egress": [accept("destination", "0.0.0.0/0")]}}
    office["hosts"]["office-pc"]["firewall"]["ingress"] = [accept("source", "172.16.0.0/16", port=22)]
    d["idcs"]["idc-factory"]["routes"] = {"to-cloud": {"destination": "172.16.0.0/12", "gateway": "dcg-factory"}}
    d["idcs"]["idc-factory"]["hosts"] = {"factory-server": {"ip": "10.99.3.7"}}
    vpn(d).update(delay="4ms", route_tables=["rtb-consumer"])
    vpn(d)["tunnels"] = {
        "tun-main": {"idc": "idc-office", "state": "up"},
        "tun-standby": {"idc": "idc-office", "state": "down"},
    }
    event = {"vpn_gateway": "vpngw-office", "tunnel": "tun-main"}
    d["timeline"] = [{"at": "200s", "action": "tunnel_down", **event}, {"at": "400s", "action": "tunnel_up", **event}]
    d["security_groups"]["sg-idc"] = {
        "ingress": [accept("source", "10.0.0.0/8", port=22)],
        "egress": [accept("destination", "0.0.0.0/0")],
    }
    for iid, vpc, subnet, ip in (
        ("cvm-ops", "vpc1", "subnet-consumer", "172.16.2.30"),
        ("cvm-cq", "vpc3", "subnet-cq", "192.168.1.30"),
    ):
        d["instances"][iid] = {"vpc": vpc, "subnet": subnet, "ip": ip, "security_groups": ["sg-idc"], "listen": [22]}
    return d


def accept(key: str, cidr: str, port: int | None = None) -> Data:
    rule: Data = {"action": "accept", "protocol": "tcp" if port else "all", key: cidr}
    return rule if port is None else {**rule, "port": port}


def vpn(d: Data) -> Data:
    gw: Data = d["vpn_gateways"]["vpngw-office"]
    return gw


def office_pc(d: Data) -> Data:
    pc: Data = d["idcs"]["idc-office"]["hosts"]["office-pc"]
    return pc


# -- over a VPC-type VPN gateway ---------------------------------------------------------------------


def test_an_office_host_reaches_an_instance_and_the_endpoint_vip_over_the_vpn() -> None:
    d = scenario()
    n = net(d)
    r = n.telnet("office-pc", "cvm-ops", 22)
    assert ends(r) == CONNECTED
    assert r.packets[0].nodes == ("office-pc", "idc-office", "vpngw-office", "vpc1", "cvm-ops")
    out = found(r, RouteHit)[0]
    assert (out.router, out.table, out.entry, out.next_hop) == (
        "idc-office",
        "idc-office routes",
        "to-vpc1",
        "vpngw-office",
    )
    assert found(r, GatewayHit) == [GatewayHit("vpngw-office", "VPN gateway", "tun-main", "tunnel", "UP", "vpc1")]
    back = found(r, RouteHit, 1)[0]  # the SYN-ACK, by the route the gateway propagated into rtb-consumer
    assert (back.router, back.table, back.entry) == ("vpc1", "rtb-consumer", "vpngw-office:10.88.0.0/16")
    r = n.telnet("office-pc", VIP, VPORT)
    assert [ends(b) for b in r.branches] == [CONNECTED, CONNECTED]  # whichever backend the CLB picks
    vpn(d)["route_tables"] = []  # nothing propagated: the replies have no way back
    r = net(d).telnet("office-pc", "cvm-ops", 22)
    assert (*ends(r), r.blocked_at, r.packets[r.decisive].kind) == (*NO_ROUTE, "vpc1", "SYN-ACK")
    assert dropped(r).table == "rtb-consumer"


def test_the_verdict_follows_the_tunnel_down_and_up_on_the_timeline() -> None:
    n = net(scenario())
    both_down = CircuitsDown(
        "vpngw-office", "VPN gateway", (("tun-main", "DOWN"), ("tun-standby", "DOWN")), "tunnel", ""
    )
    for at, expected in ((150, CONNECTED), (210, TUNNEL_DOWN), (260, TUNNEL_DOWN), (420, CONNECTED)):
        r = n.telnet("office-pc", "cvm-ops", 22, at=at)
        assert ends(r) == expected, at
        r = n.telnet("cvm-vpc1", "office-pc", 22, at=at)  # and from the VPC's side
        assert ends(r) == (REFUSED if expected == CONNECTED else TUNNEL_DOWN), at
    r = n.telnet("office-pc", "cvm-ops", 22, at=210)
    assert (r.blocked_at, r.ref) == ("vpngw-office", "VPN gateway vpngw-office tunnels tun-main, tun-standby")
    assert dropped(r) == both_down._replace(address="10.88.1.20")
    assert r.packets[r.decisive].nodes == ("office-pc", "idc-office", "vpngw-office")
    r = n.telnet("cvm-vpc1", "office-pc", 22, at=210)
    assert dropped(r) == both_down._replace(address="10.88.1.20")
    # A connect started just before the tunnel comes back succeeds with a retransmitted SYN.
    r = n.telnet("office-pc", "cvm-ops", 22, at=395)
    assert (ends(r), r.attempts) == (CONNECTED, 4)  # SYNs at 395, 396, 398 s are dropped; 402 s passes


def test_a_standby_tunnel_that_is_up_carries_the_traffic_while_the_main_one_is_down() -> None:
    d = scenario()
    vpn(d)["tunnels"]["tun-standby"]["state"] = "up"
    n = net(d)
    r = n.telnet("office-pc", "cvm-ops", 22, at=210)
    assert ends(r) == CONNECTED
    assert {g.circuit for p in r.packets for g in found(r, GatewayHit, r.packets.index(p))} == {"tun-standby"}
    r = n.telnet("office-pc", "cvm-ops", 22, at=0)
    assert {g.circuit for g in found(r, GatewayHit) + found(r, GatewayHit, 1)} == {"tun-main"}


@pytest.mark.parametrize("order", [("tun-b", "tun-a"), ("tun-a", "tun-b")])
def test_the_first_tunnel_up_in_id_order_carries_the_traffic_both_ways(order: tuple[str, str]) -> None:
    d = scenario()
    del d["timeline"]
    vpn(d)["tunnels"] = {t: {"idc": "idc-office", "state": "up"} for t in order}
    r = net(d).telnet("office-pc", "cvm-ops", 22)
    assert ends(r) == CONNECTED
    assert [(g.circuit, g.toward) for g in found(r, GatewayHit) + found(r, GatewayHit, 1)] == [
        ("tun-a", "vpc1"),
        ("tun-a", "idc-office"),
    ]
    vpn(d)["tunnels"]["tun-a"]["state"] = "down"
    r = net(d).telnet("office-pc", "cvm-ops", 22)
    assert ends(r) == CONNECTED
    assert {g.circuit for g in found(r, GatewayHit) + found(r, GatewayHit, 1)} == {"tun-b"}


def test_an_address_no_tunnel_leads_to_has_no_route_at_the_gateway() -> None:
    d = scenario()
    hop = {"type": "vpn_gateway", "id": "vpngw-office"}
    d["route_tables"]["rtb-consumer"]["routes"] = {"elsewhere": {"destination": "10.55.0.0/16", "next_hop": hop}}
    r = net(d).telnet("cvm-vpc1", "10.55.1.1", 22)
    assert (*ends(r), r.blocked_at) == (*NO_ROUTE, "vpngw-office")
    assert dropped(r) == NoCircuit("vpngw-office", "VPN gateway", "10.55.1.1")


def test_a_gateway_joins_each_data_centre_to_its_vpc_never_one_to_another() -> None:
    d = scenario()
    d["idcs"]["idc-lab"] = {
        "cidrs": ["10.76.0.0/16"],
        "hosts": {"lab-pc": {"ip": "10.76.1.5", "listen": [22]}},
        "routes": {
            "to-vpc1": {"destination": "172.16.0.0/16", "gateway": "vpngw-office"},
            "to-office": {"destination": "10.88.0.0/16", "gateway": "vpngw-office"},
        },
    }
    vpn(d)["tunnels"]["tun-lab"] = {"idc": "idc-lab", "state": "up"}
    d["idcs"]["idc-office"]["routes"]["to-lab"] = {"destination": "10.76.0.0/16", "gateway": "vpngw-office"}
    n = net(d)
    assert n.telnet("lab-pc", "cvm-ops", 22).connected
    r = n.telnet("lab-pc", "office-pc", 22)
    assert (*ends(r), r.blocked_at) == (*NO_ROUTE, "vpc1")
    drop = dropped(r)
    assert isinstance(drop, NoRoute)
    assert drop.entered_from == "vpngw-office"


# -- Direct Connect gateways -------------------------------------------------------------------------


def with_branch(d: Data) -> Data:
    """A branch office (10.77.0.0/16) behind a VPC-type Direct Connect gateway of vpc1, with a static route."""
    host = {"ip": "10.77.1.5"}
    d["idcs"]["idc-branch"] = {"cidrs": ["10.77.0.0/16"], "hosts": {"branch-pc": host}}
    d["idcs"]["idc-branch"]["routes"] = {"to-vpc1": {"destination": "172.16.0.0/16", "gateway": "dcg-branch"}}
    d["dc_gateways"]["dcg-branch"] = {"vpc": "vpc1", "idc": "idc-branch", "delay": "1ms"}
    hop = {"type": "dc_gateway", "id": "dcg-branch"}
    d["route_tables"]["rtb-consumer"]["routes"] = {"to-branch": {"destination": "10.77.0.0/16", "next_hop": hop}}
    return d


def test_a_vpc_type_direct_connect_gateway_with_a_static_route_joins_its_data_centre() -> None:
    d = with_branch(scenario())
    r = net(d).telnet("branch-pc", VIP, VPORT)
    assert [ends(b) for b in r.branches] == [CONNECTED, CONNECTED]
    assert r.packets[0].nodes[:4] == ("branch-pc", "idc-branch", "dcg-branch", "vpc1")
    assert found(r, GatewayHit)[0] == GatewayHit(
        "dcg-branch", "Direct Connect gateway", "dcg-branch", "connection", "UP", "vpc1"
    )
    back = [h for h in found(r, RouteHit, 1) if h.router == "vpc1"]
    assert [(h.table, h.entry, h.hop_noun) for h in back] == [("rtb-consumer", "to-branch", "Direct Connect gateway")]
    del d["route_tables"]["rtb-consumer"]["routes"]
    r = net(d).telnet("branch-pc", VIP, VPORT)
    assert (*ends(r), r.blocked_at, r.packets[r.decisive].kind) == (*NO_ROUTE, "vpc1", "SYN-ACK")


def test_a_ccn_type_gateway_publishes_its_data_centre_to_every_member() -> None:
    d = scenario()
    d["idcs"]["idc-factory"]["routes"]["to-cq"] = {"destination": "192.168.0.0/16", "gateway": "dcg-factory"}
    n = net(d)
    r = n.telnet("factory-server", "cvm-cq", 22)
    assert ends(r) == CONNECTED
    assert r.packets[0].nodes == (
        "factory-server",
        "idc-factory",
        "dcg-factory",
        "ccn-chengdu-chongqing",
        "vpc3",
        "cvm-cq",
    )
    back = found(r, RouteHit, 1)[0]
    assert (back.router, back.learned_from, back.origin_subnet, back.origin_noun) == (
        "vpc3",
        "ccn-chengdu-chongqing",
        "idc-factory",
        "data centre",
    )
    assert ends(n.telnet("cvm-cq", "factory-server", 22)) == REFUSED  # reached, nothing listens
    r = n.telnet("cvm-cq", "office-pc", 22)  # the office's VPC-type gateway is not in the CCN
    assert (*ends(r), r.blocked_at) == (*NO_ROUTE, "vpc3")
    del d["idcs"]["idc-factory"]["routes"]["to-cq"]
    r = net(d).telnet("factory-server", "cvm-cq", 22)
    assert (*ends(r), r.blocked_at) == (*NO_ROUTE, "idc-factory")
    assert dropped(r).table == "idc-factory routes"


def test_what_enters_from_a_vpc_type_gateway_does_not_go_on_over_the_ccn() -> None:
    d = scenario()
    d["idcs"]["idc-office"]["routes"]["to-vpc3"] = {"destination": "192.168.0.0/16", "gateway": "vpngw-office"}
    n = net(d)
    assert n.telnet("cvm-vpc1", "cvm-cq", 22).blocked_at == "cvm-cq"  # vpc1 itself routes there (its CCN)
    r = n.telnet("office-pc", "cvm-cq", 22)
    assert (*ends(r), r.blocked_at) == (*NO_ROUTE, "vpc1")
    assert isinstance(dropped(r), NoRoute)
    assert (dropped(r).address, dropped(r).entered_from) == ("192.168.1.30", "vpngw-office")
    assert r.packets[r.decisive].nodes == ("office-pc", "idc-office", "vpngw-office", "vpc1")


# -- host firewalls ----------------------------------------------------------------------------------


def test_a_firewall_direction_given_as_a_list_ends_in_an_implicit_deny() -> None:
    d = scenario()
    n = net(d)
    assert ends(n.telnet("cvm-vpc1", "office-pc", 22)) == REFUSED  # admitted by the ssh rule
    r = n.telnet("cvm-vpc1", "office-pc", 3389)
    assert (*ends(r), r.blocked_at) == (Verdict.TIMEOUT, Reason.FIREWALL_INGRESS_DENIED, "office-pc")
    r = net(d).telnet("cvm-ops", "office-pc", 22)
    assert ends(r) == REFUSED
    office_pc(d)["firewall"]["ingress"] = []  # an empty list denies everything
    r = net(d).telnet("cvm-vpc1", "office-pc", 22)
    assert ends(r) == (Verdict.TIMEOUT, Reason.FIREWALL_INGRESS_DENIED)
    office_pc(d)["firewall"]["egress"] = [
        {"action": "accept", "protocol": "tcp", "port": 22, "destination": "172.16.0.0/16"}
    ]
    n = net(d)
    assert ends(n.telnet("office-pc", "cvm-ops", 22)) == CONNECTED
    r = n.telnet("office-pc", VIP, VPORT)
    assert (*ends(r), r.blocked_at) == (Verdict.TIMEOUT, Reason.FIREWALL_EGRESS_DENIED, "office-pc")
    assert r.packets[r.decisive].nodes == ("office-pc",)


def test_a_firewall_direction_left_out_allows_everything() -> None:
    d = scenario()
    n = net(d)
    assert ends(n.telnet("cvm-vpc1", "factory-server", 3389)) == REFUSED  # no firewall at all
    del office_pc(d)["firewall"]["ingress"]
    assert ends(net(d).telnet("cvm-vpc1", "office-pc", 3389)) == REFUSED


def test_the_firewall_is_stateful_replies_of_an_admitted_flow_pass() -> None:
    """office-pc admits ssh from 172.16.0.0/16 only, yet the SYN-ACK of its own connection gets in."""
    r = net(scenario()).telnet("office-pc", "cvm-ops", 22)
    assert ends(r) == CONNECTED
    at_pc = [s.data for s in r.packets[1].hops[-1].steps if isinstance(s.data, Tracked)]
    assert at_pc == [Tracked(reply=True)]
    assert r.packets[1].hops[-1].node == "office-pc"


# -- the gateway's delay -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "gateway", "source"),
    [("vpn_gateways", "vpngw-office", "office-pc"), ("dc_gateways", "dcg-factory", "factory-server")],
)
@pytest.mark.parametrize("delay_ms", [1, 4, 9.5])
def test_the_gateways_one_way_delay_appears_twice_in_the_connect_time(
    section: str, gateway: str, source: str, delay_ms: float
) -> None:
    d = scenario()
    d[section][gateway]["delay"] = "0ms"
    base = net(d).telnet(source, VIP, VPORT)
    d[section][gateway]["delay"] = f"{delay_ms}ms"
    slow = net(d).telnet(source, VIP, VPORT)
    assert ends(base) == ends(slow) == CONNECTED
    # One crossing each way (the SYN in, the SYN-ACK out): 2 x the delay, nothing else changes.
    assert slow.connect_time - base.connect_time == pytest.approx(2 * delay_ms / 1000, abs=1e-12)


# -- load errors -------------------------------------------------------------------------------------


def set_key(*keys: Any, value: Any) -> Any:
    def apply(d: Data) -> None:
        at = d
        for k in keys[:-1]:
            at = at[k]
        if value is None:
            del at[keys[-1]]
        else:
            at[keys[-1]] = value

    return apply


OFFICE, FACTORY, VPN, DCG = (
    "idcs.idc-office",
    "idcs.idc-factory",
    "vpn_gateways.vpngw-office",
    "dc_gateways.dcg-factory",
)
CASES = [
    ("idc-overlaps-vpc", set_key("idcs", "idc-office", "cidrs", value=["172.16.0.0/12"]), f"{OFFICE}.cidrs[0]",
     "172.16.0.0/12 overlaps VPC vpc1 (172.16.0.0/16)"),
    ("idc-overlaps-idc", set_key("idcs", "idc-office", "cidrs", value=["10.88.0.0/16", "10.99.3.0/24"]),
     f"{OFFICE}.cidrs[1]", "10.99.3.0/24 overlaps data centre idc-factory (10.99.0.0/16)"),
    ("host-outside", set_key("idcs", "idc-office", "hosts", "office-pc", "ip", value="10.89.1.20"),
     f"{OFFICE}.hosts.office-pc.ip", "10.89.1.20 is outside data centre idc-office's ranges (10.88.0.0/16)"),
    ("vpc-and-ccn", set_key("vpn_gateways", "vpngw-office", "ccn", value="ccn-chengdu-chongqing"), VPN,
     "give the gateway's network: either 'vpc' (a VPC-type gateway) or 'ccn' (CCN-type)"),
    ("neither", set_key("dc_gateways", "dcg-factory", "ccn", value=None), DCG, "give the gateway's network"),
    ("ccn-type-without-region", set_key("dc_gateways", "dcg-factory", "region", value=None), DCG,
     "a CCN-type gateway needs its 'region'"),
    ("tunnel-to-unknown-idc", set_key("vpn_gateways", "vpngw-office", "tunnels", "tun-standby", "idc", value="idc-x"),
     f"{VPN}.tunnels.tun-standby.idc", "unknown data centre 'idc-x' (known: idc-factory, idc-office)"),
    ("idc-route-through-a-stranger", set_key("idcs", "idc-office", "routes", "to-vpc1", "gateway", value="dcg-factory"),
     f"{OFFICE}.routes.to-vpc1.gateway", "gateway dcg-factory has no connection to data centre idc-office"),
    ("idc-route-to-unknown-gateway", set_key("idcs", "idc-factory", "routes", "to-cloud", "gateway", value="gw-x"),
     f"{FACTORY}.routes.to-cloud.gateway", "unknown gateway 'gw-x'"),
    ("tunnel-down-unknown-tunnel", set_key("timeline", 0, "tunnel", value="tun-x"), "timeline[0].tunnel",
     "unknown tunnel 'tun-x' of vpngw-office (known: tun-main, tun-standby)"),
    ("tunnel-down-on-a-dc-gateway", set_key("timeline", 0, "vpn_gateway", value="dcg-factory"),
     "timeline[0].vpn_gateway", "unknown VPN gateway 'dcg-factory'"),
    ("route-tables-on-ccn-type", set_key("dc_gateways", "dcg-factory", "route_tables", value=["rtb-consumer"]),
     f"{DCG}.route_tables", "a CCN-type gateway publishes its routes to its CCN, not to route tables"),
    ("route-to-ccn-type", set_key("route_tables", "rtb-consumer", "routes", value={
        "x": {"destination": "10.99.0.0/16", "next_hop": {"type": "dc_gateway", "id": "dcg-factory"}}}),
     "route_tables.rtb-consumer.routes.x.next_hop", "Direct Connect gateway dcg-factory is attached to CCN"),
    ("no-delay", set_key("vpn_gateways", "vpngw-office", "delay", value=None), VPN, "missing required key 'delay'"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "path", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_bad_data_centre_or_gateway_is_one_clear_error(
    tmp_path: Path, capsys: Any, change: Any, path: str, needle: str
) -> None:
    d = scenario()
    net(d)  # loads before the change
    change(d)
    where, problem = refusal(tmp_path, capsys, d)
    assert where == path
    assert needle in problem
