"""The kernel half of the capacity oracle: real Linux TCP through a ``tbf``-shaped veth.

A transfer runs in network namespaces of its own, each veth pair created from inside one namespace
straight into the next (the host namespace is never touched). Where the token-bucket filter sits is
chosen per transfer (``where``):

``sender`` (the default), two namespaces, ``vpcsim-<pid>-<n>-0`` (the client) and ``-1`` (the
server), the tbf on the client's own egress:

    client  cap0 10.255.0.1/30  ──tbf──▶  cap1 10.255.0.2/30  server

``router``, three namespaces, ``-0`` (the client), ``-1`` (a router, IPv4 forwarding on) and ``-2``
(the server), the tbf on the router's egress toward the server:

    client  cap0 10.255.0.1/30  ───────▶  rtr0 10.255.0.2/30  router
    router  rtr1 10.255.0.5/30  ──tbf──▶  cap1 10.255.0.6/30  server

The difference is who hears of a drop. On the sender's own veth the queued packets still belong to
the client's socket (TCP Small Queues counts them, and a packet the qdisc refuses can be reported
to the sending TCP at once: see :attr:`KernelTransfer.drops`). At the router they have left the
sending host (the router's IP layer orphans them from their socket on arrival), so a tail drop
there is a hole the sender learns of only from the ACKs, as at a simulator's bottleneck router.
Seen on Linux 6.18, with no delay but the queue's: with a small limit (30 KB) both queues fill and
drop alike; with a large one (300 KB) the sender's own levels off near 100-150 KB, where the
receiver's advertised window stops growing, and never drops, while the router's fills to the limit.

The addresses are private /30s that exist only inside these namespaces, so they cannot clash with
the host's networks, nor with another build's (each namespace has its own routing). Only the
direction the data flows is shaped; ACKs come back unshaped. Everything is deleted afterwards, on
exceptions too: the namespaces go, and their veths and qdiscs with them.

What a transfer measures is the kernel's answer to "how much does TCP carry through a cap of B":
the bytes the server read, when, whether they were the bytes sent, the frames that crossed the
link and when, and how many packets the qdisc dropped. :func:`max_bytes_in_windows` turns either
record into the most any window carried, for checking that a cap is a cap.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import ipaddress
import json
import math
import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from vpcsim.emulate import kernel
from vpcsim.emulate.kernel import (
    NAME_PREFIX,
    CannotEmulateError,
    KernelError,
    _run,
    delete_namespaces,
    in_netns,
    list_namespaces,
    machine_lock,
)

Where = Literal["sender", "router"]
"""Where the tbf sits: on the client's own egress, or on a router's egress toward the server."""
WHERE: tuple[Where, ...] = ("sender", "router")
CLIENT_IF = "cap0"
SERVER_IF = "cap1"
CLIENT_ADDR = "10.255.0.1"
SERVER_ADDR = "10.255.0.2"
"""The server's address when the tbf is on the sender (one /30 between client and server)."""
ROUTER_IN_IF = "rtr0"
"""The router's veth toward the client, ``ROUTER_IN_ADDR`` on the client's /30."""
ROUTER_OUT_IF = "rtr1"
"""The router's veth toward the server, where its tbf sits."""
ROUTER_IN_ADDR = "10.255.0.2"
ROUTER_OUT_ADDR = "10.255.0.5"
ROUTED_SERVER_ADDR = "10.255.0.6"
"""The server's address behind the router (a second /30, 10.255.0.4/30)."""
PREFIX_LEN = 30
PORT = 5201
ETH_HEADER = 14
"""tbf charges a packet its length at the qdisc, which on a veth includes the Ethernet header: a
full-size packet costs ``mtu + 14`` bytes of tokens, so TCP's goodput tops out at
``(mtu - 52) / (mtu + 14)`` of the cap (about 95.6 % at 1500 with timestamps)."""
BURST_TIME = 0.001
"""The default burst holds at least this long at the cap. Linux arms tbf's watchdog with an
hrtimer, so the bucket does not need the old ``rate / HZ`` worth of tokens; a millisecond absorbs
timer and scheduling slack on a loaded machine without letting much more than a packet or two
through at the rates an emulation uses (2.5 KB at 20 Mbit/s, where the floor of two frames is
more)."""
SLOW_FACTOR = 4.0
SLACK_SECONDS = 10.0
"""A transfer that takes longer than ``SLOW_FACTOR`` times its ideal time plus ``SLACK_SECONDS``
is stuck (a black-holing qdisc, a wedged socket), not slow: it is abandoned with an error."""

