"""Every reason code and the disposition it gives a packet, as ``vpcsim telnet --json`` reports them.

Each case edits the bundled scenario so that one thing stops (or completes) the connect, runs the CLI on
it, and checks the reason of the probe and the disposition of every packet in its JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from vpcsim import Reason
from vpcsim.cli import main

Doc = dict[str, Any]

DISPOSITIONS = {
    "established": "delivered",
    "answered": "delivered",
    "port_closed": "delivered",
    "no_answer_in_time": "delivered",
    "no_route": "no_route",
    "no_host": "no_route",
    "sg_ingress_denied": "denied",
    "sg_egress_denied": "denied",
    "firewall_ingress_denied": "denied",
    "firewall_egress_denied": "denied",
    "acl_ingress_denied": "denied",
    "acl_egress_denied": "denied",
    "tunnel_down": "discarded",
    "source_not_allowed": "denied",
    "source_dest_check": "discarded",
    "no_port_mapping": "discarded",
    "session_limit": "discarded",
    "rate_limit": "discarded",
    "queue_full": "discarded",
    "endpoint_not_active": "discarded",
    "no_listener": "discarded",
    "no_backend": "discarded",
    "lb_loopback": "discarded",
    "snat_ports_exhausted": "discarded",
    "no_session": "discarded",
    "not_forwarded": "discarded",
    "ttl_exceeded": "discarded",
    "loop": "discarded",
}
"""The disposition a packet stopped for each reason gets; a packet that arrives is delivered."""

UNREACHABLE = {
    "snat_ports_exhausted",
    "no_session",
    "loop",
    "ttl_exceeded",
    "session_limit",
    "rate_limit",
    "queue_full",
}
"""The engine's guards against a reply without a session and a forwarding loop, an endpoint out of
SNAT ports or over its session limit (several flows at once: ``tests/scenarios/
test_concurrent_flows.py``), a TTL that runs out (a hand-made packet: ``tests/test_send.py``), and
capacity: a rate limit and a full queue take more than one connection (``tests/test_load.py``,
``tests/sim/test_connection.py``): no single probe on an edit of the bundled scenario reaches them,
so only the enum is checked here."""

HUAWEI = Path(__file__).resolve().parents[2] / "scenarios" / "huawei_cross_vpc.yaml"


def as_is(d: Doc) -> None:
    del d


def no_client_egress(d: Doc) -> None:
    d["security_groups"]["sg-client"]["egress"] = []


def no_snat_rule(d: Doc) -> None:
    d["security_groups"]["sg-backend"]["ingress"].pop(0)


def nothing_listens(d: Doc) -> None:
    for b in ("cvm-backend1", "cvm-backend2"):
        d["instances"][b]["listen"] = []


def one_short_syn(d: Doc) -> None:
    d["settings"]["tcp"] = {"syn_retries": 0, "initial_rto": "5ms"}


def endpoint_rejected(d: Doc) -> None:
    d["timeline"] = [{"at": 0, "action": "reject_endpoint", "endpoint": "vpce-vpc1"}]


def icmp_allowed(d: Doc) -> None:
    d["security_groups"]["sg-client"]["ingress"] = [{"action": "accept", "protocol": "icmp", "source": "0.0.0.0/0"}]


def acl_without_return_ports(d: Doc) -> None:
    d["network_acls"] = {
        "acl-cq": {
            "vpc": "vpc3",
            "subnets": ["subnet-cq"],
            "egress": [{"action": "accept", "protocol": "tcp", "port": 1044, "destination": "172.16.0.0/16"}],
        }
    }


def acl_closed(d: Doc) -> None:
    d["network_acls"] = {"acl-cq": {"vpc": "vpc3", "subnets": ["subnet-cq"]}}


def office(d: Doc, *, tunnel: str = "up", firewall: Doc | None = None) -> None:
    """An office joined to VPC1 by a VPN gateway, routes on both sides."""
    host: Doc = {"ip": "10.88.1.20", "listen": [22]}
    if firewall is not None:
        host["firewall"] = firewall
    d["idcs"] = {
        "idc-office": {
            "cidrs": ["10.88.0.0/16"],
            "hosts": {"office-pc": host},
            "routes": {"to-vpc1": {"destination": "172.16.0.0/16", "gateway": "vpngw"}},
        }
    }
    d["vpn_gateways"] = {
        "vpngw": {"vpc": "vpc1", "tunnels": {"t1": {"idc": "idc-office", "state": tunnel}}, "delay": "2ms"}
    }
    d["route_tables"] = {
        "rtb-main": {
            "vpc": "vpc1",
            "default": True,
            "routes": {
                "to-office": {"destination": "10.88.0.0/16", "next_hop": {"type": "vpn_gateway", "id": "vpngw"}}
            },
        }
    }


def tunnel_down(d: Doc) -> None:
    office(d, tunnel="down")


def office_firewall_out(d: Doc) -> None:
    office(d, firewall={"egress": []})


def office_firewall_in(d: Doc) -> None:
    office(d, firewall={"ingress": [{"action": "accept", "protocol": "tcp", "port": 22, "source": "192.168.0.0/16"}]})


def huawei(d: Doc) -> None:
    """The Huawei picture instead of the bundled one (the same file format, ``cloud: huawei``)."""
    d.clear()
    d.update(yaml.safe_load(HUAWEI.read_text(encoding="utf-8")))


def huawei_access_control(d: Doc) -> None:
    huawei(d)
    d["endpoints"]["vpce-4"].update(enable_whitelist=True, whitelist=["10.99.0.0/16"])


def huawei_checked_relay(d: Doc) -> None:
    """ecs-1 is the next hop of vpc-1's route to the data centre range; its check is on by default."""
    huawei(d)
    d["route_tables"] = {
        "rtb-1": {
            "vpc": "vpc-1",
            "default": True,
            "routes": {"via-ecs": {"destination": "10.88.0.0/16", "next_hop": {"type": "instance", "id": "ecs-1"}}},
        }
    }
    d["instances"]["ecs-6"] = {
        "vpc": "vpc-1",
        "subnet": "subnet-1",
        "ip": "192.168.1.11",
        "security_groups": ["sg-client"],
    }


