"""Huawei Cloud VPC Endpoint (VPCEP): port mappings, the three kinds of backend, approval, the
service's whitelist of accounts, an interface endpoint's access control, the connection limit, the
VPCEP range 198.19.128.0/17, cloud services through gateway and interface endpoints, and data
centres that use them over VPN and Direct Connect (docs/huawei.md, docs/decisions.md Q36).

Each test changes one thing in a small picture (tests/scenarios/huawei_networks.py) or in a bundled
scenario and asserts the verdict with its reason. Every verdict is the engine's.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import pytest
from tests.scenarios.huawei_networks import (
    BACKEND_IP,
    ELB_VIP,
    VPCEP,
    Data,
    accept,
    answered,
    bundled,
    diffs,
    ecs,
    scenario,
    translations,
    vpc,
    with_elb,
    with_other_account,
)
from tests.scenarios.networks import dropped, ends, found, net, no_route, refusal

from vpcsim import Flow, Reason, Verdict
from vpcsim.errors import WarningCode
from vpcsim.ir import Translator
from vpcsim.trace import CircuitsDown, Delivered, Denied, Inactive, NoPortMapping, RouteHit, SessionLimit

CONNECTED = (Verdict.CONNECTED, Reason.ESTABLISHED)
ANSWERED = (Verdict.ANSWERED, Reason.ANSWERED)
NOT_ACTIVE = (Verdict.TIMEOUT, Reason.ENDPOINT_NOT_ACTIVE)
NO_MAPPING = (Verdict.TIMEOUT, Reason.NO_PORT_MAPPING)
NO_ROUTE = (Verdict.TIMEOUT, Reason.NO_ROUTE)
SG_DENIED = (Verdict.TIMEOUT, Reason.SG_INGRESS_DENIED)


def inactive(r: Any) -> Inactive:
    drop = dropped(r)
    assert isinstance(drop, Inactive), drop
    return drop


def service(d: Data) -> Data:
    svc: Data = d["endpoint_services"]["svc-vm"]
    return svc


def endpoint(d: Data, eid: str = "vpce-c") -> Data:
    ep: Data = d["endpoints"][eid]
    return ep


def translators(d: Data, eid: str = "vpce-c") -> list[Translator]:
    """The endpoint's translator in every forwarding state of the compiled network."""
    out = []
    for state in net(d).compiled.states:
        node = state.nodes[eid]
        assert isinstance(node, Translator)
        out.append(node)
    return out


# -- port mapping: client_port → server_port ---------------------------------------------------------


def test_the_backend_is_reached_on_the_server_port_of_the_mapping() -> None:
    r = net(scenario()).telnet("ecs-c", "vpce-c", 80)
    assert ends(r) == CONNECTED
    (nat,) = translations(r, "vpce-c")
    assert nat.translation == "VPCEP NAT"
    assert diffs(nat)["dport"] == ("80", "8080")
    assert diffs(nat)["dst"] == ("192.168.1.50", BACKEND_IP)
    assert found(r, Delivered)[-1] == Delivered("ecs-s", "tcp", 8080)


def test_a_client_port_the_service_does_not_map_times_out_at_the_endpoint() -> None:
    d = scenario()
    r = net(d).telnet("ecs-c", "vpce-c", 8080)  # the backend's own port: the client must use 80
    assert (*ends(r), r.blocked_at) == (*NO_MAPPING, "vpce-c")
    assert dropped(r) == NoPortMapping("vpce-c", "VPC endpoint vpce-c", "tcp", 8080, (80,))
    service(d)["ports"].append({"client_port": 8080, "server_port": 8080})  # map it, and it connects
    assert ends(net(d).telnet("ecs-c", "vpce-c", 8080)) == CONNECTED


