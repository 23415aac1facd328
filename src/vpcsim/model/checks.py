"""Connectivity checks a scenario asserts: telnet HOST PORT from an instance."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Expectation(StrEnum):
    CONNECTED = "connected"
    REFUSED = "refused"
    TIMEOUT = "timeout"


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """``telnet HOST PORT`` from instance ``source`` at simulated time ``at``.

    ``host`` is as written (an IP or an object id); ``expect_reason`` optionally pins the reason code.
    """

    name: str
    source: str
    host: str
    port: int
    at: float
    expect: Expectation
    expect_reason: str | None = None
