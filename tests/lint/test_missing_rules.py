"""Instances whose groups hold no rule in a direction that is used."""

from __future__ import annotations

from collections.abc import Callable

from tests.lint.conftest import Data
from tests.lint.helpers import only
from vpcsim.errors import ScenarioWarning, WarningCode

Lint = Callable[[Data], list[ScenarioWarning]]
NO_EGRESS = WarningCode.INSTANCE_WITHOUT_EGRESS_RULE
NO_INGRESS = WarningCode.CHECK_TARGET_WITHOUT_INGRESS_RULE


def test_an_instance_without_any_egress_rule(seed_data: Data, warnings_of: Lint) -> None:
    seed_data["security_groups"]["sg-client"]["egress"] = []
    found = only(warnings_of(seed_data), NO_EGRESS)
    assert [w.path for w in found] == ["instances.cvm-vpc1.security_groups", "instances.cvm-vpc3.security_groups"]
    assert "cannot open any connection" in found[0].message
    assert "to sg-client" in found[0].message


def test_one_group_with_egress_rules_is_enough(seed_data: Data, warnings_of: Lint) -> None:
    seed_data["security_groups"]["sg-quiet"] = {"ingress": [], "egress": []}
    seed_data["instances"]["cvm-vpc1"]["security_groups"] = ["sg-quiet", "sg-client"]
    assert only(warnings_of(seed_data), NO_EGRESS) == []


def test_an_egress_rule_the_timeline_adds_was_meant(seed_data: Data, warnings_of: Lint) -> None:
    seed_data["security_groups"]["sg-client"]["egress"] = []
    seed_data["timeline"] = [
        {
            "at": "10s",
            "action": "add_rule",
            "security_group": "sg-client",
            "direction": "egress",
            "rule": {"action": "accept"},
        }
    ]
    assert only(warnings_of(seed_data), NO_EGRESS) == []


def test_a_check_that_expects_an_answer_from_an_instance_without_ingress_rules(
    seed_data: Data, warnings_of: Lint
) -> None:
    seed_data["checks"].append({"from": "cvm-vpc3", "to": "cvm-vpc1:22", "expect": "refused"})
    seed_data["checks"].append({"from": "cvm-vpc3", "to": "172.16.2.10:80", "expect": "connected"})
    (w,) = only(warnings_of(seed_data), NO_INGRESS)
    assert w.path == "instances.cvm-vpc1.security_groups"
    assert "checks[6], checks[7]" in w.message
    assert "hold no ingress rule" in w.message


def test_a_check_that_expects_a_timeout_may_mean_it(seed_data: Data, warnings_of: Lint) -> None:
    seed_data["checks"].append({"from": "cvm-vpc3", "to": "cvm-vpc1:22", "expect": "timeout"})
    assert only(warnings_of(seed_data), NO_INGRESS) == []


def test_an_instance_dialling_itself_needs_no_ingress_rule(seed_data: Data, warnings_of: Lint) -> None:
    seed_data["checks"].append({"from": "cvm-vpc1", "to": "cvm-vpc1:22", "expect": "refused"})
    assert only(warnings_of(seed_data), NO_INGRESS) == []
