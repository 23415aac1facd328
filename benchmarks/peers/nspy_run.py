"""The TCP workloads vpcsim is compared on, run in ns.py (PyPI ``ns-py==0.4.3``); one JSON object.

Run from the repository root with the peers' venv::

    .venv-bench/bin/python benchmarks/peers/nspy_run.py bulk [--seconds 10]
    .venv-bench/bin/python benchmarks/peers/nspy_run.py bottleneck [--seconds 30]
    .venv-bench/bin/python benchmarks/peers/nspy_run.py completion [--seconds 60]

``--ssthresh BYTES`` sets the initial ssthresh (default unbounded, as Linux).

A link direction is an ns.py ``Port`` (the sending end's output queue and serialiser) followed by
a ``Wire`` (the propagation delay); a router is nothing more than the next link's ``Port``. ACKs
return over links of their own, the same kind as the data path's. The ports serialise whole
frames: 1448 B of payload + 52 B of IP/TCP/timestamp headers + 2 B of PPP for data, 54 B for an
ACK. A queue of N packets is N waiting behind the one being serialised. Every flow is ns.py's
``TCPPacketGenerator`` with its ``TCPCubic``, into a ``TCPSink``; nothing is random.

- ``bulk``: host0 -> r1 -> r2 -> host3, three links of 100 Mb/s, 1 ms, 100 packets of queue, the
  ACKs back over three more; one unbounded flow host0 -> host3 for ``--seconds`` (10) simulated.
- ``bottleneck``: a dumbbell. s1 and s2 -> r1 over 100 Mb/s, 1 ms, queue 100; r1 -> r2 10 Mb/s,
  1 ms, queue 50 (one ``Port`` both flows share); r2 -> d 100 Mb/s, 1 ms, queue 100, then a
  ``FlowDemux`` to one ``TCPSink`` per flow. ACKs: d -> r2 100 Mb/s, r2 -> r1 10 Mb/s queue 50,
  then a ``FIBDemux`` at r1 to the ports toward s1 and s2. Two unbounded flows from t=0,
  ``--seconds`` (30) simulated.
- ``completion``: the same dumbbell, only s1 -> d, 1,000,000 bytes; the run stops when the sink
  has them all in order (``--seconds``, 60, is only a cap).

Figures:

- ``import_s``: importing simpy and the ns.py modules; ``setup_s``: building the topology;
  ``wall_s``: ``env.run`` alone.
- ``link_hops``: packets that finished serialisation on any link, both directions, data and ACKs,
  retransmissions included (counted by each port as it hands a packet to its wire);
  ``linkhops_per_s`` = ``link_hops / wall_s``.
- ``packets``: what the end hosts' TCP handed to their own output port (data with
  retransmissions, and ACKs), whether or not that port then dropped it.
- ``goodput_mbps``: payload bytes the sink holds in order * 8 / simulated seconds / 1e6.
- ``drops``: tail drops at every port.
- ``retransmits``: data packets a sender handed to its port beyond its new segments.
- ``completion_ms``: the simulated time at which the sink holds all 1,000,000 bytes in order
  (null if not by the cap); ``flow_segments`` and ``new_segments_sent``: the flow's segments and
  the new ones the sender sent by then (ns.py's duplicate-ACK path sends past the flow's end).

The ``ns`` package: ns-3's wheel (``ns3``) ships an ``ns/__init__.py`` too, and in the shared
venv it is the one installed over ns.py's. It loads the ns-3 C++ bindings (about 20 s) and puts
``ns3.ns`` in ``sys.modules["ns"]``, where ns.py's subpackages are not found. Before importing
ns.py, :func:`load_nspy` registers a bare package module named ``ns`` whose ``__path__`` is the
shared ``site-packages/ns`` directory, so ``ns.port.port`` and the rest import from there and
the stub ``__init__`` never runs. Nothing in site-packages is changed.

What ns.py 0.4.3 can and cannot be set to here is reported in the JSON's ``settings``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import random
import sys
import time
import types
from importlib import metadata
from typing import Any

MSS = 1448
HEADERS = 52  # IP 20 + TCP 20 + timestamp option 12
PPP = 2
ACK_FLOW_BASE = 10_000  # TCPSink gives an ACK its segment's flow id plus 10,000
INITIAL_WINDOW = 10
# Linux starts with an unbounded ssthresh; ns.py's default (65,535 B) would end slow start at
# 45 segments, before the 100 Mb/s path is full.
SSTHRESH = 1 << 40
FAST, SLOW = 100e6, 10e6
DELAY = 0.001
QUEUE, BOTTLENECK_QUEUE = 100, 50
COMPLETION_BYTES = 1_000_000
DEFAULT_SECONDS = {"bulk": 10.0, "bottleneck": 30.0, "completion": 60.0}


def load_nspy() -> types.SimpleNamespace:
    """Import ns.py past ns-3's ``ns/__init__.py`` (see the module docstring)."""
    spec = importlib.util.find_spec("ns")  # a top-level spec is found without running __init__
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("no 'ns' package in this interpreter: run with .venv-bench/bin/python")
    pkg = types.ModuleType("ns")
    pkg.__path__ = list(spec.submodule_search_locations)
    sys.modules["ns"] = pkg

    import simpy
    from ns.demux.fib_demux import FIBDemux
    from ns.demux.flow_demux import FlowDemux
    from ns.flow.cubic import TCPCubic
    from ns.flow.flow import Flow
    from ns.packet.tcp_generator import TCPPacketGenerator
    from ns.packet.tcp_sink import TCPSink
    from ns.port.port import Port
    from ns.port.wire import Wire

    class LinkPort(Port):
        """A tail-drop ``Port`` that serialises the bytes a real frame has and counts what it sends.

        ns.py's packet size is the TCP payload alone, and its ACKs are a flat 40 bytes: the
        IP/TCP/timestamp headers and PPP's 2 bytes exist only here, in the serialisation time.
        """

        def __init__(self, env: Any, rate: float, queue: int) -> None:
            self.hops = 0
            # ns.py's qlimit counts the packet being serialised; a point-to-point device's DropTail
            # queue in ns-3 and vpcsim's Fifo let ``queue`` packets wait behind it.
            super().__init__(env, rate, qlimit=queue + 1)

        def run(self) -> Any:
            # Port.run's loop, minus the zero_downstream_buffer and rate-0 branches no link here uses.
            env, store = self.env, self.store
            while True:
                packet = yield store.get()
                self.busy = 1
                self.busy_packet_size = packet.size
                frame = HEADERS + PPP if packet.flow_id >= ACK_FLOW_BASE else packet.size + HEADERS + PPP
                yield env.timeout(frame * 8.0 / self.rate)
                self.byte_size -= packet.size
                self.hops += 1
                self.out.put(packet)
                self.busy = 0
                self.busy_packet_size = 0

    return types.SimpleNamespace(
        simpy=simpy,
        FIBDemux=FIBDemux,
        FlowDemux=FlowDemux,
        TCPCubic=TCPCubic,
        Flow=Flow,
        TCPPacketGenerator=TCPPacketGenerator,
        TCPSink=TCPSink,
        Wire=Wire,
        LinkPort=LinkPort,
    )