def test_a_udp_mapping_carries_udp_and_not_tcp() -> None:
    d = scenario()
    assert ends(net(d).nc("ecs-c", "vpce-c", 53, udp=True)) == NO_MAPPING  # only TCP 80 so far
    service(d)["ports"].append({"client_port": 53, "server_port": 5353, "protocol": "UDP"})
    n = net(d)
    r = n.nc("ecs-c", "vpce-c", 53, udp=True)
    assert ends(r) == ANSWERED
    assert diffs(translations(r, "vpce-c")[0])["dport"] == ("53", "5353")
    r = n.telnet("ecs-c", "vpce-c", 53)  # a UDP mapping maps no TCP port
    assert ends(r) == NO_MAPPING
    assert dropped(r).ports == (80,)


# -- server_type: LB, VM, VIP ------------------------------------------------------------------------


def as_lb(d: Data) -> Data:
    return with_elb(d)


def as_vm(d: Data) -> Data:
    return d


def as_vip(d: Data) -> Data:
    # Huawei wants the source/destination check off on an ECS behind a virtual IP (Q38).
    d["instances"]["ecs-s"].update(virtual_ips=["10.3.1.200"], source_dest_check=False)
    service(d).update(server_type="VIP", vip="10.3.1.200")
    return d


@pytest.mark.parametrize(
    ("shape", "target", "path"),
    [
        (as_lb, ELB_VIP, ("ecs-c", "vpc-c", "vpce-c", "elb-s", "vpc-s", "ecs-s")),
        (as_vm, BACKEND_IP, ("ecs-c", "vpc-c", "vpce-c", "vpc-s", "ecs-s")),
        (as_vip, "10.3.1.200", ("ecs-c", "vpc-c", "vpce-c", "vpc-s", "ecs-s")),
    ],
    ids=["LB", "VM", "VIP"],
)
def test_each_server_type_reaches_the_backend(shape: Any, target: str, path: tuple[str, ...]) -> None:
    r = net(shape(scenario())).telnet("ecs-c", "vpce-c", 80)
    assert ends(r) == CONNECTED
    assert diffs(translations(r, "vpce-c")[0])["dst"] == ("192.168.1.50", target)
    assert r.packets[0].nodes == path
    assert found(r, Delivered)[-1] == Delivered("ecs-s", "tcp", 8080)


def test_a_virtual_ip_answers_only_with_the_source_dest_check_off() -> None:
    d = as_vip(scenario())
    del d["instances"]["ecs-s"]["source_dest_check"]  # on, by default
    r = net(d).telnet("ecs-c", "vpce-c", 80)
    assert ends(r) == (Verdict.TIMEOUT, Reason.SOURCE_DEST_CHECK)
    assert r.blocked_at == "ecs-s"


def test_a_vip_service_names_one_of_the_ecss_virtual_ips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = as_vip(scenario())
    service(d)["vip"] = "10.3.1.201"
    path, message = refusal(tmp_path, capsys, d)
    assert path == "endpoint_services.svc-vm.vip"
    assert message == "10.3.1.201 is not a virtual IP of ECS ecs-s (its virtual_ips)"


# -- approval ----------------------------------------------------------------------------------------


def test_approval_is_on_by_default_even_for_the_owners_own_endpoint() -> None:
    d = scenario()
    del service(d)["approval_enabled"]  # the API's default: true
    r = net(d).telnet("ecs-c", "vpce-c", 80)  # vpc-c is the service owner's account
    assert (*ends(r), r.blocked_at) == (*NOT_ACTIVE, "vpce-c")
    assert inactive(r).state == "pendingAcceptance"


def test_without_approval_the_endpoint_is_accepted_at_creation() -> None:
    d = scenario()
    assert service(d)["approval_enabled"] is False
    assert ends(net(d).telnet("ecs-c", "vpce-c", 80)) == CONNECTED
    assert {t.state for t in translators(d)} == {"accepted"}


def test_a_pending_endpoint_connects_once_the_timeline_accepts_it() -> None:
    d = scenario()
    service(d)["approval_enabled"] = True
    d["timeline"] = [{"at": "300s", "action": "accept_endpoint", "endpoint": "vpce-c"}]
    n = net(d)
    r = n.telnet("ecs-c", "vpce-c", 80)  # its SYN retries end long before 300 s
    assert ends(r) == NOT_ACTIVE
    assert inactive(r).state == "pendingAcceptance"
    assert ends(n.telnet("ecs-c", "vpce-c", 80, at="310s")) == CONNECTED


