"""DNS over UDP behind the Private Link service, and ping across the CCN: the checks a user writes.

The bundled scenario gains a UDP listener on the CLB (VPORT 53 → the backends' udp/5353) and, on the
backends' group, the accept for Private Link's range on udp/5353.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from vpcsim import Network
from vpcsim.cli import cli
from vpcsim.errors import ScenarioError
from vpcsim.frontends import from_data

VIP = "172.16.2.16"


def with_dns(data: dict[str, Any], *, udp_rule: bool = True) -> dict[str, Any]:
    for backend in ("cvm-backend1", "cvm-backend2"):
        data["instances"][backend]["listen"] = [8080, "udp/5353"]
    if udp_rule:
        data["security_groups"]["sg-backend"]["ingress"].insert(
            1, {"action": "accept", "protocol": "udp", "port": 5353, "source": "11.163.0.0/16"}
        )
    data["load_balancers"]["lb-service"]["listeners"]["lbl-53"] = {
        "protocol": "udp",
        "port": 53,
        "backends": [
            {"instance": "cvm-backend1", "port": 5353},
            {"instance": "cvm-backend2", "port": 5353},
        ],
    }
    return data


def allow_ping(data: dict[str, Any]) -> dict[str, Any]:
    data["security_groups"]["sg-client"]["ingress"] = [{"action": "accept", "protocol": "icmp", "source": "0.0.0.0/0"}]
    return data


@pytest.mark.parametrize("client", ["cvm-vpc1", "cvm-vpc3"])
def test_dns_through_the_endpoint_is_answered_on_every_backend(
    seed_data: dict[str, Any], network_of: Any, client: str
) -> None:
    net: Network = network_of(with_dns(seed_data))
    r = net.nc(client, VIP, 53, udp=True)
    assert (r.verdict.value, r.reason.value, r.protocol) == ("answered", "answered", "udp")
    assert [b.choices[0].backend for b in r.branches] == ["cvm-backend1:5353", "cvm-backend2:5353"]
    assert all(b.succeeded for b in r.branches)
    request, answer = r.packets
    assert (request.kind, answer.kind) == ("UDP", "UDP")
    assert request.nodes[-1] == "cvm-backend1"
    assert answer.nodes[-1] == client


def test_without_the_udp_accept_the_datagram_times_out_naming_the_group(
    seed_data: dict[str, Any], network_of: Any
) -> None:
    net: Network = network_of(with_dns(seed_data, udp_rule=False))
    r = net.nc("cvm-vpc3", VIP, 53, udp=True)
    assert (r.verdict.value, r.reason.value, r.blocked_at) == ("timeout", "sg_ingress_denied", "cvm-backend1")
    assert r.ref == "sg-backend: no accept for udp/5353 from 11.163.0.0/16 before rule #1"
    assert "11.163.0.1 — Private Link SNAT of vpce-vpc1" in r.detail
    assert r.connect_time == 2.0  # nc -u's wait, not TCP's 127 s


def test_a_closed_udp_port_through_the_service_times_out_and_directly_is_refused(
    seed_data: dict[str, Any], network_of: Any
) -> None:
    data = with_dns(seed_data)
    for backend in ("cvm-backend1", "cvm-backend2"):
        data["instances"][backend]["listen"] = [8080]  # nothing on udp/5353
    data["load_balancers"]["lb-service"]["listeners"]["lbl-53"]["health_check"] = {"enabled": False}
    data["security_groups"]["sg-backend"]["ingress"].insert(
        0, {"action": "accept", "protocol": "udp", "source": "10.0.0.0/16"}
    )
    net: Network = network_of(data)
    through = net.nc("cvm-vpc3", VIP, 53, udp=True)
    # The backend's port unreachable is not carried back by the CLB and the endpoint (Q24).
    assert (through.verdict.value, through.reason.value) == ("timeout", "not_forwarded")
    assert through.blocked_at == "lb-service"
    assert [p.kind for p in through.packets] == ["UDP", "UNREACHABLE"]
    direct = net.nc("cvm-backend1", "10.0.2.12", 5353, udp=True)
    assert (direct.verdict.value, direct.reason.value, direct.blocked_at) == ("refused", "port_closed", "cvm-backend2")
    assert "ICMP port unreachable" in direct.detail


def test_ping_across_the_ccn_answers_when_groups_allow_icmp(seed_data: dict[str, Any], network_of: Any) -> None:
    closed: Network = network_of(seed_data)
    r = closed.ping("cvm-vpc3", "cvm-vpc1")
    assert (r.verdict.value, r.reason.value, r.blocked_at) == ("timeout", "sg_ingress_denied", "cvm-vpc1")
    assert r.ref == "sg-client: no accept for icmp from 192.168.1.10/32"
    opened: Network = network_of(allow_ping(seed_data))
    r = opened.ping("cvm-vpc3", "cvm-vpc1", count=3)
    assert (r.verdict.value, r.reason.value) == ("answered", "answered")
    assert [p.kind for p in r.packets] == ["ECHO", "ECHO-REPLY"] * 3
    # The CCN's one-way delay both ways, and each way an 84-byte echo's serialisation at its 1 Gbps.
    assert r.connect_time == pytest.approx(2 * (3.25e-3 + 84 * 8 / 1e9), abs=1e-12)


def test_the_endpoint_vip_and_the_clb_vip_do_not_answer_ping(seed_data: dict[str, Any], network_of: Any) -> None:
    net: Network = network_of(allow_ping(seed_data))
    r = net.ping("cvm-vpc1", VIP)
    assert (r.verdict.value, r.reason.value, r.blocked_at) == ("timeout", "not_forwarded", "vpce-vpc1")
    r = net.ping("cvm-backend1", "lb-service")
    assert (r.verdict.value, r.reason.value, r.blocked_at) == ("timeout", "not_forwarded", "lb-service")


def test_udp_and_icmp_checks_in_a_scenario(seed_data: dict[str, Any], network_of: Any) -> None:
    data = allow_ping(with_dns(seed_data))
    data["checks"] = [
        {"from": "cvm-vpc3", "to": f"{VIP}:53", "protocol": "udp", "expect": "answered"},
        {"from": "cvm-vpc3", "to": f"{VIP}:54", "protocol": "udp", "expect": "timeout", "reason": "no_listener"},
        {"from": "cvm-vpc1", "to": "cvm-vpc3", "protocol": "icmp", "expect": "answered", "wait": "500ms"},
        {"from": "cvm-vpc1", "to": VIP, "protocol": "icmp", "expect": "timeout", "reason": "not_forwarded"},
    ]
    net: Network = network_of(data)
    results = net.run_checks()
    assert [c.passed for c in results] == [True, True, True, True]
    assert results[0].check.name == f"cvm-vpc3 -> {VIP}:53 (udp)"
    assert results[2].check.name == "cvm-vpc1 -> ping cvm-vpc3 (192.168.1.10)"
    assert results[2].check.wait == 0.5


@pytest.mark.parametrize(
    ("check", "key", "message"),
    [
        ({"protocol": "icmp", "to": f"{VIP}:53", "expect": "answered"}, "to", "a ping names a host, not a port"),
        ({"protocol": "udp", "to": VIP, "expect": "answered"}, "to", "expected 'HOST:PORT' for a udp check"),
        ({"protocol": "icmp", "to": VIP, "expect": "refused"}, "expect", "a icmp check ends answered, timeout"),
        ({"protocol": "tcp", "to": f"{VIP}:53", "expect": "answered"}, "expect", "a tcp check ends connected"),
        ({"to": f"{VIP}:1044", "expect": "connected", "wait": "1s"}, "wait", "a tcp check waits as connect() does"),
    ],
)
def test_a_check_that_its_protocol_cannot_end_is_one_clear_error(
    seed_data: dict[str, Any], check: dict[str, Any], key: str, message: str
) -> None:
    seed_data["checks"] = [{"from": "cvm-vpc1", **check}]
    with pytest.raises(ScenarioError) as err:
        from_data(seed_data, source="bad.yaml")
    assert f"checks.0.{key}" in str(err.value) or f"checks[0].{key}" in str(err.value)
    assert message in str(err.value)


@pytest.mark.parametrize("listen", [["udp/x"], ["sctp/53"], ["udp/70000"], [8080, 8080]])
def test_a_bad_listener_is_one_clear_error(seed_data: dict[str, Any], listen: list[Any]) -> None:
    seed_data["instances"]["cvm-backend1"]["listen"] = listen
    with pytest.raises(ScenarioError) as err:
        from_data(seed_data, source="bad.yaml")
    assert "instances.cvm-backend1.listen" in str(err.value)


def test_nc_and_ping_on_the_command_line(seed_data: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "dns.yaml"
    path.write_text(yaml.safe_dump(allow_ping(with_dns(seed_data)), sort_keys=False), encoding="utf-8")
    runner = CliRunner()
    nc = runner.invoke(cli, ["nc", "-u", str(path), "--from", "cvm-vpc3", VIP, "53"])
    assert nc.exit_code == 0, nc.output
    assert nc.output.startswith(f"Sending one datagram to {VIP} port 53 (udp)...\n7 bytes back from {VIP}:53: answered")
    tcp = runner.invoke(cli, ["nc", str(path), "--from", "cvm-vpc3", VIP, "1044", "--brief"])
    assert tcp.exit_code == 0
    assert "Connected to 172.16.2.16." in tcp.output
    ping = runner.invoke(cli, ["ping", str(path), "--from", "cvm-vpc3", "cvm-vpc1", "-c", "2"])
    assert ping.exit_code == 0, ping.output
    lines = ping.output.splitlines()
    assert lines[0] == "PING 172.16.2.10 (172.16.2.10) 56(84) bytes of data."
    assert lines[1] == "64 bytes from 172.16.2.10: icmp_seq=1 ttl=64 time=6.5 ms"
    assert "2 packets transmitted, 2 received, 0% packet loss" in ping.output
    lost = runner.invoke(cli, ["ping", str(path), "--from", "cvm-vpc3", VIP, "--json"])
    assert lost.exit_code == 1
    doc = json.loads(lost.output)
    assert (doc["protocol"], doc["verdict"], doc["reason"], doc["attempts"]) == ("icmp", "timeout", "not_forwarded", 1)
    bad = runner.invoke(cli, ["ping", str(path), "--from", "cvm-vpc3", VIP, "-W", "0"])
    assert bad.exit_code == 2


def test_nc_writes_a_pcap_of_the_datagram_and_its_answer(seed_data: dict[str, Any], tmp_path: Path) -> None:
    from scapy.layers.inet import IP, UDP
    from scapy.utils import rdpcap

    path = tmp_path / "dns.yaml"
    path.write_text(yaml.safe_dump(with_dns(seed_data), sort_keys=False), encoding="utf-8")
    pcap = tmp_path / "nc.pcapng"
    done = CliRunner().invoke(cli, ["nc", "-u", str(path), "--from", "cvm-vpc3", VIP, "53", "--pcap", str(pcap)])
    assert done.exit_code == 0, done.output
    packets = [p for p in rdpcap(str(pcap)) if UDP in p]
    assert packets
    # As the client sends it, as the backend receives it (translated twice), and the answer.
    pairs = {(p[IP].src, p[IP].dst, p[UDP].dport) for p in packets}
    assert ("192.168.1.10", VIP, 53) in pairs
    assert ("11.163.0.1", "10.0.2.11", 5353) in pairs
    assert any(p[IP].dst == "192.168.1.10" for p in packets)
    assert min(p[IP].ttl for p in packets) < 64  # routers lowered it
