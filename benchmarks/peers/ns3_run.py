"""ns-3 (3.44, PyPI ``ns3`` cppyy bindings) as a peer: the same TCP workloads vpcsim runs, timed.

Run from the repository root with the peer venv::

    .venv-bench/bin/python benchmarks/peers/ns3_run.py bulk [--seconds 10]
    .venv-bench/bin/python benchmarks/peers/ns3_run.py bottleneck [--seconds 30]
    .venv-bench/bin/python benchmarks/peers/ns3_run.py completion [--seconds 10]

Exactly one JSON object goes to stdout; ns-3/cppyy chatter goes to stderr.

Topologies (every link point-to-point, full duplex, a DropTail device queue per direction and NO
queue disc: device flow control is off, so ``Ipv4AddressHelper::Assign`` installs no FqCoDel root
queue disc (any found would be removed; every device is checked), and a full device queue drops
the packet itself, like a plain ``pfifo`` of N packets):

* ``bulk``: a chain n0 - n1 - n2 - n3 of 3 links, each 100 Mb/s, 1 ms, 100-packet queues. One
  BulkSend (unlimited) from n0 to a PacketSink on n3 from t=0 for ``--seconds`` (default 10).
* ``bottleneck``: a dumbbell. s1 and s2 each - r1 at 100 Mb/s, 1 ms, queue 100; r1 - r2 is the
  bottleneck, 10 Mb/s, 1 ms, queue 50 each way; r2 - d at 100 Mb/s, 1 ms, queue 100. Two
  BulkSends, s1 -> d:5001 and s2 -> d:5002, both from t=0, for ``--seconds`` (default 30).
* ``completion``: the same dumbbell, only s1 -> d, a BulkSend of exactly 10^6 bytes. The run stops
  when the sink has the last byte (``--seconds``, default 10, is only an upper bound).

Figures:

* ``import_s``: ``from ns import ns`` (cppyy loads and parses the ns-3 headers).
* ``cppdef_s``: compiling this script's C++ trace sinks (``cppyy.cppdef``).
* ``setup_s``: building the topology, stack, routes, applications and traces.
* ``wall_s``: ``Simulator::Run`` only; the figure to compare with the other simulators.
* ``link_hops``: PhyTxEnd over every device in both directions, i.e. every transmission of a
  packet (data, ACK, SYN, FIN) over one link. ``linkhops_per_s`` = link_hops / wall_s.
* ``packets``: transmissions by the end hosts' own devices (packets the hosts sent).
* ``goodput_mbps``: the sink's received application bytes * 8 / simulated seconds / 1e6.
* ``handshake_ms``: from the client's Connect (its BulkSend starts at t=0) to its socket turning
  ESTABLISHED (the SYN-ACK arrived). On 3 x (100 Mb/s, 1 ms) with 58-byte SYN/SYN-ACK frames
  (56-byte IP packets + 2-byte PPP header) that is 3 * 2 * (1 ms + 58 * 8 / 100e6 s) = 6.02784 ms.
* ``retransmissions``: the client sockets' Retransmission trace (every segment sent again).
* ``drops``: packets refused by a full device queue (the queue's Drop trace); ``tc_drops`` counts
  drops in the traffic-control layer, which should stay 0 with no queue disc and no flow control.
* ``completion_ms``: when the sink's received bytes reach 10^6, from t=0.

TCP is pinned to mirror Linux as the other simulators do (see SETTINGS); every setting is read back
from the live client socket after the run and reported under ``settings_check``. Per-packet work
(counting, Rx bytes, state changes) is C++ defined through ``cppyy.cppdef``: no Python runs per
packet. All runs are deterministic (fixed seed and run number).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

NS3_VERSION = "3.44"
RNG_SEED = 1
RNG_RUN = 1
COMPLETION_BYTES = 1_000_000
# 45 segments per application write: the app refills the 6 MiB socket buffer in few calls.
SEND_SIZE = 1448 * 45
# When the client's socket is looked up: after BulkSend's StartApplication (t=0, which sends the
# SYN) and long before any SYN-ACK can arrive (>= 6 ms), so the ESTABLISHED transition is seen.
HOOK_AT_NS = 1

# As Config::SetDefault strings, so the same dict is applied, reported and checked.
SETTINGS: dict[str, str] = {
    "ns3::TcpSocket::SegmentSize": "1448",
    "ns3::TcpSocket::InitialCwnd": "10",
    "ns3::TcpSocket::DelAckTimeout": "40ms",
    "ns3::TcpSocket::DelAckCount": "2",
    "ns3::TcpSocket::SndBufSize": "6291456",
    "ns3::TcpSocket::RcvBufSize": "6291456",
    "ns3::TcpSocket::ConnTimeout": "1s",
    "ns3::TcpSocketBase::MinRto": "200ms",
    "ns3::TcpSocketBase::Sack": "true",
    "ns3::TcpSocketBase::WindowScaling": "true",
    "ns3::TcpSocketBase::Timestamp": "true",
    "ns3::TcpL4Protocol::SocketType": "ns3::TcpCubic",
    "ns3::TcpL4Protocol::RecoveryType": "ns3::TcpClassicRecovery",
    # vpcsim's CUBIC has no HyStart.
    "ns3::TcpCubic::HyStart": "false",
}

CPP = r"""
#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/traffic-control-module.h"

