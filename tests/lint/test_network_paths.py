"""Routes, peering connections and network ACLs that leave a path half built."""

from __future__ import annotations

from collections.abc import Callable

from tests.lint.conftest import Data
from tests.lint.helpers import only
from vpcsim.errors import ScenarioWarning, WarningCode

Lint = Callable[[Data], list[ScenarioWarning]]


def office(data: Data, *states: str) -> Data:
    """An office joined to VPC1 by a VPN gateway with one tunnel per state given, routed both ways."""
    data["idcs"] = {
        "idc-office": {
            "cidrs": ["10.88.0.0/16"],
            "hosts": {"office-pc": {"ip": "10.88.1.20"}},
            "routes": {"to-vpc1": {"destination": "172.16.0.0/16", "gateway": "vpngw"}},
        }
    }
    tunnels = {f"t{i}": {"idc": "idc-office", "state": s} for i, s in enumerate(states)}
    data["vpn_gateways"] = {"vpngw": {"vpc": "vpc1", "tunnels": tunnels, "delay": "2ms"}}
    data["route_tables"] = {
        "rtb-main": {
            "vpc": "vpc1",
            "default": True,
            "routes": {
                "to-office": {"destination": "10.88.0.0/16", "next_hop": {"type": "vpn_gateway", "id": "vpngw"}}
            },
        }
    }
    return data


def test_a_route_to_a_gateway_whose_tunnels_are_all_down_is_a_warning(seed_data: Data, warnings_of: Lint) -> None:
    (w,) = only(warnings_of(office(seed_data, "down", "down")), WarningCode.ROUTE_TO_DOWN_NEXT_HOP)
    assert w.path == "route_tables.rtb-main.routes.to-office"
    assert "t0, t1" in w.message
    assert "tunnel_down" in w.message


def test_one_tunnel_up_is_enough(seed_data: Data, warnings_of: Lint) -> None:
    assert only(warnings_of(office(seed_data, "down", "up")), WarningCode.ROUTE_TO_DOWN_NEXT_HOP) == []


def test_a_propagated_route_to_a_down_gateway_points_at_its_tunnels(seed_data: Data, warnings_of: Lint) -> None:
    office(seed_data, "down")
    del seed_data["route_tables"]["rtb-main"]["routes"]
    seed_data["vpn_gateways"]["vpngw"]["route_tables"] = ["rtb-main"]
    (w,) = only(warnings_of(seed_data), WarningCode.ROUTE_TO_DOWN_NEXT_HOP)
    assert w.path == "vpn_gateways.vpngw.tunnels"


def peering(data: Data, *routes_from: str) -> Data:
    """VPC1 peered with a fourth VPC, with a route through the peering in each VPC named."""
    data["vpcs"]["vpc4"] = {
        "region": "ap-chengdu",
        "account": "100012345678",
        "cidr": "10.40.0.0/16",
        "subnets": {"sn4": {"cidr": "10.40.1.0/24", "zone": "ap-chengdu-1"}},
    }
    data["peerings"] = {"pcx": {"vpcs": ["vpc1", "vpc4"]}}
    other = {"vpc1": "10.40.0.0/16", "vpc4": "172.16.0.0/16"}
    data["route_tables"] = {
        f"rtb-{vid}": {
            "vpc": vid,
            "default": True,
            "routes": {"peer": {"destination": other[vid], "next_hop": {"type": "peering", "id": "pcx"}}},
        }
        for vid in routes_from
    }
    return data


def test_a_peering_without_a_route_on_one_side_is_a_warning(seed_data: Data, warnings_of: Lint) -> None:
    (w,) = only(warnings_of(peering(seed_data, "vpc1")), WarningCode.PEERING_WITHOUT_ROUTE)
    assert w.path == "peerings.pcx"
    assert w.message.startswith("vpc4 has no route through peering connection pcx")


def test_a_peering_without_any_route_carries_nothing(seed_data: Data, warnings_of: Lint) -> None:
    (w,) = only(warnings_of(peering(seed_data)), WarningCode.PEERING_WITHOUT_ROUTE)
    assert "vpc1 and vpc4 have no route" in w.message
    assert "nothing crosses it" in w.message


