"""Concurrent TCP sessions through Private Link endpoints: 10^3 to 10^6 held open at once.

The scenario (Tencent Cloud, built as data in code): a provider VPC with an internal layer-4 load
balancer (one TCP listener, weighted round robin over 4 backends) published as an endpoint service,
and 16 consumer VPCs, each with its own Private Link endpoint to that service and 5 client instances
(80 in all). The consumer VPCs share one CIDR and each endpoint has the same VIP, 172.16.2.16, in its
own VPC -- the overlapping address plans Private Link exists for -- so one ``load`` toward
``172.16.2.16:1044`` spreads its clients over the 16 endpoints (``load`` takes its sources in turn:
client ``i`` sits in consumer VPC ``i % 16``). Every endpoint source-NATs into its own address of
11.163.0.0/16; no endpoint or load balancer has a session limit (``capacity: {max_sessions: 0}`` on
each endpoint, Tencent has no preset one; checked on the compiled nodes). The clients' own addresses
are distinct across the VPCs: the engine keeps ephemeral ports per source address, not per host.

Ports (checked against the compiled network): a client takes Linux's ephemeral ports 32768-60999
(28,232) per destination, even ports first, as Linux's connect() does; once a source has used its
14,116 even ports, every further connect() walks all of them before an odd one, so each client is
kept within them (12,500 at 10^6 sessions). An endpoint hands out SNAT ports 1024-65535 (64,512) on
its address: 62,500 at 10^6. No connection can fail for lack of a port.

Each size runs in its own process (so its peak RSS is its own): building the scenario (validation
and compiling) is timed as ``setup_s``; then one ``Network.load`` opens N connections at Poisson
arrivals of N a second (about one simulated second of arrivals), each holding 5 simulated seconds,
so all N are open at once; then they close. ``wall_s`` is that ``load`` call (open, hold, close),
``sessions_per_s`` is N / ``wall_s``; ``cpu_s`` is the process's CPU time over the same call (on a
shared machine, wall minus CPU is time spent waiting for a CPU); ``collect_s``, apart, is a full
collection right after it: what of the run is left for the cyclic collector to free. Every row is
checked against the engine's result: N started and connected, no failure, the load balancer's peak
of open sessions equal to N, each endpoint's opened sessions N/16.

Targets: 10^6 concurrent sessions within 180 s wall (aim: 60 s) and 2 GiB peak RSS. Linear growth
shows as a growth factor near 10 between sizes ten times apart.
"""

from __future__ import annotations

import gc
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.memory import peak_rss_mb

if TYPE_CHECKING:
    from vpcsim.ir import CompiledNetwork

SIZES = (1_000, 10_000, 100_000, 1_000_000)
ENDPOINTS = 16
CLIENTS_PER_ENDPOINT = 5
BACKENDS = 4
VIP = "172.16.2.16"
VPORT = 1044
HOLD_S = 5.0
"""Simulated seconds each connection stays open: beyond the ~1 s of arrivals and any connect time."""
ARRIVALS_S = 1.0
"""The load's rate is N / ARRIVALS_S a second."""
DURATION_S = 10.0
"""No arrival after this (far beyond the ~1 s N arrivals take)."""
TARGETS = {
    "1000000_sessions_wall_s": 180.0,
    "1000000_sessions_wall_s_aim": 60.0,
    "1000000_sessions_rss_mb": 2048.0,
}

ACCOUNT = "100012345678"


def clients() -> list[str]:
    """The client instances in the order ``load`` takes them: client ``i`` is in consumer VPC ``i % 16``."""
    return [f"cvm-c{i % ENDPOINTS}-{i // ENDPOINTS}" for i in range(ENDPOINTS * CLIENTS_PER_ENDPOINT)]


def scenario_data() -> dict[str, Any]:
    """The scenario as plain data: a provider VPC (load balancer, 4 backends, endpoint service) and
    16 consumer VPCs of one CIDR, each with an endpoint at 172.16.2.16 and 5 clients (each client's
    address its own: 172.16.2.32 onwards)."""
    vpcs: dict[str, Any] = {
        "vpc-svc": {
            "region": "ap-chengdu",
            "account": ACCOUNT,
            "cidr": "10.0.0.0/16",
            "subnets": {
                "subnet-clb": {"cidr": "10.0.1.0/24", "zone": "ap-chengdu-1"},
                "subnet-app": {"cidr": "10.0.2.0/24", "zone": "ap-chengdu-2"},
            },
        }
    }
    instances: dict[str, Any] = {}
    endpoints: dict[str, Any] = {}
    for v in range(ENDPOINTS):
        vpcs[f"vpc-c{v}"] = {
            "region": "ap-chengdu",
            "account": ACCOUNT,
            "cidr": "172.16.0.0/16",
            "subnets": {f"subnet-c{v}": {"cidr": "172.16.2.0/24", "zone": "ap-chengdu-1"}},
        }
        endpoints[f"vpce-c{v}"] = {
            "vpc": f"vpc-c{v}",
            "subnet": f"subnet-c{v}",
            "ip": VIP,
            "service": "vpcsvc-service",
            "capacity": {"max_sessions": 0},
        }
        for k in range(CLIENTS_PER_ENDPOINT):
            instances[f"cvm-c{v}-{k}"] = {
                "vpc": f"vpc-c{v}",
                "subnet": f"subnet-c{v}",
                "ip": f"172.16.2.{32 + CLIENTS_PER_ENDPOINT * v + k}",
                "security_groups": ["sg-client"],
            }
    for b in range(BACKENDS):
        instances[f"cvm-backend{b}"] = {
            "vpc": "vpc-svc",
            "subnet": "subnet-app",
            "ip": f"10.0.2.{11 + b}",
            "security_groups": ["sg-backend"],
            "listen": [8080],
        }
    return {
        "version": 1,
        "settings": {"seed": 2024},
        "vpcs": vpcs,
        "security_groups": {
            "sg-client": {"ingress": [], "egress": [{"action": "accept", "protocol": "all"}]},
            "sg-backend": {
                "ingress": [{"action": "accept", "protocol": "tcp", "port": 8080, "source": "11.163.0.0/16"}],
                "egress": [{"action": "accept", "protocol": "all"}],
            },
        },
        "instances": instances,
        "load_balancers": {
            "lb-service": {
                "vpc": "vpc-svc",
                "subnet": "subnet-clb",
                "vip": "10.0.1.100",
                "listeners": {
                    f"lbl-{VPORT}": {
                        "protocol": "tcp",
                        "port": VPORT,
                        "scheduler": "wrr",
                        "backends": [
                            {"instance": f"cvm-backend{b}", "port": 8080, "weight": 10} for b in range(BACKENDS)
                        ],
                    }
                },
            }
        },
        "endpoint_services": {"vpcsvc-service": {"vpc": "vpc-svc", "load_balancer": "lb-service", "auto_accept": True}},
        "endpoints": endpoints,
    }


