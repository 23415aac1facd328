"""Lines a test wants in pytest's terminal summary, by section (what a corpus or an oracle did).

Tests append to :data:`SECTIONS`; ``tests/conftest.py`` prints them at the end of the run, and
carries them from pytest-xdist's workers to the process that prints.
"""

from __future__ import annotations

SECTIONS: dict[str, list[str]] = {}


def add(section: str, line: str) -> None:
    SECTIONS.setdefault(section, []).append(line)
