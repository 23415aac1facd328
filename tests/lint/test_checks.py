"""A scenario without checks vouches for nothing."""

from __future__ import annotations

from collections.abc import Callable

from tests.lint.conftest import Data
from tests.lint.helpers import codes
from vpcsim.errors import ScenarioWarning, WarningCode

Lint = Callable[[Data], list[ScenarioWarning]]


def test_a_scenario_without_checks(seed_data: Data, warnings_of: Lint) -> None:
    del seed_data["checks"]
    (w,) = warnings_of(seed_data)
    assert (w.code, w.path) == (WarningCode.NO_CHECKS, "checks")
    assert "'vpcsim check' fails on it" in w.message
    seed_data["checks"] = []
    assert codes(warnings_of(seed_data)) == ["no-checks"]
