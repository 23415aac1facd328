"""Helpers for the warning tests: run the linter or the CLI the way a user would, read the answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from vpcsim.cli import main
from vpcsim.errors import ScenarioWarning, WarningCode
from vpcsim.frontends import load_located
from vpcsim.lint import lint


def file_warnings(path: Path) -> list[ScenarioWarning]:
    """Every warning about a scenario file (with lines and columns)."""
    return list(lint(load_located(path)))


def only(found: list[ScenarioWarning], code: WarningCode) -> list[ScenarioWarning]:
    """The warnings of one code: the subject of a test."""
    return [w for w in found if w.code is code]


def codes(found: list[ScenarioWarning]) -> list[str]:
    return [w.code.value for w in found]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``vpcsim ARGS`` in this process: (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    code = done.value.code
    return (code if isinstance(code, int) else 1), out, err


def line_of(path: Path, text: str, start: int = 1) -> int:
    """The 1-based number of the first line of ``path``, from line ``start``, that contains ``text``."""
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if n >= start and text in line:
            return n
    raise AssertionError(f"{text!r} not in {path}")
