"""Every ``--json`` output validates against its JSON Schema in ``schemas/``, and the schemas are
strict enough to catch a field renamed, added or missing.

The outputs are real: probes that connect, are refused and time out for every reason a single
telnet reaches in the bundled scenarios (edited as a user would), check and validate runs, and an
emulation report of the bundled scenario (planned; the kernel part needs root and runs under the
``kernel`` marker elsewhere).
"""

from __future__ import annotations

import copy
import json
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource

from tests.conftest import ROOT, SCENARIOS, SEED, read_data
from tests.test_readable_failures import run, timeout_variants, without_snat_accept, write
from vpcsim.cli import SCHEMAS, main
from vpcsim.emulate.runner import SCHEMA as EMULATE_SCHEMA
from vpcsim.emulate.runner import CheckEmulation, EmulationReport, prepare, report
from vpcsim.errors import WarningCode
from vpcsim.frontends import load
from vpcsim.report.capacity import LOAD_SCHEMA, TRANSFER_SCHEMA
from vpcsim.report.json import SCHEMA as TELNET_SCHEMA
from vpcsim.report.json import record_name
from vpcsim.trace import Disposition, Reason, StepAction, StepData, StepKind

SCHEMA_DIR = ROOT / "schemas"
CROSS = SCENARIOS / "chengdu_chongqing_cross_account.yaml"
NAMES = ("telnet", "check", "validate", "emulate", "transfer", "load")


def _registry() -> tuple[Registry, dict[str, dict[str, Any]]]:
    """Each schema under its file's URI, so that ``check``'s ``telnet.schema.json#/...`` resolves as
    it does for anyone validating against the files in place."""
    docs: dict[str, dict[str, Any]] = {}
    resources = []
    for name in NAMES:
        path = SCHEMA_DIR / f"{name}.schema.json"
        doc = json.loads(path.read_text(encoding="utf-8"))
        doc = {"$id": path.as_uri(), **doc}
        docs[name] = doc
        resources.append((path.as_uri(), Resource.from_contents(doc)))
    return Registry().with_resources(resources), docs


REGISTRY, DOCS = _registry()


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(DOCS[name], registry=REGISTRY)


