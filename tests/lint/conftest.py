"""Fixtures for the warning tests: the bundled scenario (edited as data) → its warnings, or a file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from vpcsim.errors import ScenarioWarning
from vpcsim.frontends import from_data_located
from vpcsim.lint import lint

Data = dict[str, Any]


@pytest.fixture
def warnings_of() -> Callable[[Data], list[ScenarioWarning]]:
    """Every warning about scenario data (data has no file positions: ``line`` is None)."""

    def run(data: Data) -> list[ScenarioWarning]:
        return list(lint(from_data_located(data, source="<test>")))

    return run


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write scenario data as a YAML file, so its warnings carry lines and columns."""

    def run(data: Data, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return run
