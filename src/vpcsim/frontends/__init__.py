"""Cloud front-ends: each reads its cloud's scenario into the validated model, and lowers that
model to the same cloud-neutral IR.

A scenario names its cloud (``cloud: tencent``, the default, or ``cloud: huawei``); :func:`load`
reads the file with the generic reader (:mod:`vpcsim.scenario`), checks its shape and
cross-references with that cloud's schema and rules, and :func:`compile_network` lowers the result
with the same cloud's front-end.
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Any

from vpcsim.frontends import huawei, tencent
from vpcsim.frontends.huawei import build as huawei_build
from vpcsim.frontends.huawei import schema as huawei_schema
from vpcsim.frontends.tencent import build as tencent_build
from vpcsim.frontends.tencent import schema as tencent_schema
from vpcsim.ir import CompiledNetwork
from vpcsim.model import Topology
from vpcsim.scenario.limits import DEFAULT_LIMITS, Limits
from vpcsim.scenario.locate import Located, Locator
from vpcsim.scenario.pause import paused_gc
from vpcsim.scenario.read import read_data, read_text
from vpcsim.scenario.values import shown
from vpcsim.scenario.yamlsafe import Path

CLOUDS = ("tencent", "huawei")
"""The clouds a scenario may name."""


def load(path: str | FsPath, *, limits: Limits = DEFAULT_LIMITS) -> Topology:
    """Load and validate the scenario file at ``path``."""
    return load_located(path, limits=limits).topology


def loads(text: str, *, source: str = "<string>", limits: Limits = DEFAULT_LIMITS) -> Topology:
    """Load and validate a scenario from YAML text; ``source`` names it in errors."""
    return loads_located(text, source=source, limits=limits).topology


def from_data(
    data: Any,
    *,
    source: str = "<data>",
    marks: dict[Path, tuple[int, int]] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Topology:
    """Validate already-parsed plain data (dicts, lists, scalars) as a scenario."""
    return from_data_located(data, source=source, marks=marks, limits=limits).topology


def load_located(path: str | FsPath, *, limits: Limits = DEFAULT_LIMITS) -> Located:
    """:func:`load`, keeping the key positions of the file."""
    return loads_located(read_text(path, limits), source=str(path), limits=limits)


def loads_located(text: str, *, source: str = "<string>", limits: Limits = DEFAULT_LIMITS) -> Located:
    """:func:`loads`, keeping the key positions of the text."""
    with paused_gc():
        data, marks = read_data(text, source, limits)
        return from_data_located(data, source=source, marks=marks, limits=limits)


def from_data_located(
    data: Any,
    *,
    source: str = "<data>",
    marks: dict[Path, tuple[int, int]] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Located:
    """:func:`from_data`, with a locator over ``marks`` (no positions when there are none)."""
    locator = Locator(source, marks or {})
    cloud = data.get("cloud", "tencent") if isinstance(data, dict) else "tencent"
    if cloud not in CLOUDS:
        raise locator.error(("cloud",), f"unknown cloud {shown(cloud)}: this vpcsim reads {', '.join(CLOUDS)}")
    context = {"max_objects": limits.max_objects}
    if cloud == "huawei":
        hdoc = huawei_schema.SHAPE.parse(data, locator, context)
        assert isinstance(hdoc, huawei_schema.ScenarioDoc)
        return Located(huawei_build.build_topology(hdoc, locator), locator)
    doc = tencent_schema.SHAPE.parse(data, locator, context)
    assert isinstance(doc, tencent_schema.ScenarioDoc)
    return Located(tencent_build.build_topology(doc, locator), locator)


def compile_network(topology: Topology) -> CompiledNetwork:
    """Lower every control-plane snapshot of ``topology`` with its cloud's front-end."""
    with paused_gc():
        if topology.cloud == "huawei":
            return huawei.compile_network(topology)
        return tencent.compile_network(topology)


__all__ = [
    "CLOUDS",
    "compile_network",
    "from_data",
    "from_data_located",
    "load",
    "load_located",
    "loads",
    "loads_located",
]