namespace vpcsim_bench {
using namespace ns3;

struct Counter { uint64_t n = 0; };

struct Flow {
    Ptr<TcpSocketBase> socket;
    int64_t establishedNs = -1;
    int fromState = -1;  // the state ESTABLISHED was entered from; SYN_SENT for an active open
    uint64_t retransmissions = 0;
};

struct Completion {
    uint64_t target = 0;
    uint64_t received = 0;
    int64_t doneNs = -1;
};

void Bump(Counter* c, Ptr<const Packet>) { ++c->n; }

bool CountPhyTxEnd(Ptr<NetDevice> dev, Counter* c) {
    return dev->TraceConnectWithoutContext("PhyTxEnd", MakeBoundCallback(&Bump, c));
}

bool CountQueueDrops(Ptr<NetDevice> dev, Counter* c) {
    auto p2p = DynamicCast<PointToPointNetDevice>(dev);
    return p2p && p2p->GetQueue()->TraceConnectWithoutContext("Drop", MakeBoundCallback(&Bump, c));
}

bool CountTcDrops(Ptr<Node> node, Counter* c) {
    auto tc = node->GetObject<TrafficControlLayer>();
    return tc && tc->TraceConnectWithoutContext("TcDrop", MakeBoundCallback(&Bump, c));
}

bool HasRootQueueDisc(Ptr<NetDevice> dev) {
    auto tc = dev->GetNode()->GetObject<TrafficControlLayer>();
    return tc && tc->GetRootQueueDiscOnDevice(dev) != nullptr;
}

bool HasQueueInterface(Ptr<NetDevice> dev) {
    return dev->GetObject<NetDeviceQueueInterface>() != nullptr;
}

std::string QueueLimit(Ptr<NetDevice> dev) {
    std::ostringstream s;
    s << DynamicCast<PointToPointNetDevice>(dev)->GetQueue()->GetMaxSize();
    return s.str();
}

void OnState(Flow* f, TcpSocket::TcpStates_t from, TcpSocket::TcpStates_t to) {
    if (to == TcpSocket::ESTABLISHED && f->establishedNs < 0) {
        f->establishedNs = Simulator::Now().GetNanoSeconds();
        f->fromState = from;
    }
}

void OnRetransmission(Flow* f, Ptr<const Packet>, const TcpHeader&, const Address&, const Address&,
                      Ptr<const TcpSocketBase>) {
    ++f->retransmissions;
}

void HookClient(Ptr<Application> app, Flow* f) {
    auto sock = DynamicCast<TcpSocketBase>(DynamicCast<BulkSendApplication>(app)->GetSocket());
    if (!sock) {
        NS_FATAL_ERROR("BulkSend has no TCP socket yet");
    }
    f->socket = sock;
    if (!sock->TraceConnectWithoutContext("State", MakeBoundCallback(&OnState, f)) ||
        !sock->TraceConnectWithoutContext("Retransmission", MakeBoundCallback(&OnRetransmission, f))) {
        NS_FATAL_ERROR("could not connect the client socket's traces");
    }
}

void ScheduleHookClient(Ptr<Application> app, Flow* f, int64_t atNs) {
    Simulator::Schedule(NanoSeconds(atNs), &HookClient, app, f);
}

void OnSinkRx(Completion* c, Ptr<const Packet> p, const Address&) {
    c->received += p->GetSize();
    if (c->doneNs < 0 && c->received >= c->target) {
        c->doneNs = Simulator::Now().GetNanoSeconds();
        Simulator::Stop();
    }
}

bool WatchCompletion(Ptr<Application> sink, Completion* c) {
    return sink->TraceConnectWithoutContext("Rx", MakeBoundCallback(&OnSinkRx, c));
}

std::string GetAttr(Ptr<Object> obj, const std::string& name) {
    StringValue v;
    obj->GetAttribute(name, v);
    return v.Get();
}

// A pinned setting as the flow's live objects have it: the socket, its congestion and recovery
// ops (whose type names are what SocketType/RecoveryType chose) and the node's TcpL4Protocol.
std::string LiveSetting(Flow* f, const std::string& cls, const std::string& attr) {
    PointerValue cong, rec;
    f->socket->GetAttribute("CongestionOps", cong);
    f->socket->GetAttribute("RecoveryOps", rec);
    if (cls == "ns3::TcpSocket" || cls == "ns3::TcpSocketBase") return GetAttr(f->socket, attr);
    if (cls == "ns3::TcpCubic") return GetAttr(cong.Get<Object>(), attr);
    if (attr == "SocketType") return cong.Get<Object>()->GetInstanceTypeId().GetName();
    if (attr == "RecoveryType") return rec.Get<Object>()->GetInstanceTypeId().GetName();
    return GetAttr(f->socket->GetNode()->GetObject<TcpL4Protocol>(), attr);
}

// Config::SetDefault's string as ns-3 serialises the value it makes ("40ms" -> "+40ms").
std::string Normalise(const std::string& cls, const std::string& attr, const std::string& value) {
    TypeId::AttributeInformation info;
    if (!TypeId::LookupByName(cls).LookupAttributeByName(attr, &info)) return "";
    Ptr<AttributeValue> v = info.checker->Create();
    if (!v->DeserializeFromString(value, info.checker)) return "";
    return v->SerializeToString(info.checker);
}

bool HasAttribute(const std::string& cls, const std::string& attr) {
    TypeId tid;
    TypeId::AttributeInformation info;
    return TypeId::LookupByNameFailSafe(cls, &tid) && tid.LookupAttributeByName(attr, &info);
}
}  // namespace vpcsim_bench
"""


class Sim:
    """The ns-3 world of one workload: nodes, links, counters; nothing here runs per packet."""

    def __init__(self, ns: Any) -> None:
        self.ns = ns
        self.cpp = ns.cppyy.gbl.vpcsim_bench
        self.nodes: list[Any] = []
        self.names: dict[int, str] = {}
        self.links: list[tuple[Any, str]] = []
        self.hops = self.cpp.Counter()
        self.host_tx = self.cpp.Counter()
        self.tc_drops = self.cpp.Counter()
        self.queue_drops: dict[str, Any] = {}
        self.queues: dict[str, str] = {}
        self.flows: list[Any] = []
        self.setup_end = 0.0

    def node(self, name: str) -> Any:
        n = self.ns.CreateObject["ns3::Node"]()
        self.names[int(n.GetId())] = name
        self.nodes.append(n)
        return n

    def link(self, a: Any, b: Any, rate: str, delay: str, queue_packets: int) -> str:
        """One point-to-point link a - b with a DropTail queue of queue_packets on both ends."""
        ns = self.ns
        p2p = ns.PointToPointHelper()
        p2p.SetDeviceAttribute("DataRate", ns.StringValue(rate))
        p2p.SetChannelAttribute("Delay", ns.StringValue(delay))
        p2p.SetQueue("ns3::DropTailQueue<Packet>", "MaxSize", ns.QueueSizeValue(ns.QueueSize(f"{queue_packets}p")))
        # With flow control on and no queue disc, a full device queue stops the netdevice queue
        # and the traffic-control layer drops instead; off, the DropTail queue is the only queue.
        p2p.DisableFlowControl()
        label = f"{self.names[int(a.GetId())]}-{self.names[int(b.GetId())]}"
        self.links.append((p2p.Install(a, b), label))
        return label

    def build(self, hosts: list[Any]) -> dict[str, Any]:
        """Stack, addresses, queue-disc removal, routes and per-device traces; interfaces by link."""
        ns, cpp = self.ns, self.cpp
        host_ids = {int(h.GetId()) for h in hosts}
        stack = ns.InternetStackHelper()
        for n in self.nodes:
            stack.Install(n)
        addr = ns.Ipv4AddressHelper()
        tch = ns.TrafficControlHelper()
        ifaces: dict[str, Any] = {}
        for i, (devs, label) in enumerate(self.links):
            addr.SetBase(ns.Ipv4Address(f"10.0.{i + 1}.0"), ns.Ipv4Mask("255.255.255.0"))
            ifaces[label] = addr.Assign(devs)
            for j in range(devs.GetN()):
                dev = devs.Get(j)
                name = f"{label}@{label.split('-')[j]}"
                # Assign installs ns-3's default root queue disc (FqCoDel) only on devices with flow
                # control, which link() turned off; remove one anyway should it be there.
                if cpp.HasRootQueueDisc(dev):
                    tch.Uninstall(dev)
                if cpp.HasRootQueueDisc(dev) or cpp.HasQueueInterface(dev):
                    raise RuntimeError(f"{name}: a queue disc or flow control is still on the device")
                self.queues[name] = str(cpp.QueueLimit(dev))
                self._check(cpp.CountPhyTxEnd(dev, self.hops), "PhyTxEnd")
                if int(dev.GetNode().GetId()) in host_ids:
                    self._check(cpp.CountPhyTxEnd(dev, self.host_tx), "PhyTxEnd")
                self.queue_drops[name] = cpp.Counter()
                self._check(cpp.CountQueueDrops(dev, self.queue_drops[name]), "TxQueue Drop")
        for n in self.nodes:
            self._check(cpp.CountTcDrops(n, self.tc_drops), "TrafficControlLayer TcDrop")
        ns.Ipv4GlobalRoutingHelper.PopulateRoutingTables()
        return ifaces

    @staticmethod
    def _check(ok: bool, what: str) -> None:
        if not ok:
            raise RuntimeError(f"could not connect {what}")

    def sink(self, node: Any, port: int) -> Any:
        ns = self.ns
        any_addr = ns.InetSocketAddress(ns.Ipv4Address.GetAny(), port).ConvertTo()
        apps = ns.PacketSinkHelper("ns3::TcpSocketFactory", any_addr).Install(node)
        apps.Start(ns.Seconds(0.0))
        return apps.Get(0)

    def bulk(self, node: Any, dst: Any, port: int, max_bytes: int) -> None:
        """A BulkSend from t=0; its socket's State and Retransmission traces are hooked at 1 ns."""
        ns = self.ns
        helper = ns.BulkSendHelper("ns3::TcpSocketFactory", ns.InetSocketAddress(dst, port).ConvertTo())
        helper.SetAttribute("MaxBytes", ns.UintegerValue(max_bytes))
        helper.SetAttribute("SendSize", ns.UintegerValue(SEND_SIZE))
        apps = helper.Install(node)
        apps.Start(ns.Seconds(0.0))
        flow = self.cpp.Flow()
        self.cpp.ScheduleHookClient(apps.Get(0), flow, HOOK_AT_NS)
        self.flows.append(flow)

    def rx_bytes(self, sink: Any) -> int:
        return int(self.ns.DynamicCast["ns3::PacketSink"](sink).GetTotalRx())

    def drops(self) -> int:
        return sum(int(c.n) for c in self.queue_drops.values())

    def handshake_ms(self, flow: Any) -> float | None:
        if flow.establishedNs < 0:
            return None
        if flow.fromState != self.ns.TcpSocket.SYN_SENT:
            raise RuntimeError(f"client became ESTABLISHED from state {flow.fromState}, not SYN_SENT")
        # Connect ran at t=0 (the BulkSend's start), so the ESTABLISHED time is the handshake.
        return int(flow.establishedNs) / 1e6

    def settings_check(self) -> dict[str, Any]:
        """Each pinned setting read back from the first client's live socket, CUBIC and L4."""
        mismatched: dict[str, dict[str, str]] = {}
        for key, want in SETTINGS.items():
            cls, attr = key.rsplit("::", 1)
            live = str(self.cpp.LiveSetting(self.flows[0], cls, attr))
            if live != str(self.cpp.Normalise(cls, attr, want)):
                mismatched[key] = {"want": want, "live": live}
        return {"ok": not mismatched, "mismatched": mismatched}

    def run(self, seconds: float) -> float:
        """Simulator::Run for at most `seconds` simulated; returns its wall time."""
        ns = self.ns
        ns.Simulator.Stop(ns.Seconds(seconds))
        self.setup_end = t = time.perf_counter()
        ns.Simulator.Run()
        return time.perf_counter() - t

    def common(self, wall: float) -> dict[str, Any]:
        hops = int(self.hops.n)
        return {
            "wall_s": round(wall, 3),
            "link_hops": hops,
            "packets": int(self.host_tx.n),
            "linkhops_per_s": round(hops / wall),
            "handshake_ms": self.handshake_ms(self.flows[0]),
        }


