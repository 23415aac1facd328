"""Any Scapy packet in: a hand-made IPv4 packet (TCP, UDP or ICMP echo) sent from an instance,
walked hop by hop, and what the destination's stack answered, walked back.

The packet goes where its header says, as the instance's kernel would send it: through the
instance's egress rules, its network's routers, translators and load balancers, which rewrite its
addresses and ports on the way; routers lower its TTL. What arrives is given back as a Scapy packet
with the headers as rewritten and the payload as sent. The destination answers as its kernel
would (a SYN-ACK or RST, a UDP echo or port unreachable, an echo reply); the sender does not answer
the answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vpcsim.errors import ArgumentError
from vpcsim.ir import CompiledNetwork
from vpcsim.sim import Simulation
from vpcsim.sim.packet import ECHO_REPLY, ICMP, TCP, UDP, Header, from_bytes, ip_text
from vpcsim.trace import Cause, Originated, PacketTrace, Reason

KINDS = {TCP: "TCP", UDP: "UDP", ICMP: "ICMP"}


@dataclass(frozen=True, slots=True)
class Sent:
    """One packet's walk: its trace, and (delivered) the packet as it arrived, a Scapy ``IP``."""

    trace: PacketTrace
    delivered: Any | None
    """None when it was dropped: ``trace.reason`` says why."""

    @property
    def reason(self) -> Reason | None:
        return self.trace.reason


@dataclass(frozen=True, slots=True)
class SendResult:
    """The packet handed in, and every answer the destination's stack sent back."""

    trace: PacketTrace
    delivered: Any | None
    """The packet as it arrived (a Scapy ``IP``, headers as rewritten, payload intact), or None."""
    replies: tuple[Sent, ...]

    @property
    def reason(self) -> Reason | None:
        """Why the packet stopped (None when it was delivered)."""
        return self.trace.reason


def header_of(packet: Any, source: str, address: int) -> tuple[Header, bytes]:
    """The header view of a Scapy packet sent by ``source`` (whose address is ``address``), and
    its layer-4 payload."""
    from scapy.layers import inet
    from scapy.packet import Packet

    if not isinstance(packet, Packet) or inet.IP not in packet:
        raise ArgumentError(f"send() takes a Scapy IPv4 packet (IP()/TCP(), IP()/UDP(), IP()/ICMP()), not {packet!r}")
    ip = packet[inet.IP]
    given = ip.fields.get("src")
    if given is not None and given != ip_text(address):
        raise ArgumentError(
            f"the packet's source {given} is not {source}'s address {ip_text(address)}: the cloud drops "
            "packets an instance sends from an address that is not its own (leave src unset to use it)"
        )
    ip = ip.copy()
    ip.src = ip_text(address)
    proto = ip.proto
    if proto not in KINDS:
        raise ArgumentError(f"send() takes TCP, UDP or ICMP packets, not IP protocol {proto}")
    if proto == ICMP and ip[inet.ICMP].type != 8:
        raise ArgumentError("send() takes ICMP echo requests (type 8) only: errors are the network's to send")
    raw = bytes(ip)
    h = from_bytes(raw)
    ihl = (raw[0] & 0x0F) * 4
    header_len = (raw[ihl + 12] >> 4) * 4 if proto == TCP else 8
    return h, raw[ihl + header_len :]


def rebuild(h: Header, original: Any, payload: bytes | None) -> Any:
    """A Scapy packet for header ``h``: the original's layers with addresses, ports, identifier and
    TTL from ``h`` (checksums and lengths recomputed), or for a packet vpcsim made, its own bytes
    with ``payload`` where it echoes one."""
    from scapy.layers import inet

    if original is not None:
        pkt = original[inet.IP].copy()
        pkt.src, pkt.dst, pkt.ttl = ip_text(h.src), ip_text(h.dst), h.ttl
        del pkt.chksum, pkt.len
        layer = pkt.payload
        if h.proto in (TCP, UDP):
            layer.sport, layer.dport = h.sport, h.dport
            del layer.chksum
            if h.proto == UDP:
                del layer.len
        else:
            layer.id = h.sport
            del layer.chksum
        return inet.IP(bytes(pkt))
    from vpcsim.sim.packet import to_scapy

    pkt = to_scapy(h)
    if payload is not None and h.proto in (UDP, ICMP):
        layer = pkt.payload
        layer.remove_payload()
        layer.add_payload(payload)
        del pkt.chksum, pkt.len, layer.chksum
        if h.proto == UDP:
            del layer.len
        pkt = inet.IP(bytes(pkt))
    return pkt


def send(net: CompiledNetwork, source: str, address: int, packet: Any, *, at: float, seed: int) -> SendResult:
    """Send a Scapy packet from instance ``source`` (address ``address``) at simulated time ``at``."""
    h, payload = header_of(packet, source, address)
    sim = Simulation(net, seed=seed, start=at, trace=True)
    sim.silent.add(source)
    sim.arrived = {}
    kind = h.kind if h.proto != ICMP else "ECHO"
    sim.send(h, source, Originated(source, kind, Cause.HANDMADE, h.dport, KINDS[h.proto].lower()), attempt=1)
    sim.env.run()
    packets = sim.packets
    first = packets[0]
    delivered = rebuild(sim.arrived[0], packet, payload) if first.reason is None else None
    replies = []
    for slot, p in enumerate(packets[1:], start=1):
        answer = sim.arrived[slot]
        echoed = payload if (answer.proto == UDP or answer.flags == ECHO_REPLY) else None
        replies.append(Sent(p, rebuild(answer, None, echoed) if p.reason is None else None))
    return SendResult(first, delivered, tuple(replies))
