"""Exceptions raised by vpcsim, and the warnings about scenarios that are valid but look wrong.

::

    VpcsimError
     +-- ScenarioError      a scenario file (or document) is invalid: names the file, key path, problem
     +-- UnknownObjectError an id asked for by a caller (CLI, API) does not exist in the scenario
     +-- ArgumentError      a caller's argument is not valid (a port out of range, a time that is not one)

    ScenarioWarning         a valid scenario that is probably not what its author meant: the same
                            file, key path, line and column as a ScenarioError, plus a stable code
    WarningCode             those codes

Everything else that escapes is a bug: the CLI reports it as such, never as a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class VpcsimError(Exception):
    """Base class of the errors vpcsim raises on purpose."""


class ScenarioError(VpcsimError):
    """A scenario is invalid.

    ``str(error)`` is the one-line message users see: ``FILE:LINE:COL: KEY.PATH: problem``
    (line and column when known). Characters that would break the line (newlines, control
    characters, lone surrogates) are shown as escapes, so the message is always exactly one line.
    """

    def __init__(
        self, source: str, path: str, problem: str, *, line: int | None = None, column: int | None = None
    ) -> None:
        self.source = source
        """The file name (or ``<string>``) the scenario came from."""
        self.path = path
        """Dotted key path of the offending value (``vpcs.vpc1.subnets.a.cidr``); empty for the whole file."""
        self.problem = problem
        """What is wrong, in one sentence."""
        self.line = line
        self.column = column
        super().__init__(self.render())

    def render(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        key = f" {self.path}:" if self.path else ""
        return _one_line(f"{where}:{key} {self.problem}")


def _one_line(text: str) -> str:
    """Escape what a terminal would not show as one line of text (newlines, controls, lone surrogates)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


class UnknownObjectError(VpcsimError):
    """A caller named an object id or address the scenario does not define."""


class ArgumentError(VpcsimError, ValueError):
    """A caller passed an argument vpcsim cannot use: a port out of range, a time that is not a time."""


class WarningCode(StrEnum):
    """Stable codes of :class:`ScenarioWarning`, one per kind of finding (README lists them)."""

    INSTANCE_WITHOUT_SECURITY_GROUP = "instance-without-security-group"
    ENDPOINT_CREATION_FAILED = "endpoint-creation-failed"
    BACKEND_SG_BLOCKS_PRIVATE_LINK = "backend-sg-blocks-private-link"
    LOAD_BALANCER_SG_BLOCKS_PRIVATE_LINK = "load-balancer-sg-blocks-private-link"
    BACKEND_PORT_NOT_LISTENING = "backend-port-not-listening"
    LISTENER_WITHOUT_BACKENDS = "listener-without-backends"
    LISTENER_ALL_WEIGHTS_ZERO = "listener-all-weights-zero"
    HEALTH_CHECK_PORT_CLOSED = "health-check-port-closed"
    INSTANCE_WITHOUT_EGRESS_RULE = "instance-without-egress-rule"
    CHECK_TARGET_WITHOUT_INGRESS_RULE = "check-target-without-ingress-rule"
    RULE_SHADOWED = "rule-shadowed"
    RULE_SHADOWED_BY_EARLIER_GROUP = "rule-shadowed-by-earlier-group"
    ACCEPT_ENDPOINT_HAS_NO_EFFECT = "accept-endpoint-has-no-effect"
    UNKNOWN_REGION = "unknown-region"
    UNKNOWN_ZONE = "unknown-zone"
    NO_CHECKS = "no-checks"
    ROUTE_TO_DOWN_NEXT_HOP = "route-to-down-next-hop"
    PEERING_WITHOUT_ROUTE = "peering-without-route"
    CROSS_REGION_PEERING = "cross-region-peering"
    ACL_DROPS_RETURN_TRAFFIC = "acl-drops-return-traffic"
    ENDPOINT_POLICY_DENIES = "endpoint-policy-denies"
    BACKEND_SG_BLOCKS_LOAD_BALANCER = "backend-sg-blocks-load-balancer"


@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioWarning:
    """A finding about a valid scenario: it loads and runs, but probably not as its author meant.

    Not a Python warning category (nothing is raised or passed to :mod:`warnings`): a value that
    ``vpcsim validate`` prints as ``FILE:LINE:COL: key.path: message [code]``. ``message`` alone is
    a complete sentence naming the objects and the fix, so it also reads well without the location.
    """

    source: str
    """The file name (or ``<string>``) the scenario came from."""
    path: str
    """Dotted key path of the value to look at (``security_groups.sg-backend.ingress[1]``)."""
    code: WarningCode
    message: str
    line: int | None = None
    column: int | None = None

    def render(self) -> str:
        """One line: ``FILE:LINE:COL: key.path: message [code]`` (line and column when known)."""
        where = self.source
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        key = f" {self.path}:" if self.path else ""
        return _one_line(f"{where}:{key} {self.message} [{self.code.value}]")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``code``, ``path``, ``line``, ``column``, ``message``."""
        return {
            "code": self.code.value,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "message": _one_line(self.message),
        }