def apply_settings(ns: Any) -> dict[str, str]:
    """Config::SetDefault each setting; a name ns-3 does not know is reported, not fatal."""
    cpp = ns.cppyy.gbl.vpcsim_bench
    missing: dict[str, str] = {}
    for key, value in SETTINGS.items():
        cls, attr = key.rsplit("::", 1)
        if not cpp.HasAttribute(cls, attr):
            missing[key] = f"no such attribute in ns-3 {NS3_VERSION}"
        elif not ns.Config.SetDefaultFailSafe(key, ns.StringValue(value)):
            missing[key] = "Config::SetDefault refused the value"
    return missing


def dumbbell(sim: Sim, senders: int) -> tuple[list[Any], Any, Any]:
    """s1..sN - r1 =(10 Mb/s)= r2 - d; returns the senders, d and d's address."""
    ss = [sim.node(f"s{i + 1}") for i in range(senders)]
    r1, r2, d = sim.node("r1"), sim.node("r2"), sim.node("d")
    for s in ss:
        sim.link(s, r1, "100Mbps", "1ms", 100)
    sim.link(r1, r2, "10Mbps", "1ms", 50)
    last = sim.link(r2, d, "100Mbps", "1ms", 100)
    ifaces = sim.build([*ss, d])
    return ss, d, ifaces[last].GetAddress(1)


