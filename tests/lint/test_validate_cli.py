"""``vpcsim validate`` with warnings, ``--strict`` and ``--json``, as a user runs it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.lint.conftest import Data
from tests.lint.helpers import line_of, run_cli

ROOT = Path(__file__).resolve().parent.parent.parent
BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.fixture
def two_warnings(seed_data: Data, write: Callable[..., Path]) -> Path:
    """The bundled scenario without its SNAT accept, and a VPC in a misspelt region."""
    del seed_data["security_groups"]["sg-backend"]["ingress"][0]
    seed_data["vpcs"]["vpc3"]["region"] = "ap-chongqin"
    seed_data["vpcs"]["vpc3"]["subnets"]["subnet-cq"]["zone"] = "ap-chongqin-1"
    seed_data["settings"]["delays"]["regions"] = {"ap-chengdu/ap-chongqin": "3.25ms"}
    return write(seed_data, "wrong.yaml")


DESIGNED = {
    "huawei_cross_vpc.yaml": ["backend-sg-blocks-private-link", "endpoint-creation-failed"],
    "huawei_cloud_services.yaml": ["endpoint-policy-denies"],
    "huawei_peering_vs_endpoint.yaml": ["peering-without-route"],
}
"""The warnings a bundled scenario shows on purpose: what its failing-by-design checks are about
(a group without VPC Endpoint's range, an account off the whitelist, a request-level policy, a
peering routed on one side only)."""


@pytest.mark.parametrize("scenario", BUNDLED, ids=lambda p: p.name)
def test_the_bundled_scenarios_validate_with_only_the_warnings_they_are_about(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    designed = DESIGNED.get(scenario.name, [])
    code, out, err = run_cli(capsys, "validate", "--strict", str(scenario))
    assert (code, err == "") == ((1, False) if designed else (0, True)), err
    assert out.startswith(f"{scenario}: valid: ")
    code, out, _ = run_cli(capsys, "validate", "--json", str(scenario))
    assert sorted(w["code"] for w in json.loads(out)["warnings"]) == designed


def test_warnings_go_to_stderr_in_file_order_and_the_valid_line_stays(
    two_warnings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "validate", str(two_warnings))
    assert code == 0
    assert out == (
        f"{two_warnings}: valid: 3 VPCs, 4 instances, 1 load balancer, 1 endpoint, 1 CCN, 0 timeline events, 6 checks\n"
    )
    first, second = err.splitlines()
    region_line = line_of(two_warnings, "region: ap-chongqin")
    drop_line = line_of(two_warnings, "action: drop")
    assert region_line < drop_line  # the VPCs come before the security groups in the file
    assert first.startswith(f"warning: {two_warnings}:{region_line}:")
    assert ": vpcs.vpc3.region: region 'ap-chongqin' of VPC vpc3 is not a Tencent Cloud region" in first
    assert "did you mean 'ap-chongqing'?" in first
    assert first.endswith("[unknown-region]")
    assert second.startswith(f"warning: {two_warnings}:{drop_line}:")
    assert second.endswith("[backend-sg-blocks-private-link]")


def test_strict_exits_1_on_a_warning(two_warnings: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "validate", "--strict", str(two_warnings))
    assert code == 1
    assert "valid: 3 VPCs" in out
    assert err.splitlines()[-1] == f"vpcsim: {two_warnings}: 2 warnings and --strict: exit 1"


def test_strict_still_exits_2_on_invalid_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 2\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "validate", "--strict", "--json", str(bad))
    assert (code, out) == (2, "")
    assert err.startswith(f"vpcsim: {bad}")


def test_json_lists_every_warning_with_code_path_line_column_and_message(
    two_warnings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "validate", "--json", str(two_warnings))
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert doc["scenario"] == str(two_warnings)
    assert (doc["valid"], doc["strict"]) == (True, False)
    assert doc["counts"] == {
        "vpcs": 3,
        "instances": 4,
        "load_balancers": 1,
        "endpoints": 1,
        "ccns": 1,
        "cloud_services": 0,
        "network_acls": 0,
        "route_tables": 0,
        "peerings": 0,
        "idcs": 0,
        "gateways": 0,
        "timeline_events": 0,
        "checks": 6,
    }
    region, snat = doc["warnings"]  # in file order
    assert set(snat) == {"code", "path", "line", "column", "message"}
    assert snat["code"] == "backend-sg-blocks-private-link"
    assert snat["path"] == "security_groups.sg-backend.ingress[0]"
    assert snat["line"] == line_of(two_warnings, "action: drop")
    assert isinstance(snat["column"], int)
    assert "11.163.0.0/16" in snat["message"]
    assert "[backend-sg-blocks-private-link]" not in snat["message"]  # the code is its own key
    assert (region["code"], region["path"]) == ("unknown-region", "vpcs.vpc3.region")


def test_json_with_strict_exits_1_and_prints_only_the_object(
    two_warnings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "validate", "--json", "--strict", str(two_warnings))
    assert (code, err) == (1, "")
    assert json.loads(out)["strict"] is True


def test_check_json_lists_the_load_warnings_as_objects(
    seed_data: Data, write: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    seed_data["instances"]["cvm-backend2"]["security_groups"] = []
    path = write(seed_data)
    # Traffic the load balancer sends to cvm-backend2 now times out: some checks fail, beside the point here.
    _, out, _ = run_cli(capsys, "check", "--json", str(path))
    (w,) = json.loads(out)["warnings"]
    assert w["code"] == "instance-without-security-group"
    assert w["path"] == "instances.cvm-backend2.security_groups"
    assert w["message"] == "instance cvm-backend2 has no security group: all its traffic is denied"
    _, out, _ = run_cli(capsys, "check", str(path))
    assert out.splitlines()[0] == "warning: instance cvm-backend2 has no security group: all its traffic is denied"


def test_the_readme_example_is_what_validate_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """README shows the bundled scenario with its 11.163.0.0/16 rule deleted, as 'wrong.yaml'."""
    seed = (ROOT / "scenarios" / "chengdu_chongqing.yaml").read_text(encoding="utf-8").splitlines(keepends=True)
    wrong = "".join(line for line in seed if "Private Link SNAT}" not in line)
    assert len(wrong.splitlines()) == len(seed) - 1
    monkeypatch.chdir(tmp_path)
    Path("wrong.yaml").write_text(wrong, encoding="utf-8")
    _, out, err = run_cli(capsys, "validate", "wrong.yaml")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = readme.split("```text\nwarning: wrong.yaml", 1)[1].split("```", 1)[0]
    assert "warning: wrong.yaml" + shown == err + out


def test_the_network_around_the_endpoints_is_counted_where_there_is_some(capsys: pytest.CaptureFixture[str]) -> None:
    scenario = ROOT / "scenarios" / "tencent_idc_vpn.yaml"
    code, out, _ = run_cli(capsys, "validate", str(scenario))
    assert code == 0
    assert "1 route table, 2 data centres, 2 gateways" in out
    assert "network ACL" not in out
    assert "peering" not in out
    code, out, _ = run_cli(capsys, "validate", "--json", str(scenario))
    counts = json.loads(out)["counts"]
    assert (counts["route_tables"], counts["idcs"], counts["gateways"], counts["peerings"]) == (1, 2, 2, 0)
