"""Huawei Cloud's network around the endpoints: shared and dedicated ELBs (the source a backend sees,
client-IP transfer, health checks filtered by the backend's groups), stateful network ACLs with their
default rules, same-region peering, an ECS's source/destination check, the subnet's reserved
addresses, and the nouns a trace speaks in (docs/huawei.md, docs/decisions.md Q37, Q38).

Each test changes one thing in a small picture (tests/scenarios/huawei_networks.py) or in a bundled
scenario and asserts the verdict with its reason. Every verdict is the engine's.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import pytest
from tests.scenarios.huawei_networks import (
    SHARED_ELB,
    VPCEP,
    Data,
    accept,
    answered,
    bundled,
    chosen,
    ecs,
    scenario,
    vpc,
    with_elb,
)
from tests.scenarios.networks import dropped, ends, found, net, refusal

from vpcsim import Reason, Verdict
from vpcsim.cli import main
from vpcsim.errors import WarningCode
from vpcsim.frontends import from_data_located
from vpcsim.lint import lint
from vpcsim.report.steps import step_text
from vpcsim.trace import AclDenied, AclMatch, AllDead, Denied, Pool, Relayed, SourceChecked

CONNECTED = (Verdict.CONNECTED, Reason.ESTABLISHED)
SG_DENIED = (Verdict.TIMEOUT, Reason.SG_INGRESS_DENIED)
ACL_DENIED = (Verdict.TIMEOUT, Reason.ACL_INGRESS_DENIED)
CLIENT = "10.3.2.30"
"""ecs-in, the ELB's client in subnet-elb."""


def group(d: Data, gid: str = "sg-backend") -> list[Data]:
    rules: list[Data] = d["security_groups"][gid]["ingress"]
    return rules


def elb(d: Data) -> Data:
    lb: Data = d["load_balancers"]["elb-s"]
    return lb


def denied_peer(r: Any) -> str:
    drop = dropped(r)
    assert isinstance(drop, Denied), drop
    return str(drop.peer)


# -- shared ELB: 100.125.0.0/16 ----------------------------------------------------------------------


def test_a_shared_elbs_backend_sees_an_address_of_100_125_0_0_16() -> None:
    r = net(with_elb(scenario())).telnet("ecs-in", "elb-s", 80)
    assert ends(r) == CONNECTED
    assert IPv4Address(answered(r)) in IPv4Network(SHARED_ELB)


def test_a_shared_elbs_backend_group_must_admit_100_125_0_0_16() -> None:
    d = with_elb(scenario())
    group(d)[:] = [accept("tcp", 8080, source="10.3.0.0/16")]  # the VPC, the client included
    r = net(d).telnet("ecs-in", "elb-s", 80)
    assert (*ends(r), r.blocked_at) == (*SG_DENIED, "ecs-s")
    assert IPv4Address(denied_peer(r)) in IPv4Network(SHARED_ELB)
    # What to change names the range the ELB draws from, not the one address seen.
    assert r.ref == f"sg-backend: no accept for tcp/8080 from {SHARED_ELB}"


def test_transfer_client_ip_makes_the_backend_see_the_client() -> None:
    d = with_elb(scenario(), transfer_client_ip=True)
    group(d).append(accept("tcp", 8080, source=f"{CLIENT}/32"))
    n = net(d)
    r = n.telnet("ecs-in", "elb-s", 80)
    assert ends(r) == CONNECTED
    assert answered(r) == CLIENT
    r = n.telnet("ecs-c", "vpce-c", 80)  # behind an endpoint, the ELB's client is the endpoint
    assert ends(r) == CONNECTED
    assert IPv4Address(answered(r)) in IPv4Network(VPCEP)


def test_transfer_client_ip_needs_the_clients_address_in_the_backends_group() -> None:
    d = with_elb(scenario(), transfer_client_ip=True)  # sg-backend admits 100.125.0.0/16, not CLIENT
    r = net(d).telnet("ecs-in", "elb-s", 80)
    assert (*ends(r), r.blocked_at) == (*SG_DENIED, "ecs-s")
    assert denied_peer(r) == CLIENT


