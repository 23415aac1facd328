"""Kernel tests: the ``kernel`` marker and the verdict summary line (``kernel_ready`` is in tests/conftest.py)."""

from __future__ import annotations

import pytest

SUMMARY: list[str] = []
"""Lines the differential suite adds; printed in pytest's terminal summary."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "kernel: builds scenarios as real Linux networking (root, iproute2, iptables); fails instead of "
        "skipping when CI=true",
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SUMMARY:
        terminalreporter.section("vpcsim kernel differential")
        for line in SUMMARY:
            terminalreporter.write_line(line)
