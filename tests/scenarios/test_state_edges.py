"""Edges where a sloppy simulator would say "connected" and the cloud would not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vpcsim import Network
from vpcsim.report.steps import step_text

Build = Callable[[dict[str, Any]], Network]


def cross_account(data: dict[str, Any], *timeline: dict[str, Any], delay: str = "2s") -> dict[str, Any]:
    """The bundled scenario with VPC2 in another account: the endpoint starts PENDING."""
    data["vpcs"]["vpc2"]["account"] = "100087654321"
    data["endpoint_services"]["vpcsvc-service"]["whitelist"] = ["100012345678"]
    data["settings"]["endpoint_accept_delay"] = delay
    data["timeline"] = list(timeline)
    data["checks"] = []
    return data


def test_a_reaccepted_endpoint_waits_for_its_own_accept_not_the_voided_one(
    seed_data: dict[str, Any], network_of: Build
) -> None:
    net = network_of(
        cross_account(
            seed_data,
            {"at": "10s", "action": "accept_endpoint", "endpoint": "vpce-vpc1"},
            {"at": "11s", "action": "reject_endpoint", "endpoint": "vpce-vpc1"},
            {"at": "100s", "action": "accept_endpoint", "endpoint": "vpce-vpc1"},
            delay="200s",
        )
    )
    early = net.telnet("cvm-vpc1", "172.16.2.16", 1044, at=150)
    assert (early.verdict.value, early.reason.value) == ("timeout", "endpoint_not_active")
    assert "ACCEPTING" in early.detail
    assert net.telnet("cvm-vpc1", "172.16.2.16", 1044, at=300).connected


def test_a_retransmitted_syn_is_judged_again_by_the_rules_in_force(
    seed_data: dict[str, Any], network_of: Build
) -> None:
    # The first SYN leaves while sg-client still allows it, but is dropped at the PENDING endpoint;
    # the egress rule is gone before the endpoint turns ACTIVE, so no retry may leave.
    net = network_of(
        cross_account(
            seed_data,
            {"at": "1s", "action": "accept_endpoint", "endpoint": "vpce-vpc1"},
            {"at": "2s", "action": "remove_rule", "security_group": "sg-client", "direction": "egress", "index": 0},
        )
    )
    r = net.telnet("cvm-vpc1", "172.16.2.16", 1044)
    assert (r.verdict.value, r.reason.value) == ("timeout", "sg_egress_denied")
    assert r.packets[0].reason is not None
    assert r.packets[0].reason.value == "endpoint_not_active"


def test_a_reply_cannot_cross_an_endpoint_rejected_meanwhile(seed_data: dict[str, Any], network_of: Build) -> None:
    seed_data["timeline"] = [{"at": "1ms", "action": "reject_endpoint", "endpoint": "vpce-vpc1"}]
    r = network_of(seed_data).telnet("cvm-vpc1", "172.16.2.16", 1044)
    assert (r.verdict.value, r.reason.value) == ("timeout", "endpoint_not_active")
    synack = next(p for p in r.packets if p.kind == "SYN-ACK")
    assert synack.hops[-1].node == "vpce-vpc1"
    assert synack.reason is not None
    assert synack.reason.value == "endpoint_not_active"


def test_all_dead_all_alive_needs_every_backend_unhealthy(seed_data: dict[str, Any], network_of: Build) -> None:
    listener = seed_data["load_balancers"]["lb-service"]["listeners"]["lbl-1044"]
    listener["health_check"]["port"] = 9000
    listener["backends"][0]["weight"] = 0  # cvm-backend1: healthy, but takes no new connections
    seed_data["instances"]["cvm-backend1"]["listen"] = [8080, 9000]  # cvm-backend2 fails its checks
    r = network_of(seed_data).telnet("cvm-vpc1", "172.16.2.16", 1044)
    assert (r.verdict.value, r.reason.value) == ("timeout", "no_backend")
    assert "weight 0" in r.detail
    assert not any("all-dead-all-alive" in step_text(s) for p in r.packets for h in p.hops for s in h.steps)


def test_loopback_addresses_stay_inside_the_instance(seed_net: Network) -> None:
    assert seed_net.telnet("cvm-backend1", "127.0.0.1", 8080).connected
    closed = seed_net.telnet("cvm-vpc3", "127.0.0.1", 22)
    assert (closed.verdict.value, closed.reason.value) == ("refused", "port_closed")
    assert {p.nodes for p in closed.packets} == {("cvm-vpc3",)}