def bulk(sim: Sim, seconds: float) -> dict[str, Any]:
    n = [sim.node(f"n{i}") for i in range(4)]
    labels = [sim.link(n[i], n[i + 1], "100Mbps", "1ms", 100) for i in range(3)]
    ifaces = sim.build([n[0], n[3]])
    sink = sim.sink(n[3], 5001)
    sim.bulk(n[0], ifaces[labels[-1]].GetAddress(1), 5001, 0)
    wall = sim.run(seconds)
    rx = sim.rx_bytes(sink)
    return {
        **sim.common(wall),
        "goodput_mbps": round(rx * 8 / seconds / 1e6, 3),
        "rx_bytes": rx,
        "retransmissions": int(sim.flows[0].retransmissions),
        "drops": sim.drops(),
        "tc_drops": int(sim.tc_drops.n),
    }


def bottleneck(sim: Sim, seconds: float) -> dict[str, Any]:
    ss, d, daddr = dumbbell(sim, 2)
    sinks = [sim.sink(d, 5001), sim.sink(d, 5002)]
    for i, s in enumerate(ss):
        sim.bulk(s, daddr, 5001 + i, 0)
    wall = sim.run(seconds)
    rx = [sim.rx_bytes(k) for k in sinks]
    return {
        **sim.common(wall),
        "goodput_mbps": [round(r * 8 / seconds / 1e6, 3) for r in rx],
        "total_goodput_mbps": round(sum(rx) * 8 / seconds / 1e6, 3),
        "rx_bytes": rx,
        "handshake_ms_flow2": sim.handshake_ms(sim.flows[1]),
        "retransmissions": [int(f.retransmissions) for f in sim.flows],
        "bottleneck_drops": int(sim.queue_drops["r1-r2@r1"].n),
        "bottleneck_drops_reverse": int(sim.queue_drops["r1-r2@r2"].n),
        "drops": sim.drops(),
        "tc_drops": int(sim.tc_drops.n),
    }


