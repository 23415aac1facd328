"""The bundled Chengdu/Chongqing network under load: what a user of the scenario would measure.

- ``connect_ms``: ``telnet 172.16.2.16 1044`` from ``cvm-vpc1`` (same VPC as the endpoint) and
  from ``cvm-vpc3`` (across the CCN), on every branch (each backend);
- ``transfer``: 100 MB from ``cvm-vpc3`` to the VIP across the CCN at its 1 Gbps cap, and the same
  with the CCN's cap raised to 100 Gbps (the host links and TCP then bound it), and from
  ``cvm-vpc1``; goodput, drops, retransmissions, completion, wall time;
- ``spread``: 10,000 connections held 1 s, the listener's scheduler weighted round robin with
  weights 3:1, then least connections: each backend's share and peak of open connections;
- ``latency_vs_load``: the endpoint given a per-packet service time of 100 µs (10,000 packets a
  second) and a 1,000-packet queue; connections held 100 ms arrive as a Poisson process at a rising
  rate: connect-time percentiles, and how many failed, at each offered load.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import yaml

from vpcsim import Network
from vpcsim.frontends import from_data

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "scenarios" / "chengdu_chongqing.yaml"
VIP, PORT = "172.16.2.16", 1044
TRANSFER_BYTES = 100_000_000
RATES = (250, 500, 1_000, 1_250, 1_500, 1_650, 1_800, 1_900, 2_000)
"""Offered connections per second. Each connection is about six packets through the endpoint
(handshake, FINs, ACKs, both ways in its one queue): it saturates near 1,700 a second."""
SERVICE_TIME = "100us"


def _seed() -> dict[str, Any]:
    return dict(yaml.safe_load(SEED.read_text(encoding="utf-8")))


def _net(data: dict[str, Any], name: str) -> Network:
    return Network(from_data(data, source=name))


def connect_ms() -> dict[str, Any]:
    net = Network.from_file(SEED)
    out: dict[str, Any] = {}
    for source in ("cvm-vpc1", "cvm-vpc3"):
        r = net.telnet(source, VIP, PORT, every_branch=True)
        out[source] = {
            b.choices[-1].backend if b.choices else "only": round(b.connect_time * 1e3, 6) for b in r.branches
        }
    return out


def _transfer(net: Network, source: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    r = net.transfer(source, VIP, PORT, TRANSFER_BYTES)
    wall = time.perf_counter() - t0
    return {
        "outcome": r.outcome,
        "goodput_mbps": round(r.goodput_bps / 1e6, 1),
        "completion_s": round(r.completion_time, 3),
        "drops": sum(r.drops.values()),
        "retransmissions": r.retransmissions,
        "timeouts": r.timeouts,
        "wall_s": round(wall, 2),
    }


def transfers() -> dict[str, Any]:
    data = _seed()
    uncapped = copy.deepcopy(data)
    for ccn in uncapped["ccns"].values():
        ccn["bandwidth"] = "100Gbps"
    return {
        "cvm-vpc3 across the CCN (1 Gbps cap)": _transfer(_net(data, "seed"), "cvm-vpc3"),
        "cvm-vpc3 across the CCN (100 Gbps cap)": _transfer(_net(uncapped, "uncapped"), "cvm-vpc3"),
        "cvm-vpc1 (same VPC as the endpoint)": _transfer(_net(data, "seed"), "cvm-vpc1"),
    }


def spread() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for scheduler, weights in (("wrr", (30, 10)), ("least_conn", (10, 10))):
        data = _seed()
        listener = data["load_balancers"]["lb-service"]["listeners"]["lbl-1044"]
        listener["scheduler"] = scheduler
        for backend, weight in zip(listener["backends"], weights, strict=True):
            backend["weight"] = weight
        t0 = time.perf_counter()
        r = _net(data, scheduler).load(
            ["cvm-vpc1", "cvm-vpc3"], VIP, PORT, clients=10_000, rate=10_000, duration=2.0, hold=1.0
        )
        wall = time.perf_counter() - t0
        s = r.spread[0]
        total = sum(s.counts.values())
        out[scheduler] = {
            "weights": s.weights,
            "share": {k: round(v / total, 4) for k, v in s.counts.items()},
            "peak_open": s.peak_open,
            "connected": r.outcomes.get("connected", 0),
            "wall_s": round(wall, 2),
        }
    return out


def latency_vs_load(rates: tuple[int, ...] = RATES) -> list[dict[str, Any]]:
    data = _seed()
    data.setdefault("settings", {}).setdefault("capacity", {})["endpoint"] = {
        "service_time": SERVICE_TIME,
        "queue": 1000,
    }
    net = _net(data, "loaded endpoint")
    rows = []
    for rate in rates:
        t0 = time.perf_counter()
        r = net.load(["cvm-vpc1", "cvm-vpc3"], VIP, PORT, clients=rate, rate=rate, duration=1.0, hold=0.1)
        rows.append(
            {
                "offered_per_s": rate,
                "connected": r.outcomes.get("connected", 0),
                "failed": sum(r.failures.values()),
                "connect_p50_ms": round(r.connect.p50 * 1e3, 3),
                "connect_p99_ms": round(r.connect.p99 * 1e3, 3),
                "connection_rate": round(r.connection_rate, 1),
                "wall_s": round(time.perf_counter() - t0, 2),
            }
        )
    return rows


def run() -> dict[str, Any]:
    return {
        "connect_ms": connect_ms(),
        "transfer_100MB": transfers(),
        "spread": spread(),
        "latency_vs_load": {"endpoint_service_time": SERVICE_TIME, "rows": latency_vs_load()},
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
