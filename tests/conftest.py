"""Shared fixtures: the bundled scenarios as files and as editable data."""

from __future__ import annotations

import copy
import json
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


# -- summaries that survive pytest-xdist -------------------------------------------------------------


def pytest_sessionfinish(session: pytest.Session) -> None:
    from tests.summaries import SECTIONS

    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the lines to the controller
        workeroutput["vpcsim_summaries"] = json.dumps(SECTIONS)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    from tests.summaries import SECTIONS

    sent = getattr(node, "workeroutput", {}).get("vpcsim_summaries")
    for section, lines in json.loads(sent or "{}").items():
        SECTIONS.setdefault(section, []).extend(lines)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.summaries import SECTIONS

    for section, lines in sorted(SECTIONS.items()):
        terminalreporter.section(section)
        for line in lines:
            terminalreporter.write_line(line)