def propagation() -> float:
    return DELAY


class Net:
    """The ports of one topology, for the counts read off them after the run."""

    def __init__(self, nspy: types.SimpleNamespace, env: Any, ssthresh: int) -> None:
        self.nspy = nspy
        self.env = env
        self.ssthresh = ssthresh
        self.ports: list[Any] = []

    def link(self, rate: float, queue: int, out: Any) -> Any:
        """One link direction toward ``out``; returns the port that feeds it."""
        port = self.nspy.LinkPort(self.env, rate, queue)
        wire = self.nspy.Wire(self.env, propagation)
        port.out = wire
        wire.out = out
        self.ports.append(port)
        return port

    def tcp(self, fid: int, size: int | None) -> tuple[Any, Any]:
        """A sender and its sink, not yet wired; ``size`` None keeps sending until the run ends."""
        nspy = self.nspy
        flow = nspy.Flow(fid=fid, src=f"src{fid}", dst=f"dst{fid}", size=size, start_time=0, finish_time=math.inf)
        cc = nspy.TCPCubic(mss=MSS, cwnd=INITIAL_WINDOW * MSS, ssthresh=self.ssthresh)
        sender = nspy.TCPPacketGenerator(self.env, flow, cc, element_id=f"sender{fid}")
        sender.mss = MSS  # the generator has its own MSS (512) besides the congestion control's
        # Arrival and wait lists grow with every segment and nothing here reads them.
        sink = nspy.TCPSink(self.env, rec_arrivals=False, rec_waits=False, element_id=fid)
        return sender, sink

    def hops(self) -> int:
        return sum(p.hops for p in self.ports)

    def drops(self) -> int:
        return sum(p.packets_dropped for p in self.ports)


def in_order(sink: Any) -> int:
    """Payload bytes the sink holds from byte 0 without a gap.

    TCPSink's own ``next_seq_expected`` is the end of its first received run even when that run
    does not start at 0 (the first segment lost).
    """
    runs = sink.recv_buffer
    return runs[0][1] if runs and runs[0][0] == 0 else 0


