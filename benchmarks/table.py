"""A benchmark result as Markdown tables: ``python -m benchmarks.table [RESULT.json]``.

Without an argument, the newest full result in ``benchmarks/results``. The README's Performance
section is this output, pasted with the plots of the same result.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NAMES = {"vpcsim": "vpcsim", "ns3": "ns-3 3.44", "nspy": "ns.py 0.4.3"}


def _n(x: Any, digits: int = 0) -> str:
    if x is None:
        return "—"
    if isinstance(x, list):
        return " / ".join(_n(v, digits) for v in x)
    return f"{x:,.{digits}f}"


def _get(r: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        if not isinstance(r, dict) or k not in r:
            return None
        r = r[k]
    return r


def simulators(r: dict[str, Any]) -> list[str]:
    sims = r.get("simulators", {})
    rows = [
        ("link-hops per wall second (bulk, 10 s)", "bulk", "linkhops_per_s", 0),
        ("wall time of the run (bulk, s)", "bulk", "wall_s", 2),
        ("link-hops (bulk)", "bulk", "link_hops", 0),
        ("handshake (bulk, ms)", "bulk", "handshake_ms", 6),
        ("goodput (bulk, Mb/s)", "bulk", "goodput_mbps", 1),
        ("goodput per flow (bottleneck, Mb/s)", "bottleneck", "goodput_mbps", 2),
        ("drops at the bottleneck (30 s)", "bottleneck", "drops", 0),
        ("handshake (bottleneck, ms)", "bottleneck", "handshake_ms", 6),
        ("1 MB completion (ms)", "completion", "completion_ms", 1),
    ]
    out = ["| | vpcsim | ns-3 3.44 | ns.py 0.4.3 |", "|---|---:|---:|---:|"]
    for label, workload, key, digits in rows:
        cells = [_n(_get(sims, workload, s, key), digits) for s in ("vpcsim", "ns3", "nspy")]
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    interpreted = _get(sims, "bulk", "vpcsim_interpreted", "linkhops_per_s")
    if interpreted is not None:
        out.append(f"| link-hops per wall second (bulk), vpcsim's engine interpreted | {_n(interpreted)} | | |")
    return out


def targets(r: dict[str, Any]) -> list[str]:
    t = r.get("targets", {})
    out = ["| Target | Measured | Met |", "|---|---|---|"]
    for key, label in (
        ("linkhops_vs_ns3", "≥ 2× ns-3's link-hops/s"),
        ("linkhops_vs_nspy", "≥ 4× ns.py's link-hops/s"),
    ):
        if key in t:
            out.append(f"| {label} | {t[key]['value']}× | {'yes' if t[key]['met'] else 'no'} |")
    if "handshake_vs_ns3" in t:
        h = t["handshake_vs_ns3"]
        out.append(f"| handshake equal to ns-3's | {h['difference_ns']} ns apart | {'yes' if h['met'] else 'no'} |")
    if "goodput_per_flow_vs_ns3" in t:
        g = t["goodput_per_flow_vs_ns3"]
        errors = ", ".join(f"{100 * e:.1f} %" for e in g["relative_error"])
        out.append(f"| goodput per flow within 10 % of ns-3's | {errors} | {'yes' if g['met'] else 'no'} |")
    if "completion_vs_ns3" in t:
        c = t["completion_vs_ns3"]
        error = "—" if c["relative_error"] is None else f"{100 * c['relative_error']:.1f} %"
        out.append(f"| 1 MB completion within 5 % of ns-3's | {error} | {'yes' if c['met'] else 'no'} |")
    if "sessions" in t:
        s = t["sessions"]
        out.append(
            f"| 10^6 sessions ≤ 180 s and ≤ 2 GiB | {_n(s['sessions'])} in {s['wall_s']} s, "
            f"{_n(s['peak_rss_mb'])} MB | {'yes' if s['met'] else 'no'} |"
        )
    return out


def checks(r: dict[str, Any]) -> list[str]:
    c, i = r.get("checks", {}), r.get("checks_interpreted", {})
    return [
        "| Check (median) | vpcsim | engine interpreted |",
        "|---|---:|---:|",
        f"| telnet from VPC3, full trace (µs) | {_n(c.get('telnet_check_us'), 1)} | {_n(i.get('telnet_check_us'), 1)} |",
        f"| telnet from VPC3, verdict only (µs) | {_n(c.get('verdict_check_us'), 1)} | {_n(i.get('verdict_check_us'), 1)} |",
        f"| the kernel's connect through a NAT router (µs) | {_n(c.get('kernel_connect_us'), 1)} | |",
        f"| `vpcsim telnet` as a new process (s) | {_n(c.get('cold_start_s'), 3)} | |",
    ]


def scale(r: dict[str, Any]) -> list[str]:
    out = ["| Concurrent sessions | wall (s) | peak RSS (MB) |", "|---:|---:|---:|"]
    out += [
        f"| {_n(row['sessions'])} | {_n(row['wall_s'], 1)} | {_n(row['peak_rss_mb'])} |"
        for row in _get(r, "sessions", "sessions") or []
    ]
    out += ["", "| VPCs | load (s) | compile (s) | peak RSS (MB) |", "|---:|---:|---:|---:|"]
    for row in r.get("scale") or []:
        out.append(
            f"| {_n(row['vpcs'])} | {_n(row['load_s'], 2)} | {_n(row['compile_s'], 2)} | {_n(row['peak_rss_mb'])} |"
        )
    return out


def network(r: dict[str, Any]) -> list[str]:
    n = r.get("network")
    if not n:
        return []
    out = ["| The bundled scenario | |", "|---|---|"]
    for source, branches in n["connect_ms"].items():
        times = sorted(set(branches.values()))
        out.append(f"| connect from `{source}` (every branch) | {' / '.join(f'{t:.6f}' for t in times)} ms |")
    for label, t in n["transfer_100MB"].items():
        out.append(
            f"| 100 MB from {label} | {_n(t['goodput_mbps'], 1)} Mb/s, {t['drops']:,} drops, "
            f"{t['timeouts']} timeouts, {t['outcome']} |"
        )
    for scheduler, s in n["spread"].items():
        share = ", ".join(f"`{k}` {100 * v:.2f} %" for k, v in s["share"].items())
        weights = ":".join(str(w) for w in s["weights"].values())
        out.append(f"| 10,000 connections, `{scheduler}` (weights {weights}) | {share} |")
    rows = n["latency_vs_load"]["rows"]
    points = ", ".join(f"{row['offered_per_s']:,}/s: {row['connect_p50_ms']:.1f}" for row in rows)
    out.append(
        f"| connect p50 (ms) by offered load, endpoint {n['latency_vs_load']['endpoint_service_time']} a packet | {points} |"
    )
    return out


def render(r: dict[str, Any]) -> str:
    about = r["about"]
    head = f"Measured {about['date']} on `{about['machine']}` ({about['platform']}, Python {about['python']})."
    parts = [head, "", *simulators(r), "", *targets(r), "", *network(r), "", *checks(r), "", *scale(r)]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    if len(sys.argv) > 1:
        path = Path(sys.argv[1])
    else:
        found = sorted((ROOT / "benchmarks" / "results").glob("*.json"), reverse=True)
        if not found:
            raise SystemExit("no result in benchmarks/results: run python -m benchmarks first")
        path = found[0]
    print(render(json.loads(path.read_text(encoding="utf-8"))), end="")
