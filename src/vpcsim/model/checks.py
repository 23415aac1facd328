"""Connectivity checks a scenario asserts: telnet HOST PORT from an instance."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BranchMode(StrEnum):
    """On which branches a check's expectation must hold (see ``vpcsim.branches``)."""

    ALL = "all"
    ANY = "any"


class Expectation(StrEnum):
    CONNECTED = "connected"
    REFUSED = "refused"
    TIMEOUT = "timeout"


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """``telnet HOST PORT`` from instance ``source`` at simulated time ``at``.

    ``host`` is as written (an IP or an object id); ``expect_reason`` optionally pins the reason code.
    The expectation must hold on every branch the connection may take (``branches: all``), or on
    at least one (``any``).
    """

    name: str
    source: str
    host: str
    port: int
    at: float
    expect: Expectation
    expect_reason: str | None = None
    branches: BranchMode = BranchMode.ALL