def test_a_shared_elbs_health_checks_must_pass_the_backends_groups() -> None:
    # Two backends, both admitting the client (client-IP transfer is on); ecs-s2's group lacks
    # 100.125.0.0/16, where the health checks come from, so only ecs-s is healthy.
    d = with_elb(scenario(), transfer_client_ip=True)
    group(d).append(accept("tcp", 8080, source=f"{CLIENT}/32"))
    d["security_groups"]["sg-no-checks"] = {
        "ingress": [accept("tcp", 8080, source=f"{CLIENT}/32")],
        "egress": [accept()],
    }
    d["instances"]["ecs-s2"] = ecs("vpc-s", "subnet-s", "10.3.1.11", "sg-no-checks", listen=[8080])
    elb(d)["listeners"]["tcp-80"]["backends"].append({"instance": "ecs-s2", "port": 8080})
    r = net(d).telnet("ecs-in", "elb-s", 80)
    assert ends(r) == CONNECTED
    assert (chosen(r).backend, chosen(r).pool, chosen(r).candidates) == ("ecs-s:8080", Pool.HEALTHY, 1)
    assert len(r.branches) == 1  # ecs-s2 takes no connection
    group(d, "sg-no-checks").append(accept("tcp", 8080, source=SHARED_ELB))
    r = net(d).telnet("ecs-in", "elb-s", 80)
    assert ends(r) == CONNECTED
    assert (chosen(r).pool, chosen(r).candidates, len(r.branches)) == (Pool.HEALTHY, 2, 2)


def test_a_lone_backend_whose_group_drops_the_checks_is_unhealthy_and_scheduled_anyway() -> None:
    d = with_elb(scenario(), transfer_client_ip=True)
    group(d)[:] = [accept("tcp", 8080, source=f"{CLIENT}/32")]
    r = net(d).telnet("ecs-in", "elb-s", 80)
    assert ends(r) == CONNECTED  # all dead, all scheduled
    assert found(r, AllDead) == [AllDead("elb-s", "tcp-80", 1)]
    assert chosen(r).pool is Pool.BOUND


def test_a_shared_elb_has_no_backend_subnet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = refusal(tmp_path, capsys, with_elb(scenario(), backend_subnet="subnet-elb"))
    assert path == "load_balancers.elb-s.backend_subnet"


# -- dedicated ELB: the client's address, probes from the backend subnet -----------------------------


def test_a_dedicated_elb_passes_the_clients_address() -> None:
    d = with_elb(scenario(), kind="dedicated")
    r = net(d).telnet("ecs-in", "elb-s", 80)  # sg-backend admits VPCEP and 100.125, not the client
    assert (*ends(r), r.blocked_at) == (*SG_DENIED, "ecs-s")
    assert denied_peer(r) == CLIENT
    group(d).append(accept("tcp", 8080, source=f"{CLIENT}/32"))
    n = net(d)
    r = n.telnet("ecs-in", "elb-s", 80)
    assert ends(r) == CONNECTED
    assert answered(r) == CLIENT
    r = n.telnet("ecs-c", "vpce-c", 80)  # behind an endpoint: the endpoint's VPCEP address
    assert ends(r) == CONNECTED
    assert IPv4Address(answered(r)) in IPv4Network(VPCEP)