def completion(sim: Sim, seconds: float) -> dict[str, Any]:
    ss, d, daddr = dumbbell(sim, 1)
    sink = sim.sink(d, 5001)
    done = sim.cpp.Completion()
    done.target = COMPLETION_BYTES
    Sim._check(sim.cpp.WatchCompletion(sink, done), "PacketSink Rx")
    sim.bulk(ss[0], daddr, 5001, COMPLETION_BYTES)
    wall = sim.run(seconds)
    return {
        **sim.common(wall),
        "completion_ms": int(done.doneNs) / 1e6 if done.doneNs >= 0 else None,
        "rx_bytes": int(done.received),
        "retransmissions": int(sim.flows[0].retransmissions),
        "bottleneck_drops": int(sim.queue_drops["r1-r2@r1"].n),
        "drops": sim.drops(),
        "tc_drops": int(sim.tc_drops.n),
    }


WORKLOADS = {"bulk": (bulk, 10.0), "bottleneck": (bottleneck, 30.0), "completion": (completion, 10.0)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument(
        "--seconds", type=float, help="simulated seconds (default: bulk 10, bottleneck 30, completion 10 at most)"
    )
    args = parser.parse_args(argv)
    func, default_seconds = WORKLOADS[args.workload]
    seconds = args.seconds if args.seconds is not None else default_seconds

    t0 = time.perf_counter()
    from ns import ns

    import_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    ns.cppyy.cppdef(CPP)
    cppdef_s = time.perf_counter() - t1
    t1 += cppdef_s
    ns.RngSeedManager.SetSeed(RNG_SEED)
    ns.RngSeedManager.SetRun(RNG_RUN)
    missing = apply_settings(ns)
    sim = Sim(ns)
    figures = func(sim, seconds)
    out: dict[str, Any] = {
        "simulator": f"ns-3 {NS3_VERSION}",
        "workload": args.workload,
        "seconds": seconds,
        "import_s": round(import_s, 3),
        "cppdef_s": round(cppdef_s, 3),
        "setup_s": round(sim.setup_end - t1, 3),
        **figures,
        "queues": sim.queues,
        "queue_discs": "none: device flow control off, so Ipv4AddressHelper::Assign installs none; checked per device",
        "rng": {"seed": RNG_SEED, "run": RNG_RUN},
        "settings": SETTINGS,
        "settings_missing": missing,
        "settings_check": sim.settings_check(),
    }
    ns.Simulator.Destroy()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
