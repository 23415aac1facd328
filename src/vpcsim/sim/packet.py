"""Packets: a compact header view on the hot path, Scapy at the edges.

Scapy builds one template per packet kind (SYN, SYN-ACK, ACK, RST) once per process; a
:class:`Header` is the handful of fields forwarding reads and NAT rewrites. :func:`to_bytes`
patches a template copy with ``struct`` and recomputes both checksums (~8 µs, against ~600 µs for
a Scapy build + serialise); :func:`to_scapy` turns a header back into a Scapy packet for pcap and
rendering.
"""

from __future__ import annotations

import struct
from functools import cache
from ipaddress import IPv4Address
from typing import Any, NamedTuple

FIN = 0x01
SYN = 0x02
RST = 0x04
PSH = 0x08
ACK = 0x10
SYN_ACK = SYN | ACK
RST_ACK = RST | ACK
FIN_ACK = FIN | ACK

TCP, UDP, ICMP = 6, 17, 1

ECHO_REQUEST = 8 << 8
ECHO_REPLY = 0
PORT_UNREACHABLE = (3 << 8) | 3
"""ICMP type and code, as ``flags`` holds them (``type << 8 | code``)."""

KIND_BY_FLAGS = {
    SYN: "SYN",
    SYN_ACK: "SYN-ACK",
    ACK: "ACK",
    RST: "RST",
    RST_ACK: "RST",
    FIN_ACK: "FIN",
    ACK | PSH: "DATA",
    FIN_ACK | PSH: "FIN",
}
ICMP_KINDS = {ECHO_REQUEST: "ECHO", ECHO_REPLY: "ECHO-REPLY", PORT_UNREACHABLE: "UNREACHABLE"}

UDP_PAYLOAD = b"vpcsim\n"
"""What a UDP probe carries (an echo server sends it back)."""


class Header(NamedTuple):
    """The fields of an IPv4 packet that forwarding and NAT touch; addresses are ints.

    TCP: ports, flags, sequence and acknowledgement numbers. UDP: ports (``flags`` 0). ICMP:
    ``flags`` is ``type << 8 | code``; an echo's identifier is both ``sport`` and ``dport`` (what
    connection tracking keys it by, as Linux does) and ``seq`` its sequence number; an error
    carries the header of the packet it answers in ``inner``.
    """

    src: int
    dst: int
    sport: int
    dport: int
    flags: int
    seq: int
    ack: int
    ttl: int = 64
    proto: int = TCP
    """The IP protocol number (6 TCP, 17 UDP, 1 ICMP)."""
    inner: Header | None = None
    """An ICMP error's quoted packet (its IP header and first 8 bytes)."""
    length: int = 0
    """TCP payload bytes (a data segment's); the payload itself is not carried, only its size."""
    window: int = 64240
    """The TCP receive window field as sent (scaled by the sender's window-scale shift)."""
    mss: int = 1460
    """The MSS option of a SYN or SYN-ACK (a gateway on the way may clamp it)."""
    wscale: int = -1
    """The window-scale option of a SYN or SYN-ACK (-1: not sent, as by ``connect()`` probes). A SYN
    that carries it carries SACK-permitted too (a connection that carries data offers both)."""
    sack: tuple[tuple[int, int], ...] = ()
    """SACK blocks of an ACK (RFC 2018): (left edge, right edge) of data held out of order."""
    ts: bool = False
    """Whether the segment carries the timestamps option (RFC 7323; its values are not modelled).
    A SYN without the MSS option has ``mss`` 0."""

    @property
    def size(self) -> int:
        """Bytes of the IP packet on the wire (what serialisation on a link counts)."""
        if self.proto == TCP:
            return 40 + _option_bytes(self) + self.length
        if self.proto == UDP:
            return 28 + len(UDP_PAYLOAD)
        if self.inner is not None:
            return 28 + 28  # the quoted IP header and 8 bytes
        return 84  # ping's 56 bytes of data

    @property
    def kind(self) -> str:
        if self.proto == TCP:
            if self.length and not self.flags & (FIN | SYN | RST):
                return "DATA"
            return KIND_BY_FLAGS.get(self.flags, f"flags=0x{self.flags:02x}")
        if self.proto == UDP:
            return "UDP"
        return ICMP_KINDS.get(self.flags, f"ICMP {self.flags >> 8}/{self.flags & 0xFF}")

    def summary(self) -> str:
        if self.proto == ICMP:
            return f"{ip_text(self.src)} > {ip_text(self.dst)} {self.kind} id={self.sport} seq={self.seq}"
        return f"{ip_text(self.src)}:{self.sport} > {ip_text(self.dst)}:{self.dport} {self.kind}"