def test_a_connect_still_retrying_its_syn_gets_through_when_the_accept_lands() -> None:
    d = scenario()
    service(d)["approval_enabled"] = True
    d["timeline"] = [{"at": "10s", "action": "accept_endpoint", "endpoint": "vpce-c"}]
    r = net(d).telnet("ecs-c", "vpce-c", 80)
    # SYNs at 0, 1, 3, 7 and 15 s; the endpoint forwards from 12 s (2 s after the accept), so the
    # fifth SYN is the first to pass.
    assert ends(r) == CONNECTED
    assert r.attempts == 5
    assert 15 < r.connect_time < 16


def test_a_reject_on_the_timeline_cuts_an_accepted_endpoint_off() -> None:
    d = scenario()
    d["timeline"] = [{"at": "100s", "action": "reject_endpoint", "endpoint": "vpce-c"}]
    n = net(d)
    assert ends(n.telnet("ecs-c", "vpce-c", 80, at="50s")) == CONNECTED
    r = n.telnet("ecs-c", "vpce-c", 80, at="110s")
    assert ends(r) == NOT_ACTIVE
    assert (inactive(r).state, inactive(r).note) == ("rejected", "rejected by the provider at 100s")


# -- the service's whitelist of accounts ------------------------------------------------------------


def test_the_owners_account_needs_no_whitelist_entry_another_account_does() -> None:
    d = with_other_account(scenario())
    assert "whitelist" not in service(d)
    n = net(d)
    assert ends(n.telnet("ecs-c", "vpce-c", 80)) == CONNECTED  # domain-a owns svc-vm
    r = n.telnet("ecs-o", "vpce-o", 80)  # domain-b, with an empty whitelist
    assert (*ends(r), r.blocked_at) == (*NOT_ACTIVE, "vpce-o")
    assert inactive(r).state == "failed"
    (warning,) = n.topology.coded_warnings
    assert (warning.code, warning.path) == (WarningCode.ENDPOINT_CREATION_FAILED, "endpoints.vpce-o")
    assert "account domain-b is not in the whitelist of svc-vm" in warning.message


@pytest.mark.parametrize(
    ("whitelist", "expected"),
    [
        ([], NOT_ACTIVE),
        (["iam:domain::domain-x"], NOT_ACTIVE),
        (["iam:domain::domain-b"], CONNECTED),
        (["iam:domain::domain-x", "*"], CONNECTED),
    ],
    ids=["empty", "another-account", "listed", "star"],
)
def test_the_whitelist_decides_whether_another_account_can_create_an_endpoint(
    whitelist: list[str], expected: tuple[Verdict, Reason]
) -> None:
    d = with_other_account(scenario())
    service(d)["whitelist"] = whitelist
    n = net(d)
    assert ends(n.telnet("ecs-o", "vpce-o", 80)) == expected
    failed = [w.path for w in n.topology.coded_warnings if w.code is WarningCode.ENDPOINT_CREATION_FAILED]
    assert failed == ([] if expected == CONNECTED else ["endpoints.vpce-o"])
    assert ends(n.telnet("ecs-c", "vpce-c", 80)) == CONNECTED  # the owner's own, whatever the list


def test_a_whitelist_entry_names_an_account_as_iam_domain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = with_other_account(scenario())
    service(d)["whitelist"] = ["domain-b"]
    path, _ = refusal(tmp_path, capsys, d)
    assert path == "endpoint_services.svc-vm.whitelist[0]"


# -- an interface endpoint's access control ---------------------------------------------------------


def with_second_client(d: Data) -> Data:
    d["instances"]["ecs-c2"] = ecs("vpc-c", "subnet-c", "192.168.1.11", "sg-client")
    return d


