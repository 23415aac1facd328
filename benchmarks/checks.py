"""How long one reachability check takes, against the Linux kernel answering the same question.

- ``telnet_check_us``: the median wall time of a full warm check of the bundled scenario from
  ``cvm-vpc3`` on one branch (the backend the scheduler picks first: SYN, SYN-ACK and ACK walked
  over 8 hops each, the trace built, not rendered) — one simulation, what the kernel's connect is
  compared with;
- ``telnet_check_all_branches_us``: the same check on every branch (the scenario's two backends:
  two simulations), as ``vpcsim telnet`` and ``vpcsim check`` run it;
- ``one_backend_check_us``: the check on every branch with the listener bound to one backend, and
  ``one_backend_overhead``: its ratio to the one-branch check (target 1.05: a path with no choice
  pays nothing for branch exploration);
- ``verdict_check_us``: the one-branch check keeping no trace, only the verdict and its explanation
  (what a matrix of millions of checks needs);
- ``kernel_connect_us``: a real TCP connect through a DNAT+SNAT router in network namespaces
  (:mod:`benchmarks.kernel_connect`), measured in the same run (root only);
- ``cold_start_s``: ``vpcsim telnet`` as a new process, from exec to exit.

Each timed check uses a new seed (so a new ephemeral port, ISN and SNAT port); only the compiled
network is reused. Targets: the full trace within 2.5x of the kernel's connect, the verdict
within 1.5x (aims: 1.5x and 1.0x); the cold start within 1 s.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.kernel_connect import kernel_connect_us
from vpcsim import Network
from vpcsim.frontends import from_data

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "scenarios" / "chengdu_chongqing.yaml"
CHECKS = 1_000
COLD_RUNS = 5
TARGETS = {"trace_vs_kernel": 2.5, "verdict_vs_kernel": 1.5, "cold_start_s": 1.0, "one_backend_overhead": 1.05}


def one_backend() -> Network:
    """The bundled scenario with the listener bound to cvm-backend1 only: a path with no choice."""
    data = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    listener = data["load_balancers"]["lb-service"]["listeners"]["lbl-1044"]
    listener["backends"] = listener["backends"][:1]
    return Network(from_data(data, source="one-backend"))


def warm(source: str, *, trace: bool, every_branch: bool = False, net: Network | None = None) -> list[float]:
    net = net or Network.from_file(SEED)
    for i in range(100):  # warm the memos (edges, delays) and the imports
        net.telnet(source, "172.16.2.16", 1044, seed=10_000 + i, trace=trace, every_branch=every_branch)
    times = []
    for i in range(CHECKS):
        t0 = time.perf_counter()
        r = net.telnet(source, "172.16.2.16", 1044, seed=i, trace=trace, every_branch=every_branch)
        times.append(time.perf_counter() - t0)
        assert all(b.connected for b in r.branches)
    return times


def paired(net: Network) -> tuple[list[float], list[float]]:
    """The check on every branch and on the first branch only, alternating check by check, so
    that a drift of the machine's speed weighs on both alike."""
    for i in range(100):
        net.telnet("cvm-vpc3", "172.16.2.16", 1044, seed=10_000 + i)
    every: list[float] = []
    first: list[float] = []
    for i in range(CHECKS):
        for sink, explore in ((every, True), (first, False)):
            t0 = time.perf_counter()
            r = net.telnet("cvm-vpc3", "172.16.2.16", 1044, seed=i, every_branch=explore)
            sink.append(time.perf_counter() - t0)
            assert r.connected
    return every, first


def cold() -> list[float]:
    exe = shutil.which("vpcsim")
    cmd = [exe] if exe else [sys.executable, "-c", "from vpcsim.cli import main; main()"]
    args = [*cmd, "telnet", str(SEED), "--from", "cvm-vpc3", "172.16.2.16", "1044"]
    out = []
    for _ in range(COLD_RUNS):
        t0 = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "0"})
        out.append(time.perf_counter() - t0)
    return out


def run(*, kernel: bool = True, cold_start: bool = True) -> dict[str, Any]:
    full = warm("cvm-vpc3", trace=True)
    bare = warm("cvm-vpc3", trace=False)
    vpc1 = warm("cvm-vpc1", trace=True)
    branches = warm("cvm-vpc3", trace=True, every_branch=True)
    lone, plain = paired(one_backend())
    kernel_us, kernel_note = kernel_connect_us(CHECKS) if kernel else (None, "not measured")
    out: dict[str, Any] = {
        "telnet_check_us": round(statistics.median(full) * 1e6, 1),
        "telnet_check_p90_us": round(statistics.quantiles(full, n=10)[-1] * 1e6, 1),
        "telnet_check_us_vpc1": round(statistics.median(vpc1) * 1e6, 1),
        "telnet_check_all_branches_us": round(statistics.median(branches) * 1e6, 1),
        "one_backend_check_us": round(statistics.median(lone) * 1e6, 1),
        "one_backend_overhead": round(statistics.median(lone) / statistics.median(plain), 3),
        "verdict_check_us": round(statistics.median(bare) * 1e6, 1),
        "kernel_connect_us": None if kernel_us is None else round(kernel_us, 1),
        "kernel_note": kernel_note,
        "checks": CHECKS,
    }
    if kernel_us:
        out["trace_vs_kernel"] = round(out["telnet_check_us"] / kernel_us, 2)
        out["verdict_vs_kernel"] = round(out["verdict_check_us"] / kernel_us, 2)
    if cold_start:
        out["cold_start_s"] = round(statistics.median(cold()), 3)
    out["targets"] = TARGETS
    return out