class Completed:
    """Passes segments to a sink and fires ``done`` with the time it first holds ``target`` bytes."""

    def __init__(self, env: Any, sink: Any, target: int) -> None:
        self.env = env
        self.sink = sink
        self.target = target
        self.done = env.event()

    def put(self, packet: Any) -> None:
        self.sink.put(packet)
        if not self.done.triggered and in_order(self.sink) >= self.target:
            self.done.succeed(self.env.now)


def settings(nspy: types.SimpleNamespace, ssthresh: int) -> dict[str, Any]:
    """What was pinned, and what ns.py 0.4.3 has no knob or no model for."""
    return {
        "simulator": f"ns.py {metadata.version('ns-py')} on simpy {metadata.version('simpy')}",
        "mss_bytes": MSS,
        "frame_bytes": {"data": MSS + HEADERS + PPP, "ack": HEADERS + PPP},
        "frame_note": (
            "ns.py's packet size is the TCP payload and its ACKs are a flat 40 B; a Port subclass "
            "(Port.run's loop, the serialisation time changed) serialises data as payload + 52 B "
            "IP/TCP/timestamp + 2 B PPP and ACKs as 54 B"
        ),
        "queue_note": (
            "Port qlimit = queue + 1 (ns.py counts the packet in service), so 100 (50) packets wait "
            "behind it, as in ns-3's DropTail; tail drop"
        ),
        "initial_window_segments": INITIAL_WINDOW,
        "initial_ssthresh_bytes": ssthresh,
        "initial_ssthresh_note": (
            "default 2**40 B: Linux starts unbounded (ns.py's own default is 65,535 B, --ssthresh "
            "sets it); there is no HyStart, so slow start runs until the first loss"
        ),
        "congestion_control": nspy.TCPCubic.__name__,
        "congestion_control_note": (
            "ns.py's TCPCubic grows by one MSS per ACK in slow start; on three duplicate ACKs it "
            "uses the base class's Reno response (ssthresh = cwnd/2, not CUBIC's 0.7); it never "
            "records W_last_max and resets its epoch only on an RTO, and evaluates the cubic with "
            "C=0.4 on a window counted in bytes, so in congestion avoidance the window hardly "
            "grows past where it entered it"
        ),
        "loss_recovery_note": (
            "no SACK, no NewReno partial ACKs: from the third duplicate ACK on, every duplicate "
            "ACK retransmits the first missing segment again, and each one past the third also "
            "sends a new segment, past the end of a sized flow too (the window and size are not "
            "checked there); a retransmission is the same Packet object as the original"
        ),
        "delayed_ack": False,
        "delayed_ack_note": "ns.py has no delayed ACK: TCPSink ACKs every segment",
        "min_rto_s": 1.0,
        "min_rto_note": (
            "not settable: TCPPacketGenerator hard-codes RTO = max(1.0, srtt + 4 rttvar), initial 1 s; "
            "one timer process per segment sent; every timer that fires doubles the one RTO the "
            "flow shares, until the next new ACK recomputes it"
        ),
        "handshake": False,
        "sack": False,
        "timestamps": "not modelled (their 12 B are only in the frame size)",
        "receive_window": "none (no flow control)",
        "tail_segment_note": (
            "the generator sends only full-MSS segments (a shorter last one is never sent), so a "
            "1,000,000 B flow is sent as 691 full segments (1,000,568 B)"
        ),
        "randomness": "none (Wire draws random numbers only with a loss_dist); random seeded with 1",
    }


