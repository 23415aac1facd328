"""Groups that drop Private Link's SNAT range 11.163.0.0/16 on the way to a service's backends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.lint.conftest import Data
from tests.lint.helpers import file_warnings, line_of, only, run_cli
from vpcsim.errors import ScenarioWarning, WarningCode

Lint = Callable[[Data], list[ScenarioWarning]]
BLOCKS = WarningCode.BACKEND_SG_BLOCKS_PRIVATE_LINK
LB_BLOCKS = WarningCode.LOAD_BALANCER_SG_BLOCKS_PRIVATE_LINK


def test_the_bundled_scenario_without_its_snat_rule_warns_naming_the_group_and_the_range(
    seed_data: Data, write: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    del seed_data["security_groups"]["sg-backend"]["ingress"][0]  # the 11.163.0.0/16 accept
    path = write(seed_data)
    code, out, err = run_cli(capsys, "validate", str(path))
    assert code == 0
    assert out.startswith(f"{path}: valid: ")
    (line,) = err.splitlines()
    assert line.startswith(f"warning: {path}:")
    assert "security_groups.sg-backend.ingress[0]: " in line
    assert "sg-backend" in line
    assert "11.163.0.0/16" in line
    assert "cvm-backend1:8080, cvm-backend2:8080" in line
    assert "add {action: accept, protocol: tcp, port: 8080, source: 11.163.0.0/16} to sg-backend" in line
    assert line.endswith("[backend-sg-blocks-private-link]")
    (w,) = file_warnings(path)
    assert (w.code, w.path) == (BLOCKS, "security_groups.sg-backend.ingress[0]")
    assert w.line == line_of(path, "action: drop")


def test_an_earlier_drop_of_part_of_the_range_counts(seed_data: Data, warnings_of: Lint) -> None:
    ingress = seed_data["security_groups"]["sg-backend"]["ingress"]
    ingress.insert(0, {"action": "drop", "protocol": "tcp", "port": "8000-9000", "source": "11.163.128.0/17"})
    (w,) = only(warnings_of(seed_data), BLOCKS)
    assert w.path == "security_groups.sg-backend.ingress[0]"
    assert "drops 11.163.128.0/17 of Private Link's SNAT range 11.163.0.0/16 on tcp/8080" in w.message
    assert "above rule #0" in w.message


def test_a_drop_on_another_port_or_source_does_not_count(seed_data: Data, warnings_of: Lint) -> None:
    ingress = seed_data["security_groups"]["sg-backend"]["ingress"]
    ingress.insert(0, {"action": "drop", "protocol": "tcp", "port": 22, "source": "11.163.0.0/16"})
    ingress.insert(0, {"action": "drop", "protocol": "tcp", "port": 8080, "source": "10.0.0.0/8"})
    assert only(warnings_of(seed_data), BLOCKS) == []


def test_no_matching_rule_denies_and_names_every_bound_group(seed_data: Data, warnings_of: Lint) -> None:
    seed_data["security_groups"]["sg-backend"]["ingress"] = [
        {"action": "accept", "protocol": "tcp", "port": 8080, "source": "10.0.0.0/8"}
    ]
    seed_data["security_groups"]["sg-ops"] = {"ingress": [{"action": "accept", "protocol": "tcp", "port": 22}]}
    for iid in ("cvm-backend1", "cvm-backend2"):
        seed_data["instances"][iid]["security_groups"] = ["sg-backend", "sg-ops"]
    (w,) = only(warnings_of(seed_data), BLOCKS)
    assert w.path == "security_groups.sg-backend.ingress"
    assert "no ingress rule of sg-backend, sg-ops matches Private Link's SNAT range 11.163.0.0/16" in w.message


def test_first_match_runs_across_groups_in_bound_order(seed_data: Data, warnings_of: Lint) -> None:
    """An accept in the second group is too late when the first group ends with drop-all."""
    seed_data["security_groups"]["sg-backend"]["ingress"].pop(0)
    seed_data["security_groups"]["sg-pl"] = {
        "ingress": [{"action": "accept", "protocol": "tcp", "port": 8080, "source": "11.163.0.0/16"}]
    }
    for iid in ("cvm-backend1", "cvm-backend2"):
        seed_data["instances"][iid]["security_groups"] = ["sg-backend", "sg-pl"]
    assert [w.path for w in only(warnings_of(seed_data), BLOCKS)] == ["security_groups.sg-backend.ingress[0]"]
    for iid in ("cvm-backend1", "cvm-backend2"):
        seed_data["instances"][iid]["security_groups"] = ["sg-pl", "sg-backend"]
    assert only(warnings_of(seed_data), BLOCKS) == []


def test_each_backend_is_named_with_its_own_port(seed_data: Data, warnings_of: Lint) -> None:
    seed_data["instances"]["cvm-backend2"]["listen"] = [9090]
    seed_data["load_balancers"]["lb-service"]["listeners"]["lbl-1044"]["backends"][1]["port"] = 9090
    (w,) = only(warnings_of(seed_data), BLOCKS)
    assert "backend cvm-backend2:9090 of lb-service" in w.message
    assert "on tcp/9090" in w.message


def test_a_load_balancer_behind_no_endpoint_service_is_not_checked(seed_data: Data, warnings_of: Lint) -> None:
    seed_data["security_groups"]["sg-backend"]["ingress"].pop(0)
    seed_data.pop("endpoint_services")
    seed_data.pop("endpoints")
    seed_data["checks"] = [c for c in seed_data["checks"] if "vpce" not in c["to"] and "172.16.2.16" not in c["to"]]
    assert only(warnings_of(seed_data), BLOCKS) == []


def test_the_load_balancers_own_groups_must_admit_the_range_on_the_listener_port(
    seed_data: Data, warnings_of: Lint
) -> None:
    seed_data["security_groups"]["sg-clb"] = {
        "ingress": [{"action": "accept", "protocol": "tcp", "port": 1044, "source": "172.16.0.0/12"}]
    }
    seed_data["load_balancers"]["lb-service"]["security_groups"] = ["sg-clb"]
    (w,) = only(warnings_of(seed_data), LB_BLOCKS)
    assert w.path == "security_groups.sg-clb.ingress"
    assert "lb-service's own groups" in w.message
    assert "on tcp/1044" in w.message
    seed_data["security_groups"]["sg-clb"]["ingress"].append(
        {"action": "accept", "protocol": "tcp", "port": 1044, "source": "11.163.0.0/16"}
    )
    assert only(warnings_of(seed_data), LB_BLOCKS) == []


def test_a_backend_without_groups_is_told_to_bind_one(seed_data: Data, warnings_of: Lint) -> None:
    seed_data["instances"]["cvm-backend1"]["security_groups"] = []
    found = warnings_of(seed_data)
    (w,) = only(found, BLOCKS)
    assert w.path == "instances.cvm-backend1.security_groups"
    assert "bind a group whose ingress holds {action: accept" in w.message
