"""``scenarios/chengdu_chongqing_cross_account.yaml``: the bundled scenario across accounts. The endpoint is
created PENDING; the provider accepts at 300 s; it is ACCEPTING until 302 s, then ACTIVE. A connect
sends SYNs at +0, 1, 3, 7, 15, 31 and 63 s, so which one gets through depends on when it starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from vpcsim import Network, ProbeResult, Reason, Verdict
from vpcsim.cli import cli
from vpcsim.model import EndpointState
from vpcsim.report.steps import step_text

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "chengdu_chongqing_cross_account.yaml"
VIP = "172.16.2.16"
VPORT = 1044
NOT_ACTIVE = Reason.ENDPOINT_NOT_ACTIVE


@pytest.fixture(scope="module")
def net() -> Network:
    return Network.from_file(SCENARIO)


def syns(r: ProbeResult) -> list[tuple[float, Reason | None]]:
    """(time after the first SYN, drop reason or None) of each SYN the client sent."""
    return [(p.sent_at - r.started_at, p.reason) for p in r.packets if p.kind == "SYN"]


def round_trip(net: Network, client: str) -> float:
    """The handshake's round trip once the endpoint is ACTIVE."""
    return net.telnet(client, VIP, VPORT, at=400).connect_time


def test_every_check_of_the_file_passes(net: Network) -> None:
    results = net.run_checks()
    assert len(results) >= 10
    assert [c.check.name for c in results if not c.passed] == []


def test_validate_accepts_the_file_without_warnings() -> None:
    result = CliRunner().invoke(cli, ["validate", str(SCENARIO)])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output


def test_vpcsim_check_passes_on_the_file() -> None:
    result = CliRunner().invoke(cli, ["check", str(SCENARIO)])
    assert result.exit_code == 0, result.output
    assert " 0 failed" in result.stdout


def test_the_provider_is_another_account_and_the_endpoint_starts_pending(net: Network) -> None:
    topo = net.topology
    assert topo.vpcs["vpc2"].account != topo.vpcs["vpc1"].account == topo.vpcs["vpc3"].account
    endpoint = topo.endpoints["vpce-vpc1"]
    assert endpoint.initial_state is EndpointState.PENDING
    assert topo.warnings == ()


@pytest.mark.parametrize("client", ["cvm-vpc1", "cvm-vpc3"])
def test_a_connect_at_creation_sends_seven_syns_into_the_pending_endpoint(net: Network, client: str) -> None:
    r = net.telnet(client, VIP, VPORT, at=0)
    assert (r.verdict, r.reason, r.blocked_at) == (Verdict.TIMEOUT, NOT_ACTIVE, "vpce-vpc1")
    assert syns(r) == [(t, NOT_ACTIVE) for t in (0.0, 1.0, 3.0, 7.0, 15.0, 31.0, 63.0)]
    assert r.connect_time == pytest.approx(127.0)
    assert "PENDING" in r.detail


def test_a_connect_at_280s_connects_on_its_sixth_syn(net: Network) -> None:
    r = net.telnet("cvm-vpc3", VIP, VPORT, at=280)
    assert r.connected
    assert syns(r) == [(t, NOT_ACTIVE) for t in (0.0, 1.0, 3.0, 7.0, 15.0)] + [(31.0, None)]
    assert r.attempts == 6
    assert r.connect_time == pytest.approx(31.0 + round_trip(net, "cvm-vpc3"))
    assert r.control_events == (
        (300.0, "timeline: accept endpoint vpce-vpc1"),
        (302.0, "endpoint vpce-vpc1 is now ACTIVE"),
    )


def test_a_connect_at_240s_connects_on_its_last_syn(net: Network) -> None:
    r = net.telnet("cvm-vpc1", VIP, VPORT, at=240)
    assert r.connected
    assert r.attempts == 7
    assert r.connect_time == pytest.approx(63.0 + round_trip(net, "cvm-vpc1"))


def test_a_connect_at_238s_gives_up_while_the_endpoint_is_accepting(net: Network) -> None:
    r = net.telnet("cvm-vpc1", VIP, VPORT, at=238)
    assert (r.verdict, r.reason) == (Verdict.TIMEOUT, NOT_ACTIVE)
    assert "ACCEPTING" in r.detail  # its last SYN left at 301 s
    assert "PENDING" in step_text(r.packets[0].hops[-1].steps[-1])  # its first at 238 s


def test_a_connect_at_the_moment_of_acceptance_connects_on_its_third_syn(net: Network) -> None:
    r = net.telnet("cvm-vpc3", VIP, VPORT, at=300)
    assert r.connected
    assert syns(r) == [(0.0, NOT_ACTIVE), (1.0, NOT_ACTIVE), (3.0, None)]


def test_after_acceptance_vpc3_takes_the_seed_path_both_ways(net: Network) -> None:
    r = net.telnet("cvm-vpc3", VIP, VPORT, at=400)
    syn, synack, ack = r.packets
    path = ("cvm-vpc3", "vpc3", "ccn-chengdu-chongqing", "vpc1", "vpce-vpc1", "lb-service", "vpc2", "cvm-backend1")
    assert syn.nodes == path
    assert synack.nodes == path[::-1]
    assert ack.nodes == path
