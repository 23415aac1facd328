"""Every command README shows runs as written, and prints what README says it prints.

A runnable line is a line of a ```bash block, or a ``$ `` line of a ```console block, that starts
with ``vpcsim``, ``python`` or ``.venv/bin/``. It runs from the repository root with this test
run's own virtual environment standing in for ``.venv`` (so ``bash scripts/test.sh --latest`` checks
README against its throw-away venv). It must exit 0 or 1 (an answer: connected or not, checks pass or
fail) — never 2 (README shows invalid input) or 3 (nothing to compare) — with no traceback; the
output lines README shows under a ``$`` line must appear in that order (``...`` stands for any
text; a line of only ``...`` for any lines). Commands that build the kernel emulation carry the
``kernel`` marker. Every ```python block runs too, and so do the ``test_*`` functions it defines.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent
RUNNABLE = ("vpcsim", "python", ".venv/bin/")


@dataclass(frozen=True)
class Example:
    line: int
    command: str
    expected: tuple[str, ...]

    @property
    def kernel(self) -> bool:
        return " emulate " in f" {self.command} "


def blocks(text: str) -> list[tuple[str, int, list[str]]]:
    """(language, line number of the first body line, body lines) of every fenced block."""
    out: list[tuple[str, int, list[str]]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = re.match(r"^```(\w*)\s*$", lines[i])
        if fence is None:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        out.append((fence.group(1), i + 2, lines[i + 1 : end]))
        i = end + 1
    return out


def examples() -> list[Example]:
    found: list[Example] = []
    for language, first, body in blocks(README):
        if language == "bash":
            found += [
                Example(first + n, line.strip(), ()) for n, line in enumerate(body) if line.strip().startswith(RUNNABLE)
            ]
        elif language == "console":
            n = 0
            while n < len(body):
                if not body[n].startswith("$ "):
                    n += 1
                    continue
                command, start = body[n][2:].strip(), n
                n += 1
                while n < len(body) and not body[n].startswith("$ "):
                    n += 1
                if command.startswith(RUNNABLE):
                    found.append(Example(first + start, command, tuple(body[start + 1 : n])))
    return found


EXAMPLES = examples()


def _shell_command(command: str) -> str:
    if command.startswith(".venv/bin/"):
        return f"{BIN}/{command.removeprefix('.venv/bin/')}"
    return command


def _missing(expected: tuple[str, ...], output: str) -> str | None:
    """The first README line not found, in order, in ``output``; None when all are there."""
    lines = output.splitlines()
    at = 0
    for want in expected:
        if not want.strip() or want.strip() == "...":
            continue
        pattern = re.compile(".*?".join(re.escape(part) for part in want.rstrip().split("...")) + r"\s*$")
        at = next((k + 1 for k in range(at, len(lines)) if pattern.fullmatch(lines[k].rstrip())), -1)
        if at < 0:
            return want
    return None


def test_readme_has_examples_of_every_kind() -> None:
    assert len(EXAMPLES) >= 7
    assert any(e.command.startswith(".venv/bin/vpcsim telnet") and e.expected for e in EXAMPLES)
    assert any(e.kernel for e in EXAMPLES)
    assert not re.search(r"^\s*(\$ )?sudo ", README, flags=re.MULTILINE), "no README example needs sudo"


@pytest.mark.slow
@pytest.mark.parametrize(
    "example",
    [pytest.param(e, marks=[pytest.mark.kernel] if e.kernel else [], id=f"line{e.line}") for e in EXAMPLES],
)
def test_the_readme_command_runs_as_written(example: Example, request: pytest.FixtureRequest) -> None:
    if example.kernel:
        request.getfixturevalue("kernel_ready")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        ["bash", "-c", _shell_command(example.command)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    assert done.returncode in (0, 1), f"exit {done.returncode}: {done.stderr}"
    missing = _missing(example.expected, done.stdout)
    assert missing is None, f"README line not in the output: {missing!r}\n--- output ---\n{done.stdout}"


@pytest.mark.parametrize(
    "code", [body for language, _, body in blocks(README) if language == "python"], ids=lambda b: f"block{len(b)}"
)
def test_the_readme_python_runs(code: list[str], tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(
        "\n".join(code)
        + "\n\nfor _name, _value in list(globals().items()):\n"
        + "    if _name.startswith('test_') and callable(_value):\n        _value()\n",
        encoding="utf-8",
    )
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
