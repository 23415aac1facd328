"""The compact header view and the Scapy packet agree field by field."""

from __future__ import annotations

from ipaddress import IPv4Address

from hypothesis import given
from hypothesis import strategies as st
from scapy.layers.inet import IP, TCP

from vpcsim.sim.packet import ACK, RST_ACK, SYN, SYN_ACK, Header, from_bytes, to_bytes, to_scapy

addresses = st.integers(min_value=0, max_value=2**32 - 1)
ports = st.integers(min_value=1, max_value=65535)
words = st.integers(min_value=0, max_value=2**32 - 1)
headers = st.builds(
    Header,
    src=addresses,
    dst=addresses,
    sport=ports,
    dport=ports,
    flags=st.sampled_from([SYN, SYN_ACK, ACK, RST_ACK]),
    seq=words,
    ack=words,
    ttl=st.integers(min_value=1, max_value=255),
    proto=st.just(6),
)


@given(headers)
def test_header_view_and_scapy_packet_agree_field_by_field(h: Header) -> None:
    pkt = to_scapy(h)
    assert pkt[IP].src == str(IPv4Address(h.src))
    assert pkt[IP].dst == str(IPv4Address(h.dst))
    assert pkt[IP].ttl == h.ttl
    assert pkt[IP].proto == 6
    assert pkt[TCP].sport == h.sport
    assert pkt[TCP].dport == h.dport
    assert int(pkt[TCP].flags) == h.flags
    assert pkt[TCP].seq == h.seq
    assert pkt[TCP].ack == h.ack


@given(headers)
def test_patched_bytes_carry_the_checksums_scapy_computes(h: Header) -> None:
    raw = to_bytes(h)
    rebuilt = IP(raw)
    del rebuilt[IP].chksum
    del rebuilt[TCP].chksum
    assert bytes(rebuilt) == raw


@given(headers)
def test_header_view_parses_back_from_the_wire_bytes(h: Header) -> None:
    assert from_bytes(to_bytes(h)) == h


def test_syn_carries_an_mss_option_like_linux_and_the_others_do_not() -> None:
    syn = to_scapy(Header(1, 2, 40000, 1044, SYN, 7, 0))
    ack = to_scapy(Header(1, 2, 40000, 1044, ACK, 8, 9))
    assert ("MSS", 1460) in syn[TCP].options
    assert ack[TCP].options == []


def test_a_syn_ack_answers_its_syn_as_scapy_sees_it() -> None:
    syn = Header(0x0A000001, 0x0A000002, 40000, 1044, SYN, 100, 0)
    synack = Header(0x0A000002, 0x0A000001, 1044, 40000, SYN_ACK, 555, 101)
    assert to_scapy(synack).answers(to_scapy(syn))