def every_weight_zero(d: Doc) -> None:
    for b in d["load_balancers"]["lb-service"]["listeners"]["lbl-1044"]["backends"]:
        b["weight"] = 0


PROBES: list[tuple[str, Callable[[Doc], None], str, str, int | None]] = [
    ("established", as_is, "cvm-vpc3", "172.16.2.16", 1044),
    ("answered", icmp_allowed, "cvm-vpc3", "172.16.2.10", None),  # no port: a ping
    ("not_forwarded", icmp_allowed, "cvm-vpc3", "172.16.2.16", None),
    ("port_closed", nothing_listens, "cvm-vpc3", "172.16.2.16", 1044),
    ("no_answer_in_time", one_short_syn, "cvm-vpc3", "172.16.2.16", 1044),
    ("no_route", as_is, "cvm-vpc1", "10.0.1.100", 1044),
    ("no_host", as_is, "cvm-vpc3", "172.16.2.99", 1044),
    ("sg_ingress_denied", no_snat_rule, "cvm-vpc3", "172.16.2.16", 1044),
    ("sg_egress_denied", no_client_egress, "cvm-vpc3", "172.16.2.16", 1044),
    ("firewall_ingress_denied", office_firewall_in, "cvm-vpc1", "10.88.1.20", 22),
    ("firewall_egress_denied", office_firewall_out, "office-pc", "172.16.2.16", 1044),
    ("tunnel_down", tunnel_down, "office-pc", "172.16.2.16", 1044),
    ("acl_ingress_denied", acl_without_return_ports, "cvm-vpc3", "172.16.2.16", 1044),
    ("acl_egress_denied", acl_closed, "cvm-vpc3", "172.16.2.16", 1044),
    ("endpoint_not_active", endpoint_rejected, "cvm-vpc3", "172.16.2.16", 1044),
    ("no_listener", as_is, "cvm-vpc3", "172.16.2.16", 1045),
    ("no_backend", every_weight_zero, "cvm-vpc3", "172.16.2.16", 1044),
    ("lb_loopback", as_is, "cvm-backend1", "lb-service", 1044),
    ("no_port_mapping", huawei, "ecs-1", "vpce-4", 80),
    ("source_not_allowed", huawei_access_control, "ecs-1", "vpce-4", 443),
    ("source_dest_check", huawei_checked_relay, "ecs-6", "10.88.1.20", 22),
]


def test_the_table_names_every_reason_and_the_probes_cover_all_that_a_scenario_can_reach() -> None:
    assert set(DISPOSITIONS) == {r.value for r in Reason}
    assert {p[0] for p in PROBES} == set(DISPOSITIONS) - UNREACHABLE


@pytest.mark.parametrize("reason", sorted(UNREACHABLE))
def test_a_reply_without_a_session_and_a_forwarding_loop_are_discarded(reason: str) -> None:
    assert Reason(reason).disposition.value == DISPOSITIONS[reason]


@pytest.mark.parametrize(("reason", "edit", "source", "host", "port"), PROBES, ids=[p[0] for p in PROBES])
def test_each_packet_of_a_probe_carries_the_disposition_of_its_reason(
    reason: str,
    edit: Callable[[Doc], None],
    source: str,
    host: str,
    port: int | None,
    seed_data: Doc,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    edit(seed_data)
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(seed_data, sort_keys=False), encoding="utf-8")
    args = (
        ["ping", str(path), "--from", source, host]
        if port is None
        else ["telnet", str(path), "--from", source, host, str(port)]
    )
    with pytest.raises(SystemExit) as done:
        main([*args, "--json"])
    r = json.loads(capsys.readouterr().out)
    assert done.value.code == (0 if reason in ("established", "answered") else 1)
    assert r["reason"] == reason
    assert Reason(reason).disposition.value == DISPOSITIONS[reason]
    seen = [(p["kind"], p["reason"], p["disposition"]) for p in r["packets"]]
    assert seen
    assert seen == [(kind, why, "delivered" if why is None else DISPOSITIONS[why]) for kind, why, _ in seen], (
        "a packet's disposition does not follow from its reason"
    )
    if DISPOSITIONS[reason] == "delivered":
        assert {why for _, why, _ in seen} == {None}, "nothing was dropped"
    else:
        assert (reason, DISPOSITIONS[reason]) in {(why, disposition) for _, why, disposition in seen}