_SIOCETHTOOL = 0x8946
# Not in Python's socket module; the asm-generic numbers (x86, arm, riscv; not mips, sparc, parisc).
_SO_TIMESTAMPNS = 35
_SO_RCVBUFFORCE = 33
_SOL_PACKET = 263
_PACKET_STATISTICS = 6
_ETH_P_ALL = 0x0003
_TCPI_TOTAL_RETRANS = 100
"""Offset of ``tcpi_total_retrans`` in ``struct tcp_info``: 8 bytes of u8 fields, then 23 u32s."""
_ETHTOOL_SET = {"tso": 0x1F, "gso": 0x24, "gro": 0x2C}
_ETHTOOL_GET = {"tso": 0x1E, "gso": 0x23, "gro": 0x2B}
_CHUNK = 1 << 16
_tbf_ok = False


@dataclass(frozen=True, slots=True)
class KernelTransfer:
    """What one capped transfer did, as the kernel did it."""

    sent: int
    """Bytes the client wrote."""
    received: int
    """Bytes the server read."""
    intact: bool
    """The server read exactly the bytes sent, in order (their SHA-256 over a pattern whose every
    64 KiB block differs, so a lost, repeated or reordered block shows)."""
    duration: float
    """Seconds from ``connect()`` returning to the server reading the last byte: the handshake is
    not counted, the time the last bytes spend queued and in flight is."""
    goodput_bps: float
    """``received * 8 / duration``: payload only, so a long transfer gets at most the payload's share
    of each frame (95.6 % of the cap at MTU 1500)."""
    samples: tuple[tuple[float, int], ...]
    """(seconds since connect, cumulative bytes read by the server), one per ``recv()``."""
    drops: int
    """Packets the tbf qdisc dropped (its ``tc -s`` counter), or -1 if that could not be read. With
    the qdisc on the sender's own veth (:attr:`where` ``sender``), some drops reach the sending TCP
    as a local error (it backs off and sends the segment again, no hole), others do not and leave a
    hole the receiver sees, recovered by a retransmission (see :attr:`retransmits`). Seen on Linux
    6.18: with BBR the retransmissions can outnumber this counter although no segment crosses the
    link twice, so some segments are lost before the wire without being counted here. With the
    qdisc on the router (``router``), every drop is a hole the sender learns of from the ACKs."""
    rate_bps: float
    """The cap applied, as the kernel reports it back (tc keeps whole bytes per second)."""
    burst_bytes: int = 0
    """The bucket's depth as the kernel reports it back (tc rounds it through a time)."""
    congestion: str = ""
    """The sending socket's congestion control (the namespace inherits the host's default)."""
    retransmits: int = -1
    """Segments the client retransmitted (``tcpi_total_retrans``), or -1 if that could not be read."""
    wire: tuple[tuple[float, int], ...] = ()
    """(seconds since connect, cumulative bytes of the frames arriving at the server's veth, Ethernet
    header included: what tbf charged for them), one per frame, timed by the kernel as it received
    it; empty if the capture missed frames. Unlike :attr:`samples` it is not bunched by loss
    recovery: bytes held in the receiver's out-of-order queue until a retransmission fills the hole
    are read all at once, long after they crossed the link. The cap is checked on this."""
    where: Where = "sender"
    """Where the tbf sat: on the client's own egress (``sender``), or on a router's egress toward
    the server (``router``), a queue in the network."""


class TransferTimeoutError(KernelError):
    """A capped transfer did not finish within its time limit."""


def default_burst(rate_bps: float, mtu: int = 1500) -> int:
    """The default bucket depth: two full-size frames, or :data:`BURST_TIME` at the cap if more.

    One frame (``mtu + 14``) is the least tbf can pass at all: a packet larger than the bucket is
    dropped outright, and tc only warns about it. Two leave room for tc's rounding of the depth
    through a time and for a late watchdog, without letting much through at line rate.
    """
    return max(2 * (mtu + ETH_HEADER), math.ceil(rate_bps / 8 * BURST_TIME))


