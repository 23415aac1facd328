"""Kernel tests: the ``kernel`` marker (``kernel_ready`` is in tests/conftest.py)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "kernel: builds scenarios as real Linux networking (root, iproute2, iptables); fails instead of "
        "skipping when CI=true",
    )
