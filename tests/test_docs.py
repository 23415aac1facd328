"""README, docs and code cannot drift: the reason and warning codes, the public API, the Quick start,
and every source key, decision number and link resolving inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import vpcsim
from vpcsim.errors import WarningCode
from vpcsim.trace import Reason

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def table_names(marker: str) -> list[str]:
    block = README.split(f"<!-- {marker}:", 1)[1].split(f"<!-- /{marker} -->", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", block, flags=re.MULTILINE)


def test_readme_documents_exactly_the_reason_codes() -> None:
    assert table_names("reason-codes") == [r.value for r in Reason]


def test_readme_documents_exactly_the_warning_codes() -> None:
    assert table_names("warning-codes") == [c.value for c in WarningCode]


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


# -- the repository stands on its own: sources, decisions and links resolve inside it ---------------------

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SOURCE_KEY = re.compile(r"\[([A-Z]{2,4}[0-9]{1,2})\]")
DECISION = re.compile(r"\bQ([0-9]{1,2})\b")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(path: Path) -> set[str]:
    """Explicit ``<a id>`` anchors and GitHub's heading slugs of a Markdown file."""
    text = path.read_text(encoding="utf-8")
    found = set(re.findall(r"""<a\s+(?:id|name)=["']([^"']+)["']""", text))
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def _cited(pattern: re.Pattern[str]) -> dict[str, list[str]]:
    """Citation → the files citing it, over src/ and tests/."""
    out: dict[str, list[str]] = {}
    for path in sorted([*(ROOT / "src").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]):
        for match in pattern.findall(path.read_text(encoding="utf-8")):
            out.setdefault(match, []).append(str(path.relative_to(ROOT)))
    return out


def test_every_cited_source_key_resolves_to_docs_sources() -> None:
    cited = _cited(SOURCE_KEY)
    assert len(cited) >= 10, "the code cites its sources as [KEY]"
    known = anchors(DOCS / "sources.md")
    missing = {f"[{key}]": files for key, files in cited.items() if key.lower() not in known}
    assert not missing, f"cited in code, no anchor in docs/sources.md: {missing}"


def test_every_cited_decision_resolves_to_docs_decisions() -> None:
    cited = _cited(DECISION)
    assert len(cited) >= 5, "the code cites vpcsim's readings as Qn"
    known = anchors(DOCS / "decisions.md")
    missing = {f"Q{n}": files for n, files in cited.items() if f"q{n}" not in known}
    assert not missing, f"cited in code, no anchor in docs/decisions.md: {missing}"


def test_every_source_gives_a_public_https_url() -> None:
    text = (DOCS / "sources.md").read_text(encoding="utf-8")
    entries = re.split(r"""(?=<a\s+id=["'])""", text)[1:]
    assert len(entries) >= 40
    for entry in entries:
        key = re.match(r"""<a\s+id=["']([^"']+)""", entry)
        assert key is not None
        assert "https://" in entry, f"source {key.group(1)} has no https URL"
    assert "http://" not in text


@pytest.mark.parametrize("page", ["README.md", *sorted(str(p.relative_to(ROOT)) for p in DOCS.rglob("*.md"))])
def test_relative_links_and_anchors_resolve(page: str) -> None:
    path = ROOT / page
    problems = []
    for target in LINK.findall(path.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            problems.append(f"{target}: no such file")
        elif not linked.is_relative_to(ROOT):
            problems.append(f"{target}: outside the repository")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            problems.append(f"{target}: no anchor #{anchor} in {linked.relative_to(ROOT)}")
    assert not problems, problems


def test_nothing_points_outside_the_repository() -> None:
    """No path above the repository, no issue numbers, no notes that only the developers have."""
    banned = re.compile(
        "|".join([r"\.\./" + "shared", "closing " + "note", "issue " + "#[0-9]", "cloud-" + "semantics"])
    )
    hits = []
    for top in ("README.md", "docs", "src", "tests", "scenarios", "benchmarks", "scripts"):
        root = ROOT / top
        for path in [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()):
            generated = any(part.endswith(".egg-info") or part in {"__pycache__", ".hypothesis"} for part in path.parts)
            if generated or path.suffix in {".pyc", ".pcapng"}:
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                if banned.search(line):
                    hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:100]}")
    assert not hits, "\n".join(hits)


@pytest.mark.parametrize("page", ["README.md", *sorted(str(p.relative_to(ROOT)) for p in DOCS.rglob("*.md"))])
def test_source_files_the_docs_name_exist(page: str) -> None:
    """A doc that says where a rule lives must point at a file that is there."""
    text = (ROOT / page).read_text(encoding="utf-8")
    named = set(re.findall(r"src/vpcsim/[A-Za-z0-9_/]+\.py", text))
    assert all((ROOT / f).is_file() for f in named), sorted(f for f in named if not (ROOT / f).is_file())


def test_readme_documents_exactly_the_step_records() -> None:
    import typing

    from vpcsim.report.json import record_name
    from vpcsim.trace import StepData

    block = README.split("<!-- step-records:", 1)[1].split("<!-- /step-records -->", 1)[0]
    documented = dict(re.findall(r"^\| `([^`]+)` \| (.+) \|$", block, flags=re.MULTILINE))
    expected = {}
    for record in typing.get_args(StepData):
        blank = record(*([None] * len(record._fields)))
        expected[record_name(blank)] = ", ".join(f"`{f}`" for f in record._fields)
    assert documented == expected


def test_readme_performance_tables_are_the_committed_result() -> None:
    """The Performance section is ``python -m benchmarks.table`` of the newest committed result,
    not figures typed in beside it; every plot it shows is a file of that result."""
    import json
    import sys

    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    try:
        from benchmarks.table import render
    finally:
        sys.path.remove(str(root))
    newest = sorted((root / "benchmarks" / "results").glob("*.json"))[-1]
    result = json.loads(newest.read_text(encoding="utf-8"))
    block = README.split("<!-- performance-table -->", 1)[1].split("<!-- /performance-table -->", 1)[0]
    assert block.strip() == render(result).strip()
    shown = re.findall(r"\]\((benchmarks/results/[^)]+\.png)\)", README)
    assert shown, "the section shows the result's plots"
    assert {p.split("/", 2)[2] for p in shown} <= set(result["plots"])
