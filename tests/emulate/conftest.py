"""Kernel tests: the ``kernel`` marker, the readiness fixture and the verdict summary line."""

from __future__ import annotations

import os

import pytest

from vpcsim.emulate import CannotEmulateError, preflight

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


@pytest.fixture(scope="session")
def kernel_ready() -> None:
    """Skip (or fail, with CI=true) unless this machine can build namespaces and iptables."""
    try:
        preflight()
    except CannotEmulateError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but the kernel emulation cannot run here: {exc}")
        pytest.skip(f"kernel emulation unavailable: {exc}")