def test_access_control_admits_the_listed_clients_and_refuses_the_others() -> None:
    d = with_second_client(scenario())
    assert ends(net(d).telnet("ecs-c2", "vpce-c", 80)) == CONNECTED  # off: any address may use it
    endpoint(d).update(enable_whitelist=True, whitelist=["192.168.1.10/32"])
    n = net(d)
    assert ends(n.telnet("ecs-c", "vpce-c", 80)) == CONNECTED
    r = n.telnet("ecs-c2", "vpce-c", 80)
    assert (*ends(r), r.blocked_at) == (Verdict.TIMEOUT, Reason.SOURCE_NOT_ALLOWED, "vpce-c")
    drop = dropped(r)
    assert isinstance(drop, Denied)
    assert (drop.owner, drop.peer) == ("VPC endpoint vpce-c", "192.168.1.11")


def test_access_control_holds_at_most_twenty_entries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = scenario()
    entries = [f"192.168.{i}.0/24" for i in range(1, 22)]
    endpoint(d).update(enable_whitelist=True, whitelist=entries[:20])
    assert ends(net(d).telnet("ecs-c", "vpce-c", 80)) == CONNECTED  # 20 is the limit, and 192.168.1.0/24 is in
    endpoint(d)["whitelist"] = entries
    path, message = refusal(tmp_path, capsys, d)
    assert path == "endpoints.vpce-c.whitelist"
    assert message == "too many entries: 21 (at most 20)"


def test_access_control_entries_need_enable_whitelist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = scenario()
    endpoint(d)["whitelist"] = ["192.168.1.10/32"]
    path, message = refusal(tmp_path, capsys, d)
    assert path == "endpoints.vpce-c.whitelist"
    assert message == "the whitelist applies only with enable_whitelist: true"


# -- concurrent connections per endpoint ------------------------------------------------------------


def test_the_connection_limit_per_endpoint_is_3000_unless_set() -> None:
    d = scenario()
    assert {t.limits.max_sessions if t.limits is not None else 0 for t in translators(d)} == {3000}
    d["settings"] = {"endpoint_connections": 5}
    assert {t.limits.max_sessions if t.limits is not None else 0 for t in translators(d)} == {5}


@pytest.mark.parametrize(
    ("limit", "second"), [(1, (Verdict.TIMEOUT, Reason.SESSION_LIMIT)), (2, CONNECTED), (0, CONNECTED)]
)
def test_a_connection_beyond_the_limit_is_dropped_at_the_endpoint(limit: int, second: tuple[Verdict, Reason]) -> None:
    d = scenario()
    d["settings"] = {"endpoint_connections": limit}  # 0 lifts the limit
    first, then = net(d).simulate([Flow("ecs-c", "vpce-c", 80, 0.0), Flow("ecs-c", "vpce-c", 80, "1ms")])
    assert ends(first) == CONNECTED
    assert ends(then) == second
    if second != CONNECTED:
        assert then.blocked_at == "vpce-c"
        assert dropped(then) == SessionLimit("vpce-c", "VPC endpoint vpce-c", 1)


# -- the VPCEP range 198.19.128.0/17 ----------------------------------------------------------------


def test_the_backends_group_must_admit_the_vpcep_range() -> None:
    d = scenario()
    r = net(d).telnet("ecs-c", "vpce-c", 80)
    assert ends(r) == CONNECTED
    assert IPv4Address(answered(r)) in IPv4Network(VPCEP)  # the endpoint's address, not the client's
    d["security_groups"]["sg-backend"]["ingress"] = [accept("tcp", 8080, source="192.168.0.0/16")]  # the client's
    r = net(d).telnet("ecs-c", "vpce-c", 80)
    assert (*ends(r), r.blocked_at) == (*SG_DENIED, "ecs-s")
    drop = dropped(r)
    assert isinstance(drop, Denied)
    assert IPv4Address(drop.peer) in IPv4Network(VPCEP)


def test_a_vpc_overlapping_the_vpcep_range_is_a_load_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = scenario()
    d["vpcs"]["vpc-x"] = vpc("198.19.192.0/18", {"subnet-x": "198.19.193.0/24"})
    path, message = refusal(tmp_path, capsys, d)
    assert path == "vpcs.vpc-x.cidr"
    assert message.startswith("198.19.192.0/18 overlaps 198.19.128.0/17")


