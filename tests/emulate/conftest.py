"""Kernel tests: the ``kernel`` marker (``kernel_ready`` is in tests/conftest.py), and ``tbf_ready``
for the capacity oracle."""

from __future__ import annotations

import os

import pytest

from vpcsim.emulate import capacity
from vpcsim.emulate.kernel import CannotEmulateError


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "kernel: builds scenarios as real Linux networking (root, iproute2, iptables); fails instead of "
        "skipping when CI=true",
    )


@pytest.fixture(scope="module")
def tbf_ready() -> None:
    """Skip (or fail, with CI=true) unless this machine can run a capped transfer."""
    try:
        capacity.preflight()
    except CannotEmulateError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but the capacity oracle cannot run here: {exc}")
        pytest.skip(f"capped transfers unavailable: {exc}")
