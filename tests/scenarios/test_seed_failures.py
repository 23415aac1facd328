"""The failures around step 5 of Tencent Cloud's Private Link + CCN best practice (the bundled scenario).

Each test changes the Chengdu/Chongqing scenario the way a user could get it wrong (or the way the
provider changes it over time), runs ``telnet 172.16.2.16 1044`` through the engine and asserts what
the user reads: the verdict, the reason code, the object named in ``ref``/``detail`` and the node
where the deciding packet stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from vpcsim import Network, ProbeResult, Reason, ScenarioError, Verdict
from vpcsim.cli import cli
from vpcsim.frontends import from_data
from vpcsim.report.steps import step_text
from vpcsim.trace import PacketTrace, StepKind, Translated

Data = dict[str, Any]
Build = Callable[[Data], Network]

VIP = "172.16.2.16"
VPORT = 1044
CLIENTS = ("cvm-vpc1", "cvm-vpc3")
PROVIDER_ACCOUNT = "100087654321"
LINUX_SYN_TIMES = [0.0, 1.0, 3.0, 7.0, 15.0, 31.0, 63.0]
"""When Linux connect() sends its SYNs (1 s initial RTO, doubling, tcp_syn_retries = 6)."""
LINUX_CONNECT_TIMEOUT = 127.0


def make_cross_account(data: Data, *, whitelisted: bool = True, auto_accept: bool = False) -> Data:
    """Move the provider VPC2 into another account (the best practice's step-2 screenshot)."""
    consumer = data["vpcs"]["vpc1"]["account"]
    data["vpcs"]["vpc2"]["account"] = PROVIDER_ACCOUNT
    service = data["endpoint_services"]["vpcsvc-service"]
    service["auto_accept"] = auto_accept
    service["whitelist"] = [consumer] if whitelisted else []
    return data


def syn_times(r: ProbeResult) -> list[float]:
    return [p.sent_at - r.started_at for p in r.packets if p.kind == "SYN"]


def load_balance_details(p: PacketTrace) -> list[str]:
    return [step_text(s) for h in p.hops for s in h.steps if s.kind is StepKind.LOAD_BALANCE]


def snat_source(p: PacketTrace) -> IPv4Address:
    """The source the endpoint's Private Link NAT gave the packet."""
    (diff,) = [
        d
        for h in p.hops
        if h.node == "vpce-vpc1"
        for s in h.steps
        if isinstance(s.data, Translated)
        for d in s.data.diffs
        if d.field == "src"
    ]
    return IPv4Address(diff.new)


def assert_linux_gave_up(r: ProbeResult) -> None:
    """A timeout is connect() giving up after its 7th SYN, 127 s after the first."""
    assert r.verdict is Verdict.TIMEOUT
    assert syn_times(r) == LINUX_SYN_TIMES
    assert r.connect_time == pytest.approx(LINUX_CONNECT_TIMEOUT)


# -- backend security group without Private Link's SNAT range ---------------------------------------


@pytest.mark.parametrize("client", CLIENTS)
def test_backend_group_admitting_the_vpc_cidr_instead_of_the_snat_range_times_out_naming_sg_backend(
    seed_data: Data, network_of: Build, client: str
) -> None:
    seed_data["security_groups"]["sg-backend"]["ingress"][0]["source"] = "10.0.0.0/16"
    r = network_of(seed_data).telnet(client, VIP, VPORT)
    assert (r.verdict, r.reason) == (Verdict.TIMEOUT, Reason.SG_INGRESS_DENIED)
    assert r.blocked_at == "cvm-backend1"
    assert r.ref == "sg-backend: no accept for tcp/8080 from 11.163.0.0/16 before rule #1"
    assert "sg-backend" in r.detail
    assert_linux_gave_up(r)


def test_backend_group_with_no_ingress_rules_times_out_on_its_default_deny(seed_data: Data, network_of: Build) -> None:
    seed_data["security_groups"]["sg-backend"]["ingress"] = []
    r = network_of(seed_data).telnet("cvm-vpc3", VIP, VPORT)
    assert (r.verdict, r.reason) == (Verdict.TIMEOUT, Reason.SG_INGRESS_DENIED)
    assert r.blocked_at == "cvm-backend1"
    assert r.ref == "sg-backend: no accept for tcp/8080 from 11.163.0.0/16"
    assert "sg-backend" in r.detail
    assert "default deny" in r.detail


def test_the_backend_sees_the_snat_source_not_the_client(seed_data: Data, network_of: Build) -> None:
    """Admitting the clients' own subnets does not help: the backend sees 11.163.0.0/16."""
    ingress = seed_data["security_groups"]["sg-backend"]["ingress"]
    ingress[0] = {"action": "accept", "protocol": "tcp", "port": 8080, "source": "172.16.0.0/12"}
    ingress.insert(1, {"action": "accept", "protocol": "tcp", "port": 8080, "source": "192.168.0.0/16"})
    r = network_of(seed_data).telnet("cvm-vpc3", VIP, VPORT)
    assert (r.verdict, r.reason) == (Verdict.TIMEOUT, Reason.SG_INGRESS_DENIED)
    assert r.ref == "sg-backend: no accept for tcp/8080 from 11.163.0.0/16 before rule #2"
    assert snat_source(r.packets[0]) in IPv4Network("11.163.0.0/16")


# -- endpoint pending, then accepted ----------------------------------------------------------------


@pytest.fixture
def pending_then_accepted(seed_data: Data, network_of: Build) -> Network:
    """Cross-account, whitelisted, no auto-accept: PENDING; the provider accepts at 300 s."""
    make_cross_account(seed_data)
    seed_data["timeline"] = [{"at": "300s", "action": "accept_endpoint", "endpoint": "vpce-vpc1"}]
    return network_of(seed_data)


@pytest.mark.parametrize("client", CLIENTS)
def test_pending_endpoint_times_out_before_the_provider_accepts(pending_then_accepted: Network, client: str) -> None:
    r = pending_then_accepted.telnet(client, VIP, VPORT, at=0)
    assert (r.verdict, r.reason) == (Verdict.TIMEOUT, Reason.ENDPOINT_NOT_ACTIVE)
    assert r.blocked_at == "vpce-vpc1"
    assert r.ref == "vpce-vpc1"
    assert "PENDING" in r.detail
    assert_linux_gave_up(r)


@pytest.mark.parametrize("client", CLIENTS)
def test_pending_endpoint_connects_after_the_provider_accepts(pending_then_accepted: Network, client: str) -> None:
    r = pending_then_accepted.telnet(client, VIP, VPORT, at=400)
    assert (r.verdict, r.reason) == (Verdict.CONNECTED, Reason.ESTABLISHED)
    assert r.attempts == 1
    assert "vpce-vpc1" in r.packets[0].nodes


def test_endpoint_is_still_not_active_while_accepting(pending_then_accepted: Network) -> None:
    """Accepted at 300 s, ACCEPTING for settings.endpoint_accept_delay (2 s): a connect at 238 s
    sends its last SYN at 301 s and gives up."""
    r = pending_then_accepted.telnet("cvm-vpc1", VIP, VPORT, at=238)
    assert (r.verdict, r.reason) == (Verdict.TIMEOUT, Reason.ENDPOINT_NOT_ACTIVE)
    assert "ACCEPTING" in r.detail
    assert_linux_gave_up(r)


def test_cross_account_endpoint_with_auto_accept_connects_at_once(seed_data: Data, network_of: Build) -> None:
    make_cross_account(seed_data, auto_accept=True)
    r = network_of(seed_data).telnet("cvm-vpc3", VIP, VPORT)
    assert (r.verdict, r.reason) == (Verdict.CONNECTED, Reason.ESTABLISHED)


# -- rejected ---------------------------------------------------------------------------------------


def test_rejected_endpoint_times_out_saying_rejected(seed_data: Data, network_of: Build) -> None:
    seed_data["timeline"] = [{"at": "10s", "action": "reject_endpoint", "endpoint": "vpce-vpc1"}]
    net = network_of(seed_data)
    assert net.telnet("cvm-vpc3", VIP, VPORT, at=0).connected
    r = net.telnet("cvm-vpc3", VIP, VPORT, at=20)
    assert (r.verdict, r.reason) == (Verdict.TIMEOUT, Reason.ENDPOINT_NOT_ACTIVE)
    assert r.blocked_at == "vpce-vpc1"
    assert r.ref == "vpce-vpc1"
    assert "REJECTED" in r.detail
    assert_linux_gave_up(r)


@pytest.mark.parametrize("client", CLIENTS)
def test_pending_endpoint_then_rejected_times_out_saying_rejected(
    seed_data: Data, network_of: Build, client: str
) -> None:
    make_cross_account(seed_data)
    seed_data["timeline"] = [{"at": "60s", "action": "reject_endpoint", "endpoint": "vpce-vpc1"}]
    net = network_of(seed_data)
    before = net.telnet(client, VIP, VPORT, at=0)
    assert "PENDING" in step_text(before.packets[0].hops[-1].steps[-1])
    r = net.telnet(client, VIP, VPORT, at=100)
    assert (r.verdict, r.reason) == (Verdict.TIMEOUT, Reason.ENDPOINT_NOT_ACTIVE)
    assert r.blocked_at == "vpce-vpc1"
    assert "REJECTED" in r.detail


def test_rejected_endpoint_accepted_again_connects(seed_data: Data, network_of: Build) -> None:
    """REJECTED -accept-> ACTIVE [PL7], through ACCEPTING."""
    make_cross_account(seed_data)
    seed_data["timeline"] = [
        {"at": "10s", "action": "reject_endpoint", "endpoint": "vpce-vpc1"},
        {"at": "200s", "action": "accept_endpoint", "endpoint": "vpce-vpc1"},
    ]
    net = network_of(seed_data)
    assert "REJECTED" in net.telnet("cvm-vpc3", VIP, VPORT, at=20).detail
    assert net.telnet("cvm-vpc3", VIP, VPORT, at=300).connected


# -- VPC3 not on the CCN ----------------------------------------------------------------------------


def test_vpc3_times_out_when_detached_from_the_ccn(seed_data: Data, network_of: Build) -> None:
    seed_data["timeline"] = [{"at": "10s", "action": "detach_vpc", "ccn": "ccn-chengdu-chongqing", "vpc": "vpc3"}]
    net = network_of(seed_data)
    assert net.telnet("cvm-vpc3", VIP, VPORT, at=0).connected
    r = net.telnet("cvm-vpc3", VIP, VPORT, at=20)
    assert (r.verdict, r.reason) == (Verdict.TIMEOUT, Reason.NO_ROUTE)
    assert r.blocked_at == "vpc3"
    assert r.ref == "route table vpc3:default"
    assert "not attached" in r.detail
    assert_linux_gave_up(r)
    assert net.telnet("cvm-vpc1", VIP, VPORT, at=20).connected


def test_vpc3_times_out_when_never_attached_to_the_ccn(seed_data: Data, network_of: Build) -> None:
    seed_data["ccns"]["ccn-chengdu-chongqing"]["attachments"] = ["vpc1"]
    net = network_of(seed_data)
    r = net.telnet("cvm-vpc3", VIP, VPORT)
    assert (r.verdict, r.reason) == (Verdict.TIMEOUT, Reason.NO_ROUTE)
    assert r.blocked_at == "vpc3"
    assert "vpc3" in r.ref
    assert net.telnet("cvm-vpc1", VIP, VPORT).connected


def test_vpc3_times_out_when_vpc1_is_detached_from_the_ccn(seed_data: Data, network_of: Build) -> None:
    """The endpoint's VPC leaving takes its subnet route (and the VIP) out of the CCN."""
    seed_data["timeline"] = [{"at": "10s", "action": "detach_vpc", "ccn": "ccn-chengdu-chongqing", "vpc": "vpc1"}]
    r = network_of(seed_data).telnet("cvm-vpc3", VIP, VPORT, at=20)
    assert (r.verdict, r.reason) == (Verdict.TIMEOUT, Reason.NO_ROUTE)
    assert r.blocked_at == "vpc3"


# -- wrong VPORT ------------------------------------------------------------------------------------


@pytest.mark.parametrize("client", CLIENTS)
def test_wrong_vport_times_out_at_the_load_balancer(seed_net: Network, client: str) -> None:
    r = seed_net.telnet(client, VIP, 1045)
    assert (r.verdict, r.reason) == (Verdict.TIMEOUT, Reason.NO_LISTENER)
    assert r.blocked_at == "lb-service"
    assert r.ref == "lb-service listeners"
    assert "port 1045" in r.detail
    assert_linux_gave_up(r)


def test_listener_moved_to_another_port_makes_the_published_vport_time_out(seed_data: Data, network_of: Build) -> None:
    seed_data["load_balancers"]["lb-service"]["listeners"]["lbl-1044"]["port"] = 2044
    net = network_of(seed_data)
    r = net.telnet("cvm-vpc3", VIP, VPORT)
    assert (r.verdict, r.reason) == (Verdict.TIMEOUT, Reason.NO_LISTENER)
    assert r.blocked_at == "lb-service"
    assert "2044" in r.detail
    assert net.telnet("cvm-vpc3", VIP, 2044).connected


# -- backend not listening --------------------------------------------------------------------------


@pytest.mark.parametrize("client", CLIENTS)
def test_backends_not_listening_refuse_the_connection(seed_data: Data, network_of: Build, client: str) -> None:
    for backend in ("cvm-backend1", "cvm-backend2"):
        del seed_data["instances"][backend]["listen"]
    r = network_of(seed_data).telnet(client, VIP, VPORT)
    assert (r.verdict, r.reason) == (Verdict.REFUSED, Reason.PORT_CLOSED)
    assert r.blocked_at == "cvm-backend1"
    assert r.ref == "cvm-backend1"
    assert "8080" in r.detail
    assert r.attempts == 1
    syn, rst = r.packets
    assert rst.kind == "RST"
    assert rst.nodes == tuple(reversed(syn.nodes))
    # The health checks (on the service port) fail too: all-dead-all-alive still sends the SYN.
    assert any("all-dead-all-alive" in d for d in load_balance_details(syn))


@pytest.fixture
def listeners_stopped_at_10s(seed_data: Data, network_of: Build) -> Network:
    seed_data["timeline"] = [
        {"at": "10s", "action": "stop_listener", "instance": backend, "port": 8080}
        for backend in ("cvm-backend1", "cvm-backend2")
    ]
    return network_of(seed_data)


def test_stopped_listeners_refuse_before_the_health_checks_notice(listeners_stopped_at_10s: Network) -> None:
    """Health checks every 5 s, 3 failures: the backends count as healthy until 22 s."""
    net = listeners_stopped_at_10s
    assert net.telnet("cvm-vpc3", VIP, VPORT, at=5).connected
    r = net.telnet("cvm-vpc3", VIP, VPORT, at=12)
    assert (r.verdict, r.reason) == (Verdict.REFUSED, Reason.PORT_CLOSED)
    assert r.blocked_at == "cvm-backend1"
    assert load_balance_details(r.packets[0]) == ["wrr chose cvm-backend1:8080 (weight 10) among 2 healthy backends"]


def test_stopped_listeners_refuse_through_all_dead_all_alive_once_unhealthy(listeners_stopped_at_10s: Network) -> None:
    r = listeners_stopped_at_10s.telnet("cvm-vpc1", VIP, VPORT, at=30)
    assert (r.verdict, r.reason) == (Verdict.REFUSED, Reason.PORT_CLOSED)
    assert r.blocked_at == "cvm-backend1"
    assert any("all-dead-all-alive" in d for d in load_balance_details(r.packets[0]))


# -- every backend unhealthy, service port open -----------------------------------------------------


@pytest.mark.parametrize("client", CLIENTS)
def test_health_checks_on_a_closed_port_still_connect_through_all_dead_all_alive(
    seed_data: Data, network_of: Build, client: str
) -> None:
    seed_data["load_balancers"]["lb-service"]["listeners"]["lbl-1044"]["health_check"]["port"] = 9999
    r = network_of(seed_data).telnet(client, VIP, VPORT)
    assert (r.verdict, r.reason) == (Verdict.CONNECTED, Reason.ESTABLISHED)
    details = load_balance_details(r.packets[0])
    assert any("all-dead-all-alive" in d and "lbl-1044" in d for d in details), details
    assert any("among 2 bound backends" in d for d in details), details


# -- cross-account endpoint without whitelist -------------------------------------------------------


@pytest.fixture
def not_whitelisted(seed_data: Data) -> Data:
    make_cross_account(seed_data, whitelisted=False)
    seed_data["checks"] = [
        {
            "name": "VPC3 through the failed endpoint",
            "from": "cvm-vpc3",
            "to": f"{VIP}:{VPORT}",
            "expect": "timeout",
            "reason": "endpoint_not_active",
        },
        {"name": "VPC1 through the failed endpoint", "from": "cvm-vpc1", "to": "vpce-vpc1:1044", "expect": "timeout"},
    ]
    return seed_data


def test_endpoint_of_a_non_whitelisted_account_loads_failed_with_a_warning(not_whitelisted: Data) -> None:
    topo = from_data(not_whitelisted, source="<test>")
    (warning,) = topo.warnings
    assert "vpce-vpc1" in warning
    assert "FAILED" in warning
    assert "whitelist" in warning


def test_checks_through_a_failed_endpoint_time_out_naming_it(not_whitelisted: Data, network_of: Build) -> None:
    results = network_of(not_whitelisted).run_checks()
    assert [c.passed for c in results] == [True, True]
    for c in results:
        r = c.result
        assert (r.verdict, r.reason) == (Verdict.TIMEOUT, Reason.ENDPOINT_NOT_ACTIVE)
        assert r.blocked_at == "vpce-vpc1"
        assert r.ref == "vpce-vpc1"
        assert "vpce-vpc1 is FAILED" in r.detail
        assert_linux_gave_up(r)


def test_validate_warns_about_the_failed_endpoint_and_exits_0(not_whitelisted: Data, tmp_path: Path) -> None:
    path = tmp_path / "not_whitelisted.yaml"
    path.write_text(yaml.safe_dump(not_whitelisted), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert f"warning: {path}:" in result.stderr
    assert ": endpoints.vpce-vpc1: endpoint vpce-vpc1: creation FAILED" in result.stderr
    assert result.stderr.rstrip().endswith("[endpoint-creation-failed]")
    assert "valid" in result.stdout


def test_check_reports_the_failed_endpoint_and_passes_its_timeout_checks(not_whitelisted: Data, tmp_path: Path) -> None:
    path = tmp_path / "not_whitelisted.yaml"
    path.write_text(yaml.safe_dump(not_whitelisted), encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 0, result.output
    assert "warning: endpoint vpce-vpc1: creation FAILED" in result.stdout
    assert "2 passed, 0 failed" in result.stdout


def test_a_failed_endpoint_cannot_be_accepted_later(not_whitelisted: Data) -> None:
    not_whitelisted["timeline"] = [{"at": "20s", "action": "accept_endpoint", "endpoint": "vpce-vpc1"}]
    with pytest.raises(ScenarioError, match=r"timeline\[0\]\.endpoint: endpoint vpce-vpc1 FAILED"):
        from_data(not_whitelisted, source="<test>")
