"""Every example script ``scenarios/*.py`` is a golden test: its stdout must equal the ``.out``
beside it (SimPy's docs/conftest.py pattern). Regenerate a golden file after an intended change
with ``python scenarios/NAME.py > scenarios/NAME.out``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
EXAMPLES = sorted(SCENARIOS.glob("*.py"))


def test_there_is_at_least_one_example_script() -> None:
    assert EXAMPLES, f"no example scripts in {SCENARIOS}"


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_prints_its_golden_output(script: Path, tmp_path: Path) -> None:
    golden = script.with_suffix(".out")
    assert golden.is_file(), f"{script.name} has no golden output {golden.name}"
    # Run from elsewhere: the script must find its scenario beside itself, not in the cwd.
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, f"{script.name} exited {proc.returncode}\n{proc.stderr}"
    assert proc.stderr == ""
    assert proc.stdout == golden.read_text(encoding="utf-8")
