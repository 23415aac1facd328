"""``vpcsim emulate`` end to end: the bundled scenario for real, exit codes, and nothing left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from vpcsim.emulate.kernel import list_namespaces

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "scenarios" / "chengdu_chongqing.yaml"
VPCSIM = [sys.executable, "-c", "from vpcsim.cli import main; main()"]


def _vpcsim(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    proc: subprocess.CompletedProcess[str] = subprocess.run(  # type: ignore[call-overload]
        [*VPCSIM, *args], capture_output=True, text=True, timeout=120, check=False, **kw
    )
    return proc


def _ours(pid: int) -> list[str]:
    return [n for n in list_namespaces() if n.startswith(f"vpcsim-{pid}-")]


def _others() -> list[str]:
    """Namespaces that are not vpcsim's: other vpcsim runs (other sessions, parallel tests)
    come and go while a test runs, so they are compared by prefix instead."""
    return [n for n in list_namespaces() if not n.startswith("vpcsim-")]


@pytest.mark.kernel
@pytest.mark.usefixtures("kernel_ready")
def test_seed_emulates_agrees_and_leaves_nothing() -> None:
    before = _others()
    proc = subprocess.Popen([*VPCSIM, "emulate", str(SEED), "--json"], stdout=subprocess.PIPE, text=True)
    stdout, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert not _ours(proc.pid)
    out = json.loads(stdout)
    assert out["agree"] is True
    assert out["counts"]["disagree"] == 0
    assert out["counts"]["not_emulable"] == 0
    step5 = [c for c in out["checks"] if c["name"].startswith("step 5")]
    assert len(step5) == 4  # two checks, each on both backends
    for c in step5:
        assert c["to"] == "172.16.2.16:1044"
        assert c["simulator"]["verdict"] == "connected"
        assert c["kernel"]["verdict"] == "connected"
    # Each check's two branches pin the kernel's load balancer to each backend in turn.
    assert [(c["check"], c["branch"], c["simulator"]["backend"]) for c in step5] == [
        (0, 0, "10.0.2.11:8080"),
        (0, 1, "10.0.2.12:8080"),
        (1, 0, "10.0.2.11:8080"),
        (1, 1, "10.0.2.12:8080"),
    ]
    assert out["counts"] == {"checks": 6, "branches": 8, "agree": 8, "disagree": 0, "not_emulable": 0, "located": 4}
    assert {c["kernel"]["verdict"] for c in out["checks"]} == {"connected", "timeout"}
    assert out["builds"][0]["namespaces"] == 10
    assert _others() == before


@pytest.mark.kernel
@pytest.mark.usefixtures("kernel_ready")
def test_text_table() -> None:
    proc = _vpcsim("emulate", str(SEED), "--deadline", "0.5")
    assert proc.returncode == 0, proc.stderr
    assert "8 agree, 0 disagree, 0 not emulable (of 8 branches of 6 checks" in proc.stdout
    assert "connected (established)" in proc.stdout


def _start_long_run(tmp_path: Path) -> subprocess.Popen[str]:
    """A run that stays in its connect phase for a while (a timeout check, a long deadline)."""
    scenario = tmp_path / "slow.yaml"
    text = SEED.read_text(encoding="utf-8")
    scenario.write_text(text, encoding="utf-8")
    return subprocess.Popen(
        [*VPCSIM, "emulate", str(scenario), "--deadline", "30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_namespaces(proc: subprocess.Popen[str]) -> list[str]:
    end = time.monotonic() + 30
    while time.monotonic() < end:
        names = _ours(proc.pid)
        if len(names) >= 10:
            time.sleep(0.5)  # let the build finish: the run is then waiting on its connects
            return _ours(proc.pid)
        time.sleep(0.05)
    proc.kill()
    pytest.fail("the run never built its namespaces")


@pytest.mark.kernel
@pytest.mark.usefixtures("kernel_ready")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_removes_everything(tmp_path: Path, sig: signal.Signals) -> None:
    before = _others()
    proc = _start_long_run(tmp_path)
    assert _wait_for_namespaces(proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "interrupted" in err
    assert not _ours(proc.pid)
    assert _others() == before


@pytest.mark.kernel
@pytest.mark.usefixtures("kernel_ready")
def test_killed_run_is_cleaned_by_cleanup(tmp_path: Path) -> None:
    before = _others()
    proc = _start_long_run(tmp_path)
    left = _wait_for_namespaces(proc)
    proc.kill()
    proc.communicate(timeout=30)
    assert _ours(proc.pid) == left, "SIGKILL leaves the namespaces behind: that is what --cleanup is for"
    cleaned = _vpcsim("emulate", "--cleanup", "--json")
    assert cleaned.returncode == 0, cleaned.stderr
    assert set(left) <= set(json.loads(cleaned.stdout)["removed"])
    assert not _ours(proc.pid)
    assert _others() == before


def test_invalid_scenario_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nvpcs: {}\n", encoding="utf-8")
    proc = _vpcsim("emulate", str(bad))
    assert proc.returncode == 2
    assert proc.stderr.startswith("vpcsim: ")
    assert "Traceback" not in proc.stderr
    assert _vpcsim("emulate").returncode == 2


def test_not_root_exits_3(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from vpcsim.cli import cli

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    result = CliRunner().invoke(cli, ["emulate", str(SEED)])
    assert result.exit_code == 3
    assert "cannot emulate here: needs root" in result.output


def test_missing_tools_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from vpcsim.cli import cli

    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setenv("PATH", "/nonexistent")
    result = CliRunner().invoke(cli, ["emulate", str(SEED)])
    assert result.exit_code == 3
    assert "iproute2" in result.output


def test_a_scenario_without_checks_has_nothing_to_compare(tmp_path: Path) -> None:
    """Exit 3 with one line, before anything is built: agreement over no checks proves nothing."""
    path = tmp_path / "no-checks.yaml"
    path.write_text(SEED.read_text(encoding="utf-8").split("\nchecks:", 1)[0] + "\n", encoding="utf-8")
    for extra in ([], ["--json"]):
        done = _vpcsim("emulate", str(path), *extra)
        assert done.returncode == 3, done
        assert done.stdout == ""
        assert done.stderr == f"vpcsim: {path} has no checks: nothing to compare with the kernel\n"


@pytest.mark.kernel
@pytest.mark.usefixtures("kernel_ready")
def test_each_equal_cost_path_is_emulated_on_its_own(tmp_path: Path) -> None:
    """Two VPN gateways to one office, ECMP in VPC1's table, one gateway's tunnel down: one branch
    times out at that gateway and the other reaches the office, and the kernel agrees on each,
    having swapped the branch's next hop into its table."""
    doc = yaml.safe_load((ROOT / "scenarios" / "tencent_idc_vpn.yaml").read_text(encoding="utf-8"))
    doc["vpn_gateways"]["vpngw-b"] = {
        "vpc": "vpc1",
        "tunnels": {"t": {"idc": "idc-office", "state": "down"}},
        "delay": "3ms",
    }
    via_b = {"destination": "10.88.0.0/16", "next_hop": {"type": "vpn_gateway", "id": "vpngw-b"}}
    doc["route_tables"]["rtb-consumer"]["routes"] = {"via-b": via_b}
    doc["timeline"] = []
    doc["checks"] = [{"from": "cvm-vpc1", "to": "office-pc:22", "expect": "refused", "branches": "any"}]
    path = tmp_path / "ecmp.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    proc = _vpcsim("emulate", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    rows = {(c["simulator"]["verdict"], c["kernel"]["verdict"], c["status"]) for c in out["checks"]}
    assert rows == {("timeout", "timeout", "agree"), ("refused", "refused", "agree")}
    stopped = [c["location"] for c in out["checks"] if c["simulator"]["verdict"] == "timeout"]
    assert stopped[0]["status"] == "same"
