"""How loading and compiling grow with the network: N VPCs of 10 instances each, all on one CCN.

Each size runs in its own process (so its peak RSS is its own): the scenario is written as YAML
text, then timed through :func:`vpcsim.loads` (YAML, shape, cross-references, admission, the
timeline run once) and through compiling (the control plane and the Tencent front-end's lowering
to the IR), and one check crosses the CCN from the first VPC to the last. The loader's limits are
raised to fit; the default limits refuse these files by design.

Targets: 1,000 VPCs within 5 s and 300 MB; 10,000 VPCs within 60 s. Linear growth shows as a
growth factor near 10 between sizes ten times apart.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.memory import peak_rss_mb

SIZES = (10, 100, 1_000, 10_000)
INSTANCES_PER_VPC = 10
TARGETS = {"1000_vpcs_total_s": 5.0, "1000_vpcs_rss_mb": 300.0, "10000_vpcs_total_s": 60.0}


def scenario_text(n: int) -> str:
    """N VPCs (10.x.y.0/24, one subnet each), 10 instances per VPC, one group, one CCN with all."""
    lines = [
        "version: 1",
        "security_groups:",
        "  sg-all:",
        "    ingress: [{action: accept, protocol: all, source: 0.0.0.0/0}]",
        "    egress: [{action: accept, protocol: all, destination: 0.0.0.0/0}]",
        "vpcs:",
    ]
    for v in range(n):
        net = f"10.{v // 256}.{v % 256}"
        lines += [
            f"  vpc{v}:",
            "    region: ap-chengdu",
            '    account: "100012345678"',
            f"    cidr: {net}.0/24",
            f"    subnets: {{sn{v}: {{cidr: {net}.0/24, zone: ap-chengdu-1}}}}",
        ]
    lines.append("instances:")
    for v in range(n):
        net = f"10.{v // 256}.{v % 256}"
        for i in range(INSTANCES_PER_VPC):
            lines.append(
                f"  i{v}-{i}: {{vpc: vpc{v}, subnet: sn{v}, ip: {net}.{i + 2}, security_groups: [sg-all], listen: [22]}}"
            )
    lines += ["ccns:", "  ccn-all:", "    attachments: [" + ", ".join(f"vpc{v}" for v in range(n)) + "]"]
    lines += ["checks:", f"  - {{from: i0-0, to: 'i{n - 1}-0:22', expect: connected}}"]
    return "\n".join(lines) + "\n"


def measure(n: int) -> dict[str, Any]:
    """Load, compile and one check at size ``n``, in this process."""
    from vpcsim import loads
    from vpcsim.probes import Network
    from vpcsim.scenario import Limits

    text = scenario_text(n)
    limits = Limits(max_bytes=len(text) + 1, max_values=50 * n * INSTANCES_PER_VPC + 1_000, max_objects=20 * n + 100)
    t0 = time.perf_counter()
    topo = loads(text, source=f"<{n} VPCs>", limits=limits)
    t1 = time.perf_counter()
    net = Network(topo)
    t2 = time.perf_counter()
    r = net.telnet("i0-0", f"i{n - 1}-0", 22)
    t3 = time.perf_counter()
    assert r.connected, r.detail
    return {
        "vpcs": n,
        "instances": n * INSTANCES_PER_VPC,
        "file_mb": round(len(text) / 1e6, 2),
        "load_s": round(t1 - t0, 3),
        "compile_s": round(t2 - t1, 3),
        "total_s": round(t2 - t0, 3),
        "first_check_ms": round((t3 - t2) * 1e3, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def run(sizes: tuple[int, ...] = SIZES) -> dict[str, Any]:
    rows = []
    root = str(Path(__file__).resolve().parent.parent)
    for n in sizes:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.scale", str(n)], capture_output=True, text=True, check=True, cwd=root
        )
        rows.append(json.loads(out.stdout))
    for prev, row in itertools.pairwise(rows):
        row["growth"] = {
            k: round(row[k] / prev[k], 1) if prev[k] else None for k in ("load_s", "compile_s", "peak_rss_mb")
        }
    return {"scale": rows, "targets": TARGETS}


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(json.dumps(measure(int(sys.argv[1]))))
    else:
        print(json.dumps(run(), indent=2))