def test_a_dedicated_elb_cannot_turn_client_ip_transfer_off(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, message = refusal(tmp_path, capsys, with_elb(scenario(), kind="dedicated", transfer_client_ip=False))
    assert path == "load_balancers.elb-s.transfer_client_ip"
    assert message.startswith("a dedicated ELB always passes the client's address")


@pytest.mark.parametrize(("admitted", "pool"), [("10.3.2.9/32", Pool.HEALTHY), ("10.3.2.8/32", Pool.BOUND)])
def test_a_dedicated_elbs_probes_come_from_its_backend_subnet_address(admitted: str, pool: Pool) -> None:
    d = with_elb(scenario(), kind="dedicated", backend_subnet="subnet-elb", backend_ip="10.3.2.9")
    group(d)[:] = [accept("tcp", 8080, source=f"{CLIENT}/32"), accept("tcp", 8080, source=admitted)]
    r = net(d).telnet("ecs-in", "elb-s", 80)
    assert ends(r) == CONNECTED  # the client is admitted either way; health is what differs
    assert chosen(r).pool is pool
    assert found(r, AllDead) == ([] if pool is Pool.HEALTHY else [AllDead("elb-s", "tcp-80", 1)])


def test_a_dedicated_elb_probes_from_a_free_address_of_its_backend_subnet() -> None:
    d = with_elb(scenario(), kind="dedicated", backend_subnet="subnet-elb")
    probe = net(d).topology.load_balancers["elb-s"].probe_ip
    assert probe is not None
    assert probe in IPv4Network("10.3.2.0/24")
    assert probe != IPv4Address(CLIENT)


def test_a_written_endpoint_address_wins_over_a_dedicated_elbs_assigned_probe_address() -> None:
    d = with_elb(scenario(), kind="dedicated")  # probes from the first free address of subnet-s
    d["cloud_services"] = {"dns": {"type": "dns", "region": "cn-north-4", "ip": "100.125.1.250"}}
    d["endpoints"]["vpce-dns"] = {"vpc": "vpc-s", "subnet": "subnet-s", "ip": "10.3.1.2", "service": "dns"}
    n = net(d)
    assert n.topology.load_balancers["elb-s"].probe_ip != IPv4Address("10.3.1.2")
    assert ends(n.telnet("ecs-c", "vpce-c", 80)) == CONNECTED


# -- network ACLs: stateful, with default rules ------------------------------------------------------


def acl_scenario(cloud: str) -> Data:
    """web1 in subnet-web, whose ACL admits everything out and nothing in; db1 in subnet-db."""
    return {
        "version": 1,
        "cloud": cloud,
        "vpcs": {"vpc-app": vpc("10.10.0.0/16", {"subnet-web": "10.10.1.0/24", "subnet-db": "10.10.3.0/24"})},
        "security_groups": {"sg-open": {"ingress": [accept()], "egress": [accept()]}},
        "instances": {
            "web1": ecs("vpc-app", "subnet-web", "10.10.1.10", "sg-open"),
            "db1": ecs("vpc-app", "subnet-db", "10.10.3.10", "sg-open", listen=[3306]),
        },
        "network_acls": {"acl-web": {"vpc": "vpc-app", "subnets": ["subnet-web"], "egress": [accept()]}},
        "checks": [{"name": "web to db", "from": "web1", "to": "db1:3306", "expect": "connected"}],
    }


def test_a_huawei_acl_passes_the_reply_of_a_connection_it_let_out() -> None:
    d = acl_scenario("huawei")
    assert ends(net(d).telnet("web1", "db1", 3306)) == CONNECTED
    assert WarningCode.ACL_DROPS_RETURN_TRAFFIC not in {w.code for w in lint(from_data_located(d, source="<t>"))}


def test_the_same_acl_on_tencent_drops_the_reply() -> None:
    d = acl_scenario("tencent")  # stateless: the SYN-ACK needs an ingress rule of its own
    r = net(d).telnet("web1", "db1", 3306)
    assert (*ends(r), r.blocked_at) == (*ACL_DENIED, "vpc-app")
    assert r.packets[r.decisive].kind == "SYN-ACK"
    assert isinstance(dropped(r), AclDenied)
    assert WarningCode.ACL_DROPS_RETURN_TRAFFIC in {w.code for w in lint(from_data_located(d, source="<t>"))}


def with_ruleless_acl_on_the_backend(d: Data) -> Data:
    """The ELB moves to subnet-elb beside its client; subnet-s (ecs-s) gets an ACL without rules."""
    elb(d).update(subnet="subnet-elb", vip="10.3.2.100")
    d["network_acls"] = {"acl-s": {"vpc": "vpc-s", "subnets": ["subnet-s"]}}
    return d


def test_an_acl_without_rules_still_admits_the_shared_elb() -> None:
    r = net(with_ruleless_acl_on_the_backend(with_elb(scenario()))).telnet("ecs-in", "elb-s", 80)
    assert ends(r) == CONNECTED
    (admitted,) = [m for m in found(r, AclMatch) if m.acl == "acl-s"]
    assert (admitted.direction, admitted.accept, admitted.peer) == ("ingress", True, SHARED_ELB)
    assert chosen(r).pool is Pool.HEALTHY  # its checks from 100.125.0.0/16 pass the ACL too


def test_the_trace_does_not_number_an_acls_default_rule_as_one_of_its_own() -> None:
    r = net(with_ruleless_acl_on_the_backend(with_elb(scenario()))).telnet("ecs-in", "elb-s", 80)
    assert ends(r) == CONNECTED
    (step,) = [s for h in r.packets[0].hops for s in h.steps if isinstance(s.data, AclMatch)]
    assert SHARED_ELB in step_text(step)
    assert "rule #" not in step_text(step)  # acl-s has no rules: this is Huawei's default one


def test_an_acl_without_rules_stops_a_dedicated_elbs_client_address() -> None:
    d = with_ruleless_acl_on_the_backend(with_elb(scenario(), kind="dedicated"))
    group(d).append(accept("tcp", 8080, source="10.3.2.0/24"))  # the group is not what stops it
    r = net(d).telnet("ecs-in", "elb-s", 80)
    assert (*ends(r), r.blocked_at) == (*ACL_DENIED, "vpc-s")
    drop = dropped(r)
    assert isinstance(drop, AclDenied)
    assert (drop.match.acl, drop.peer) == ("acl-s", CLIENT)


def test_an_acl_without_rules_lets_an_ecs_reach_obs() -> None:
    d = bundled("huawei_cloud_services")
    d["network_acls"] = {"acl-app": {"vpc": "vpc-2", "subnets": ["subnet-app"]}}
    r = net(d).telnet("ecs-2", "obs", 443)
    assert ends(r) == CONNECTED
    (out,) = [m for m in found(r, AclMatch) if m.acl == "acl-app"]
    assert (out.direction, out.peer) == ("egress", SHARED_ELB)


# -- peering: one region only ------------------------------------------------------------------------


def test_a_peering_across_regions_is_a_load_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = bundled("huawei_peering_vs_endpoint")
    assert ends(net(d).telnet("ecs-a", "ecs-web", 8080)) == CONNECTED  # same region, peered
    d["vpcs"]["vpc-c"].update(region="cn-east-3", subnets={"subnet-c": {"cidr": "10.30.1.0/24", "zone": "cn-east-3a"}})
    path, message = refusal(tmp_path, capsys, d)
    assert path == "peerings.pcx-bc.vpcs[1]"
    assert message.endswith("Huawei Cloud peers VPCs of one region only")


# -- an ECS as a route's next hop: the source/destination check --------------------------------------


def relay_scenario() -> Data:
    """app1 routes vpc-b through nat1 (subnet-gw), whose table sends it over peering pcx-ab to srv."""

    def to(destination: str, kind: str, target: str) -> Data:
        return {"destination": destination, "next_hop": {"type": kind, "id": target}}

    return {
        "version": 1,
        "cloud": "huawei",
        "vpcs": {
            "vpc-a": vpc("10.10.0.0/16", {"subnet-app": "10.10.1.0/24", "subnet-gw": "10.10.2.0/24"}),
            "vpc-b": vpc("10.20.0.0/16", {"subnet-b": "10.20.1.0/24"}),
        },
        "security_groups": {"sg-open": {"ingress": [accept()], "egress": [accept()]}},
        "instances": {
            "app1": ecs("vpc-a", "subnet-app", "10.10.1.10", "sg-open"),
            "nat1": ecs("vpc-a", "subnet-gw", "10.10.2.10", "sg-open"),
            "srv": ecs("vpc-b", "subnet-b", "10.20.1.10", "sg-open", listen=[22]),
        },
        "peerings": {"pcx-ab": {"vpcs": ["vpc-a", "vpc-b"]}},
        "route_tables": {
            "rtb-app": {
                "vpc": "vpc-a",
                "subnets": ["subnet-app"],
                "routes": {"to-b": to("10.20.0.0/16", "instance", "nat1")},
            },
            "rtb-gw": {"vpc": "vpc-a", "default": True, "routes": {"to-b": to("10.20.0.0/16", "peering", "pcx-ab")}},
            "rtb-b": {"vpc": "vpc-b", "default": True, "routes": {"to-a": to("10.10.0.0/16", "peering", "pcx-ab")}},
        },
    }


def test_an_ecs_with_its_source_destination_check_on_forwards_nothing() -> None:
    r = net(relay_scenario()).telnet("app1", "srv", 22)  # source_dest_check defaults to true
    assert (*ends(r), r.blocked_at) == (Verdict.TIMEOUT, Reason.SOURCE_DEST_CHECK, "nat1")
    assert dropped(r) == SourceChecked("nat1", "10.20.1.10")


def test_an_ecs_with_its_source_destination_check_off_forwards() -> None:
    d = relay_scenario()
    d["instances"]["nat1"]["source_dest_check"] = False
    r = net(d).telnet("app1", "srv", 22)
    assert ends(r) == CONNECTED
    assert r.packets[0].nodes == ("app1", "vpc-a", "nat1", "vpc-a", "pcx-ab", "vpc-b", "srv")
    assert found(r, Relayed) == [Relayed("nat1", "10.20.1.10", "vpc-a")]


# -- Huawei's nouns in the telnet text ---------------------------------------------------------------


def telnet_text(capsys: pytest.CaptureFixture[str], name: str, *args: str) -> str:
    path = str(Path(__file__).resolve().parents[2] / "scenarios" / f"{name}.yaml")
    with pytest.raises(SystemExit) as done:
        main(["telnet", path, *args])
    out, _ = capsys.readouterr()
    assert done.value.code == 0, out
    return out


@pytest.mark.parametrize(
    ("name", "args", "nouns"),
    [
        (
            "huawei_cross_vpc",
            ("--from", "ecs-1", "vpce-1", "80", "--at", "310s"),
            ("VPC endpoint vpce-1", "VPCEP NAT", "shared ELB elb-3", "ECS ecs-3"),
        ),
        ("huawei_cross_vpc", ("--from", "ecs-1", "vpce-4", "443"), ("VPC endpoint vpce-4", "dedicated ELB elb-4")),
        ("huawei_cloud_services", ("--from", "ecs-2", "obs", "443"), ("gateway endpoint vpce-obs", "OBS obs")),
    ],
    ids=["shared-elb", "dedicated-elb", "gateway-endpoint"],
)
def test_the_trace_speaks_huaweis_nouns(
    capsys: pytest.CaptureFixture[str], name: str, args: tuple[str, ...], nouns: tuple[str, ...]
) -> None:
    out = telnet_text(capsys, name, *args)
    assert "verdict: connected (established)" in out
    for noun in nouns:
        assert noun in out
    for tencent in ("CVM", "CLB", "Private Link"):  # Tencent's words for the same things
        assert tencent not in out


# -- a subnet's reserved addresses -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "key", "address"),
    [
        ("instances", "ecs-c", "192.168.1.253"),
        ("instances", "ecs-c", "192.168.1.254"),
        ("endpoints", "vpce-c", "192.168.1.253"),
    ],
)
def test_the_last_three_addresses_of_a_subnet_are_reserved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], section: str, key: str, address: str
) -> None:
    d = scenario()
    d[section][key]["ip"] = "192.168.1.252"  # the last one a user may take
    assert net(d).address_of(key) == int(IPv4Address("192.168.1.252"))
    d[section][key]["ip"] = address
    path, message = refusal(tmp_path, capsys, d)
    assert path == f"{section}.{key}.ip"
    assert message == (
        f"{address} is reserved in 192.168.1.0/24: Huawei Cloud keeps each subnet's first two addresses "
        "and its last 3; use one from 192.168.1.2 to 192.168.1.252"
    )
