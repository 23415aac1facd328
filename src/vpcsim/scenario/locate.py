"""Key paths → file positions: errors and warnings that name the line and column of a key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vpcsim.errors import ScenarioError, ScenarioWarning, WarningCode
from vpcsim.model.topology import Topology
from vpcsim.scenario.yamlsafe import Path, path_text


class Locator:
    """Turns key paths into errors and warnings that carry the file's line and column."""

    def __init__(self, source: str, marks: Mapping[Path, tuple[int, int]]) -> None:
        self.source = source
        self.marks = marks

    def mark(self, path: Path) -> tuple[int | None, int | None]:
        """Line and column of ``path``, or of its nearest ancestor in the file (a key left out)."""
        probe = path
        while probe not in self.marks and probe:
            probe = probe[:-1]
        return self.marks.get(probe, (None, None))

    def error(self, path: Path, problem: str) -> ScenarioError:
        line, col = self.mark(path)
        return ScenarioError(self.source, path_text(path), problem, line=line, column=col)

    def warning(self, path: Path, code: WarningCode, message: str) -> ScenarioWarning:
        line, col = self.mark(path)
        return ScenarioWarning(
            source=self.source, path=path_text(path), code=code, message=message, line=line, column=col
        )


@dataclass(frozen=True, slots=True)
class Located:
    """A validated scenario with the file positions of its keys, for warnings that name a line."""

    topology: Topology
    locator: Locator
    """Key path → (line, column) of the file it came from (empty for data without a file)."""
