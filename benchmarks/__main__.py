"""``python -m benchmarks``: every benchmark, a JSON result and PNG plots.

    python -m benchmarks            all four workloads, the peers (ns-3, ns.py) installed into
                                    .venv-bench on first use; writes benchmarks/results/DATE-MACHINE.json
                                    and its plots in benchmarks/results/DATE-MACHINE/
    python -m benchmarks --quick    the named figures in under two minutes, printed as one JSON
                                    object; ns-3's and ns.py's figures come from the newest committed
                                    full result (marked cached, with its date and machine)

The workloads: the bundled network under load (:mod:`benchmarks.network`); vpcsim beside ns-3 and
ns.py on one TCP workload (:mod:`benchmarks.simulators`); check speed against the kernel's connect
(:mod:`benchmarks.checks`); scale in concurrent sessions (:mod:`benchmarks.sessions`) and in
topology size (:mod:`benchmarks.scale`). Targets live in those modules; ``targets`` in the result
says which were met and by how much any was missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks import checks, network, peers, scale, sessions, simulators

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
WORKLOADS = ("bulk", "bottleneck", "completion")
SIMULATORS = ("vpcsim", "ns3", "nspy")


def machine() -> str:
    """A short name for this machine class: architecture, CPUs, CPU model."""
    model = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1]
                break
    except OSError:
        pass
    slug = re.sub(r"[^a-z0-9]+", "-", model.lower()).strip("-") or "cpu"
    return f"{platform.machine()}-{os.cpu_count()}cpu-{slug}"


def _about() -> dict[str, Any]:
    versions = {}
    for package in ("vpcsim", "simpy", "scapy", "pydantic"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": machine(),
        "platform": f"{platform.machine()}, {os.cpu_count()} CPUs, Linux {platform.release()}",
        "python": platform.python_version(),
        "packages": versions,
    }


def _timed(name: str, fn: Callable[[], Any]) -> Any:
    print(f"[benchmarks] {name} ...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    out = fn()
    print(f"[benchmarks] {name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    return out


def compare(python: Path | None, note: str) -> dict[str, Any]:
    """The three TCP workloads in each simulator, one after another (never side by side in time)."""
    out: dict[str, Any] = {}
    for workload in WORKLOADS:
        row: dict[str, Any] = {"vpcsim": _timed(f"vpcsim {workload}", lambda w=workload: simulators.vpcsim_run(w))}
        for peer in ("ns3", "nspy"):
            if python is None:
                row[peer] = {"error": note}
            else:
                row[peer] = _timed(f"{peer} {workload}", lambda p=peer, w=workload: simulators.peer_run(python, p, w))
        out[workload] = row
    return out


def _ok(x: Any) -> bool:
    return isinstance(x, dict) and "error" not in x


def evaluate(r: dict[str, Any]) -> dict[str, Any]:
    """Each target with the measured value, whether it was met, and the margin either way."""
    t = simulators.TARGETS
    sims = r.get("simulators", {})
    out: dict[str, Any] = {}
    bulk = sims.get("bulk", {})
    if _ok(bulk.get("vpcsim")):
        for peer, key in (("ns3", "linkhops_vs_ns3"), ("nspy", "linkhops_vs_nspy")):
            if _ok(bulk.get(peer)):
                ratio = bulk["vpcsim"]["linkhops_per_s"] / bulk[peer]["linkhops_per_s"]
                out[key] = {
                    "value": round(ratio, 2),
                    "target": t[key],
                    "aim": simulators.AIMS[key],
                    "met": ratio >= t[key],
                    "margin": round(ratio / t[key] - 1, 3),
                }
        if _ok(bulk.get("ns3")):
            ours, theirs = bulk["vpcsim"]["handshake_ms"], bulk["ns3"]["handshake_ms"]
            diff_ns = round(abs(ours - theirs) * 1e6, 3)
            out["handshake_vs_ns3"] = {
                "vpcsim_ms": ours,
                "ns3_ms": theirs,
                "difference_ns": diff_ns,
                "met": diff_ns < 1,
            }
    neck, done = sims.get("bottleneck", {}), sims.get("completion", {})
    if _ok(neck.get("vpcsim")) and _ok(neck.get("ns3")):
        errors = [
            abs(a - b) / b for a, b in zip(neck["vpcsim"]["goodput_mbps"], neck["ns3"]["goodput_mbps"], strict=True)
        ]
        out["goodput_per_flow_vs_ns3"] = {
            "relative_error": [round(e, 4) for e in errors],
            "target": t["goodput_per_flow_within"],
            "met": max(errors) <= t["goodput_per_flow_within"],
        }
    if _ok(done.get("vpcsim")) and _ok(done.get("ns3")) and done["ns3"].get("completion_ms"):
        ours, theirs = done["vpcsim"]["completion_ms"], done["ns3"]["completion_ms"]
        error = abs(ours - theirs) / theirs if ours else None
        out["completion_vs_ns3"] = {
            "relative_error": None if error is None else round(error, 4),
            "target": t["completion_within"],
            "met": error is not None and error <= t["completion_within"],
        }
    agree = [row["compiled_agrees"] for row in sims.values() if "compiled_agrees" in row]
    if agree:
        out["compiled_agrees_with_interpreted"] = {"workloads": len(agree), "met": all(agree)}
    measured = [row for row in (r.get("sessions") or {}).get("sessions", []) if "error" not in row]
    if measured:
        row = measured[-1]
        goals = sessions.TARGETS
        out["sessions"] = {
            "sessions": row["sessions"],
            "wall_s": row["wall_s"],
            "peak_rss_mb": row["peak_rss_mb"],
            "targets": goals,
            "met": row["sessions"] >= 1_000_000
            and row["wall_s"] <= goals["1000000_sessions_wall_s"]
            and row["peak_rss_mb"] <= goals["1000000_sessions_rss_mb"],
        }
    return out


def summary(r: dict[str, Any]) -> dict[str, Any]:
    """The named figures of a result (what ``--quick`` prints)."""
    c = r.get("checks", {})
    sims = r.get("simulators", {})

    def per_sim(workload: str, key: str) -> dict[str, Any]:
        return {s: sims.get(workload, {}).get(s, {}).get(key) for s in SIMULATORS}

    return {
        "telnet_check_us": c.get("telnet_check_us"),
        "verdict_check_us": c.get("verdict_check_us"),
        "kernel_connect_us": c.get("kernel_connect_us"),
        "linkhops_per_s": per_sim("bulk", "linkhops_per_s"),
        "handshake_ms": per_sim("bulk", "handshake_ms"),
        "goodput_mbps": per_sim("bulk", "goodput_mbps"),
        "cold_start_s": c.get("cold_start_s"),
    }


def latest_result() -> tuple[Path, dict[str, Any]] | None:
    """The newest full result committed in benchmarks/results (by its date-machine name)."""
    for path in sorted(RESULTS.glob("*.json"), reverse=True):
        data = json.loads(path.read_text(encoding="utf-8"))
        if "simulators" in data:
            return path, data
    return None


def build() -> str:
    """How this interpreter runs vpcsim's engine."""
    import vpcsim.sim.engine as engine

    return "compiled (mypyc)" if engine.__file__ and not engine.__file__.endswith(".py") else "interpreted"