def preflight() -> None:
    """Raise :class:`CannotEmulateError` unless this machine can run :func:`capped_transfer`.

    Not :func:`vpcsim.emulate.kernel.preflight`: that one also demands iptables and dnsmasq, which
    a capped transfer does not use, and cannot know about tc and the tbf qdisc, which it does. The
    first call also adds a tbf to a veth in a namespace of its own (then deletes it), because tc
    being installed does not mean the kernel has ``sch_tbf``.
    """
    global _tbf_ok
    if os.geteuid() != 0:
        raise CannotEmulateError("needs root (network namespaces, veth pairs and tc qdiscs)")
    missing = [t for t in ("ip", "tc") if shutil.which(t) is None]
    if missing:
        raise CannotEmulateError(f"missing tools: {', '.join(missing)} (Debian package iproute2)")
    if not os.path.exists("/proc/self/ns/net"):
        raise CannotEmulateError("this kernel has no network namespace support")
    if _tbf_ok:
        return
    with _namespaces(1) as (ns,):
        _run(["ip", "-n", ns, "link", "add", "name", CLIENT_IF, "type", "veth", "peer", "name", SERVER_IF])
        try:
            _run(["tc", "-n", ns, "qdisc", "add", "dev", CLIENT_IF, "root", "tbf", "rate", "1mbit", "burst", "10kb",
                  "limit", "10kb"])  # fmt: skip
        except KernelError as exc:
            raise CannotEmulateError(f"the kernel cannot add a tbf qdisc (module sch_tbf missing?): {exc}") from exc
    _tbf_ok = True


