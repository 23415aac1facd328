"""vpcsim beside ns-3 and ns.py on one TCP workload: speed (link-hops per wall second) and answers.

The same three workloads run in each simulator (the peers' own scripts are
``benchmarks/peers/ns3_run.py`` and ``benchmarks/peers/nspy_run.py``, run in ``.venv-bench``):

- ``bulk``: one TCP flow over a chain of three 100 Mb/s links with 1 ms of delay each and
  100-packet tail-drop queues, 10 s simulated. In vpcsim the chain is a client's host link, a CCN
  crossing between two regions 1 ms apart and the server's host link.
- ``bottleneck``: two flows from two clients into one server through a 10 Mb/s link with a
  50-packet queue (the CCN crossing), 100 Mb/s host links, 30 s simulated: goodput per flow.
- ``completion``: one flow of 1,000,000 bytes through the same bottleneck: when the receiver
  has the last byte.

Every simulator gets the same TCP: 1,448 data bytes per segment (timestamps on, MTU 1500), an
initial window of 10, CUBIC without HyStart, SACK, delayed ACKs every second segment or 40 ms, a
200 ms minimum RTO, 6 MiB buffers; 2 bytes of PPP framing per packet. ns-3 sends no MSS option in
its SYN (56 bytes with window scale, SACK-permitted and timestamps): vpcsim is set to send the same
frames (``mss_option: false``), so the handshakes can be compared to the nanosecond.

A link-hop is one packet carried over one link (the wire of one queue), data and ACKs, both ways;
vpcsim counts what its link FIFOs carried, ns-3 its devices' PhyTxEnd, ns.py its ports' sends.
The wall time is the simulation's run (ns-3's ``Simulator.Run``, SimPy's ``env.run``), not the
imports or the topology building.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from vpcsim import Network
from vpcsim.frontends import from_data
from vpcsim.scenario.pause import paused_gc
from vpcsim.sim import Simulation
from vpcsim.sim.connection import Connection

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "benchmarks" / "peers"
ENDLESS = 1 << 40
"""Bytes a bulk sender writes: more than any run carries (ns-3's BulkSend with MaxBytes 0)."""
TARGETS = {"linkhops_vs_ns3": 2.0, "linkhops_vs_nspy": 4.0, "goodput_per_flow_within": 0.10, "completion_within": 0.05}
AIMS = {"linkhops_vs_ns3": 3.0, "linkhops_vs_nspy": 10.0}
SECONDS = {"bulk": 10.0, "bottleneck": 30.0, "completion": 10.0}
_OPEN = {
    "ingress": [{"action": "accept", "protocol": "all", "source": "0.0.0.0/0"}],
    "egress": [{"action": "accept", "protocol": "all", "destination": "0.0.0.0/0"}],
}


def scenario(bottleneck: str = "100Mbps", queue: int = 100, clients: int = 1) -> dict[str, Any]:
    """``clients`` clients in Chengdu, a server in Chongqing, a CCN between: three links per way."""
    instances: dict[str, Any] = {
        f"c{i + 1}": {"vpc": "v1", "subnet": "s1", "ip": f"10.1.1.{10 + i}", "security_groups": ["open"]}
        for i in range(clients)
    }
    instances["d"] = {"vpc": "v2", "subnet": "s2", "ip": "10.2.1.10", "security_groups": ["open"], "listen": [5001]}
    return {
        "version": 1,
        "settings": {
            "seed": 1,
            "delays": {"same_zone": "0ms", "cross_zone": "0ms", "regions": {"ap-chengdu/ap-chongqing": "1ms"}},
            "links": {
                "host": {"bandwidth": "100Mbps", "delay": "1ms", "overhead": 2, "queue": 100},
                "ccn": {"overhead": 2, "queue": queue},
            },
            "tcp": {
                "timestamps": True,
                "mss_option": False,
                "congestion_control": "cubic",
                "sack": True,
                "initial_window": 10,
                "delayed_ack": "40ms",
                "min_rto": "200ms",
                "receive_window": 6 << 20,
            },
        },
        "vpcs": {
            "v1": {
                "region": "ap-chengdu",
                "account": "1",
                "cidr": "10.1.0.0/16",
                "subnets": {"s1": {"cidr": "10.1.1.0/24", "zone": "ap-chengdu-1"}},
            },
            "v2": {
                "region": "ap-chongqing",
                "account": "1",
                "cidr": "10.2.0.0/16",
                "subnets": {"s2": {"cidr": "10.2.1.0/24", "zone": "ap-chongqing-1"}},
            },
        },
        "security_groups": {"open": _OPEN},
        "instances": instances,
        "ccns": {"ccn": {"attachments": ["v1", "v2"], "bandwidth": bottleneck}},
    }


def vpcsim_run(workload: str, seconds: float | None = None) -> dict[str, Any]:
    """One workload in vpcsim: flows opened at t=0 through the engine, run for the simulated time."""
    seconds = seconds or SECONDS[workload]
    clients = 2 if workload == "bottleneck" else 1
    data = scenario() if workload == "bulk" else scenario("10Mbps", 50, clients)
    net = Network(from_data(data, source=f"<{workload}>"))
    size = 1_000_000 if workload == "completion" else ENDLESS
    t0 = time.perf_counter()
    sim = Simulation(net.compiled, seed=1, trace=False, outcomes=False)
    sim.streams = True
    servers: dict[int, Connection] = {}
    done = sim.env.event()

    def delivered(conn: Connection) -> None:
        if conn.delivered >= size and not done.triggered:
            done.succeed()

    def accepted(conn: Connection) -> None:
        servers[conn.remote_port] = conn
        if workload == "completion":
            conn.on_delivered = delivered

    sim.on_accept = accepted
    flows = []
    for i in range(clients):
        conn = Connection.open(sim, f"c{i + 1}", net.address_of("d"), 5001, i)
        assert conn is not None
        conn.on_established = lambda c: c.write(size)
        flows.append(conn)
    # A completion run stops when the receiver has the last byte (as ns-3's sink callback does).
    # The cyclic collector waits, as in Network.transfer and Network.load.
    with paused_gc():
        sim.env.run(until=sim.env.any_of([done, sim.env.timeout(seconds)]) if workload == "completion" else seconds)
    wall = time.perf_counter() - t0
    end = sim.env.now
    hops = sum(q.carried for q in sim.queues.values())
    drops = sum(q.dropped for q in sim.queues.values())
    received = [servers[c.local_port].delivered if c.local_port in servers else 0 for c in flows]
    out: dict[str, Any] = {
        "simulator": "vpcsim",
        "workload": workload,
        "seconds": round(end, 6),
        "wall_s": round(wall, 3),
        "link_hops": hops,
        "packets": sim.sent,
        "linkhops_per_s": round(hops / wall),
        "handshake_ms": round(flows[0].established_at * 1e3, 9) if flows[0].established_at is not None else None,
        "drops": drops,
        "retransmissions": [c.retransmissions for c in flows],
        "timeouts": [c.timeouts for c in flows],
    }
    if workload == "completion":
        out["completion_ms"] = round(end * 1e3, 6) if received[0] >= size else None
    elif clients == 1:
        out["goodput_mbps"] = round(received[0] * 8 / end / 1e6, 3)
    else:
        out["goodput_mbps"] = [round(r * 8 / end / 1e6, 3) for r in received]
        out["total_goodput_mbps"] = round(sum(received) * 8 / end / 1e6, 3)
    sim.close()
    return out


def peer_run(python: Path, peer: str, workload: str, seconds: float | None = None) -> dict[str, Any]:
    """One workload in a peer simulator (``ns3`` or ``nspy``), in its own process."""
    args = [str(python), str(PEERS / f"{peer}_run.py"), workload]
    if seconds:
        args += ["--seconds", str(seconds)]
    out = subprocess.run(args, capture_output=True, text=True, check=False, cwd=ROOT)
    if out.returncode:
        return {"error": f"{peer} {workload} exited {out.returncode}: {out.stderr.strip()[-500:]}"}
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    print(json.dumps(vpcsim_run(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else None)))