def assert_valid(name: str, doc: Any) -> None:
    errors = sorted(validator(name).iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def json_of(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code, out, err = run(capsys, *args, "--json")
    assert code in (0, 1), err
    return json.loads(out)


# -- the schemas themselves ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_each_schema_is_a_valid_draft_2020_12_schema(name: str) -> None:
    Draft202012Validator.check_schema(DOCS[name])


def test_the_schemas_name_exactly_the_codes_records_and_versions_of_the_code() -> None:
    defs = DOCS["telnet"]["$defs"]
    assert defs["reason"]["enum"] == [r.value for r in Reason]
    assert defs["step"]["properties"]["kind"]["enum"] == [k.value for k in StepKind]
    assert defs["step"]["properties"]["action"]["enum"] == [a.value for a in StepAction]
    assert defs["packet"]["properties"]["disposition"]["enum"] == [d.value for d in Disposition]
    records = [record_name(t.__new__(t, *([None] * len(t._fields)))) for t in typing.get_args(StepData)]
    assert defs["step"]["properties"]["record"]["enum"] == records
    assert DOCS["validate"]["$defs"]["warning"]["properties"]["code"]["enum"] == [c.value for c in WarningCode]
    assert DOCS["telnet"]["properties"]["schema"]["const"] == TELNET_SCHEMA
    assert DOCS["check"]["properties"]["schema"]["const"] == SCHEMAS["check"]
    assert DOCS["validate"]["properties"]["schema"]["const"] == SCHEMAS["validate"]
    assert DOCS["emulate"]["$defs"]["report"]["properties"]["schema"]["const"] == EMULATE_SCHEMA
    assert DOCS["transfer"]["properties"]["schema"]["const"] == TRANSFER_SCHEMA
    assert DOCS["load"]["properties"]["schema"]["const"] == LOAD_SCHEMA


# -- transfer and load -----------------------------------------------------------------------------------


def test_transfer_and_load_outputs_validate(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    closed = read_data(SEED)
    closed["instances"]["cvm-backend1"]["listen"] = []
    closed["instances"]["cvm-backend2"]["listen"] = []
    refused = str(write(tmp_path / "closed.yaml", closed))
    runs = [
        ("transfer", [str(SEED), "--from", "cvm-vpc3", "172.16.2.16", "1044", "--bytes", "3MB"]),
        ("transfer", [refused, "--from", "cvm-vpc3", "172.16.2.16", "1044", "--bytes", "3MB"]),
        (
            "load",
            [
                str(SEED),
                "--from",
                "cvm-vpc*",
                "--to",
                "172.16.2.16:1044",
                "--clients",
                "200",
                "--rate",
                "100",
                "--duration",
                "10s",
                "--hold",
                "1s",
            ],
        ),
        (
            "load",
            [
                refused,
                "--from",
                "cvm-vpc1",
                "--to",
                "172.16.2.16:1044",
                "--clients",
                "20",
                "--rate",
                "100",
                "--duration",
                "10s",
                "--bytes",
                "10KB",
            ],
        ),
    ]
    for command, args in runs:
        with pytest.raises(SystemExit):
            main([command, *args, "--json"])
        out = json.loads(capsys.readouterr().out)
        validator(command).validate(out)
        broken = {**out, "extra": 1}
        with pytest.raises(ValidationError):
            validator(command).validate(broken)


# -- telnet ------------------------------------------------------------------------------------------------


def telnet_cases(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """(scenario, arguments): connected, connected on a retry, refused, and every 127 s timeout."""
    yield str(SEED), ["--from", "cvm-vpc3", "172.16.2.16", "1044"]
    yield str(SEED), ["--from", "cvm-vpc1", "vpce-vpc1", "1044"]
    yield str(CROSS), ["--from", "cvm-vpc3", "172.16.2.16", "1044", "--at", "280s"]
    closed = read_data(SEED)
    closed["instances"]["cvm-backend1"]["listen"] = []
    closed["instances"]["cvm-backend2"]["listen"] = []  # all dead, all alive: the SYN meets a closed port
    yield str(write(tmp_path / "closed.yaml", closed)), ["--from", "cvm-vpc3", "172.16.2.16", "1044"]
    late = read_data(SEED)
    late["settings"]["tcp"] = {"syn_retries": 0, "initial_rto": "5ms"}
    yield str(write(tmp_path / "late.yaml", late)), ["--from", "cvm-vpc3", "172.16.2.16", "1044"]
    yield from timeout_variants(tmp_path)
    # The network around the endpoints: a data centre over VPN (a gateway's records, a tunnel down)
    # and peering (route-table records, no transit).
    idc = str(SCENARIOS / "tencent_idc_vpn.yaml")
    yield idc, ["--from", "office-pc", "172.16.2.16", "1044"]
    yield idc, ["--from", "office-pc", "172.16.2.16", "1044", "--at", "210s"]
    yield str(SCENARIOS / "peering_vs_endpoint.yaml"), ["--from", "cvm-partner", "vpce-vpc1", "1044"]
    ecmp = read_data(SCENARIOS / "tencent_idc_vpn.yaml")  # two VPN gateways to the office: two branches
    ecmp["vpn_gateways"]["vpngw-b"] = {"vpc": "vpc1", "tunnels": {"t": {"idc": "idc-office"}}, "delay": "3ms"}
    route = {"destination": "10.88.0.0/16", "next_hop": {"type": "vpn_gateway", "id": "vpngw-b"}}
    ecmp["route_tables"]["rtb-consumer"]["routes"] = {"via-b": route}
    yield str(write(tmp_path / "ecmp.yaml", ecmp)), ["--from", "cvm-vpc1", "office-pc", "22"]


def test_every_telnet_output_validates(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    seen: set[tuple[str, str]] = set()
    records: set[str] = set()
    for scenario, args in telnet_cases(tmp_path):
        doc = json_of(capsys, "telnet", scenario, *args)
        assert_valid("telnet", doc)
        seen.add((doc["verdict"], doc["reason"]))
        records |= {s["record"] for p in doc["packets"] for h in p["hops"] for s in h["steps"]}
    assert {v for v, _ in seen} == {"connected", "refused", "timeout"}
    assert {r for v, r in seen if v == "timeout"} >= {
        "sg_ingress_denied",
        "sg_egress_denied",
        "endpoint_not_active",
        "no_listener",
        "no_route",
        "no_host",
        "no_backend",
        "lb_loopback",
        "no_answer_in_time",
    }
    assert {"denied", "no_rule_match", "inactive", "translated", "chosen", "self_backend"} <= records


def test_nc_and_ping_outputs_validate_as_telnet_s_shape(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from tests.scenarios.test_udp_and_icmp import allow_ping, with_dns

    data = allow_ping(with_dns(read_data(SEED)))
    data["security_groups"]["sg-backend"]["ingress"].insert(
        0, {"action": "accept", "protocol": "udp", "source": "10.0.0.0/16"}
    )
    dns = str(write(tmp_path / "dns.yaml", data))
    seen = set()
    for command, args in [
        ("nc", ["-u", dns, "--from", "cvm-vpc3", "172.16.2.16", "53"]),
        ("nc", ["-u", dns, "--from", "cvm-vpc3", "172.16.2.16", "54", "--wait", "1s"]),
        ("nc", ["-u", dns, "--from", "cvm-backend1", "10.0.2.12", "9"]),
        ("ping", [dns, "--from", "cvm-vpc3", "cvm-vpc1", "-c", "2"]),
        ("ping", [dns, "--from", "cvm-vpc3", "172.16.2.16"]),
    ]:
        doc = json_of(capsys, command, *args)
        assert_valid("telnet", doc)
        seen.add((doc["protocol"], doc["verdict"]))
    assert seen == {
        ("udp", "answered"),
        ("udp", "timeout"),
        ("udp", "refused"),
        ("icmp", "answered"),
        ("icmp", "timeout"),
    }


# -- check, validate, emulate ------------------------------------------------------------------------------


def test_every_check_output_validates(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    wrong = write(tmp_path / "wrong.yaml", without_snat_accept())
    failed = 0
    for scenario in (SEED, CROSS, wrong):
        doc = json_of(capsys, "check", str(scenario), "--seed", "7")
        assert_valid("check", doc)
        assert doc["schema"] == SCHEMAS["check"]
        failed += doc["failed"]
    assert failed == 2


def test_every_validate_output_validates(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    wrong = write(tmp_path / "wrong.yaml", without_snat_accept())
    warned = 0
    for scenario in (SEED, CROSS, wrong):
        doc = json_of(capsys, "validate", str(scenario))
        assert_valid("validate", doc)
        warned += len(doc["warnings"])
    assert warned >= 1


def test_an_emulation_report_and_a_cleanup_validate() -> None:
    """The report of the bundled scenario, planned but not run (that needs root), plus one check
    with a kernel result as the runner makes it."""
    rep = report(prepare(load(SEED)))
    base = rep.checks[0]
    ran = CheckEmulation(
        **{
            **{f: getattr(base, f) for f in CheckEmulation.__dataclass_fields__},
            "kernel": "connected",
            "kernel_detail": "SYN-ACK",
            "kernel_seconds": 0.0004,
            "status": "agree",
            "note": "",
            "state_time": 0.0,
        }
    )
    doc = EmulationReport(scenario=rep.scenario, checks=(ran, *rep.checks[1:]), builds=(), deadline=2.0).to_dict()
    assert_valid("emulate", doc)
    assert_valid("emulate", rep.to_dict())
    assert_valid("emulate", {"schema": EMULATE_SCHEMA, "removed": ["vpcsim-1-0-0"]})


# -- strict enough -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def outputs() -> dict[str, dict[str, Any]]:
    import io
    from contextlib import redirect_stdout

    from vpcsim.cli import main

    docs = {}
    for name, args in {
        "telnet": ["telnet", str(SEED), "--from", "cvm-vpc3", "172.16.2.16", "1044"],
        "check": ["check", str(SEED)],
        "validate": ["validate", str(SEED)],
    }.items():
        buf = io.StringIO()
        with redirect_stdout(buf), pytest.raises(SystemExit):
            main([*args, "--json"])
        docs[name] = json.loads(buf.getvalue())
    return docs


def broken(doc: dict[str, Any], change: str) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    if change == "missing verdict":
        del out["verdict"]
    elif change == "renamed reason":
        out["reason_code"] = out.pop("reason")
    elif change == "extra field":
        out["verdict_text"] = "ok"
    elif change == "unknown reason":
        out["reason"] = "firewall"
    elif change == "unknown record":
        out["packets"][0]["hops"][0]["steps"][0]["record"] = "rule"
    elif change == "step without data":
        del out["packets"][0]["hops"][0]["steps"][0]["data"]
    elif change == "renamed hop time":
        hop = out["packets"][0]["hops"][0]
        hop["t_ms"] = hop.pop("time_ms")
    elif change == "wrong version":
        out["schema"] = 1
    return out


TELNET_BREAKS = (
    "missing verdict",
    "renamed reason",
    "extra field",
    "unknown reason",
    "unknown record",
    "step without data",
    "renamed hop time",
    "wrong version",
)


@pytest.mark.parametrize("change", TELNET_BREAKS)
def test_a_broken_telnet_output_fails_validation(outputs: dict[str, dict[str, Any]], change: str) -> None:
    assert_valid("telnet", outputs["telnet"])
    with pytest.raises(ValidationError):
        validator("telnet").validate(broken(outputs["telnet"], change))


@pytest.mark.parametrize("change", TELNET_BREAKS[:-1])
def test_a_broken_check_result_fails_validation(outputs: dict[str, dict[str, Any]], change: str) -> None:
    doc = copy.deepcopy(outputs["check"])
    assert_valid("check", doc)
    doc["checks"][0]["result"] = broken(doc["checks"][0]["result"], change)
    with pytest.raises(ValidationError):
        validator("check").validate(doc)


@pytest.mark.parametrize("field", ["schema", "passed", "checks", "warnings"])
def test_a_check_output_missing_a_top_level_field_fails(outputs: dict[str, dict[str, Any]], field: str) -> None:
    doc = copy.deepcopy(outputs["check"])
    del doc[field]
    with pytest.raises(ValidationError):
        validator("check").validate(doc)


def test_a_check_result_carrying_its_own_schema_version_fails(outputs: dict[str, dict[str, Any]]) -> None:
    """Results inside ``check`` have telnet's shape without ``schema``: the top level says it once."""
    doc = copy.deepcopy(outputs["check"])
    doc["checks"][0]["result"]["schema"] = 2
    with pytest.raises(ValidationError):
        validator("check").validate(doc)


def test_a_validate_output_with_a_renamed_count_fails(outputs: dict[str, dict[str, Any]]) -> None:
    doc = copy.deepcopy(outputs["validate"])
    doc["counts"]["vpc"] = doc["counts"].pop("vpcs")
    with pytest.raises(ValidationError):
        validator("validate").validate(doc)


@pytest.mark.kernel
@pytest.mark.usefixtures("kernel_ready")
def test_a_real_emulation_validates() -> None:
    """The kernel's side too: namespaces built, connects run, the report as the command prints it."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "vpcsim", "emulate", str(SEED), "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert_valid("emulate", doc)
    assert doc["counts"]["agree"] == doc["counts"]["branches"] > doc["counts"]["checks"] > 0