def capped_transfer(
    nbytes: int,
    rate_bps: float,
    *,
    limit_bytes: int,
    burst_bytes: int | None = None,
    mtu: int = 1500,
    congestion: str | None = None,
    where: Where = "sender",
) -> KernelTransfer:
    """Send ``nbytes`` over real TCP through a veth capped at ``rate_bps`` by tbf; return what arrived.

    ``limit_bytes`` is tbf's queue (bytes waiting for tokens; more are tail-dropped),
    ``burst_bytes`` its bucket depth (default :func:`default_burst`), ``mtu`` every veth end's.
    ``congestion`` names a congestion control for the sending socket (``cubic``, ``bbr``, ...);
    None keeps the namespace's default, which is the host's. ``where`` puts the tbf on the client's
    own egress (``sender``) or on a router's egress toward the server (``router``): see the module's
    description for what that changes.

    Segmentation offloads are turned off on every veth end (the ``SIOCETHTOOL`` requests behind
    ``ethtool -K <dev> tso off gso off gro off``, made directly, so ethtool need not be installed).
    With them on, TCP hands the qdisc multi-segment GSO packets (as many segments as its pacing
    allows, up to 64 KB); tbf cuts one up itself (``tbf_segment``) only when it exceeds the bucket,
    and otherwise passes it whole, charged whole, and the veth carries it unsegmented: 2962-byte
    frames through a 3 KB bucket, 21.8 KB ones through a 100 KB bucket. Off, every packet the qdisc
    sees is at most ``mtu + 14`` bytes, as on a real link.

    Raises :class:`CannotEmulateError` if the machine cannot do this at all, :class:`ValueError` for
    arguments tbf would silently misbehave with, :class:`TransferTimeoutError` if the transfer takes
    longer than ``4 ×`` its ideal time plus 10 s.
    """
    if nbytes <= 0:
        raise ValueError(f"nbytes must be positive, not {nbytes}")
    if not 68 <= mtu <= 65535:
        raise ValueError(f"mtu {mtu} is outside 68..65535")
    if rate_bps < 8000:
        raise ValueError(f"rate {rate_bps:g} bit/s is below tc's resolution (use at least 8000)")
    frame = mtu + ETH_HEADER
    burst = default_burst(rate_bps, mtu) if burst_bytes is None else burst_bytes
    if burst < frame:
        raise ValueError(f"burst {burst} B is below one full frame ({frame} B): tbf would drop every full-size packet")
    if limit_bytes < frame:
        raise ValueError(f"limit {limit_bytes} B is below one full frame ({frame} B): tbf would queue nothing")
    if where not in WHERE:
        raise ValueError(f"where must be one of {', '.join(WHERE)}, not {where!r}")
    preflight()
    limit = SLOW_FACTOR * nbytes * 8 / rate_bps + SLACK_SECONDS
    payload, digest = _payload(nbytes)
    with machine_lock(), _namespaces(2 if where == "sender" else 3) as names:
        client_ns, server_ns = names[0], names[-1]
        if where == "sender":
            shaped_ns, shaped_if, server_addr = client_ns, CLIENT_IF, SERVER_ADDR
            _veth(client_ns, CLIENT_IF, CLIENT_ADDR, server_ns, SERVER_IF, SERVER_ADDR, mtu)
        else:
            shaped_ns, shaped_if, server_addr = names[1], ROUTER_OUT_IF, ROUTED_SERVER_ADDR
            _routed(client_ns, names[1], server_ns, mtu)
        _run(["tc", "-n", shaped_ns, "qdisc", "add", "dev", shaped_if, "root", "tbf", "rate", f"{round(rate_bps)}bit",
              "burst", str(burst), "limit", str(limit_bytes)])  # fmt: skip
        applied = _tbf_stats(shaped_ns, shaped_if)
        applied_rate = float(applied["rate"]) * 8 if applied and "rate" in applied else float(round(rate_bps))
        applied_burst = int(applied["burst"]) if applied and "burst" in applied else burst
        if applied_burst < frame:
            raise ValueError(
                f"tc rounded the burst {burst} B down to {applied_burst} B, below one full frame ({frame} B): "
                "give a larger burst"
            )
        with contextlib.ExitStack() as sockets:
            # Each socket belongs to the namespace it was opened in; the threads reading them do not move.
            with in_netns(server_ns):
                listener = sockets.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
                tap = sockets.enter_context(socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(_ETH_P_ALL)))
            with in_netns(client_ns):
                client = sockets.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            deadline = time.perf_counter() + limit
            server = _Server(listener, deadline)
            capture = _Capture(tap)
            sockets.callback(_stop, server, capture)
            listener.bind((server_addr, PORT))
            listener.listen(1)
            capture.open()
            if congestion is not None:
                try:
                    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, congestion.encode())
                except OSError as exc:
                    raise ValueError(f"congestion control {congestion!r} is not available here: {exc}") from exc
            used = client.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0").decode()
            capture.start()
            server.start()
            client.settimeout(limit)
            client.connect((server_addr, PORT))
            connected = time.perf_counter()
            try:
                client.sendall(payload)
                client.shutdown(socket.SHUT_WR)
            except OSError as exc:
                # Out of time on this side (TimeoutError), or on the server's, which then closed the
                # connection under the sender (EPIPE, ECONNRESET).
                server.join(1.0)
                if isinstance(exc, TimeoutError) or server.timed_out:
                    raise TransferTimeoutError(
                        f"{nbytes} B at {rate_bps:g} bit/s not sent within {limit:.1f} s ({_limit_text()})"
                    ) from exc
                raise KernelError(f"the client side of the transfer failed: {exc}") from exc
            server.join(max(0.0, deadline - time.perf_counter()) + 1.0)
            if server.is_alive() or server.timed_out:
                raise TransferTimeoutError(
                    f"{nbytes} B at {rate_bps:g} bit/s: the server had read {server.count} B after {limit:.1f} s "
                    f"({_limit_text()})"
                )
            if server.error is not None:
                raise KernelError(f"the server side of the transfer failed: {server.error}") from server.error
            stats = _tbf_stats(shaped_ns, shaped_if)
            retransmits = _total_retrans(client)
    times = server.times
    received = server.count
    duration = (times[-1] if times else connected) - connected
    samples = tuple((t - connected, c) for t, c in zip(times, server.counts, strict=True))
    return KernelTransfer(
        sent=nbytes,
        received=received,
        intact=received == nbytes and server.hasher.digest() == digest,
        duration=duration,
        goodput_bps=received * 8 / duration if duration > 0 else 0.0,
        samples=samples,
        drops=int(stats["drops"]) if stats and "drops" in stats else -1,
        rate_bps=applied_rate,
        burst_bytes=applied_burst,
        congestion=used,
        retransmits=retransmits,
        wire=tuple((t - connected, c) for t, c in zip(capture.times, capture.counts, strict=True))
        if capture.complete
        else (),
        where=where,
    )


