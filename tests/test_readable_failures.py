"""A user whose check fails sees what to do next: the reason, the object to change, the command
that shows the trace, and — with ``telnet --brief`` — the whole story in a few lines.

Every verdict here is the engine's: scenarios are the bundled ones, edited as a user would.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, SCENARIOS, SEED, read_data
from vpcsim.cli import main

CROSS = SCENARIOS / "chengdu_chongqing_cross_account.yaml"
README = (ROOT / "README.md").read_text(encoding="utf-8")
SNAT_SOURCE = "11.163.0.1 — Private Link SNAT of vpce-vpc1"
MISSING_ACCEPT = "sg-backend: no accept for tcp/8080 from 11.163.0.0/16 before rule #0"

Data = dict[str, Any]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    code = done.value.code
    return (code if isinstance(code, int) else 1), out, err


def write(path: Path, data: Data) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def without_snat_accept() -> Data:
    """The bundled scenario with sg-backend's 11.163.0.0/16 accept deleted: the practice's classic mistake."""
    data = read_data(SEED)
    ingress = data["security_groups"]["sg-backend"]["ingress"]
    assert ingress[0]["source"] == "11.163.0.0/16"
    del ingress[0]
    return data


@pytest.fixture
def wrong(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """``wrong.yaml`` in the current directory, as a user would name it on the command line."""
    monkeypatch.chdir(tmp_path)
    return write(tmp_path / "wrong.yaml", without_snat_accept()).name


def readme_block(marker: str) -> list[str]:
    block = README.split(f"<!-- {marker}:", 1)[1].split(f"<!-- /{marker} -->", 1)[0]
    body = block.split("```text\n", 1)[1].split("```", 1)[0]
    return body.splitlines()


# -- check: what failed, why, what to change, how to see it ------------------------------------------------


def test_check_of_the_missing_snat_accept_prints_exactly_what_readme_shows(
    capsys: pytest.CaptureFixture[str], wrong: str
) -> None:
    command, *expected = readme_block("failing-check")
    assert command == f"$ vpcsim check {wrong}"
    code, out, err = run(capsys, "check", wrong)
    assert code == 1
    assert err == ""
    assert out.splitlines() == expected


def test_each_failing_check_says_why_what_to_change_and_how_to_see_the_trace(
    capsys: pytest.CaptureFixture[str], wrong: str
) -> None:
    _, out, _ = run(capsys, "check", wrong)
    blocks = re.split(r"\n(?=PASS|FAIL|\d+ passed)", out.rstrip())
    failed = [b.splitlines() for b in blocks if b.startswith("FAIL")]
    assert len(failed) == 2
    for lines in failed:
        # Both backends lack the accept: one finding on both branches, told once.
        assert lines[0].endswith("expected connected, got timeout (sg_ingress_denied) on both branches")
        assert lines[2].endswith(SNAT_SOURCE)
        assert lines[3] == f"      look at: {MISSING_ACCEPT}"
        assert lines[4].startswith(f"      trace: vpcsim telnet {wrong} --from ")
    passing = [b for b in blocks if b.startswith("PASS")]
    assert passing
    assert all("\n" not in b for b in passing), "a passing check stays one line"


def test_the_printed_telnet_command_shows_the_failing_checks_trace(
    capsys: pytest.CaptureFixture[str], wrong: str
) -> None:
    _, out, _ = run(capsys, "check", wrong)
    commands = [line.split("trace: ", 1)[1] for line in out.splitlines() if line.lstrip().startswith("trace: ")]
    assert len(commands) == 2
    for command in commands:
        program, *args = shlex.split(command)
        assert program == "vpcsim"
        code, trace, _ = run(capsys, *args)
        assert code == 1
        assert "verdict: timeout (sg_ingress_denied) after 127000.000 ms" in trace
        assert f"look at: {MISSING_ACCEPT}" in trace
        assert SNAT_SOURCE in trace


def test_telnet_json_names_the_snat_source_and_the_missing_accept(
    capsys: pytest.CaptureFixture[str], wrong: str
) -> None:
    code, out, _ = run(capsys, "telnet", wrong, "--from", "cvm-vpc3", "172.16.2.16", "1044", "--json")
    r = json.loads(out)
    assert code == 1
    assert (r["verdict"], r["reason"], r["blocked_at"]) == ("timeout", "sg_ingress_denied", "cvm-backend1")
    assert r["detail"] == (
        "SYN dropped at cvm-backend1: cvm-backend1 ingress: sg-backend ingress rule #0 (drop all from 0.0.0.0/0) "
        f"drops tcp/8080 from {SNAT_SOURCE}"
    )
    assert r["ref"] == MISSING_ACCEPT
    drop = r["packets"][-1]["hops"][-1]["steps"][-1]
    assert drop["record"] == "denied"
    assert (drop["data"]["protocol"], drop["data"]["port"], drop["data"]["peer"]) == ("tcp", 8080, "11.163.0.1")


def test_a_check_at_a_time_and_a_seeded_run_give_a_command_with_at_and_seed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = read_data(CROSS)
    for c in data["checks"]:
        if c["name"].startswith("step 5 (accepted): VPC3"):
            c["expect"] = "timeout"  # a wrong expectation, so that the check fails
    name = write(tmp_path / "late checks.yaml", data).name
    code, out, _ = run(capsys, "check", name, "--seed", "7")
    assert code == 1
    (command,) = [line.split("trace: ", 1)[1] for line in out.splitlines() if "trace: " in line]
    assert command == "vpcsim telnet 'late checks.yaml' --from cvm-vpc3 172.16.2.16 1044 --at 400s --seed 7"
    assert "      from cvm-vpc3 to 172.16.2.16:1044 at 400s" in out.splitlines()


def test_an_endpoints_assigned_address_appears_where_a_check_names_the_endpoint(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ``ip:`` on the endpoint: vpcsim assigns the lowest free address, which the user never wrote."""
    monkeypatch.chdir(tmp_path)
    data = read_data(SEED)
    del data["endpoints"]["vpce-vpc1"]["ip"]
    data["checks"] = [
        {"from": "cvm-vpc3", "to": "vpce-vpc1:1045", "expect": "timeout", "reason": "no_listener"},
        {"name": "VPC3 through the endpoint", "from": "cvm-vpc3", "to": "vpce-vpc1:1045", "expect": "connected"},
    ]
    name = write(tmp_path / "auto.yaml", data).name
    code, out, _ = run(capsys, "check", name)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (
        "PASS  cvm-vpc3 -> vpce-vpc1 (172.16.2.2):1045: expected timeout (no_listener), got timeout (no_listener)"
    )
    assert lines[1].startswith("FAIL  VPC3 through the endpoint: expected connected")
    assert lines[2] == "      from cvm-vpc3 to vpce-vpc1 (172.16.2.2):1045"
    assert lines[5] == f"      trace: vpcsim telnet {name} --from cvm-vpc3 vpce-vpc1 1045"