def _option_bytes(h: Header) -> int:
    if h.flags & SYN:  # MSS 4, SACK-permitted 2 and window scale 3, timestamps 10; padded to 4
        n = (4 if h.mss else 0) + (5 if h.wscale >= 0 else 0) + (10 if h.ts else 0)
        return (n + 3) & ~3
    return (12 if h.ts else 0) + (4 + 8 * len(h.sack) if h.sack else 0)


def tcp_options(h: Header) -> bytes:
    """A TCP header's options as Linux lays them out (``tcp_options_write``): MSS; SACK-permitted
    with timestamps, or after two NOPs; window scale after a NOP; on other segments NOP NOP
    timestamps, then NOP NOP SACK. Timestamp values are zero (not modelled)."""
    out = b""
    if h.flags & SYN:
        if h.mss:
            out += struct.pack("!BBH", 2, 4, h.mss)
        if h.ts:
            out += (b"\x04\x02" if h.wscale >= 0 else b"\x01\x01") + b"\x08\x0a" + bytes(8)
        elif h.wscale >= 0:
            out += b"\x01\x01\x04\x02"
        if h.wscale >= 0:
            out += b"\x01\x03\x03" + bytes([h.wscale])
        return out
    if h.ts:
        out += b"\x01\x01\x08\x0a" + bytes(8)
    if h.sack:
        blocks = b"".join(struct.pack("!II", a & 0xFFFFFFFF, b & 0xFFFFFFFF) for a, b in h.sack)
        out += b"\x01\x01\x05" + bytes([2 + len(blocks)]) + blocks
    return out


@cache
def ip_text(address: int) -> str:
    return str(IPv4Address(address))


