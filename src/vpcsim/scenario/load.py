"""Read a scenario file: YAML → plain data → schema → :class:`Topology`."""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Any

from pydantic import ValidationError

from vpcsim.errors import ScenarioError
from vpcsim.model.topology import Topology
from vpcsim.scenario.build import Locator, build_topology
from vpcsim.scenario.schema import parse_document
from vpcsim.scenario.yamlsafe import MAX_BYTES, Path, path_text, read_yaml


def load(path: str | FsPath) -> Topology:
    """Load and validate the scenario file at ``path``."""
    name = str(path)
    try:
        raw = FsPath(path).read_bytes()[: MAX_BYTES + 1]
    except OSError as exc:
        raise ScenarioError(name, "", f"cannot read the file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(name, "", f"the file is not UTF-8 text (byte {exc.start})") from None
    return loads(text, source=name)


def loads(text: str, *, source: str = "<string>") -> Topology:
    """Load and validate a scenario from YAML text; ``source`` names it in errors."""
    data, marks = read_yaml(text, source)
    return from_data(data, source=source, marks=marks)


def from_data(data: Any, *, source: str = "<data>", marks: dict[Path, tuple[int, int]] | None = None) -> Topology:
    """Validate already-parsed plain data (dicts, lists, scalars) as a scenario."""
    locator = Locator(source, marks or {})
    if not isinstance(data, dict):
        raise locator.error((), f"a scenario is a mapping of sections (version, vpcs, ...), not {type(data).__name__}")
    try:
        doc = parse_document(data)
    except ValidationError as exc:
        raise _first_error(exc, locator) from None
    return build_topology(doc, locator)


def _first_error(exc: ValidationError, locator: Locator) -> ScenarioError:
    err = exc.errors(include_url=False)[0]
    loc: list[str | int] = []
    key_problem = False
    for part in err["loc"]:
        if part == "[key]":
            key_problem = True
            continue
        loc.append(part if isinstance(part, int) else ("from" if part == "from_" else str(part)))
    kind = err["type"]
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    path: Path = tuple(loc)
    if kind == "missing":
        return locator.error(path[:-1], f"missing required key {path[-1]!r}")
    if kind == "extra_forbidden":
        return locator.error(path, f"unknown key {path[-1]!r} (see README: scenario format)")
    if key_problem or kind == "string_pattern_mismatch":
        what = "id" if key_problem else "value"
        return locator.error(
            path,
            f"{what} {err.get('input')!r} is not a valid id: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
        )
    if kind == "literal_error":
        return locator.error(path, f"{err.get('input')!r} is not allowed: {msg[0].lower()}{msg[1:]}")
    got = err.get("input")
    shown = repr(got) if isinstance(got, str | int | float | bool) or got is None else type(got).__name__
    if kind in (
        "too_long",
        "too_short",
        "greater_than_equal",
        "less_than_equal",
        "greater_than",
        "less_than",
    ):
        return locator.error(path, f"{msg[0].lower()}{msg[1:]} (got {shown})")
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return locator.error(path, f"{msg[0].lower()}{msg[1:]}, got {shown}")
    return locator.error(path, msg)


__all__ = ["from_data", "load", "loads", "path_text"]
