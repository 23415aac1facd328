"""README and code cannot drift: the reason codes, the public API, the Quick start."""

from __future__ import annotations

import re
from pathlib import Path

import vpcsim
from vpcsim.trace import Reason

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def table_names(marker: str) -> list[str]:
    block = README.split(f"<!-- {marker}:", 1)[1].split(f"<!-- /{marker} -->", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", block, flags=re.MULTILINE)


def test_readme_documents_exactly_the_reason_codes() -> None:
    assert table_names("reason-codes") == [r.value for r in Reason]


def test_readme_documents_exactly_the_public_api() -> None:
    assert sorted(table_names("api")) == sorted(vpcsim.__all__)
    for name in vpcsim.__all__:
        assert getattr(vpcsim, name) is not None


def test_quick_start_is_exactly_two_commands() -> None:
    section = README.split("## Quick start", 1)[1]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert commands == ["bash scripts/demo.sh", "bash scripts/test.sh"]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/test.sh" in ci