# -- telnet --brief ----------------------------------------------------------------------------------------


def brief(capsys: pytest.CaptureFixture[str], scenario: str | Path, *args: str) -> tuple[int, list[str]]:
    code, out, err = run(capsys, "telnet", str(scenario), *args, "--brief")
    assert err == ""
    return code, out.splitlines()


def test_brief_folds_seven_dropped_syns_into_one_line_and_shows_the_path(
    capsys: pytest.CaptureFixture[str], wrong: str
) -> None:
    code, lines = brief(capsys, wrong, "--from", "cvm-vpc3", "172.16.2.16", "1044")
    assert code == 1
    assert lines == [
        "Trying 172.16.2.16...",
        "telnet: Unable to connect to remote host: Connection timed out",
        "verdict: timeout (sg_ingress_denied) after 127000.000 ms: SYN dropped at cvm-backend1: cvm-backend1 "
        f"ingress: sg-backend ingress rule #0 (drop all from 0.0.0.0/0) drops tcp/8080 from {SNAT_SOURCE}",
        f"look at: {MISSING_ACCEPT}",
        "SYN ×7 (0, 1, 3, 7, 15, 31, 63 s), each denied at cvm-backend1 (sg_ingress_denied)",
        "path: cvm-vpc3 -> vpc3 -> ccn-chengdu-chongqing -> vpc1 -> vpce-vpc1 -> lb-service -> vpc2 -> cvm-backend1",
    ]


def timeout_variants(tmp_path: Path) -> list[tuple[str, list[str]]]:
    """(scenario, telnet arguments) for every timeout reason a single telnet reaches in the bundled
    scenarios, edited as a user would."""
    egress = read_data(SEED)
    egress["security_groups"]["sg-client"]["egress"] = []
    no_backend = read_data(SEED)
    for b in no_backend["load_balancers"]["lb-service"]["listeners"]["lbl-1044"]["backends"]:
        b["weight"] = 0
    loopback = read_data(SEED)
    loopback["load_balancers"]["lb-service"]["listeners"]["lbl-1044"]["backends"][1]["weight"] = 0
    files = {"ingress": without_snat_accept(), "egress": egress, "no-backend": no_backend, "loopback": loopback}
    path = {k: str(tmp_path / f"{k}.yaml") for k in files}
    for k, data in files.items():
        write(Path(path[k]), data)
    vpc3 = ["--from", "cvm-vpc3"]
    return [
        (path["ingress"], [*vpc3, "172.16.2.16", "1044"]),
        (path["egress"], [*vpc3, "172.16.2.16", "1044"]),
        (str(CROSS), [*vpc3, "172.16.2.16", "1044"]),
        (str(SEED), [*vpc3, "172.16.2.16", "1045"]),
        (str(SEED), ["--from", "cvm-vpc1", "10.0.1.100", "1044"]),
        (str(SEED), [*vpc3, "172.16.2.99", "1044"]),
        (path["no-backend"], [*vpc3, "172.16.2.16", "1044"]),
        (path["loopback"], ["--from", "cvm-backend1", "lb-service", "1044"]),
    ]