@pytest.mark.parametrize(
    ("where", "path"),
    [("route", "route_tables.rtb-c.routes.to-x.destination"), ("idc", "idcs.idc-x.cidrs[0]")],
)
def test_a_route_overlapping_the_vpcep_range_is_a_load_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str, path: str
) -> None:
    d = scenario()
    if where == "route":
        routes = {"to-x": {"destination": "198.19.130.0/24", "next_hop": {"type": "instance", "id": "ecs-c"}}}
        d["route_tables"] = {"rtb-c": {"vpc": "vpc-c", "default": True, "routes": routes}}
    else:  # a data centre's range becomes routes in the VPC its gateway joins
        d["idcs"] = {"idc-x": {"cidrs": ["198.19.130.0/24"]}}
        d["dc_gateways"] = {"dcgw-x": {"vpc": "vpc-c", "idc": "idc-x", "delay": "1ms"}}
    got, message = refusal(tmp_path, capsys, d)
    assert got == path
    assert message.startswith("198.19.130.0/24 overlaps 198.19.128.0/17")


def test_the_legacy_setting_moves_the_range_to_198_19_128_0_20(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = scenario()
    d["vpcs"]["vpc-x"] = vpc("198.19.192.0/18", {"subnet-x": "198.19.193.0/24"})  # in the /17, not the /20
    assert refusal(tmp_path, capsys, d)[0] == "vpcs.vpc-x.cidr"
    d["settings"] = {"vpcep_cidr": "198.19.128.0/20"}
    d["security_groups"]["sg-backend"]["ingress"] = [accept("tcp", 8080, source="198.19.128.0/20")]
    r = net(d).telnet("ecs-c", "vpce-c", 80)
    assert ends(r) == CONNECTED
    assert IPv4Address(answered(r)) in IPv4Network("198.19.128.0/20")


def with_services(d: Data, count: int) -> Data:
    """``count`` more VM services in vpc-s (svc-a00, svc-a01, ...: sorted before svc-vm), each with
    its own ECS; vpce-c still uses svc-vm, now the last by sorted id."""
    for i in range(count):
        d["instances"][f"ecs-x{i:02}"] = ecs("vpc-s", "subnet-s", f"10.3.1.{20 + i}", "sg-backend", listen=[8080])
        d["endpoint_services"][f"svc-a{i:02}"] = {
            "vpc": "vpc-s",
            "server_type": "VM",
            "port_id": f"ecs-x{i:02}",
            "approval_enabled": False,
            "ports": [{"client_port": 80, "server_port": 8080}],
        }
    return d


def test_with_the_legacy_range_every_service_translates_into_the_20() -> None:
    d = with_services(scenario(), 1)
    d["settings"] = {"vpcep_cidr": "198.19.128.0/20"}
    d["security_groups"]["sg-backend"]["ingress"] = [accept("tcp", 8080, source="198.19.128.0/20")]
    r = net(d).telnet("ecs-c", "vpce-c", 80)
    assert IPv4Address(answered(r) if r.connected else dropped(r).peer) in IPv4Network("198.19.128.0/20")
    assert ends(r) == CONNECTED


def test_a_ninth_service_still_translates_into_the_vpcep_range() -> None:
    d = with_services(scenario(), 8)  # svc-vm is the ninth by sorted id
    r = net(d).telnet("ecs-c", "vpce-c", 80)
    assert IPv4Address(answered(r) if r.connected else dropped(r).peer) in IPv4Network(VPCEP)
    assert ends(r) == CONNECTED


# -- cloud services: OBS through a gateway endpoint, DNS through an interface endpoint ---------------


def obs_route(r: Any) -> RouteHit:
    """The route that sent the packet to the OBS gateway endpoint."""
    (hit,) = [h for h in found(r, RouteHit) if h.next_hop == "vpce-obs"]
    assert isinstance(hit, RouteHit)
    return hit


@pytest.mark.parametrize("port", [80, 443])
def test_obs_is_reached_through_the_gateway_endpoints_route(port: int) -> None:
    r = net(bundled("huawei_cloud_services")).telnet("ecs-2", "obs", port)
    assert ends(r) == CONNECTED
    hit = obs_route(r)
    assert (hit.router, hit.table, hit.entry, hit.prefix, hit.hop_noun) == (
        "vpc-2",
        "rtb-app",
        "vpce-obs",
        "100.125.0.0/16",
        "gateway endpoint",
    )
    assert r.packets[0].nodes == ("ecs-2", "vpc-2", "vpce-obs", "cloud:cn-north-4", "obs")
    assert found(r, Delivered)[-1] == Delivered("obs", "tcp", port)


def test_obs_refuses_ports_other_than_http_and_https() -> None:
    r = net(bundled("huawei_cloud_services")).telnet("ecs-2", "obs", 21)
    assert (*ends(r), r.blocked_at) == (Verdict.REFUSED, Reason.PORT_CLOSED, "obs")


def test_a_subnet_on_a_route_table_the_gateway_endpoint_does_not_name_has_no_route_to_obs() -> None:
    d = bundled("huawei_cloud_services")
    r = net(d).telnet("ecs-batch", "obs", 443)
    assert (*ends(r), r.blocked_at) == (*NO_ROUTE, "vpc-2")
    assert (no_route(r).table, no_route(r).address) == ("rtb-batch", "100.125.4.25")
    endpoint(d, "vpce-obs")["routetables"].append("rtb-batch")  # name its table too
    r = net(d).telnet("ecs-batch", "obs", 443)
    assert ends(r) == CONNECTED
    assert obs_route(r).table == "rtb-batch"


def test_dns_answers_through_its_interface_endpoint_over_udp_and_tcp() -> None:
    n = net(bundled("huawei_cloud_services"))
    r = n.nc("ecs-2", "vpce-dns", 53, udp=True)
    assert ends(r) == ANSWERED
    assert diffs(translations(r, "vpce-dns")[0])["dst"] == ("10.2.1.53", "100.125.1.250")
    assert found(r, Delivered)[0] == Delivered("dns", "udp", 53)
    r = n.telnet("ecs-2", "vpce-dns", 53)
    assert ends(r) == CONNECTED
    assert found(r, Delivered)[0] == Delivered("dns", "tcp", 53)


def test_a_gateway_endpoint_without_routetables_uses_the_vpcs_default_table() -> None:
    d = bundled("huawei_cloud_services")
    del endpoint(d, "vpce-obs")["routetables"]
    n = net(d)
    assert obs_route(n.telnet("ecs-2", "obs", 443)).table == "rtb-app"  # the default table
    assert ends(n.telnet("ecs-batch", "obs", 443)) == NO_ROUTE
    # Make rtb-batch the default (rtb-app now bound to subnet-app by name): the route follows it.
    d["route_tables"]["rtb-app"] = {"vpc": "vpc-2", "subnets": ["subnet-app"]}
    d["route_tables"]["rtb-batch"] = {"vpc": "vpc-2", "default": True}
    n = net(d)
    r = n.telnet("ecs-batch", "obs", 443)
    assert ends(r) == CONNECTED
    assert obs_route(r).table == "rtb-batch"
    r = n.telnet("ecs-2", "obs", 443)
    assert ends(r) == NO_ROUTE
    assert no_route(r).table == "rtb-app"


@pytest.mark.parametrize("which", ["cloud service", "endpoint service"])
def test_an_endpoint_for_a_service_in_another_region_is_a_load_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str
) -> None:
    if which == "cloud service":
        d = bundled("huawei_cloud_services")
        d["cloud_services"]["obs"]["region"] = "cn-east-3"
        eid = "vpce-obs"
    else:
        d = scenario()
        d["vpcs"]["vpc-c"] = vpc("192.168.0.0/16", {"subnet-c": "192.168.1.0/24"}, region="cn-east-3")
        eid = "vpce-c"
    path, message = refusal(tmp_path, capsys, d)
    assert path == f"endpoints.{eid}.service"
    assert "VPC Endpoint is same-region only" in message