def bulk(nspy: types.SimpleNamespace, seconds: float, ssthresh: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    env = nspy.simpy.Environment()
    net = Net(nspy, env, ssthresh)
    sender, sink = net.tcp(0, None)
    r2 = net.link(FAST, QUEUE, sink)
    r1 = net.link(FAST, QUEUE, r2)
    host0 = net.link(FAST, QUEUE, r1)
    sender.out = host0
    ack_r1 = net.link(FAST, QUEUE, sender)
    ack_r2 = net.link(FAST, QUEUE, ack_r1)
    host3 = net.link(FAST, QUEUE, ack_r2)
    sink.out = host3
    setup_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    env.run(until=seconds)
    wall_s = time.perf_counter() - t0

    hops = net.hops()
    return {
        "setup_s": round(setup_s, 4),
        "wall_s": round(wall_s, 3),
        "link_hops": hops,
        "packets": host0.packets_received + host3.packets_received,
        "linkhops_per_s": round(hops / wall_s),
        "goodput_mbps": round(in_order(sink) * 8 / seconds / 1e6, 3),
        "handshake_ms": None,
        "handshake_note": "ns.py models no handshake: the first segment leaves at t=0",
        "drops": net.drops(),
        "retransmits": host0.packets_received - sender.next_seq // MSS,
    }


def dumbbell(nspy: types.SimpleNamespace, env: Any, ssthresh: int, sizes: list[int | None]) -> types.SimpleNamespace:
    """The dumbbell with one flow per entry of ``sizes``."""
    net = Net(nspy, env, ssthresh)
    pairs = [net.tcp(fid, size) for fid, size in enumerate(sizes)]
    to_sinks = nspy.FlowDemux(outs=[sink for _, sink in pairs])
    r2 = net.link(FAST, QUEUE, to_sinks)
    r1 = net.link(SLOW, BOTTLENECK_QUEUE, r2)
    hosts = []
    for sender, _ in pairs:
        sender.out = net.link(FAST, QUEUE, r1)
        hosts.append(sender.out)
    to_senders = nspy.FIBDemux(
        fib={ACK_FLOW_BASE + fid: fid for fid in range(len(pairs))},
        outs=[net.link(FAST, QUEUE, sender) for sender, _ in pairs],
    )
    ack_r2 = net.link(SLOW, BOTTLENECK_QUEUE, to_senders)
    d = net.link(FAST, QUEUE, ack_r2)
    for _, sink in pairs:
        sink.out = d
    return types.SimpleNamespace(net=net, pairs=pairs, senders=hosts, d=d, to_sinks=to_sinks)


def bottleneck(nspy: types.SimpleNamespace, seconds: float, ssthresh: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    env = nspy.simpy.Environment()
    topo = dumbbell(nspy, env, ssthresh, [None, None])
    net, pairs = topo.net, topo.pairs
    setup_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    env.run(until=seconds)
    wall_s = time.perf_counter() - t0

    goodput = [in_order(sink) * 8 / seconds / 1e6 for _, sink in pairs]
    hops = net.hops()
    return {
        "setup_s": round(setup_s, 4),
        "wall_s": round(wall_s, 3),
        "link_hops": hops,
        "packets": sum(p.packets_received for p in [*topo.senders, topo.d]),
        "linkhops_per_s": round(hops / wall_s),
        "goodput_mbps": [round(g, 3) for g in goodput],
        "total_goodput_mbps": round(sum(goodput), 3),
        "drops": net.drops(),
        "retransmits": [
            port.packets_received - sender.next_seq // MSS
            for (sender, _), port in zip(pairs, topo.senders, strict=True)
        ],
    }


def completion(nspy: types.SimpleNamespace, seconds: float, ssthresh: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    env = nspy.simpy.Environment()
    segments = -(-COMPLETION_BYTES // MSS)
    topo = dumbbell(nspy, env, ssthresh, [segments * MSS])
    net, host = topo.net, topo.senders[0]
    sender, sink = topo.pairs[0]
    watch = Completed(env, sink, COMPLETION_BYTES)
    topo.to_sinks.outs[0] = watch
    setup_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    env.run(until=env.any_of([watch.done, env.timeout(seconds)]))
    wall_s = time.perf_counter() - t0

    hops = net.hops()
    return {
        "setup_s": round(setup_s, 4),
        "wall_s": round(wall_s, 3),
        "completion_ms": round(watch.done.value * 1e3, 3) if watch.done.triggered else None,
        "link_hops": hops,
        "packets": host.packets_received + topo.d.packets_received,
        "linkhops_per_s": round(hops / wall_s),
        "drops": net.drops(),
        "retransmits": host.packets_received - sender.next_seq // MSS,
        "flow_segments": segments,
        "new_segments_sent": sender.next_seq // MSS,
        "handshake_ms": None,
        "handshake_note": "ns.py models no handshake: the first segment leaves at t=0",
    }


WORKLOADS = {"bulk": bulk, "bottleneck": bottleneck, "completion": completion}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument(
        "--seconds", type=float, help="simulated seconds (bulk 10, bottleneck 30; completion: a cap, 60)"
    )
    parser.add_argument(
        "--ssthresh", type=int, default=SSTHRESH, help="initial ssthresh in bytes (default unbounded, as Linux)"
    )
    args = parser.parse_args(argv)
    seconds = args.seconds if args.seconds is not None else DEFAULT_SECONDS[args.workload]

    t0 = time.perf_counter()
    nspy = load_nspy()
    import_s = time.perf_counter() - t0
    # Nothing here draws (a Wire only does with a loss_dist); seeded so that stays true if one is added.
    random.seed(1)

    result = WORKLOADS[args.workload](nspy, seconds, args.ssthresh)
    print(
        json.dumps(
            {
                "workload": args.workload,
                "cap_seconds" if args.workload == "completion" else "seconds": seconds,
                "import_s": round(import_s, 4),
                **result,
                "settings": settings(nspy, args.ssthresh),
            }
        )
    )


if __name__ == "__main__":
    main()
