"""Capacity settings in a scenario: what they set, and one clear error for each wrong value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from vpcsim import Network, ScenarioError
from vpcsim.frontends import from_data
from vpcsim.ir import Balancer, Translator

Build = Callable[[dict[str, Any]], Network]


def _error(data: dict[str, Any]) -> str:
    with pytest.raises(ScenarioError) as caught:
        from_data(data, source="s.yaml")
    return str(caught.value)


def test_settings_and_objects_give_links_and_gateways_their_capacity(seed_data: dict[str, Any]) -> None:
    seed_data["settings"]["links"] = {"host": {"bandwidth": "10Gbps", "queue": 500, "overhead": 38}}
    seed_data["settings"]["capacity"] = {"load_balancer": {"max_sessions": 50000, "new_per_second": 5000}}
    seed_data["instances"]["cvm-vpc1"]["link"] = {"bandwidth": "1Gbps"}
    seed_data["load_balancers"]["lb-service"]["capacity"] = {"max_sessions": 10, "idle_timeout": "900s"}
    seed_data["endpoints"]["vpce-vpc1"]["capacity"] = {"service_time": "2us", "queue": 50}
    state = Network(from_data(seed_data, source="s.yaml")).compiled.states[0]
    own = state.links[("cvm-vpc1", "vpc1")]
    kind = state.links[("cvm-vpc3", "vpc3")]
    assert (own.bandwidth_bps, own.queue, own.overhead) == (1e9, 500, 38)  # the object's rate, the kind's rest
    assert (kind.bandwidth_bps, kind.queue, kind.overhead) == (10e9, 500, 38)
    lb = state.nodes["lb-service"]
    ep = state.nodes["vpce-vpc1"]
    assert isinstance(lb, Balancer)
    assert isinstance(ep, Translator)
    assert lb.limits is not None
    assert (lb.limits.max_sessions, lb.limits.new_per_second, lb.limits.idle_timeout) == (10, 5000, 900)
    assert ep.limits is not None
    assert (ep.limits.service_time, ep.limits.queue, ep.limits.max_sessions) == (2e-6, 50, 0)


def test_nothing_set_leaves_every_link_uncapped_but_the_crossings(seed_data: dict[str, Any]) -> None:
    state = Network(from_data(seed_data, source="s.yaml")).compiled.states[0]
    crossings = {k: v for k, v in state.links.items() if v.inter_region}
    assert all(v.bandwidth_bps == 0 for k, v in state.links.items() if k not in crossings)
    assert {v.bandwidth_bps for v in crossings.values()} == {1e9}
    assert all(getattr(n, "limits", None) is None for n in state.nodes.values())


def test_a_prepaid_ccn_takes_what_was_bought_per_pair(seed_data: dict[str, Any]) -> None:
    ccn = seed_data["ccns"]["ccn-chengdu-chongqing"]
    ccn.pop("bandwidth")
    ccn["billing"] = "prepaid"
    ccn["region_bandwidths"] = {"ap-chongqing/ap-chengdu": "20Mbps"}
    topo = from_data(seed_data, source="s.yaml")
    c = topo.ccns["ccn-chengdu-chongqing"]
    assert c.bandwidth_bps == 10e3
    assert c.pair_bandwidth == {frozenset({"ap-chengdu", "ap-chongqing"}): 20e6}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["ccns"]["ccn-chengdu-chongqing"].update(billing="prepaid"),
            "ccns.ccn-chengdu-chongqing.bandwidth: a prepaid CCN buys bandwidth per region pair",
        ),
        (
            lambda d: d["ccns"]["ccn-chengdu-chongqing"].update(region_bandwidths={"ap-chengdu/ap-beijing": 10}),
            "no VPC attached to ccn-chengdu-chongqing is in ap-beijing",
        ),
        (
            lambda d: d["ccns"]["ccn-chengdu-chongqing"].update(region_bandwidths={"ap-chengdu": 10}),
            "key must name two regions",
        ),
        (
            lambda d: d["settings"].update(tcp={"min_rto": "2s", "max_rto": "1s"}),
            "settings.tcp.min_rto: min_rto 2 s is above max_rto 1 s",
        ),
        (lambda d: d["settings"].update(links={"host": {"queue": -1}}), "settings.links.host.queue"),
        (lambda d: d["settings"].update(links={"wifi": {"queue": 1}}), "settings.links.wifi: unknown key 'wifi'"),
        (lambda d: d["settings"].update(tcp={"congestion_control": "bbr"}), "settings.tcp.congestion_control"),
        (
            lambda d: d["settings"].update(capacity={"vpn": {"max_sessions": 10}}),
            "settings.capacity.vpn.max_sessions: a VPN gateway keeps no connections",
        ),
        (
            lambda d: d["settings"].update(links={"ccn": {"bandwidth": "1Gbps"}}),
            "settings.links.ccn.bandwidth: a CCN's bandwidth is its own: set 'bandwidth' on each CCN",
        ),
        (
            lambda d: d["load_balancers"]["lb-service"].update(capacity={"idle_timeout": "0s"}),
            "load_balancers.lb-service.capacity.idle_timeout",
        ),
        (lambda d: d["instances"]["cvm-vpc1"].update(link={"mtu": 100}), "instances.cvm-vpc1.link.mtu"),
    ],
)
def test_a_wrong_capacity_setting_gets_one_clear_error(
    seed_data: dict[str, Any], edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    edit(seed_data)
    assert message in _error(seed_data)
