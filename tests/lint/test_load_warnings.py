"""The warnings loading itself finds, now coded and located like the rest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.lint.conftest import Data
from tests.lint.helpers import file_warnings, line_of, only
from vpcsim.errors import ScenarioWarning, WarningCode
from vpcsim.frontends import load

Lint = Callable[[Data], list[ScenarioWarning]]


def test_an_instance_without_a_security_group(seed_data: Data, write: Callable[..., Path]) -> None:
    seed_data["instances"]["cvm-vpc1"]["security_groups"] = []
    path = write(seed_data)
    (w,) = only(file_warnings(path), WarningCode.INSTANCE_WITHOUT_SECURITY_GROUP)
    assert w.path == "instances.cvm-vpc1.security_groups"
    assert w.line == line_of(path, "security_groups: []")
    assert w.message == "instance cvm-vpc1 has no security group: all its traffic is denied"
    # The same warning, as the sentence `vpcsim check` prints and Topology.warnings holds.
    assert load(path).warnings == (w.message,)


def test_an_endpoint_whose_creation_fails(seed_data: Data, warnings_of: Lint) -> None:
    seed_data["vpcs"]["vpc2"]["account"] = "100087654321"  # provider elsewhere, no whitelist
    seed_data["checks"] = [{"from": "cvm-vpc1", "to": "vpce-vpc1:1044", "expect": "timeout"}]
    (w,) = only(warnings_of(seed_data), WarningCode.ENDPOINT_CREATION_FAILED)
    assert w.path == "endpoints.vpce-vpc1"
    assert w.message.startswith("endpoint vpce-vpc1: creation FAILED: account 100012345678 is not in the whitelist")
