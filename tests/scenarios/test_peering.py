"""VPC peering (Tencent 对等连接): both ways with a route on each side, not transitive, not for
endpoints, the region pair's delay across regions, and the connections the loader refuses.

vpc-a (a1) and vpc-b (b1), both listening on 22, joined by pcx-ab with a default table on each side
(docs/decisions.md Q29, Q34). Every verdict and every time is the engine's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.conftest import SCENARIOS, read_data
from tests.scenarios.networks import ends, net, no_route, refusal

from vpcsim import ProbeResult, Reason, Verdict
from vpcsim.scenario.values import bandwidth, duration
from vpcsim.trace import RouteHit

Data = dict[str, Any]
OPEN = {
    "ingress": [{"action": "accept", "protocol": "all", "source": "0.0.0.0/0"}],
    "egress": [{"action": "accept", "protocol": "all", "destination": "0.0.0.0/0"}],
}
A, B = "10.10.0.0/16", "10.20.0.0/16"
CONNECTED = (Verdict.CONNECTED, Reason.ESTABLISHED)
NO_ROUTE = (Verdict.TIMEOUT, Reason.NO_ROUTE)
SYN_BITS = 44 * 8
"""A SYN (or SYN-ACK) with its MSS option: what a crossing serialises."""


def vpc(cidr: str, subnet: str, region: str = "ap-chengdu") -> Data:
    subnets = {"subnet-1": {"cidr": subnet, "zone": f"{region}-1"}}
    return {"region": region, "account": "100012345678", "cidr": cidr, "subnets": subnets}


def host(vpc_id: str, ip: str) -> Data:
    return {"vpc": vpc_id, "subnet": "subnet-1", "ip": ip, "security_groups": ["sg-open"], "listen": [22]}


def to(destination: str, peering: str = "pcx-ab") -> Data:
    return {"destination": destination, "next_hop": {"type": "peering", "id": peering}}


def scenario() -> Data:
    return {
        "version": 1,
        "settings": {"delays": {"same_zone": "0.1ms", "regions": {"ap-chengdu/ap-chongqing": "3.25ms"}}},
        "vpcs": {"vpc-a": vpc(A, "10.10.1.0/24"), "vpc-b": vpc(B, "10.20.1.0/24")},
        "security_groups": {"sg-open": OPEN},
        "instances": {"a1": host("vpc-a", "10.10.1.10"), "b1": host("vpc-b", "10.20.1.10")},
        "peerings": {"pcx-ab": {"vpcs": ["vpc-a", "vpc-b"]}},
        "route_tables": {
            "rtb-a": {"vpc": "vpc-a", "default": True, "routes": {"to-b": to(B)}},
            "rtb-b": {"vpc": "vpc-b", "default": True, "routes": {"to-a": to(A)}},
        },
    }


def with_ccn(d: Data) -> Data:
    """vpc-a is a CCN member with vpc-c (c1)."""
    d["vpcs"]["vpc-c"] = vpc("192.168.0.0/16", "192.168.1.0/24")
    d["instances"]["c1"] = host("vpc-c", "192.168.1.10")
    d["ccns"] = {"ccn-1": {"attachments": ["vpc-a", "vpc-c"]}}
    return d


def hits(r: ProbeResult, packet: int = 0) -> list[RouteHit]:
    return [s.data for h in r.packets[packet].hops for s in h.steps if isinstance(s.data, RouteHit)]


# -- both ways, with a route on each side ------------------------------------------------------------


def test_a_peering_with_a_route_on_each_side_carries_connections_both_ways() -> None:
    n = net(scenario())
    r = n.telnet("a1", "b1", 22)
    assert ends(r) == CONNECTED
    assert r.packets[0].nodes == ("a1", "vpc-a", "pcx-ab", "vpc-b", "b1")
    assert r.packets[1].nodes == ("b1", "vpc-b", "pcx-ab", "vpc-a", "a1")
    first = hits(r)[0]
    assert (first.router, first.table, first.entry, first.next_hop) == ("vpc-a", "rtb-a", "to-b", "pcx-ab")
    assert first.hop_noun == "peering connection"
    assert (hits(r, 1)[0].table, hits(r, 1)[0].entry) == ("rtb-b", "to-a")
    r = n.telnet("b1", "a1", 22)
    assert ends(r) == CONNECTED
    assert r.packets[0].nodes == ("b1", "vpc-b", "pcx-ab", "vpc-a", "a1")


def test_without_the_return_route_the_connect_times_out_at_the_vpc_lacking_it() -> None:
    d = scenario()
    del d["route_tables"]["rtb-b"]["routes"]
    n = net(d)
    r = n.telnet("a1", "b1", 22)
    assert (*ends(r), r.blocked_at, r.ref) == (*NO_ROUTE, "vpc-b", "route table rtb-b")
    assert r.packets[0].nodes[-1] == "b1"  # the SYN arrived: its SYN-ACK has no way back
    assert r.packets[r.decisive].kind == "SYN-ACK"
    assert (no_route(r).router, no_route(r).table, no_route(r).address) == ("vpc-b", "rtb-b", "10.10.1.10")
    r = n.telnet("b1", "a1", 22)  # and vpc-b cannot start one either
    assert (*ends(r), r.blocked_at) == (*NO_ROUTE, "vpc-b")
    assert r.packets[r.decisive].nodes == ("b1", "vpc-b")
    del d["route_tables"]["rtb-a"]["routes"]  # the other side too: a1's SYN now stops at home
    r = net(d).telnet("a1", "b1", 22)
    assert (*ends(r), r.packets[r.decisive].nodes) == (*NO_ROUTE, ("a1", "vpc-a"))


# -- what a peering does not carry -------------------------------------------------------------------


def test_peering_is_not_transitive_a_peer_of_a_ccn_member_reaches_no_other_member() -> None:
    d = with_ccn(scenario())
    d["route_tables"]["rtb-b"]["routes"]["to-c"] = to("192.168.0.0/16")  # hoping for transit through vpc-a
    n = net(d)
    assert ends(n.telnet("a1", "c1", 22)) == CONNECTED  # the member reaches c1 over the CCN
    assert ends(n.telnet("b1", "a1", 22)) == CONNECTED  # and the peer reaches the member
    r = n.telnet("b1", "c1", 22)
    assert (*ends(r), r.blocked_at) == (*NO_ROUTE, "pcx-ab")
    assert r.packets[r.decisive].nodes == ("b1", "vpc-b", "pcx-ab")
    assert (no_route(r).router, no_route(r).address) == ("pcx-ab", "192.168.1.10")
    assert hits(r, r.decisive)[0].entry == "to-c"  # vpc-b's route took it as far as the peering


def test_a_peering_carries_nothing_beyond_the_two_ranges() -> None:
    d = scenario()
    d["route_tables"]["rtb-a"]["routes"] = {"wide": to("10.0.0.0/8")}
    n = net(d)
    assert ends(n.telnet("a1", "b1", 22)) == CONNECTED  # 10.20.1.10 is in vpc-b's range
    r = n.telnet("a1", "10.30.1.10", 22)
    assert (*ends(r), r.blocked_at, no_route(r).router) == (*NO_ROUTE, "pcx-ab", "pcx-ab")


def test_an_endpoint_vip_is_not_reached_over_peering() -> None:
    d = read_data(SCENARIOS / "peering_vs_endpoint.yaml")
    n = net(d)
    assert ends(n.telnet("cvm-partner", "cvm-vpc1-ops", 22)) == CONNECTED  # the same peering, into vpc1
    assert ends(n.telnet("cvm-vpc3", "vpce-vpc1", 1044)) == CONNECTED  # the VIP over the CCN
    r = n.telnet("cvm-partner", "vpce-vpc1", 1044)
    assert (*ends(r), r.blocked_at) == (*NO_ROUTE, "vpc1")
    assert r.packets[r.decisive].nodes == ("cvm-partner", "vpc4", "pcx-vpc1", "vpc1")
    assert (no_route(r).address, no_route(r).entered_from) == ("172.16.2.16", "pcx-vpc1")


# -- delays ------------------------------------------------------------------------------------------


def cross_region(d: Data) -> Data:
    d["vpcs"]["vpc-b"] = vpc(B, "10.20.1.0/24", region="ap-chongqing")
    return d


@pytest.mark.parametrize("bw", ["10Mbps", "1Gbps"])
def test_cross_region_peering_pays_the_region_pairs_delay_and_its_serialisation(bw: str) -> None:
    d = scenario()
    d["peerings"]["pcx-ab"]["bandwidth"] = bw
    same = net(d).telnet("a1", "b1", 22)
    other = net(cross_region(d)).telnet("a1", "b1", 22)
    assert ends(same) == ends(other) == CONNECTED
    delays = d["settings"]["delays"]
    zone, region = duration(delays["same_zone"]), duration(delays["regions"]["ap-chengdu/ap-chongqing"])
    crossing = region + SYN_BITS / bandwidth(bw)
    # Same region: the SYN and its SYN-ACK pay the zone delay only, whatever the peering's cap.
    assert same.connect_time == pytest.approx(2 * zone, abs=1e-12)
    # Across regions: each way crosses once, paying the pair's delay and the serialisation instead.
    assert other.connect_time == pytest.approx(2 * crossing, abs=1e-12)
    assert other.connect_time - same.connect_time == pytest.approx(2 * (crossing - zone), abs=1e-12)
    syn_ack = other.packets[1]
    assert syn_ack.arrived_at - syn_ack.sent_at == pytest.approx(crossing, abs=1e-12)


def test_a_changed_region_delay_moves_the_connect_time_by_twice_the_change() -> None:
    d = cross_region(scenario())
    before = net(d).telnet("a1", "b1", 22).connect_time
    d["settings"]["delays"]["regions"]["ap-chengdu/ap-chongqing"] = "13.25ms"
    after = net(d).telnet("a1", "b1", 22).connect_time
    assert after - before == pytest.approx(2 * 0.010, abs=1e-12)


# -- load errors -------------------------------------------------------------------------------------


def set_key(*keys: str, value: Any) -> Any:
    def apply(d: Data) -> None:
        at = d
        for k in keys[:-1]:
            at = at[k]
        at[keys[-1]] = value

    return apply


def second_peering(d: Data) -> None:
    d["peerings"]["pcx-ba"] = {"vpcs": ["vpc-b", "vpc-a"]}


def cross_region_without_delay(d: Data) -> None:
    d["vpcs"]["vpc-b"] = vpc(B, "10.20.1.0/24", region="ap-singapore")


def route_through_a_peering_of_others(d: Data) -> None:
    with_ccn(d)
    d["route_tables"]["rtb-c"] = {"vpc": "vpc-c", "default": True, "routes": {"to-b": to(B)}}


CASES = [
    ("overlapping", set_key("vpcs", "vpc-b", "cidr", value="10.0.0.0/8"), "peerings.pcx-ab.vpcs[1]",
     "VPC vpc-b (10.0.0.0/8) overlaps VPC vpc-a (10.10.0.0/16): peering needs ranges that do not overlap"),
    ("itself", set_key("peerings", "pcx-ab", "vpcs", value=["vpc-a", "vpc-a"]), "peerings.pcx-ab.vpcs[1]",
     "a peering connection joins two different VPCs, not vpc-a twice"),
    ("twice", second_peering, "peerings.pcx-ba.vpcs", "vpc-b and vpc-a are already peered by pcx-ab"),
    ("unknown-vpc", set_key("peerings", "pcx-ab", "vpcs", value=["vpc-a", "vpc-x"]), "peerings.pcx-ab.vpcs[1]",
     "unknown VPC 'vpc-x'"),
    ("three-vpcs", set_key("peerings", "pcx-ab", "vpcs", value=["vpc-a", "vpc-b", "vpc-a"]),
     "peerings.pcx-ab.vpcs", "too many entries: 3 (at most 2)"),
    ("no-region-delay", cross_region_without_delay, "peerings.pcx-ab.vpcs",
     "no delay known between ap-chengdu and ap-singapore: add settings.delays.regions['ap-chengdu/ap-singapore']"),
    ("not-its-peering", route_through_a_peering_of_others, "route_tables.rtb-c.routes.to-b.next_hop",
     "peering connection pcx-ab joins vpc-a and vpc-b, not vpc-c"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "path", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_bad_peering_is_one_clear_error(tmp_path: Path, capsys: Any, change: Any, path: str, needle: str) -> None:
    d = scenario()
    net(d)  # loads before the change
    change(d)
    where, problem = refusal(tmp_path, capsys, d)
    assert where == path
    assert needle in problem


def test_cross_region_peering_loads_once_the_pairs_delay_is_given() -> None:
    d = scenario()
    cross_region_without_delay(d)
    d["settings"]["delays"]["regions"]["ap-chengdu/ap-singapore"] = "20ms"
    r = net(d).telnet("a1", "b1", 22)
    assert ends(r) == CONNECTED
    assert r.connect_time == pytest.approx(2 * (0.020 + SYN_BITS / 1e9), abs=1e-12)  # 1 Gbps unless stated
