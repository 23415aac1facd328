"""Exceptions raised by vpcsim.

::

    VpcsimError
     +-- ScenarioError      a scenario file (or document) is invalid: names the file, key path, problem
     +-- UnknownObjectError an id asked for by a caller (CLI, API) does not exist in the scenario
     +-- ArgumentError      a caller's argument is not valid (a port out of range, a time that is not one)

Everything else that escapes is a bug: the CLI reports it as such, never as a verdict.
"""

from __future__ import annotations


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
