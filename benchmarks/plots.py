"""Draw a benchmark result as PNG plots: ``python benchmarks/plots.py RESULT.json OUT_DIR``.

Runs in ``.venv-bench`` (matplotlib lives there, not in the project's environment) and reads only
the JSON, so a committed result can be drawn again anywhere. Each plot is one file, named after
the section it shows; a section missing from the result is skipped.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib as mpl

mpl.use("Agg")  # no display: files only
import matplotlib.pyplot as plt

COLOURS = {"vpcsim": "#1f77b4", "ns3": "#ff7f0e", "nspy": "#2ca02c", "kernel": "#7f7f7f"}
NAMES = {"vpcsim": "vpcsim", "ns3": "ns-3 3.44", "nspy": "ns.py 0.4.3"}


def _save(fig: Any, out: Path, name: str) -> str:
    path = out / f"{name}.png"
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def linkhops(r: dict[str, Any], out: Path) -> str | None:
    bulk = r.get("simulators", {}).get("bulk")
    if not bulk:
        return None
    sims = [s for s in ("vpcsim", "ns3", "nspy") if isinstance(bulk.get(s), dict) and "linkhops_per_s" in bulk[s]]
    values = [bulk[s]["linkhops_per_s"] for s in sims]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    bars = ax.bar([NAMES[s] for s in sims], values, color=[COLOURS[s] for s in sims])
    for bar, v in zip(bars, values, strict=True):
        ax.annotate(f"{v:,.0f}", (bar.get_x() + bar.get_width() / 2, v), ha="center", va="bottom", fontsize=9)
    ax.set_ylabel("link-hops per wall second")
    ax.set_title("TCP bulk, 3 x 100 Mb/s 1 ms links, 10 s simulated")
    return _save(fig, out, "linkhops")


def fidelity(r: dict[str, Any], out: Path) -> str | None:
    sims = r.get("simulators", {})
    neck, done = sims.get("bottleneck"), sims.get("completion")
    if not neck or not done:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    names = [s for s in ("vpcsim", "ns3", "nspy") if isinstance(neck.get(s), dict) and "goodput_mbps" in neck[s]]
    width = 0.8 / max(len(names), 1)
    for i, s in enumerate(names):
        flows = neck[s]["goodput_mbps"]
        left.bar([k + i * width for k in range(len(flows))], flows, width, label=NAMES[s], color=COLOURS[s])
    left.set_xticks([k + width * (len(names) - 1) / 2 for k in range(2)], ["flow 1", "flow 2"])
    left.set_ylabel("goodput (Mb/s)")
    left.set_title("2 flows, 10 Mb/s bottleneck, 50-packet queue, 30 s", fontsize=9)
    left.legend(fontsize=8)
    names = [s for s in ("vpcsim", "ns3", "nspy") if isinstance(done.get(s), dict) and done[s].get("completion_ms")]
    values = [done[s]["completion_ms"] for s in names]
    bars = right.bar([NAMES[s] for s in names], values, color=[COLOURS[s] for s in names])
    for bar, v in zip(bars, values, strict=True):
        right.annotate(f"{v:,.1f}", (bar.get_x() + bar.get_width() / 2, v), ha="center", va="bottom", fontsize=9)
    right.set_yscale("log")
    right.set_ylabel("completion (ms, log)")
    right.set_title("1 MB through the bottleneck", fontsize=9)
    return _save(fig, out, "fidelity")


def checks(r: dict[str, Any], out: Path) -> str | None:
    c = r.get("checks")
    if not c:
        return None
    items = [
        ("full trace", c.get("telnet_check_us"), COLOURS["vpcsim"]),
        ("verdict only", c.get("verdict_check_us"), COLOURS["vpcsim"]),
        ("kernel connect", c.get("kernel_connect_us"), COLOURS["kernel"]),
    ]
    items = [i for i in items if i[1]]
    fig, ax = plt.subplots(figsize=(6, 3.4))
    bars = ax.bar([i[0] for i in items], [i[1] for i in items], color=[i[2] for i in items])
    for bar, (_, v, _) in zip(bars, items, strict=True):
        ax.annotate(f"{v:,.0f} µs", (bar.get_x() + bar.get_width() / 2, v), ha="center", va="bottom", fontsize=9)
    ax.set_ylabel("µs per check (median)")
    ax.set_title("telnet VIP VPORT from VPC3: simulated check vs a real connect")
    return _save(fig, out, "checks")


def _loglog(rows: list[dict[str, Any]], x: str, series: list[tuple[str, str]], xlabel: str, title: str) -> Any:
    fig, ax = plt.subplots(figsize=(6, 3.8))
    xs = [row[x] for row in rows]
    for key, label in series:
        ys = [row.get(key) for row in rows]
        pts = [(a, b) for a, b in zip(xs, ys, strict=True) if b]
        if pts:
            ax.plot(*zip(*pts, strict=True), marker="o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    return fig


def sessions(r: dict[str, Any], out: Path) -> str | None:
    rows = r.get("sessions", {}).get("sessions") if isinstance(r.get("sessions"), dict) else None
    if not rows:
        return None
    fig = _loglog(
        rows,
        "sessions",
        [("wall_s", "wall time (s)"), ("peak_rss_mb", "peak RSS (MB)")],
        "concurrent sessions through 16 endpoints",
        "Concurrent sessions: wall time and memory",
    )
    return _save(fig, out, "sessions")


def topology(r: dict[str, Any], out: Path) -> str | None:
    rows = r.get("scale")
    if not rows:
        return None
    fig = _loglog(
        rows,
        "vpcs",
        [("load_s", "load (s)"), ("compile_s", "compile (s)"), ("peak_rss_mb", "peak RSS (MB)")],
        "VPCs (10 instances each, one CCN)",
        "Topology size: loading, compiling, memory",
    )
    return _save(fig, out, "topology")


def latency(r: dict[str, Any], out: Path) -> str | None:
    block = r.get("network", {}).get("latency_vs_load")
    if not block:
        return None
    rows = block["rows"]
    fig, ax = plt.subplots(figsize=(6, 3.8))
    xs = [row["offered_per_s"] for row in rows]
    for key, label in (("connect_p50_ms", "p50"), ("connect_p99_ms", "p99")):
        ax.plot(xs, [row[key] for row in rows], marker="o", label=f"connect {label}")
    ax.set_yscale("log")
    ax.set_xlabel("offered connections per second")
    ax.set_ylabel("connect time (ms, log)")
    ax.set_title(f"VPC1/VPC3 -> VIP, endpoint {block['endpoint_service_time']} per packet", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, out, "latency_vs_load")


PLOTS = (linkhops, fidelity, checks, sessions, topology, latency)


def draw(result: dict[str, Any], out: Path) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    return [name for plot in PLOTS if (name := plot(result, out))]


if __name__ == "__main__":
    drawn = draw(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")), Path(sys.argv[2]))
    print(json.dumps(drawn))