@pytest.mark.parametrize(("key", "value"), [("subnet", "subnet-app"), ("ip", "10.2.1.60")])
def test_a_gateway_endpoint_has_no_subnet_or_address(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, value: str
) -> None:
    d = bundled("huawei_cloud_services")
    endpoint(d, "vpce-obs")[key] = value
    path, message = refusal(tmp_path, capsys, d)
    assert path == f"endpoints.vpce-obs.{key}"
    assert message == f"a gateway endpoint (obs) has no {key!r}: it is reached by routes"


def test_a_policy_that_denies_warns_and_the_connection_still_opens() -> None:
    d = bundled("huawei_cloud_services")
    n = net(d)
    (warning,) = n.topology.coded_warnings
    assert (warning.code, warning.path) == (WarningCode.ENDPOINT_POLICY_DENIES, "endpoints.vpce-obs.policy_statement")
    assert "obs:object:DeleteObject" in warning.message
    assert ends(n.telnet("ecs-2", "obs", 443)) == CONNECTED  # a policy decides requests, not packets
    statements = endpoint(d, "vpce-obs")["policy_statement"]
    endpoint(d, "vpce-obs")["policy_statement"] = [s for s in statements if s["Effect"] == "Allow"]
    assert net(d).topology.coded_warnings == ()