def test_every_127_s_timeout_fits_in_six_brief_lines(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    reasons = set()
    for scenario, args in timeout_variants(tmp_path):
        code, lines = brief(capsys, scenario, *args)
        assert code == 1
        assert len(lines) <= 6, "\n".join(lines)
        verdict = re.match(r"verdict: timeout \((\w+)\) after 127000\.000 ms: ", lines[2])
        assert verdict is not None, lines[2]
        reasons.add(verdict.group(1))
    assert reasons == {
        "sg_ingress_denied",
        "sg_egress_denied",
        "endpoint_not_active",
        "no_listener",
        "no_route",
        "no_host",
        "no_backend",
        "lb_loopback",
    }


def test_brief_of_an_answer_too_late_shows_the_syn_and_its_answer(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """One SYN, 5 ms to wait, an 8.3 ms round trip: connect() gives up with the SYN-ACK on its way."""
    data = read_data(SEED)
    data["settings"]["tcp"] = {"syn_retries": 0, "initial_rto": "5ms"}
    code, lines = brief(capsys, write(tmp_path / "late.yaml", data), "--from", "cvm-vpc3", "172.16.2.16", "1044")
    assert code == 1
    assert lines[2].startswith("verdict: timeout (no_answer_in_time) after 5.000 ms: connect() gave up")
    assert lines[3:] == [
        "look at: settings.tcp",
        "SYN (0 s), delivered to cvm-backend1",
        "SYN-ACK (0.00415 s), delivered to cvm-vpc3",
        "path: cvm-vpc3 -> vpc3 -> ccn-chengdu-chongqing -> vpc1 -> vpce-vpc1 -> lb-service -> vpc2 -> cvm-backend1",
    ]


def test_brief_path_is_the_deciding_packets_path(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "telnet", str(SEED), "--from", "cvm-vpc3", "172.16.2.16", "1045", "--json")
    r = json.loads(out)
    last = r["packets"][-1]
    _, lines = brief(capsys, SEED, "--from", "cvm-vpc3", "172.16.2.16", "1045")
    assert lines[-1] == "path: " + " -> ".join(h["node"] for h in last["hops"])
    assert lines[-2] == "SYN ×7 (0, 1, 3, 7, 15, 31, 63 s), each discarded at lb-service (no_listener)"


def test_brief_of_a_connect_that_succeeds_on_a_retry_keeps_each_kind_of_packet(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, lines = brief(capsys, CROSS, "--from", "cvm-vpc3", "172.16.2.16", "1044", "--at", "280s")
    assert code == 0
    assert lines[3:] == [
        "verdict: connected (established) after 31008.301 ms: handshake completed with cvm-backend1",
        "control plane: at 300s timeline: accept endpoint vpce-vpc1; at 302s endpoint vpce-vpc1 is now ACTIVE",
        "SYN ×5 (0, 1, 3, 7, 15 s), each discarded at vpce-vpc1 (endpoint_not_active)",
        "SYN (31 s), delivered to cvm-backend1",
        "SYN-ACK (31.00415 s), delivered to cvm-vpc3",
        "ACK (31.008301 s), delivered to cvm-backend1",
        "path: cvm-vpc3 -> vpc3 -> ccn-chengdu-chongqing -> vpc1 -> vpce-vpc1 -> lb-service -> vpc2 -> cvm-backend1",
    ]


def test_without_brief_the_full_trace_is_unchanged(capsys: pytest.CaptureFixture[str], wrong: str) -> None:
    _, out, _ = run(capsys, "telnet", wrong, "--from", "cvm-vpc3", "172.16.2.16", "1044")
    assert "packets (7):" in out
    assert out.count("    8. cvm-backend1  ") == 7


# -- the explanation's wording -------------------------------------------------------------------------------


def probe(capsys: pytest.CaptureFixture[str], scenario: str | Path, *args: str) -> dict[str, Any]:
    _, out, _ = run(capsys, "telnet", str(scenario), *args, "--json")
    result = json.loads(out)
    assert isinstance(result, dict)
    return result


def test_a_pending_endpoint_says_when_the_timeline_accepts_it(capsys: pytest.CaptureFixture[str]) -> None:
    r = probe(capsys, CROSS, "--from", "cvm-vpc3", "172.16.2.16", "1044")
    assert r["reason"] == "endpoint_not_active"
    assert r["detail"].endswith(
        "is PENDING (vpcsvc-service does not auto-accept: waiting for the provider to accept): "
        "only ACTIVE endpoints forward; the timeline accepts it at 300s (ACTIVE from 302s)"
    )


def test_an_accept_before_the_probe_ends_is_not_announced_as_to_come(capsys: pytest.CaptureFixture[str]) -> None:
    """Started at 238 s, the last SYN (301 s) meets the endpoint ACCEPTING: its note says it all."""
    r = probe(capsys, CROSS, "--from", "cvm-vpc1", "172.16.2.16", "1044", "--at", "238s")
    assert r["reason"] == "endpoint_not_active"
    assert "ACCEPTING (accepted at 300s; ACCEPTING until 302s)" in r["detail"]
    assert "the timeline accepts" not in r["detail"]


def test_a_pending_endpoint_without_an_accept_to_come_says_nothing_of_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = read_data(CROSS)
    data["timeline"] = []
    r = probe(capsys, write(tmp_path / "never.yaml", data), "--from", "cvm-vpc3", "172.16.2.16", "1044")
    assert r["reason"] == "endpoint_not_active"
    assert r["detail"].endswith("only ACTIVE endpoints forward")


def test_a_client_groups_missing_egress_accept_names_the_destination(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = read_data(SEED)
    data["security_groups"]["sg-client"]["egress"] = []
    r = probe(capsys, write(tmp_path / "egress.yaml", data), "--from", "cvm-vpc3", "172.16.2.16", "1044")
    assert r["reason"] == "sg_egress_denied"
    assert "no rule matches tcp/1044 to 172.16.2.16 — endpoint vpce-vpc1 (0 rules checked): default deny" in r["detail"]
    assert r["ref"] == "sg-client: no egress accept for tcp/1044 to 172.16.2.16/32"


def test_a_drop_of_one_port_is_deliberate_and_look_at_names_that_rule(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = read_data(SEED)
    data["security_groups"]["sg-backend"]["ingress"].insert(
        0, {"action": "drop", "protocol": "tcp", "port": 8080, "source": "11.163.0.0/16"}
    )
    r = probe(capsys, write(tmp_path / "deny.yaml", data), "--from", "cvm-vpc1", "172.16.2.16", "1044")
    assert r["reason"] == "sg_ingress_denied"
    assert r["ref"] == "sg-backend ingress rule #0"
    assert r["detail"].endswith(f"drops tcp/8080 from {SNAT_SOURCE}")


def test_a_client_address_denied_at_an_endpoint_is_named_after_its_instance(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = read_data(SEED)
    data["security_groups"]["sg-endpoint"] = {
        "ingress": [{"action": "accept", "protocol": "tcp", "port": 1044, "source": "172.16.0.0/16"}],
        "egress": [],
    }
    data["endpoints"]["vpce-vpc1"]["security_groups"] = ["sg-endpoint"]
    r = probe(capsys, write(tmp_path / "ep.yaml", data), "--from", "cvm-vpc3", "172.16.2.16", "1044")
    assert "no rule matches tcp/1044 from 192.168.1.10 — cvm-vpc3 (1 rule checked)" in r["detail"]
    assert r["ref"] == "sg-endpoint: no accept for tcp/1044 from 192.168.1.10/32"


# -- text and JSON say the same thing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "args"),
    [
        (SEED, ["--from", "cvm-vpc3", "172.16.2.16", "1044"]),
        (SEED, ["--from", "cvm-vpc3", "172.16.2.16", "1045"]),
        (SEED, ["--from", "cvm-vpc3", "172.16.2.99", "1044"]),
        (CROSS, ["--from", "cvm-vpc3", "172.16.2.16", "1044", "--at", "280s"]),
    ],
    ids=["connected", "no_listener", "no_host", "endpoint_then_connected"],
)
def test_text_trace_uses_the_words_of_the_json(
    capsys: pytest.CaptureFixture[str], scenario: Path, args: list[str]
) -> None:
    r = probe(capsys, scenario, *args)
    _, text, _ = run(capsys, "telnet", str(scenario), *args)
    heads = [line for line in text.splitlines() if re.match(r"  [A-Z]", line)]
    assert len(heads) == len(r["packets"])
    for head, p in zip(heads, r["packets"], strict=True):
        fate = p["disposition"] + (f" ({p['reason']})" if p["reason"] else "")
        assert f", {fate} at +" in head
    steps = [line.strip() for line in text.splitlines() if line.startswith("         ")]
    expected = [
        f"{s['kind']} {s['action'].upper()}: {s['detail']}" for p in r["packets"] for h in p["hops"] for s in h["steps"]
    ]
    assert [s.split(" [", 1)[0] if "TRANSFORMED" in s else s for s in steps] == expected
    assert "DROPPED (" not in text
