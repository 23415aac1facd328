"""Benchmark: a warm telnet check on the bundled Chengdu/Chongqing scenario, and the CLI's cold start.

"Warm" = the median wall time of one full check (SYN, SYN-ACK, ACK walked hop by hop, trace built
but not rendered) over 1,000 checks on the compiled seed, in one process. "Cold" = `vpcsim telnet`
as a new process, from exec to exit, median of 5. Prints one JSON object.

Targets: telnet_check_us <= 100, cold_start_s <= 1.0 (timing targets live here, never in tests).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from vpcsim import Network

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "scenarios" / "chengdu_chongqing.yaml"
CHECKS = 1_000
COLD_RUNS = 5


def warm(source: str) -> list[float]:
    net = Network.from_file(SEED)
    for _ in range(100):  # warm caches (step cache, delay cache, imports)
        net.telnet(source, "172.16.2.16", 1044)
    times = []
    for i in range(CHECKS):
        t0 = time.perf_counter()
        r = net.telnet(source, "172.16.2.16", 1044, seed=i)
        times.append(time.perf_counter() - t0)
        assert r.connected
    return times


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


def main() -> None:
    vpc3 = warm("cvm-vpc3")
    vpc1 = warm("cvm-vpc1")
    cold_runs = cold()
    print(
        json.dumps(
            {
                "telnet_check_us": round(statistics.median(vpc3) * 1e6, 1),
                "telnet_check_us_vpc1": round(statistics.median(vpc1) * 1e6, 1),
                "telnet_check_p90_us": round(statistics.quantiles(vpc3, n=10)[-1] * 1e6, 1),
                "checks": CHECKS,
                "cold_start_s": round(statistics.median(cold_runs), 3),
                "target_telnet_check_us": 100,
                "target_cold_start_s": 1.0,
            }
        )
    )


if __name__ == "__main__":
    main()
