"""The compact header view and the Scapy packet agree field by field."""

from __future__ import annotations

from ipaddress import IPv4Address

from hypothesis import given
from hypothesis import strategies as st
from scapy.layers import inet
from scapy.layers.inet import IP, TCP, UDPerror

from vpcsim.sim.packet import (
    ACK,
    ECHO_REPLY,
    ECHO_REQUEST,
    ICMP,
    PORT_UNREACHABLE,
    RST_ACK,
    SYN,
    SYN_ACK,
    UDP,
    UDP_PAYLOAD,
    Header,
    from_bytes,
    to_bytes,
    to_scapy,
)

addresses = st.integers(min_value=0, max_value=2**32 - 1)
ports = st.integers(min_value=1, max_value=65535)
words = st.integers(min_value=0, max_value=2**32 - 1)
_segments = st.builds(
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
    inner=st.none(),
    length=st.integers(min_value=0, max_value=1460),
    window=st.integers(min_value=0, max_value=65535),
    mss=st.just(0) | st.integers(min_value=536, max_value=8960),  # 0: a SYN without the option
    wscale=st.integers(min_value=-1, max_value=14),
    sack=st.lists(st.tuples(words, words), max_size=4).map(tuple),
    ts=st.booleans(),
)


def _as_sent(h: Header) -> Header:
    # MSS (or none) and window scale ride on SYNs only; data and SACK blocks on the others, three
    # at most beside the timestamps (40 bytes of options).
    if h.flags & SYN:
        return h._replace(length=0, sack=())
    return h._replace(mss=1460, wscale=-1, sack=h.sack[:3] if h.ts else h.sack)


headers = _segments.map(_as_sent)
datagrams = st.builds(
    Header,
    src=addresses,
    dst=addresses,
    sport=ports,
    dport=ports,
    flags=st.just(0),
    seq=st.just(0),
    ack=st.just(0),
    ttl=st.integers(min_value=1, max_value=255),
    proto=st.just(UDP),
    inner=st.none(),
    length=st.just(0),
    window=st.just(64240),
    mss=st.just(1460),
    wscale=st.just(-1),
    sack=st.just(()),
    ts=st.just(False),
)
idents = st.integers(min_value=0, max_value=65535)
echoes = st.builds(
    lambda src, dst, ident, flags, seq, ttl: Header(src, dst, ident, ident, flags, seq, 0, ttl, ICMP),
    addresses,
    addresses,
    idents,
    st.sampled_from([ECHO_REQUEST, ECHO_REPLY]),
    idents,
    st.integers(min_value=1, max_value=255),
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


@given(headers)
def test_the_size_a_link_serialises_is_the_wire_bytes(h: Header) -> None:
    assert h.size == len(to_bytes(h))


def test_syn_options_are_laid_out_as_linux_and_ns3_send_them() -> None:
    linux = to_scapy(Header(1, 2, 40000, 5001, SYN, 7, 0, wscale=7, ts=True))
    assert [name for name, _ in linux[TCP].options] == ["MSS", "SAckOK", "Timestamp", "NOP", "WScale"]
    assert len(linux) == 60
    ns3 = Header(1, 2, 40000, 5001, SYN, 7, 0, mss=0, wscale=7, ts=True)  # no MSS option
    assert [name for name, _ in to_scapy(ns3)[TCP].options] == ["SAckOK", "Timestamp", "NOP", "WScale"]
    assert ns3.size == 56
    data = to_scapy(Header(1, 2, 40000, 5001, ACK, 8, 9, length=1448, ts=True, sack=((20, 30),)))
    assert [name for name, _ in data[TCP].options] == ["NOP", "NOP", "Timestamp", "NOP", "NOP", "SAck"]
    assert len(data) == 40 + 12 + 12 + 1448


def test_a_syn_ack_answers_its_syn_as_scapy_sees_it() -> None:
    syn = Header(0x0A000001, 0x0A000002, 40000, 1044, SYN, 100, 0)
    synack = Header(0x0A000002, 0x0A000001, 1044, 40000, SYN_ACK, 555, 101)
    assert to_scapy(synack).answers(to_scapy(syn))


@given(datagrams)
def test_a_datagram_carries_its_ports_payload_and_valid_checksums(h: Header) -> None:
    raw = to_bytes(h)
    pkt = IP(raw)
    assert (pkt[inet.UDP].sport, pkt[inet.UDP].dport) == (h.sport, h.dport)
    assert bytes(pkt[inet.UDP].payload) == UDP_PAYLOAD
    del pkt[IP].chksum
    del pkt[inet.UDP].chksum
    del pkt[inet.UDP].len
    del pkt[IP].len
    assert bytes(pkt) == raw
    assert from_bytes(raw) == h


@given(echoes)
def test_an_echo_carries_its_identifier_and_sequence(h: Header) -> None:
    raw = to_bytes(h)
    pkt = IP(raw)
    assert (pkt[inet.ICMP].type, pkt[inet.ICMP].id, pkt[inet.ICMP].seq) == (h.flags >> 8, h.sport, h.seq)
    del pkt[IP].chksum
    del pkt[inet.ICMP].chksum
    assert bytes(pkt) == raw
    assert from_bytes(raw) == h


@given(datagrams)
def test_a_port_unreachable_quotes_the_datagram_it_answers(d: Header) -> None:
    error = Header(d.dst, d.src, 0, 0, PORT_UNREACHABLE, 0, 0, 64, ICMP, d)
    pkt = to_scapy(error)
    assert (pkt[inet.ICMP].type, pkt[inet.ICMP].code) == (3, 3)
    assert (pkt[UDPerror].sport, pkt[UDPerror].dport) == (d.sport, d.dport)
    assert from_bytes(to_bytes(error)) == error