@cache
def _template(proto: int, flags: int) -> bytes:
    # Imported here: Scapy costs ~0.7 s to import and only pcap/rendering need it.
    from scapy.layers import inet

    ip = inet.IP(src="0.0.0.0", dst="0.0.0.0", ttl=64, id=0, flags="DF")
    if proto == TCP:  # options are written per packet (tcp_options)
        pkt = ip / inet.TCP(sport=1, dport=1, flags=flags, seq=0, ack=0, window=64240)
    elif proto == UDP:
        pkt = ip / inet.UDP(sport=1, dport=1) / UDP_PAYLOAD
    else:
        pkt = ip / inet.ICMP(type=flags >> 8, code=flags & 0xFF, id=0, seq=0)
        if flags != PORT_UNREACHABLE:
            pkt = pkt / (b"\0" * 56)  # ping's 56 bytes of data
    return bytes(pkt)


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def to_bytes(h: Header, snaplen: int = 0) -> bytes:
    """The packet as it is on the wire: a template with ``h`` patched in, every checksum valid.

    A data segment carries ``h.length`` zero bytes; ``snaplen`` (when set) cuts what is returned to
    that many bytes, after the checksums are computed over the whole packet, as a capture does."""
    tcp = h.proto == TCP
    raw = bytearray(_template(h.proto, h.flags))
    ihl = (raw[0] & 0x0F) * 4
    if tcp:
        options = tcp_options(h)
        if options:
            options += bytes(-len(options) % 4)
            raw[ihl + 20 : ihl + 20] = options
            raw[ihl + 12] = ((20 + len(options)) // 4) << 4
        if h.length:
            raw += bytes(h.length)
        struct.pack_into("!H", raw, ihl + 14, h.window & 0xFFFF)
    if h.proto == ICMP and h.inner is not None:
        # An error quotes the IP header and the first 8 bytes of the packet it answers (RFC 792).
        quoted = to_bytes(h.inner)
        raw += quoted[: (quoted[0] & 0x0F) * 4 + 8]
    struct.pack_into("!H", raw, 2, len(raw))
    raw[8] = h.ttl
    struct.pack_into("!II", raw, 12, h.src, h.dst)
    raw[10:12] = b"\0\0"
    struct.pack_into("!H", raw, 10, _checksum(bytes(raw[:ihl])))
    if h.proto == TCP:
        struct.pack_into("!HHII", raw, ihl, h.sport, h.dport, h.seq & 0xFFFFFFFF, h.ack & 0xFFFFFFFF)
        at, pseudo_proto = ihl + 16, TCP
    elif h.proto == UDP:
        struct.pack_into("!HHH", raw, ihl, h.sport, h.dport, len(raw) - ihl)
        at, pseudo_proto = ihl + 6, UDP
    else:
        if h.inner is None:
            struct.pack_into("!HH", raw, ihl + 4, h.sport, h.seq & 0xFFFF)
        raw[ihl + 2 : ihl + 4] = b"\0\0"
        struct.pack_into("!H", raw, ihl + 2, _checksum(bytes(raw[ihl:])))
        return bytes(raw)
    raw[at : at + 2] = b"\0\0"
    pseudo = struct.pack("!IIBBH", h.src, h.dst, 0, pseudo_proto, len(raw) - ihl)
    struct.pack_into("!H", raw, at, _checksum(pseudo + bytes(raw[ihl:])))
    return bytes(raw[:snaplen] if snaplen else raw)


def from_bytes(raw: bytes) -> Header:
    """Parse the header view back out of wire bytes (the inverse of :func:`to_bytes`)."""
    ihl = (raw[0] & 0x0F) * 4
    src, dst = struct.unpack_from("!II", raw, 12)
    proto = raw[9]
    if proto == TCP:
        sport, dport, seq, ack = struct.unpack_from("!HHII", raw, ihl)
        flags, window = raw[ihl + 13], struct.unpack_from("!H", raw, ihl + 14)[0]
        doff = (raw[ihl + 12] >> 4) * 4
        length = struct.unpack_from("!H", raw, 2)[0] - ihl - doff
        mss, wscale, ts = (0 if flags & SYN else 1460), -1, False
        sack: list[tuple[int, int]] = []
        at = ihl + 20
        while at < ihl + doff:  # the options: MSS and window scale are what the header keeps
            kind = raw[at]
            if kind == 0:
                break
            if kind == 1:
                at += 1
                continue
            if kind == 2:
                mss = struct.unpack_from("!H", raw, at + 2)[0]
            elif kind == 3:
                wscale = raw[at + 2]
            elif kind == 5:
                sack += [struct.unpack_from("!II", raw, b) for b in range(at + 2, at + raw[at + 1], 8)]
            elif kind == 8:
                ts = True
            at += max(raw[at + 1], 2)
        return Header(
            src, dst, sport, dport, flags, seq, ack, raw[8], proto, None, length, window, mss, wscale, tuple(sack), ts
        )
    if proto == UDP:
        sport, dport = struct.unpack_from("!HH", raw, ihl)
        return Header(src, dst, sport, dport, 0, 0, 0, raw[8], proto)
    flags = (raw[ihl] << 8) | raw[ihl + 1]
    if flags == PORT_UNREACHABLE:
        inner = _quoted(raw[ihl + 8 :])
        return Header(src, dst, 0, 0, flags, 0, 0, raw[8], proto, inner)
    ident, seq = struct.unpack_from("!HH", raw, ihl + 4)
    return Header(src, dst, ident, ident, flags, seq, 0, raw[8], proto)


def _quoted(raw: bytes) -> Header:
    """The header of a packet an ICMP error quotes (its IP header and first 8 bytes)."""
    ihl = (raw[0] & 0x0F) * 4
    src, dst = struct.unpack_from("!II", raw, 12)
    proto = raw[9]
    if proto in (TCP, UDP):
        sport, dport = struct.unpack_from("!HH", raw, ihl)
        seq = struct.unpack_from("!I", raw, ihl + 4)[0] if proto == TCP else 0
        return Header(src, dst, sport, dport, 0 if proto == UDP else SYN, seq, 0, raw[8], proto)
    ident, seq = struct.unpack_from("!HH", raw, ihl + 4)
    return Header(src, dst, ident, ident, (raw[ihl] << 8) | raw[ihl + 1], seq, 0, raw[8], proto)


def to_scapy(h: Header) -> Any:
    """A Scapy ``IP`` packet (with its TCP, UDP or ICMP layer) equal to the wire bytes of ``h``."""
    from scapy.layers.inet import IP

    return IP(to_bytes(h))
