"""Peering against Private Link, through the Python API: what each exposes, and to whom.

Runs every check of the scenario and prints, for each, its verdict and where its last packet
ended: the route, the peering connection or the endpoint that decided, from the typed records of
the trace.
"""

from __future__ import annotations

import sys
from pathlib import Path

from vpcsim import Network
from vpcsim.trace import LocalHit, NoRoute, RouteHit

SCENARIO = Path(__file__).with_name("peering_vs_endpoint.yaml")


def main() -> int:
    net = Network.from_file(SCENARIO)
    results = net.run_checks()
    for r in results:
        got = r.result
        print(f"{'PASS' if r.passed else 'FAIL'}  {r.check.name}")
        print(f"      {got.verdict.value} ({got.reason.value})")
        last = got.packets[-1]
        for hop in last.hops:
            for step in hop.steps:
                d = step.data
                if isinstance(d, RouteHit) and d.table:
                    print(f"      {d.router}: route {d.entry} of {d.table} -> {d.hop_noun} {d.next_hop}")
                elif isinstance(d, RouteHit):
                    print(f"      {d.router}: {d.prefix} ({d.origin_noun} {d.origin_subnet}) -> {d.next_hop}")
                elif isinstance(d, LocalHit):
                    print(f"      {d.router}: Local -> {d.owner}")
                elif isinstance(d, NoRoute):
                    where = f" (entered from {d.entered_from})" if d.entered_from else ""
                    table = f" in {d.table}" if d.table else ""
                    print(f"      {d.router}: no route to {d.address}{table}{where}")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
