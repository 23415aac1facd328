"""Reading the packets iptables' NFLOG target hands to user space, over netfilter netlink.

A drop rule of the kernel build logs the packet with a prefix naming its drop point. One netlink
socket per namespace (it belongs to the namespace it was opened in) binds to the log group and
asks for the first bytes of each packet: enough for the IP header, the ports, and the header an
ICMP error quotes. The protocol is the kernel's ``nfnetlink_log``
(https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/include/uapi/linux/netfilter/nfnetlink_log.h).
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

NETLINK_NETFILTER = 12
_SUBSYS_ULOG = 4
_MSG_PACKET, _MSG_CONFIG = 0, 1
_NLM_F_REQUEST, _NLM_F_ACK = 1, 4
_NLMSG_ERROR = 2
_CFG_CMD, _CFG_MODE, _CFG_TIMEOUT, _CFG_QTHRESH = 1, 2, 4, 5
_CMD_BIND = 1
_COPY_PACKET = 2
_ATTR_PAYLOAD, _ATTR_PREFIX = 9, 10
COPY_BYTES = 128
"""Bytes of each logged packet copied to user space: an IP header with options, a transport header,
and for an ICMP error the IP header and ports it quotes."""
_RCVBUF = 8 << 20
_SO_RCVBUFFORCE = 33


class NflogError(Exception):
    """The kernel refused to bind a log group."""


@dataclass(frozen=True, slots=True)
class Logged:
    """One logged packet: the prefix (``d<N>``) and what identifies its flow."""

    prefix: str
    proto: int
    sport: int
    dport: int
    icmp_type: int = -1
    inner: tuple[int, int, int] | None = None
    """An ICMP error's quoted packet: (protocol, source port, destination port)."""


def _message(group: int, attrs: list[tuple[int, bytes]], seq: int) -> bytes:
    body = struct.pack("!BBH", socket.AF_UNSPEC, 0, group)
    for kind, value in attrs:
        length = 4 + len(value)
        body += struct.pack("=HH", length, kind) + value + b"\0" * (-length % 4)
    return (
        struct.pack("=IHHII", 16 + len(body), (_SUBSYS_ULOG << 8) | _MSG_CONFIG, _NLM_F_REQUEST | _NLM_F_ACK, seq, 0)
        + body
    )


def _expect_ack(sock: socket.socket) -> None:
    data = sock.recv(4096)
    _, kind = struct.unpack_from("=IH", data)
    if kind != _NLMSG_ERROR:
        raise NflogError(f"unexpected netlink answer type {kind}")
    (code,) = struct.unpack_from("=i", data, 16)
    if code != 0:
        raise NflogError(f"binding the log group failed: errno {-code}")


def open_group(group: int) -> socket.socket:
    """A socket receiving group ``group``'s packets, in the calling thread's namespace."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    try:
        sock.bind((0, 0))
        try:
            sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, _RCVBUF)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RCVBUF)
        sock.send(_message(group, [(_CFG_CMD, struct.pack("B", _CMD_BIND))], 1))
        _expect_ack(sock)
        sock.send(_message(group, [(_CFG_MODE, struct.pack("!IBB", COPY_BYTES, _COPY_PACKET, 0))], 2))
        _expect_ack(sock)
        # Each packet at once: by default the kernel batches up to 100 of them for up to a second.
        sock.send(_message(group, [(_CFG_QTHRESH, struct.pack("!I", 1)), (_CFG_TIMEOUT, struct.pack("!I", 1))], 3))
        _expect_ack(sock)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def drain(sock: socket.socket) -> list[Logged]:
    """Every packet waiting on ``sock``."""
    out: list[Logged] = []
    while True:
        try:
            data = sock.recv(1 << 16)
        except (BlockingIOError, InterruptedError):
            return out
        off = 0
        while off + 16 <= len(data):
            length, kind = struct.unpack_from("=IH", data, off)
            if length < 16:
                break
            if kind == (_SUBSYS_ULOG << 8) | _MSG_PACKET:
                logged = _packet(data[off + 20 : off + length])
                if logged is not None:
                    out.append(logged)
            off += (length + 3) & ~3


def _packet(attrs: bytes) -> Logged | None:
    prefix, payload = "", b""
    off = 0
    while off + 4 <= len(attrs):
        length, kind = struct.unpack_from("=HH", attrs, off)
        if length < 4:
            break
        value = attrs[off + 4 : off + length]
        kind &= 0x7FFF
        if kind == _ATTR_PREFIX:
            prefix = value.rstrip(b"\0").decode("ascii", "replace")
        elif kind == _ATTR_PAYLOAD:
            payload = value
        off += (length + 3) & ~3
    return parse(prefix, payload)


def _ports(ip: bytes) -> tuple[int, int, int, int] | None:
    """(protocol, header length, source port, destination port) of an IPv4 packet's start."""
    if len(ip) < 20 or ip[0] >> 4 != 4:
        return None
    ihl = (ip[0] & 0x0F) * 4
    proto = ip[9]
    if len(ip) < ihl + 4:
        return proto, ihl, 0, 0
    sport, dport = struct.unpack_from("!HH", ip, ihl)
    return proto, ihl, sport, dport


def parse(prefix: str, ip: bytes) -> Logged | None:
    """What identifies the flow of a logged IPv4 packet (echo identifiers count as both ports)."""
    head = _ports(ip)
    if head is None:
        return None
    proto, ihl, sport, dport = head
    if proto != 1:
        return Logged(prefix, proto, sport, dport)
    if len(ip) < ihl + 8:
        return None
    icmp_type = ip[ihl]
    if icmp_type in (0, 8):
        (ident,) = struct.unpack_from("!H", ip, ihl + 4)
        return Logged(prefix, proto, ident, ident, icmp_type)
    body = ip[ihl + 8 :]
    quoted = _ports(body)
    inner = None if quoted is None else (quoted[0], quoted[2], quoted[3])
    if quoted is not None and quoted[0] == 1 and len(body) >= quoted[1] + 6:
        # An error about an echo request quotes it: its identifier stands for both ports.
        (ident,) = struct.unpack_from("!H", body, quoted[1] + 4)
        inner = (1, ident, ident)
    return Logged(prefix, proto, 0, 0, icmp_type, inner)