def quick(kernel: bool) -> dict[str, Any]:
    r: dict[str, Any] = {"about": {**_about(), "build": build()}}
    r["checks"] = _timed("checks", lambda: checks.run(kernel=kernel))
    r["simulators"] = {"bulk": {"vpcsim": _timed("vpcsim bulk", lambda: simulators.vpcsim_run("bulk"))}}
    cached = latest_result()
    peers_note: dict[str, Any] = {"cached": False, "reason": "no committed full result in benchmarks/results"}
    if cached is not None:
        path, old = cached
        for peer in ("ns3", "nspy"):
            r["simulators"]["bulk"][peer] = old["simulators"]["bulk"].get(peer, {})
        peers_note = {
            "cached": True,
            "date": old["about"]["date"],
            "machine": old["about"]["machine"],
            "file": str(path.relative_to(ROOT)),
        }
    out = {"quick": True, **r["about"], **summary(r), "peers": peers_note}
    bulk = r["simulators"]["bulk"]
    out["linkhops_ratio"] = {
        peer: round(bulk["vpcsim"]["linkhops_per_s"] / bulk[peer]["linkhops_per_s"], 2)
        for peer in ("ns3", "nspy")
        if _ok(bulk.get(peer)) and bulk[peer].get("linkhops_per_s")
    }
    return out


AGREE = ("link_hops", "packets", "drops", "handshake_ms", "goodput_mbps", "completion_ms", "retransmissions")
"""What the compiled and the interpreted engine must give alike (all but the time they take)."""


