"""The command line as a user runs it: telnet text and JSON, check, validate, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import pytest

from vpcsim.cli import main

ROOT = Path(__file__).resolve().parent.parent
SEED = str(ROOT / "scenarios" / "chengdu_chongqing.yaml")
SNAT = IPv4Network("11.163.0.0/16")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    code = done.value.code
    return (code if isinstance(code, int) else 1), out, err


def telnet_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = run(capsys, "telnet", *args, "--json")
    return code, json.loads(out)


def steps_of(hop: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [s for s in hop["steps"] if s["kind"] == kind]


def test_vpc3_telnet_json_walks_ccn_endpoint_nat_load_balancer_backend_and_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, r = telnet_json(capsys, SEED, "--from", "cvm-vpc3", "172.16.2.16", "1044")
    assert code == 0
    assert r["verdict"] == "connected"
    assert r["reason"] == "established"
    assert r["connect_time_ms"] > 2 * 3.25  # two Chengdu-Chongqing crossings
    syn, synack, ack = r["packets"]
    assert [p["kind"] for p in r["packets"]] == ["SYN", "SYN-ACK", "ACK"]
    assert [h["node"] for h in syn["hops"]] == [
        "cvm-vpc3",
        "vpc3",
        "ccn-chengdu-chongqing",
        "vpc1",
        "vpce-vpc1",
        "lb-service",
        "vpc2",
        "cvm-backend1",
    ]
    endpoint = syn["hops"][4]
    (nat,) = steps_of(endpoint, "transform")
    diffs = {d["field"]: (d["old"], d["new"]) for d in nat["diffs"]}
    assert diffs["src"][0] == "192.168.1.10"
    assert IPv4Address(diffs["src"][1]) in SNAT
    assert diffs["dst"] == ("172.16.2.16", "10.0.1.100")
    lb = syn["hops"][5]
    assert steps_of(lb, "load_balance")[0]["action"] == "chosen"
    (dnat,) = steps_of(lb, "transform")
    assert {d["field"] for d in dnat["diffs"]} == {"dst", "dport"}
    assert steps_of(syn["hops"][-1], "filter")[0]["detail"].startswith("sg-backend ingress rule #0")
    assert [h["node"] for h in synack["hops"]] == list(reversed([h["node"] for h in syn["hops"]]))
    assert synack["hops"][-1]["steps"][-1]["kind"] == "deliver"
    assert [h["node"] for h in ack["hops"]] == [h["node"] for h in syn["hops"]]


def test_vpc1_telnet_json_connects_through_its_own_endpoint(capsys: pytest.CaptureFixture[str]) -> None:
    code, r = telnet_json(capsys, SEED, "--from", "cvm-vpc1", "172.16.2.16", "1044")
    assert (code, r["verdict"]) == (0, "connected")
    assert [h["node"] for h in r["packets"][0]["hops"]] == [
        "cvm-vpc1",
        "vpc1",
        "vpce-vpc1",
        "lb-service",
        "vpc2",
        "cvm-backend1",
    ]
    assert r["connect_time_ms"] < r["packets"][-1]["arrived_at_ms"]


def test_telnet_prints_what_linux_telnet_prints_then_the_trace(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "telnet", SEED, "--from", "cvm-vpc3", "172.16.2.16", "1044")
    assert code == 0
    assert out.splitlines()[:3] == ["Trying 172.16.2.16...", "Connected to 172.16.2.16.", "Escape character is '^]'."]
    assert "verdict: connected (established)" in out


def test_a_timeout_prints_connection_timed_out_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "telnet", SEED, "--from", "cvm-vpc3", "172.16.2.16", "1045")
    assert code == 1
    assert out.splitlines()[:2] == [
        "Trying 172.16.2.16...",
        "telnet: Unable to connect to remote host: Connection timed out",
    ]
    assert "no_listener" in out


def test_timeout_json_reports_127_seconds_of_syn_retries(capsys: pytest.CaptureFixture[str]) -> None:
    code, r = telnet_json(capsys, SEED, "--from", "cvm-vpc1", "vpce-vpc1", "1045")
    assert code == 1
    assert (r["verdict"], r["reason"], r["blocked_at"]) == ("timeout", "no_listener", "lb-service")
    assert r["connect_time_ms"] == pytest.approx(127_000)
    assert [p["attempt"] for p in r["packets"]] == [1, 2, 3, 4, 5, 6, 7]
    assert [p["sent_at_ms"] for p in r["packets"]] == pytest.approx([0, 1000, 3000, 7000, 15000, 31000, 63000])


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--from", "nobody", "172.16.2.16", "1044"], "unknown instance or data-centre host 'nobody'"),
        (["--from", "cvm-vpc1", "not-a-host", "1044"], "not-a-host"),
        (["--from", "cvm-vpc1", "172.16.2.16", "70000"], "70000"),
        (["--from", "cvm-vpc1", "172.16.2.16", "1044", "--at", "soon"], "--at"),
    ],
)
def test_bad_telnet_arguments_exit_2_with_one_message(
    capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    code, out, err = run(capsys, "telnet", SEED, *args)
    assert code == 2
    assert needle in err
    assert "Traceback" not in out + err


def test_check_passes_on_every_bundled_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted((ROOT / "scenarios").glob("*.yaml"))
    assert len(files) >= 2
    for path in files:
        code, out, _ = run(capsys, "check", str(path))
        assert code == 0, out
        assert out.rstrip().splitlines()[-1].endswith(" 0 failed")


def test_check_json_counts_passes_and_failures(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", SEED, "--json")
    doc = json.loads(out)
    assert code == 0
    assert doc["failed"] == 0
    assert doc["passed"] == len(doc["checks"]) >= 2
    assert all(c["result"]["verdict"] == c["expect"] for c in doc["checks"])


def test_a_failing_check_exits_1_and_says_why(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = Path(SEED).read_text(encoding="utf-8")
    wrong = text.replace('to: "vpce-vpc1:1045", expect: timeout', 'to: "vpce-vpc1:1045", expect: connected')
    assert wrong != text
    path = tmp_path / "wrong.yaml"
    path.write_text(wrong, encoding="utf-8")
    code, out, _ = run(capsys, "check", str(path))
    assert code == 1
    assert "FAIL" in out
    assert "lb-service has no TCP listener on port 1045" in out


def test_a_check_with_the_right_verdict_but_another_reason_fails(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A pinned reason is part of the expectation: timing out for another reason is a failure."""
    text = Path(SEED).read_text(encoding="utf-8")
    pinned = 'to: "vpce-vpc1:1045", expect: timeout, reason: no_listener'
    wrong = text.replace(pinned, pinned.replace("no_listener", "no_route"))
    assert wrong != text
    path = tmp_path / "wrong-reason.yaml"
    path.write_text(wrong, encoding="utf-8")
    code, out, _ = run(capsys, "check", str(path))
    assert code == 1
    lines = out.rstrip().splitlines()
    results = [line for line in lines if line.startswith(("PASS", "FAIL"))]
    assert [line for line in results if line.startswith("FAIL")] == [
        "FAIL  a port the CLB does not listen on times out: expected timeout (no_route), got timeout (no_listener)"
    ]
    assert lines[-1] == f"{len(results) - 1} passed, 1 failed"
    code, out, _ = run(capsys, "check", str(path), "--json")
    doc = json.loads(out)
    assert code == 1
    assert (doc["passed"], doc["failed"]) == (len(results) - 1, 1)
    (failed,) = [c for c in doc["checks"] if not c["passed"]]
    assert (failed["expect"], failed["expect_reason"]) == ("timeout", "no_route")
    assert (failed["result"]["verdict"], failed["result"]["reason"]) == ("timeout", "no_listener")


def test_validate_accepts_the_seed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", SEED)
    assert code == 0
    assert "valid: 3 VPCs" in out


def test_the_console_script_runs_as_a_real_process() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vpcsim", "telnet", SEED, "--from", "cvm-vpc1", "172.16.2.16", "1044"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert "Connected to 172.16.2.16." in done.stdout


def test_check_on_a_scenario_without_checks_fails_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing passes over nothing: zero checks is not 'all checks pass'."""
    text = Path(SEED).read_text(encoding="utf-8").split("\nchecks:", 1)[0] + "\n"
    path = tmp_path / "no-checks.yaml"
    path.write_text(text, encoding="utf-8")
    for extra in ([], ["--json"]):
        code, out, err = run(capsys, "check", str(path), *extra)
        assert code == 1
        assert out == ""
        assert err == f"vpcsim: {path} has no checks: add a 'checks' section (see 'vpcsim telnet')\n"