def test_routes_on_both_sides_or_added_later_are_enough(seed_data: Data, warnings_of: Lint) -> None:
    assert only(warnings_of(peering(seed_data, "vpc1", "vpc4")), WarningCode.PEERING_WITHOUT_ROUTE) == []
    peering(seed_data, "vpc1")
    seed_data["route_tables"]["rtb-vpc4"] = {"vpc": "vpc4", "default": True}
    seed_data["timeline"] = [
        {
            "at": "10s",
            "action": "add_route",
            "route_table": "rtb-vpc4",
            "route": "peer",
            "destination": "172.16.0.0/16",
            "next_hop": {"type": "peering", "id": "pcx"},
        }
    ]
    assert only(warnings_of(seed_data), WarningCode.PEERING_WITHOUT_ROUTE) == []


def test_a_cross_region_peering_is_a_warning(seed_data: Data, warnings_of: Lint) -> None:
    peering(seed_data, "vpc1", "vpc4")
    seed_data["peerings"]["pcx"]["vpcs"] = ["vpc3", "vpc4"]
    seed_data["route_tables"] = {}
    (w,) = only(warnings_of(seed_data), WarningCode.CROSS_REGION_PEERING)
    assert w.path == "peerings.pcx.vpcs"
    assert "2023-10-31" in w.message
    assert only(warnings_of(peering(seed_data, "vpc1", "vpc4")), WarningCode.CROSS_REGION_PEERING) == []


def acl(data: Data, *ingress: Data) -> Data:
    """An ACL on VPC3's client subnet that lets everything out and ``ingress`` in."""
    data["network_acls"] = {
        "acl-cq": {
            "vpc": "vpc3",
            "subnets": ["subnet-cq"],
            "egress": [{"action": "accept", "protocol": "all", "destination": "0.0.0.0/0"}],
            "ingress": list(ingress),
        }
    }
    return data


def test_an_acl_that_drops_the_replies_of_an_expected_connect_is_a_warning(seed_data: Data, warnings_of: Lint) -> None:
    acl(seed_data, {"action": "accept", "protocol": "tcp", "port": "32768-50000", "source": "0.0.0.0/0"})
    found = only(warnings_of(seed_data), WarningCode.ACL_DROPS_RETURN_TRAFFIC)
    assert [w.path for w in found] == ["checks[1]"]  # the check from cvm-vpc3 that expects to connect
    assert "50001-60999" in found[0].message
    assert "acl-cq (ingress)" in found[0].message


def test_the_whole_ephemeral_range_allowed_is_enough(seed_data: Data, warnings_of: Lint) -> None:
    acl(seed_data, {"action": "accept", "protocol": "tcp", "port": "1024-65535", "source": "0.0.0.0/0"})
    assert only(warnings_of(seed_data), WarningCode.ACL_DROPS_RETURN_TRAFFIC) == []


def test_a_drop_before_the_accept_still_drops(seed_data: Data, warnings_of: Lint) -> None:
    acl(
        seed_data,
        {"action": "drop", "protocol": "tcp", "port": "40000-40010", "source": "172.16.0.0/16"},
        {"action": "accept", "protocol": "all", "source": "0.0.0.0/0"},
    )
    (w,) = only(warnings_of(seed_data), WarningCode.ACL_DROPS_RETURN_TRAFFIC)
    assert "40000-40010" in w.message


def test_only_the_tunnels_toward_the_routes_destination_count(seed_data: Data, warnings_of: Lint) -> None:
    office(seed_data, "down")
    seed_data["idcs"]["idc-lab"] = {"cidrs": ["10.76.0.0/16"], "hosts": {"lab-pc": {"ip": "10.76.1.5"}}}
    seed_data["vpn_gateways"]["vpngw"]["tunnels"]["t9"] = {"idc": "idc-lab", "state": "up"}
    (w,) = only(warnings_of(seed_data), WarningCode.ROUTE_TO_DOWN_NEXT_HOP)
    assert "(t0)" in w.message


def test_a_disabled_route_is_no_route_through_a_peering(seed_data: Data, warnings_of: Lint) -> None:
    peering(seed_data, "vpc1", "vpc4")
    seed_data["route_tables"]["rtb-vpc4"]["routes"]["peer"]["enabled"] = False
    (w,) = only(warnings_of(seed_data), WarningCode.PEERING_WITHOUT_ROUTE)
    assert w.message.startswith("vpc4 has no route")
    seed_data["timeline"] = [{"at": "5s", "action": "enable_route", "route_table": "rtb-vpc4", "route": "peer"}]
    assert only(warnings_of(seed_data), WarningCode.PEERING_WITHOUT_ROUTE) == []