def interpreted(kernel: bool) -> dict[str, Any]:
    """The parts measured with the engine interpreted (this process, the project's environment)."""
    return {
        "simulators": {w: _timed(f"vpcsim {w} (interpreted)", lambda w=w: simulators.vpcsim_run(w)) for w in WORKLOADS},
        "checks": _timed("checks (interpreted)", lambda: checks.run(kernel=kernel, cold_start=False)),
    }


def inside(kernel: bool, interp: dict[str, Any], note: str) -> Path:
    """Every workload with the engine compiled (run in .venv-bench), the interpreted figures beside."""
    python = Path(sys.executable)
    r: dict[str, Any] = {"about": {**_about(), "build": build()}}
    r["peers"] = {"note": note, "versions": peers.versions(python)}
    r["network"] = _timed("network", network.run)
    r["simulators"] = compare(python, "")
    for workload, row in r["simulators"].items():
        row["vpcsim_interpreted"] = theirs = interp["simulators"][workload]
        ours = row["vpcsim"]
        row["compiled_agrees"] = all(ours.get(k) == theirs.get(k) for k in AGREE)
    r["checks"] = _timed("checks", lambda: checks.run(kernel=kernel))
    r["checks_interpreted"] = interp["checks"]
    r["sessions"] = _timed("sessions", sessions.run)
    r["scale"] = _timed("topology scale", lambda: scale.run()["scale"])
    return _write(r)


def alone(kernel: bool, note: str) -> Path:
    """Every workload in this process's build, without the peers (no benchmark environment)."""
    r: dict[str, Any] = {"about": {**_about(), "build": build()}, "peers": {"note": note}}
    r["network"] = _timed("network", network.run)
    r["simulators"] = compare(None, note)
    r["checks"] = _timed("checks", lambda: checks.run(kernel=kernel))
    r["sessions"] = _timed("sessions", sessions.run)
    r["scale"] = _timed("topology scale", lambda: scale.run()["scale"])
    return _write(r)


def _write(r: dict[str, Any]) -> Path:
    r["targets"] = evaluate(r)
    r["summary"] = summary(r)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = f"{r['about']['date']}-{r['about']['machine']}"
    path = RESULTS / f"{stem}.json"
    try:
        from benchmarks import plots  # matplotlib: in the benchmark environment

        r["plots"] = [f"{stem}/{name}" for name in plots.draw(r, RESULTS / stem)]
    except ImportError as e:
        r["plots"] = {"error": f"no plots: {e}"}
    path.write_text(json.dumps(r, indent=2) + "\n", encoding="utf-8")
    return path


def full(kernel: bool, with_peers: bool) -> Path:
    python, note = _timed("benchmark environment (.venv-bench)", peers.ensure) if with_peers else (None, "--no-peers")
    if python is None:
        return alone(kernel, note)
    interp = interpreted(kernel=False)  # the kernel's connect is measured once, in the compiled run
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"interpreted": interp, "note": note}, f)
    try:
        args = [str(python), "-m", "benchmarks", "--inside", f.name] + ([] if kernel else ["--no-kernel"])
        done = subprocess.run(args, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    finally:
        os.unlink(f.name)
    if done.returncode:
        raise SystemExit(f"the compiled run failed (exit {done.returncode})")
    return ROOT / json.loads(done.stdout)["result"]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the named figures only, in under two minutes")
    parser.add_argument("--no-kernel", action="store_true", help="skip the kernel's connect (network namespaces)")
    parser.add_argument("--no-peers", action="store_true", help="skip ns-3, ns.py and the compiled build")
    parser.add_argument("--inside", metavar="FILE", help=argparse.SUPPRESS)  # the run in .venv-bench
    args = parser.parse_args(argv)
    kernel = not args.no_kernel
    if args.quick:
        if build() == "interpreted" and peers.ready():
            # The compiled build exists and is current: the quick figures are its.
            os.execv(str(peers.PYTHON), [str(peers.PYTHON), "-m", "benchmarks", *argv])
        print(json.dumps(quick(kernel=kernel), indent=2))
        return
    if args.inside:
        given = json.loads(Path(args.inside).read_text(encoding="utf-8"))
        path = inside(kernel, given["interpreted"], given["note"])
        print(json.dumps({"result": str(path.relative_to(ROOT))}))
        return
    path = full(kernel=kernel, with_peers=not args.no_peers)
    result = json.loads(path.read_text(encoding="utf-8"))
    shown = {"result": str(path.relative_to(ROOT)), "build": result["about"]["build"], **result["summary"]}
    print(json.dumps({**shown, "targets": result["targets"]}, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