def max_bytes_in_windows(samples: Sequence[tuple[float, int]], window: float) -> int:
    """The most bytes in any time window of length ``window`` (closed at both ends).

    ``samples`` are (time, cumulative bytes) as in :attr:`KernelTransfer.samples` (the server's
    reads) or :attr:`KernelTransfer.wire` (the frames crossing the link); each sample's bytes count
    at its instant. The window slides over every pair of samples ``i ≤ j`` at most ``window`` apart
    and counts the bytes of samples ``i`` to ``j``, so a window starting just before a sample
    includes it. A check of the cap on the wire reads: over windows of at least ten frame times, at
    most ``rate * window / 8`` plus the bucket plus one frame (for the kernel's time stamps). The
    reads cannot be held to that: a hole's retransmission releases everything queued behind it in
    one read.
    """
    if window < 0:
        raise ValueError(f"window must not be negative, not {window}")
    best = 0
    i = 0
    for tj, cj in samples:
        while samples[i][0] < tj - window:
            i += 1
        before = samples[i - 1][1] if i > 0 else 0
        best = max(best, cj - before)
    return best


# -- internals ---------------------------------------------------------------------------------------


def _realtime_offset() -> float:
    """CLOCK_REALTIME (the kernel's packet stamps) minus perf_counter's clock (CLOCK_MONOTONIC).

    Of a few readings, the one whose bracketing perf_counter reads are closest together: a thread
    preempted between two reads would otherwise shift every frame in time by as long as it waited.
    """
    best = (math.inf, 0.0)
    for _ in range(5):
        before = time.perf_counter()
        real = time.time()
        after = time.perf_counter()
        best = min(best, (after - before, real - (before + after) / 2))
    return best[1]


def _limit_text() -> str:
    return f"the limit is {SLOW_FACTOR:g} × the ideal time + {SLACK_SECONDS:g} s"


def _stop(*threads: _Server | _Capture) -> None:
    """Tell the transfer's threads to finish and wait for them (each checks every 0.2 s at most)."""
    for thread in threads:
        thread.stop.set()
    for thread in threads:
        if thread.is_alive():
            thread.join(5.0)


@contextlib.contextmanager
def _namespaces(count: int) -> Iterator[tuple[str, ...]]:
    """``count`` fresh namespaces, deleted when the body ends, however it ends.

    Their numbers come from :mod:`kernel`'s build counter, so they never share a name with a
    :class:`~vpcsim.emulate.kernel.Fabric` of this process, and ``cleanup_leftovers`` finds them if
    the process is killed.
    """
    n = kernel._fabric_counter
    kernel._fabric_counter += 1
    names = tuple(f"{NAME_PREFIX}{os.getpid()}-{n}-{i}" for i in range(count))
    try:
        # A failure halfway still removes what exists: the names are known before anything is made.
        _run(["ip", "-batch", "-"], "".join(f"netns add {name}\n" for name in names))
        for name in names:
            with in_netns(name):
                # No IPv6: its router solicitations and reports would queue in the tbf with the data.
                for conf in ("all", "default"):
                    with open(f"/proc/sys/net/ipv6/conf/{conf}/disable_ipv6", "w", encoding="ascii") as fh:
                        fh.write("1")
        yield names
    finally:
        existing = set(list_namespaces())
        doomed = [name for name in names if name in existing]
        if doomed:
            delete_namespaces(doomed)


def _veth(a_ns: str, a_if: str, a_addr: str, b_ns: str, b_if: str, b_addr: str, mtu: int) -> None:
    """A veth pair, made from ``a_ns`` straight into ``b_ns``, each end addressed (a /30), up, at
    ``mtu``, with segmentation offloads off; loopback up on both sides."""
    _run(
        ["ip", "-n", a_ns, "-batch", "-"],
        f"link add name {a_if} mtu {mtu} type veth peer name {b_if} mtu {mtu} netns {b_ns}\n",
    )
    for ns, dev in ((a_ns, a_if), (b_ns, b_if)):
        _offloads_off(ns, dev)
    for ns, dev, addr in ((a_ns, a_if, a_addr), (b_ns, b_if, b_addr)):
        _run(
            ["ip", "-n", ns, "-batch", "-"],
            f"link set dev lo up\naddr add {addr}/{PREFIX_LEN} dev {dev}\nlink set dev {dev} up\n",
        )