# -- a data centre over VPN and Direct Connect -------------------------------------------------------


def test_a_data_centre_reaches_obs_by_the_gateway_endpoints_route_in_the_default_table() -> None:
    d = bundled("huawei_idc")
    for host, gateway in (("office-pc", "vpngw-1"), ("factory-server", "dcgw-1")):
        r = net(d).telnet(host, "obs", 443)
        assert ends(r) == CONNECTED
        assert r.packets[0].nodes[2:] == (gateway, "vpc-1", "vpce-obs", "cloud:cn-north-4", "obs")
        assert (obs_route(r).router, obs_route(r).table) == ("vpc-1", "rtb-1")


def test_a_gateway_endpoint_that_names_another_table_does_not_serve_a_data_centre() -> None:
    # docs/decisions.md Q36: a packet from a VPN or Direct Connect gateway is routed by the default
    # table, so the endpoint's route must be there.
    d = bundled("huawei_idc")
    d["route_tables"]["rtb-2"] = {"vpc": "vpc-1", "subnets": ["subnet-1"]}
    endpoint(d, "vpce-obs")["routetables"] = ["rtb-2"]
    r = net(d).telnet("office-pc", "obs", 443)
    assert (*ends(r), r.blocked_at) == (*NO_ROUTE, "vpc-1")
    assert no_route(r).entered_from == "vpngw-1"


def test_a_data_centre_reaches_dns_and_an_ecs_through_interface_endpoints() -> None:
    n = net(bundled("huawei_idc"))
    assert ends(n.nc("office-pc", "vpce-dns", 53, udp=True)) == ANSWERED
    assert ends(n.telnet("office-pc", "vpce-dns", 53)) == CONNECTED
    r = n.telnet("office-pc", "vpce-ecs2", 80)
    assert ends(r) == CONNECTED
    assert found(r, Delivered)[-1] == Delivered("ecs-2", "tcp", 8080)


@pytest.mark.parametrize(("to", "port", "udp"), [("obs", 443, False), ("vpce-dns", 53, True), ("vpce-ecs1", 80, False)])
def test_with_the_tunnel_down_the_office_reaches_no_endpoint(to: str, port: int, udp: bool) -> None:
    n = net(bundled("huawei_idc"))  # tun-1 is down from 300 s to 600 s
    r = n.nc("office-pc", to, port, udp=udp, at="310s")
    assert (*ends(r), r.blocked_at) == (Verdict.TIMEOUT, Reason.TUNNEL_DOWN, "vpngw-1")
    assert dropped(r) == CircuitsDown("vpngw-1", "VPN gateway", (("tun-1", "DOWN"),), "tunnel", "10.88.1.20")
    assert n.nc("office-pc", to, port, udp=udp, at="610s").succeeded
