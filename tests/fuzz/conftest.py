"""Print what the fuzz corpus did: document counts by kind and outcome, probes, time, failures."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.fuzz.test_fuzz_scenarios import STATS

    if not STATS:
        return
    terminalreporter.section("vpcsim fuzzed input")
    for key, value in STATS.items():
        terminalreporter.write_line(f"{key}: {value}")