def _routed(client_ns: str, router_ns: str, server_ns: str, mtu: int) -> None:
    """Client and server on /30s of their own either side of a forwarding router, each routed to the
    other's /30 through it (the router knows both as connected networks)."""
    _veth(client_ns, CLIENT_IF, CLIENT_ADDR, router_ns, ROUTER_IN_IF, ROUTER_IN_ADDR, mtu)
    _veth(router_ns, ROUTER_OUT_IF, ROUTER_OUT_ADDR, server_ns, SERVER_IF, ROUTED_SERVER_ADDR, mtu)
    with in_netns(router_ns), open("/proc/sys/net/ipv4/ip_forward", "w", encoding="ascii") as fh:
        fh.write("1")
    _run(["ip", "-n", client_ns, "route", "add", _subnet(ROUTED_SERVER_ADDR), "via", ROUTER_IN_ADDR])
    _run(["ip", "-n", server_ns, "route", "add", _subnet(CLIENT_ADDR), "via", ROUTER_OUT_ADDR])


def _subnet(addr: str) -> str:
    """The /``PREFIX_LEN`` network ``addr`` is on, as ip route wants it (``10.255.0.4/30``)."""
    return str(ipaddress.ip_interface(f"{addr}/{PREFIX_LEN}").network)


def _offloads_off(ns: str, dev: str) -> None:
    """``ethtool -K dev tso off gso off gro off``, as the ioctls ethtool makes, then read back.

    Where the ioctls are refused, TCP is still kept to one segment per packet on this device
    (``gso_max_segs 1``), and tbf segments any GSO packet larger than its bucket itself.
    """
    try:
        with in_netns(ns), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for feature, cmd in _ETHTOOL_SET.items():
                _ethtool(s, dev, cmd, 0)
                if _ethtool(s, dev, _ETHTOOL_GET[feature]) != 0:
                    raise OSError(errno.EOPNOTSUPP, f"{feature} stays on")
    except OSError:
        _run(["ip", "-n", ns, "link", "set", "dev", dev, "gso_max_segs", "1"])


def _ethtool(s: socket.socket, dev: str, cmd: int, data: int = 0) -> int:
    """One ``struct ethtool_value`` request on ``dev``; returns the value the kernel leaves in it."""
    value = (ctypes.c_uint32 * 2)(cmd, data)
    ifreq = struct.pack("16sP", dev.encode(), ctypes.addressof(value)).ljust(40, b"\0")
    fcntl.ioctl(s.fileno(), _SIOCETHTOOL, ifreq)
    return int(value[1])


def _total_retrans(s: socket.socket) -> int:
    """The segments ``s`` retransmitted over its life, or -1 if the kernel does not say."""
    try:
        info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    except OSError:
        return -1
    if len(info) < _TCPI_TOTAL_RETRANS + 4:
        return -1
    return int(struct.unpack_from("I", info, _TCPI_TOTAL_RETRANS)[0])


_TEXT_DROPS = re.compile(r"qdisc tbf .*?\(dropped (\d+),", re.S)


