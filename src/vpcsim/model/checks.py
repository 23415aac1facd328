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
    ANSWERED = "answered"
    REFUSED = "refused"
    TIMEOUT = "timeout"


EXPECTATIONS = {
    "tcp": frozenset({"connected", "refused", "timeout"}),
    "udp": frozenset({"answered", "refused", "timeout"}),
    "icmp": frozenset({"answered", "timeout"}),
}
"""What a check of each protocol may expect: what its probe can end with."""

DEFAULT_WAIT = {"udp": 2.0, "icmp": 1.0}
"""Seconds a UDP probe (``nc -u -w``) and a ping (``ping -W``) wait for their answer by default."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """``telnet HOST PORT`` (``protocol`` tcp), ``nc -u HOST PORT`` (udp) or ``ping HOST`` (icmp:
    ``port`` 0) from instance ``source`` at simulated time ``at``.

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
    protocol: str = "tcp"
    wait: float = 0.0
    """How long a UDP probe or a ping waits for its answer (0 for TCP: its SYN retries decide)."""
