"""Shared fixtures: the bundled scenarios as files and as editable data."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from vpcsim import Network
from vpcsim.frontends import from_data

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
SEED = SCENARIOS / "chengdu_chongqing.yaml"


def read_data(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="session")
def _seed_data() -> dict[str, Any]:
    return read_data(SEED)


@pytest.fixture
def seed_data(_seed_data: dict[str, Any]) -> dict[str, Any]:
    """The Chengdu/Chongqing scenario as plain data, a fresh copy per test: edit it freely."""
    return copy.deepcopy(_seed_data)


@pytest.fixture(scope="session")
def seed_net() -> Network:
    """The Chengdu/Chongqing scenario, compiled once."""
    return Network.from_file(SEED)


@pytest.fixture
def network_of() -> Callable[[dict[str, Any]], Network]:
    """Build a Network from scenario data (as edited by a test)."""

    def build(data: dict[str, Any]) -> Network:
        return Network(from_data(data, source="<test>"))

    return build


@pytest.fixture(scope="session")
def kernel_ready() -> None:
    """Skip (or fail, with CI=true) unless this machine can build namespaces and iptables."""
    from vpcsim.emulate import CannotEmulateError, preflight

    try:
        preflight()
    except CannotEmulateError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but the kernel emulation cannot run here: {exc}")
        pytest.skip(f"kernel emulation unavailable: {exc}")