def check_ports(n: int, net: CompiledNetwork) -> None:
    """At ``n`` sessions every client stays within its even ephemeral ports (``load`` takes the
    clients in turn; the engine keeps ports per source address) and every endpoint within its SNAT
    ports."""
    sources = clients()
    addresses = {net.addresses[c] for c in sources}
    assert len(addresses) == len(sources), "clients share addresses, and so their ephemeral ports"
    low, high = net.ephemeral_ports
    per_client = -(-n // len(sources))
    assert per_client <= (high - low + 1) // 2, f"{per_client} connections a client overflow its even ports"
    low, high = net.snat_ports
    per_endpoint = -(-n // ENDPOINTS)
    assert per_endpoint <= high - low + 1, f"{per_endpoint} sessions an endpoint overflow its SNAT ports"


def measure(n: int) -> dict[str, Any]:
    """Build the scenario, then hold ``n`` sessions open at once through the endpoints, in this process."""
    from vpcsim.frontends import from_data
    from vpcsim.ir import Balancer, Translator
    from vpcsim.probes import Network

    t0 = time.perf_counter()
    net = Network(from_data(scenario_data(), source=f"<{n} sessions>"))
    t1 = time.perf_counter()
    check_ports(n, net.compiled)
    nodes = net.compiled.state_at(0.0).nodes
    gateways = [x for x in nodes.values() if isinstance(x, Translator | Balancer)]
    assert len([x for x in gateways if isinstance(x, Translator)]) == ENDPOINTS
    for g in gateways:  # the session limit is off everywhere on the way
        assert g.limits is None or not g.limits.max_sessions, (g.id, g.limits)
    c1 = time.process_time()
    r = net.load(clients(), VIP, VPORT, clients=n, rate=n / ARRIVALS_S, duration=DURATION_S, hold=HOLD_S)
    t2 = time.perf_counter()
    cpu = time.process_time() - c1
    rss_mb = peak_rss_mb()
    gc.collect()  # whatever of the run only the cyclic collector frees (none, once the load lets go of it)
    t3 = time.perf_counter()
    connected = r.outcomes.get("connected", 0)
    peak_open = r.peak_sessions["lb-service"]
    endpoint_opened = [r.opened_sessions[f"vpce-c{v}"] for v in range(ENDPOINTS)]
    assert r.started == n, f"{r.started} of {n} started"
    assert connected == n, (r.outcomes, r.failures, r.drops)
    assert not r.failures, r.failures
    assert peak_open == n, f"at most {peak_open} of {n} open at once"
    assert sum(endpoint_opened) == n, endpoint_opened
    assert max(endpoint_opened) - min(endpoint_opened) <= 1, endpoint_opened  # clients spread evenly
    wall = t2 - t1
    return {
        "sessions": n,
        "connected": connected,
        "failures": sum(r.failures.values()),
        "peak_open": peak_open,
        "endpoint_peak": max(r.peak_sessions[f"vpce-c{v}"] for v in range(ENDPOINTS)),
        "simulated_s": round(r.duration, 3),
        "connect_p99_ms": round(r.connect.p99 * 1e3, 3),
        "setup_s": round(t1 - t0, 3),
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "collect_s": round(t3 - t2, 3),
        "sessions_per_s": round(n / wall),
        "us_per_session": round(wall / n * 1e6, 1),
        "peak_rss_mb": round(rss_mb, 1),
    }


def run(sizes: tuple[int, ...] = SIZES) -> dict[str, Any]:
    """Each size in its own process, one after the other."""
    rows = []
    root = str(Path(__file__).resolve().parent.parent)
    for n in sizes:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.sessions", str(n)], capture_output=True, text=True, check=False, cwd=root
        )
        if out.returncode:  # out of memory, or a check failed: say so, and try no larger size
            rows.append({"sessions": n, "error": f"exit {out.returncode}: {out.stderr.strip()[-300:]}"})
            break
        rows.append(json.loads(out.stdout))
    for prev, row in itertools.pairwise(r for r in rows if "error" not in r):
        row["growth"] = {
            k: round(row[k] / prev[k], 1) if prev[k] else None
            for k in ("sessions", "wall_s", "collect_s", "peak_rss_mb")
        }
    return {"sessions": rows, "targets": TARGETS}


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(json.dumps(measure(int(sys.argv[1]))))
    else:
        print(json.dumps(run(), indent=2))