def _tbf_stats(ns: str, dev: str) -> dict[str, int] | None:
    """The tbf on ``dev`` in ``ns`` as tc reports it: ``rate`` (bytes/s), ``burst`` (bytes),
    ``drops``; None if tc says nothing readable."""
    proc = subprocess.run(
        ["tc", "-n", ns, "-s", "-j", "qdisc", "show", "dev", dev],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return None
    try:
        qdiscs = json.loads(proc.stdout)
        tbf = next(q for q in qdiscs if q.get("kind") == "tbf")
        out = {k: int(tbf["options"][k]) for k in ("rate", "burst") if k in tbf.get("options", {})}
        if "drops" in tbf:
            out["drops"] = int(tbf["drops"])
    except (ValueError, TypeError, KeyError, StopIteration):
        return _tbf_text_stats(ns, dev)
    return out


def _tbf_text_stats(ns: str, dev: str) -> dict[str, int] | None:
    """The drop counter from tc's text output, for a tc whose JSON could not be read."""
    proc = subprocess.run(
        ["tc", "-n", ns, "-s", "qdisc", "show", "dev", dev], capture_output=True, text=True, check=False
    )
    m = _TEXT_DROPS.search(proc.stdout) if proc.returncode == 0 else None
    return {"drops": int(m.group(1))} if m else None


def _payload(nbytes: int) -> tuple[bytes, bytes]:
    """``nbytes`` of a deterministic pattern and its SHA-256.

    Every 64 KiB block is SHAKE-128 of its own index, so no two blocks (and no two segments of a
    block) are alike: a lost, repeated or reordered segment changes the digest. Built before the
    connect, so making it costs the transfer nothing.
    """
    blocks = [hashlib.shake_128(b"vpcsim-capacity-%d" % k).digest(_CHUNK) for k in range(-(-nbytes // _CHUNK))]
    payload = b"".join(blocks)[:nbytes]
    return payload, hashlib.sha256(payload).digest()


class _Server(threading.Thread):
    """Accept one connection and read it to the end: hash every byte, note when each read ended.

    The sockets were opened in the server's namespace; the thread itself never changes namespace.
    It gives up at ``deadline`` or when :attr:`stop` is set, checking at least every 0.2 s.
    """

    def __init__(self, listener: socket.socket, deadline: float) -> None:
        super().__init__(name="vpcsim-capacity-server", daemon=True)
        self.listener = listener
        self.deadline = deadline
        self.stop = threading.Event()
        self.hasher = hashlib.sha256()
        self.count = 0
        self.times: list[float] = []
        self.counts: list[int] = []
        self.timed_out = False
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            conn = self._accept()
            if conn is None:
                return
            with conn:
                self._read(conn)
        except BaseException as exc:  # handed to the caller, who raises it
            self.error = exc

    def _wait(self) -> float | None:
        """The timeout for the next blocking call, or None when it is time to give up."""
        left = self.deadline - time.perf_counter()
        if left <= 0:
            self.timed_out = True
            return None
        return None if self.stop.is_set() else min(left, 0.2)

    def _accept(self) -> socket.socket | None:
        while (wait := self._wait()) is not None:
            self.listener.settimeout(wait)
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            return conn
        return None

    def _read(self, conn: socket.socket) -> None:
        buf = bytearray(1 << 18)
        view = memoryview(buf)
        while (wait := self._wait()) is not None:
            conn.settimeout(wait)
            try:
                n = conn.recv_into(buf)
            except TimeoutError:
                continue
            now = time.perf_counter()
            if n == 0:
                return
            self.hasher.update(view[:n])
            self.count += n
            self.times.append(now)
            self.counts.append(self.count)


class _Capture(threading.Thread):
    """Note every frame arriving at the server's veth: its kernel receive time and length.

    A packet socket opened in the server's namespace, bound to its veth; frames the server sends
    (ACKs) are skipped. The kernel stamps each frame as it comes in, so the thread reading them late
    does not move them in time. The receive buffer is forced large, and the kernel's count of
    frames the socket had to drop says whether the record is complete.
    """

    def __init__(self, tap: socket.socket) -> None:
        super().__init__(name="vpcsim-capacity-capture", daemon=True)
        self.tap = tap
        self.stop = threading.Event()
        self.count = 0
        self.times: list[float] = []
        self.counts: list[int] = []
        self.complete = False
        self.error: BaseException | None = None
        self.offset = _realtime_offset()

    def open(self) -> None:
        self.tap.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, 32 << 20)
        self.tap.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        self.tap.bind((SERVER_IF, _ETH_P_ALL))
        self.tap.settimeout(0.1)
        # Statistics are reset by each read: start from zero.
        self.tap.getsockopt(_SOL_PACKET, _PACKET_STATISTICS, 8)

    def run(self) -> None:
        buf = bytearray(64)
        try:
            while True:
                stopping = self.stop.is_set()
                if stopping:
                    self.tap.setblocking(False)
                try:
                    n, anc, _, addr = self.tap.recvmsg_into([buf], 64, socket.MSG_TRUNC)
                except (TimeoutError, BlockingIOError):
                    if stopping:
                        break
                    continue
                if addr[2] == socket.PACKET_OUTGOING:
                    continue
                stamp = next(
                    (data for level, kind, data in anc if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS), None
                )
                if stamp is None:
                    return  # no kernel time: the record stays incomplete
                sec, nsec = struct.unpack_from("ll", stamp)  # struct timespec
                self.count += n
                self.times.append(sec + nsec / 1e9 - self.offset)
                self.counts.append(self.count)
            lost = struct.unpack("II", self.tap.getsockopt(_SOL_PACKET, _PACKET_STATISTICS, 8))[1]
            self.complete = lost == 0
        except OSError as exc:
            self.error = exc
