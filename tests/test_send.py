"""Network.send: a user's own Scapy packet walked through the network, and the answers walked back."""

from __future__ import annotations

from typing import Any

import pytest
from scapy.layers.dns import DNS, DNSQR
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import Ether

from tests.scenarios.test_udp_and_icmp import allow_ping, with_dns
from vpcsim import Network
from vpcsim.errors import ArgumentError

VIP = "172.16.2.16"


@pytest.fixture
def dns_net(seed_data: dict[str, Any], network_of: Any) -> Network:
    net: Network = network_of(allow_ping(with_dns(seed_data)))
    return net


def test_a_dns_query_through_the_endpoint_arrives_rewritten_with_its_payload_intact(dns_net: Network) -> None:
    query = IP(dst=VIP) / UDP(sport=40000, dport=53) / DNS(id=4242, rd=1, qd=DNSQR(qname="db.internal"))
    r = dns_net.send("cvm-vpc3", query)
    assert r.reason is None
    assert r.trace.nodes == (
        "cvm-vpc3",
        "vpc3",
        "ccn-chengdu-chongqing",
        "vpc1",
        "vpce-vpc1",
        "lb-service",
        "vpc2",
        "cvm-backend1",
    )
    got = r.delivered
    # Private Link's SNAT and DNAT, then the CLB's choice of backend and port.
    assert (got[IP].src, got[IP].dst, got[UDP].dport) == ("11.163.0.1", "10.0.2.11", 5353)
    assert got[IP].ttl == 64 - 4  # vpc3, the CCN, vpc1 and vpc2 each lower it by one
    assert bytes(got[UDP].payload) == bytes(query[UDP].payload)
    assert got[DNS].id == 4242
    assert got[DNS].qd[0].qname == b"db.internal."
    # Checksums are valid for the rewritten headers.
    rebuilt = IP(bytes(got))
    del rebuilt[IP].chksum, rebuilt[UDP].chksum
    assert bytes(IP(bytes(rebuilt))) == bytes(got)
    (answer,) = r.replies
    assert answer.reason is None
    assert answer.trace.nodes[-1] == "cvm-vpc3"
    back = answer.delivered
    assert (back[IP].src, back[IP].dst, back[UDP].sport, back[UDP].dport) == (VIP, "192.168.1.10", 53, 40000)
    assert back[DNS].id == 4242  # the backend's UDP listener echoes the query


def test_an_ethernet_frame_is_sent_as_its_ip_packet(dns_net: Network) -> None:
    r = dns_net.send("cvm-vpc3", Ether() / IP(dst=VIP) / UDP(sport=40003, dport=53) / b"x")
    assert r.reason is None
    assert bytes(r.delivered[UDP].payload) == b"x"


def test_a_ping_and_its_reply(dns_net: Network) -> None:
    r = dns_net.send("cvm-vpc3", IP(dst="172.16.2.10") / ICMP(id=7, seq=3) / b"hello")
    assert r.reason is None
    assert (r.delivered[ICMP].id, r.delivered[ICMP].seq, bytes(r.delivered[ICMP].payload)) == (7, 3, b"hello")
    (reply,) = r.replies
    assert reply.trace.kind == "ECHO-REPLY"
    assert (reply.delivered[ICMP].type, reply.delivered[ICMP].id) == (0, 7)


def test_a_syn_is_answered_by_the_backend_and_the_ttl_runs_out_on_a_long_path(dns_net: Network) -> None:
    r = dns_net.send("cvm-vpc3", IP(dst=VIP) / TCP(sport=40001, dport=1044, flags="S", seq=1000))
    assert r.delivered[TCP].dport == 8080
    assert [(a.trace.kind, a.reason) for a in r.replies] == [("SYN-ACK", None)]
    assert r.replies[0].delivered[TCP].ack == 1001
    short = dns_net.send("cvm-vpc3", IP(dst=VIP, ttl=3) / TCP(sport=40002, dport=1044, flags="S"))
    assert short.reason is not None
    assert short.reason.value == "ttl_exceeded"
    assert short.trace.nodes[-1] == "vpc1"
    assert short.delivered is None
    assert short.replies == ()


@pytest.mark.parametrize(
    ("packet", "message"),
    [
        (Ether(), "Scapy IPv4 packet"),
        (b"\x45\x00", "Scapy IPv4 packet"),
        (IP(dst=VIP, proto=47), "TCP, UDP or ICMP packets, not IP protocol 47"),
        (IP(dst=VIP) / ICMP(type=3, code=3), r"ICMP echo requests \(type 8\) only"),
        (IP(src="10.9.9.9", dst=VIP) / UDP(dport=53), "is not cvm-vpc3's address 192.168.1.10"),
    ],
)
def test_a_packet_vpcsim_cannot_send_is_one_clear_error(dns_net: Network, packet: Any, message: str) -> None:
    with pytest.raises(ArgumentError, match=message):
        dns_net.send("cvm-vpc3", packet)
