"""Security groups along the bundled scenario's path, and which source address each one sees.

The client's own group (egress), the endpoint's groups (they see the client's real address,
docs/decisions.md Q8), the CLB's groups (they see the post-SNAT address in 11.163.0.0/16, Q6) and the
backend's groups (11.163.0.0/16, the best practice's prerequisite); several groups on one object are one
rule list in bound order (Q18).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from vpcsim import Network, Reason, Verdict
from vpcsim.report.steps import step_text
from vpcsim.trace import StepKind

Data = dict[str, Any]
Build = Callable[[Data], Network]

VIP = "172.16.2.16"
VPORT = 1044
CLIENTS = ("cvm-vpc1", "cvm-vpc3")
CLIENT_ADDRESS = {"cvm-vpc1": "172.16.2.10", "cvm-vpc3": "192.168.1.10"}


def add_group(data: Data, gid: str, *ingress: dict[str, Any]) -> None:
    data["security_groups"][gid] = {"ingress": list(ingress), "egress": []}


def accept(source: str, port: int = VPORT) -> dict[str, Any]:
    return {"action": "accept", "protocol": "tcp", "port": port, "source": source}


# -- the client's group -----------------------------------------------------------------------------


def test_client_group_without_egress_rules_times_out_at_the_client(seed_data: Data, network_of: Build) -> None:
    seed_data["security_groups"]["sg-client"]["egress"] = []
    r = network_of(seed_data).telnet("cvm-vpc3", VIP, VPORT)
    assert (r.verdict, r.reason) == (Verdict.TIMEOUT, Reason.SG_EGRESS_DENIED)
    assert r.blocked_at == "cvm-vpc3"
    assert r.ref == "sg-client: no egress accept for tcp/1044 to 172.16.2.16/32"
    assert r.packets[-1].nodes == ("cvm-vpc3",)


def test_client_rules_with_port_ranges_name_their_ranges_in_the_trace(seed_data: Data, network_of: Build) -> None:
    seed_data["security_groups"]["sg-client"]["egress"] = [
        {"action": "drop", "protocol": "tcp", "port": "1-80", "destination": "0.0.0.0/0"},
        {"action": "accept", "protocol": "tcp", "port": "1024-65535", "destination": "0.0.0.0/0"},
        {"action": "accept", "protocol": "tcp", "port": "1-65535", "destination": "0.0.0.0/0"},
    ]
    net = network_of(seed_data)
    r = net.telnet("cvm-vpc3", VIP, 80)
    assert (r.verdict, r.reason, r.ref) == (Verdict.TIMEOUT, Reason.SG_EGRESS_DENIED, "sg-client egress rule #0")
    assert "sg-client egress rule #0 (drop tcp/1-80 to 0.0.0.0/0) drops" in r.detail
    r = net.telnet("cvm-vpc3", VIP, VPORT)
    assert r.connected
    assert [step_text(s) for s in r.packets[0].hops[0].steps if s.kind is StepKind.FILTER] == [
        "sg-client egress rule #1 (accept tcp/1024-65535 to 0.0.0.0/0) accepts"
    ]
    r = net.telnet("cvm-vpc3", VIP, 1000)  # only the last rule admits it; nothing listens there
    assert [step_text(s) for s in r.packets[0].hops[0].steps if s.kind is StepKind.FILTER] == [
        "sg-client egress rule #2 (accept tcp/all to 0.0.0.0/0) accepts"
    ]


# -- the endpoint's groups see the client's real address (Q8) ---------------------------------------


@pytest.fixture
def endpoint_admits_vpc1_only(seed_data: Data, network_of: Build) -> Network:
    add_group(seed_data, "sg-endpoint", accept("172.16.0.0/16"))
    seed_data["endpoints"]["vpce-vpc1"]["security_groups"] = ["sg-endpoint"]
    return network_of(seed_data)


def test_endpoint_group_admitting_vpc1_lets_vpc1_connect(endpoint_admits_vpc1_only: Network) -> None:
    r = endpoint_admits_vpc1_only.telnet("cvm-vpc1", VIP, VPORT)
    assert r.connected


def test_endpoint_group_denying_vpc3_times_out_naming_the_endpoint_group(endpoint_admits_vpc1_only: Network) -> None:
    r = endpoint_admits_vpc1_only.telnet("cvm-vpc3", VIP, VPORT)
    assert (r.verdict, r.reason) == (Verdict.TIMEOUT, Reason.SG_INGRESS_DENIED)
    assert r.blocked_at == "vpce-vpc1"
    assert r.ref == "sg-endpoint: no accept for tcp/1044 from 192.168.1.10/32"
    assert "sg-endpoint" in r.detail
    assert "192.168.1.10" in r.detail  # the client's real address, before SNAT


@pytest.mark.parametrize("client", CLIENTS)
def test_endpoint_group_admitting_only_the_snat_range_denies_every_client(
    seed_data: Data, network_of: Build, client: str
) -> None:
    add_group(seed_data, "sg-endpoint", accept("11.163.0.0/16"))
    seed_data["endpoints"]["vpce-vpc1"]["security_groups"] = ["sg-endpoint"]
    r = network_of(seed_data).telnet(client, VIP, VPORT)
    assert (r.verdict, r.reason) == (Verdict.TIMEOUT, Reason.SG_INGRESS_DENIED)
    assert r.blocked_at == "vpce-vpc1"
    assert r.ref == f"sg-endpoint: no accept for tcp/1044 from {CLIENT_ADDRESS[client]}/32"


def test_endpoint_groups_are_one_rule_list_in_bound_order(seed_data: Data, network_of: Build) -> None:
    add_group(seed_data, "sg-deny-vpc3", {"action": "drop", "protocol": "all", "source": "192.168.0.0/16"})
    add_group(seed_data, "sg-endpoint", accept("0.0.0.0/0"))
    seed_data["endpoints"]["vpce-vpc1"]["security_groups"] = ["sg-deny-vpc3", "sg-endpoint"]
    net = network_of(seed_data)
    r = net.telnet("cvm-vpc3", VIP, VPORT)
    assert (r.verdict, r.reason) == (Verdict.TIMEOUT, Reason.SG_INGRESS_DENIED)
    assert r.ref == "sg-deny-vpc3: no accept for tcp/1044 from 192.168.1.10/32 before rule #0"
    assert net.telnet("cvm-vpc1", VIP, VPORT).connected


# -- the CLB's groups see the post-SNAT address (Q6) ------------------------------------------------


@pytest.mark.parametrize("client", CLIENTS)
def test_clb_group_admitting_the_snat_range_lets_both_clients_connect(
    seed_data: Data, network_of: Build, client: str
) -> None:
    add_group(seed_data, "sg-clb", accept("11.163.0.0/16"))
    seed_data["load_balancers"]["lb-service"]["security_groups"] = ["sg-clb"]
    assert network_of(seed_data).telnet(client, VIP, VPORT).connected


@pytest.mark.parametrize("client", CLIENTS)
def test_clb_group_admitting_only_the_clients_real_addresses_times_out_naming_it(
    seed_data: Data, network_of: Build, client: str
) -> None:
    add_group(seed_data, "sg-clb", accept("172.16.0.0/16"), accept("192.168.0.0/16"))
    seed_data["load_balancers"]["lb-service"]["security_groups"] = ["sg-clb"]
    r = network_of(seed_data).telnet(client, VIP, VPORT)
    assert (r.verdict, r.reason) == (Verdict.TIMEOUT, Reason.SG_INGRESS_DENIED)
    assert r.blocked_at == "lb-service"
    assert r.ref == "sg-clb: no accept for tcp/1044 from 11.163.0.0/16"  # the SNAT pool, not one address
    assert "11.163.0." in r.detail  # the source it saw: Private Link's SNAT address


def test_clb_group_is_checked_on_the_vport(seed_data: Data, network_of: Build) -> None:
    """The CLB filters the packet as it arrives: the VPORT, not the backend port."""
    add_group(seed_data, "sg-clb", accept("11.163.0.0/16", port=8080))
    seed_data["load_balancers"]["lb-service"]["security_groups"] = ["sg-clb"]
    r = network_of(seed_data).telnet("cvm-vpc3", VIP, VPORT)
    assert (r.verdict, r.reason) == (Verdict.TIMEOUT, Reason.SG_INGRESS_DENIED)
    assert r.ref == "sg-clb: no accept for tcp/1044 from 11.163.0.0/16"


# -- the backend's groups ---------------------------------------------------------------------------


def test_a_drop_group_bound_before_sg_backend_wins(seed_data: Data, network_of: Build) -> None:
    add_group(seed_data, "sg-lockdown", {"action": "drop", "protocol": "all", "source": "0.0.0.0/0"})
    seed_data["instances"]["cvm-backend1"]["security_groups"] = ["sg-lockdown", "sg-backend"]
    r = network_of(seed_data).telnet("cvm-vpc3", VIP, VPORT)
    assert (r.verdict, r.reason) == (Verdict.TIMEOUT, Reason.SG_INGRESS_DENIED)
    assert r.blocked_at == "cvm-backend1"
    assert r.ref == "sg-lockdown: no accept for tcp/8080 from 11.163.0.0/16 before rule #0"


def test_a_backend_port_outside_the_backend_group_times_out(seed_data: Data, network_of: Build) -> None:
    """The listener forwards to 8081, which sg-backend does not admit: silent drop, not RST."""
    for b in seed_data["load_balancers"]["lb-service"]["listeners"]["lbl-1044"]["backends"]:
        b["port"] = 8081
    r = network_of(seed_data).telnet("cvm-vpc3", VIP, VPORT)
    assert (r.verdict, r.reason) == (Verdict.TIMEOUT, Reason.SG_INGRESS_DENIED)
    assert r.ref == "sg-backend: no accept for tcp/8081 from 11.163.0.0/16 before rule #1"


def test_backend_group_without_egress_rules_still_answers_admitted_flows(seed_data: Data, network_of: Build) -> None:
    """Security groups are stateful: the SYN-ACK of an admitted SYN needs no egress rule."""
    seed_data["security_groups"]["sg-backend"]["egress"] = []
    r = network_of(seed_data).telnet("cvm-vpc3", VIP, VPORT)
    assert r.connected
    synack = r.packets[1]
    assert synack.kind == "SYN-ACK"
    assert [s.kind.value for s in synack.hops[0].steps] == ["originate", "session", "egress"]


def test_an_empty_group_bound_first_contributes_nothing(seed_data: Data, network_of: Build) -> None:
    add_group(seed_data, "sg-empty")
    seed_data["instances"]["cvm-backend1"]["security_groups"] = ["sg-empty", "sg-backend"]
    r = network_of(seed_data).telnet("cvm-vpc3", VIP, VPORT)
    assert r.connected
    assert r.packets[0].nodes[-1] == "cvm-backend1"
