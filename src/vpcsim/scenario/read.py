"""Read a scenario file into YAML data: the bytes, their encoding, the YAML itself, the limits.

Every way a file can be wrong before its content is looked at ends as one :class:`ScenarioError`
(``FILE:LINE:COL: problem``): an unreadable or non-UTF-8 file, one too large, YAML syntax, a
refused tag or limit. What the content means is a front-end's business (:mod:`vpcsim.frontends`).
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Any

from vpcsim.errors import ScenarioError
from vpcsim.scenario.limits import DEFAULT_LIMITS, Limits
from vpcsim.scenario.yamlsafe import Path, read_yaml


def read_text(path: str | FsPath, limits: Limits = DEFAULT_LIMITS) -> str:
    """The file's text (UTF-8, at most ``limits.max_bytes``)."""
    name = str(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(limits.max_bytes + 1)
    except IsADirectoryError:
        raise ScenarioError(name, "", "is a directory, not a scenario file") from None
    except OSError as exc:
        raise ScenarioError(name, "", f"cannot read the file: {exc.strerror or exc}") from None
    if len(raw) > limits.max_bytes:
        raise ScenarioError(name, "", f"file too large: more than {limits.max_bytes} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        hint = " (it looks like UTF-16: save it as UTF-8)" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise ScenarioError(
            name,
            "",
            f"the file is not UTF-8 text: byte 0x{raw[exc.start]:02X} cannot be decoded{hint}",
            line=line,
            column=column,
        ) from None


def read_data(text: str, source: str, limits: Limits = DEFAULT_LIMITS) -> tuple[Any, dict[Path, tuple[int, int]]]:
    """YAML text → plain data and the (line, column) of every key path."""
    return read_yaml(text, source, limits)
