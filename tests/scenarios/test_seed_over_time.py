"""The bundled scenario while its control plane changes: a connect's SYN retries see the timeline events that
happen while they run (Linux: SYNs at +0, 1, 3, 7, 15, 31, 63 s), and ``result.control_events``
lists those events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from vpcsim import Network, ProbeResult, Reason, Verdict
from vpcsim.report.steps import describe, step_text
from vpcsim.trace import StepKind

Data = dict[str, Any]
Build = Callable[[Data], Network]

VIP = "172.16.2.16"
VPORT = 1044
SNAT_RULE = {"action": "accept", "protocol": "tcp", "port": 8080, "source": "11.163.0.0/16"}


def syns(r: ProbeResult) -> list[tuple[float, Reason | None]]:
    """(time after the first SYN, drop reason or None) of each SYN the client sent."""
    return [(p.sent_at - r.started_at, p.reason) for p in r.packets if p.kind == "SYN"]


def load_balance_details(r: ProbeResult) -> list[str]:
    return [step_text(s) for h in r.packets[0].hops for s in h.steps if s.kind is StepKind.LOAD_BALANCE]


# -- security-group rules ---------------------------------------------------------------------------


@pytest.fixture
def snat_rule_added_at_20s(seed_data: Data, network_of: Build) -> Network:
    seed_data["security_groups"]["sg-backend"]["ingress"].pop(0)  # forgot the prerequisite...
    seed_data["timeline"] = [  # ...and fixed it 20 s later
        {"at": "20s", "action": "add_rule", "security_group": "sg-backend", "direction": "ingress", "index": 0}
        | {"rule": SNAT_RULE}
    ]
    return network_of(seed_data)


def test_a_backend_rule_added_while_the_client_retries_lets_a_later_syn_connect(
    snat_rule_added_at_20s: Network,
) -> None:
    r = snat_rule_added_at_20s.telnet("cvm-vpc3", VIP, VPORT, at=0)
    assert (r.verdict, r.reason) == (Verdict.CONNECTED, Reason.ESTABLISHED)
    assert syns(r) == [(t, Reason.SG_INGRESS_DENIED) for t in (0.0, 1.0, 3.0, 7.0, 15.0)] + [(31.0, None)]
    assert r.attempts == 6
    assert r.connect_time == pytest.approx(31.0, abs=0.05)
    assert r.control_events == ((20.0, "timeline: add sg-backend ingress rule #0: accept tcp/8080 11.163.0.0/16"),)
    dropped = r.packets[0]
    assert dropped.nodes[-1] == "cvm-backend1"
    assert describe(dropped.hops[-1].steps[-1])[1] == "sg-backend ingress rule #0"


def test_a_connect_after_the_rule_is_added_connects_at_once(snat_rule_added_at_20s: Network) -> None:
    r = snat_rule_added_at_20s.telnet("cvm-vpc1", VIP, VPORT, at=20)
    assert r.connected
    assert r.attempts == 1
    assert r.control_events == ()


def test_a_backend_rule_removed_in_the_timeline_makes_later_connects_time_out(
    seed_data: Data, network_of: Build
) -> None:
    seed_data["timeline"] = [
        {"at": "10s", "action": "remove_rule", "security_group": "sg-backend", "direction": "ingress", "index": 0}
    ]
    net = network_of(seed_data)
    assert net.telnet("cvm-vpc3", VIP, VPORT, at=0).connected
    r = net.telnet("cvm-vpc3", VIP, VPORT, at=10)
    assert (r.verdict, r.reason) == (Verdict.TIMEOUT, Reason.SG_INGRESS_DENIED)
    assert r.ref == "sg-backend: no accept for tcp/8080 from 11.163.0.0/16 before rule #0"
    assert "drop all" in r.detail


def test_a_backend_rule_removed_between_syn_and_ack_does_not_stop_the_established_connection(
    seed_data: Data, network_of: Build
) -> None:
    """Connection tracking: the ACK of an admitted handshake is not matched against the rules again."""
    seed_data["timeline"] = [
        {"at": "10ms", "action": "remove_rule", "security_group": "sg-backend", "direction": "ingress", "index": 0}
    ]
    r = network_of(seed_data).telnet("cvm-vpc3", VIP, VPORT)
    syn, _, ack = r.packets
    assert syn.arrived_at < 0.010 < ack.arrived_at, "the rule goes while the ACK is on its way"
    assert r.control_events == ((0.01, "timeline: remove sg-backend ingress rule #0"),)
    assert (r.verdict, r.reason) == (Verdict.CONNECTED, Reason.ESTABLISHED)
    assert (ack.nodes[-1], ack.reason) == ("cvm-backend1", None)
    assert [s.kind for s in ack.hops[-1].steps] == [StepKind.INGRESS, StepKind.SESSION, StepKind.DELIVER]
    assert step_text(ack.hops[-1].steps[1]).startswith("matches an established connection")


# -- CCN attachment ---------------------------------------------------------------------------------


def test_vpc3_reattached_to_the_ccn_while_the_client_retries_connects_on_a_retry(
    seed_data: Data, network_of: Build
) -> None:
    ccn = "ccn-chengdu-chongqing"
    seed_data["timeline"] = [
        {"at": "10s", "action": "detach_vpc", "ccn": ccn, "vpc": "vpc3"},
        {"at": "50s", "action": "attach_vpc", "ccn": ccn, "vpc": "vpc3"},
    ]
    r = network_of(seed_data).telnet("cvm-vpc3", VIP, VPORT, at=20)
    assert r.connected
    assert syns(r) == [(t, Reason.NO_ROUTE) for t in (0.0, 1.0, 3.0, 7.0, 15.0)] + [(31.0, None)]
    assert r.control_events == ((50.0, f"timeline: attach vpc3 to {ccn}"),)


# -- listeners and health checks --------------------------------------------------------------------


@pytest.fixture
def listeners_stopped_then_started(seed_data: Data, network_of: Build) -> Network:
    """Both backends stop listening at 10 s and start again at 60 s (checks every 5 s, thresholds 3)."""
    seed_data["timeline"] = [
        {"at": at, "action": action, "instance": backend, "port": 8080}
        for backend in ("cvm-backend1", "cvm-backend2")
        for at, action in (("10s", "stop_listener"), ("60s", "start_listener"))
    ]
    return network_of(seed_data)


def test_restarted_listeners_connect_at_once_through_all_dead_all_alive(
    listeners_stopped_then_started: Network,
) -> None:
    net = listeners_stopped_then_started
    assert net.telnet("cvm-vpc3", VIP, VPORT, at=55).verdict is Verdict.REFUSED
    r = net.telnet("cvm-vpc3", VIP, VPORT, at=61)
    assert r.connected
    assert any("all-dead-all-alive" in d for d in load_balance_details(r))


def test_restarted_listeners_are_healthy_after_three_passing_checks(listeners_stopped_then_started: Network) -> None:
    """Checks at 60, 65 and 70 s pass: healthy from 70 s."""
    net = listeners_stopped_then_started
    assert any("all-dead-all-alive" in d for d in load_balance_details(net.telnet("cvm-vpc1", VIP, VPORT, at=69)))
    r = net.telnet("cvm-vpc1", VIP, VPORT, at=71)
    assert r.connected
    assert load_balance_details(r) == ["wrr chose cvm-backend1:8080 (weight 10) among 2 healthy backends"]


def test_a_connect_just_before_the_restart_is_refused_without_retrying(listeners_stopped_then_started: Network) -> None:
    """A SYN answered by RST ends connect() at once: refused, no retry."""
    r = listeners_stopped_then_started.telnet("cvm-vpc3", VIP, VPORT, at=59)
    assert (r.verdict, r.reason) == (Verdict.REFUSED, Reason.PORT_CLOSED)
    assert r.attempts == 1


@pytest.fixture
def backend1_stopped_at_10s(seed_data: Data, network_of: Build) -> Network:
    seed_data["timeline"] = [{"at": "10s", "action": "stop_listener", "instance": "cvm-backend1", "port": 8080}]
    return network_of(seed_data)


def test_a_stopped_backend_still_gets_new_connections_until_its_checks_fail(backend1_stopped_at_10s: Network) -> None:
    """Checks at 10, 15 and 20 s fail; the last one times out at 22 s: until then cvm-backend1 is
    healthy, takes the first connection and answers RST."""
    r = backend1_stopped_at_10s.telnet("cvm-vpc3", VIP, VPORT, at=15)
    assert (r.verdict, r.reason) == (Verdict.REFUSED, Reason.PORT_CLOSED)
    assert r.blocked_at == "cvm-backend1"


def test_once_unhealthy_the_stopped_backend_is_skipped(backend1_stopped_at_10s: Network) -> None:
    r = backend1_stopped_at_10s.telnet("cvm-vpc3", VIP, VPORT, at=22)
    assert r.connected
    assert r.packets[0].nodes[-1] == "cvm-backend2"
    assert load_balance_details(r) == ["wrr chose cvm-backend2:8080 (weight 10) among 1 healthy backend"]


def test_each_hop_reads_the_control_state_of_the_moment_the_syn_arrives(backend1_stopped_at_10s: Network) -> None:
    """The SYN from VPC3 reaches lb-service 3.4 ms after it leaves: sent at 21.990 s it finds
    cvm-backend1 still healthy, sent at 21.999 s it finds it unhealthy (from 22 s)."""
    net = backend1_stopped_at_10s
    early = net.telnet("cvm-vpc3", VIP, VPORT, at=21.990)
    assert (early.verdict, early.blocked_at) == (Verdict.REFUSED, "cvm-backend1")
    assert early.control_events == ()
    late = net.telnet("cvm-vpc3", VIP, VPORT, at=21.999)
    assert late.connected
    assert late.packets[0].nodes[-1] == "cvm-backend2"
    assert late.control_events == (
        (22.0, "health check: backend cvm-backend1:8080 of lb-service/lbl-1044 is now unhealthy"),
    )
