"""Shrink a scenario that shows a simulator/kernel disagreement to a minimal one, and dump it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import yaml

from vpcsim.emulate import execute, prepare, report
from vpcsim.errors import VpcsimError
from vpcsim.frontends import from_data

Data = dict[str, Any]


def disagrees(data: Data, *, deadline: float) -> bool:
    """True when some check of ``data`` is emulable and its kernel verdict differs."""
    try:
        topo = from_data(data, source="<shrink>")
    except VpcsimError:
        return False
    if not topo.checks:
        return False
    prep = prepare(topo, "shrink")
    execute([prep], deadline=deadline)
    return not report(prep, deadline).agree


def _paths(data: Data) -> list[tuple[Any, ...]]:
    """Every deletable position in ``data``, parents before children."""
    out: list[tuple[Any, ...]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        if isinstance(node, dict):
            for k in list(node):
                if path != () or k not in ("version", "vpcs"):
                    out.append((*path, k))
                walk(node[k], (*path, k))
        elif isinstance(node, list):
            for i in range(len(node)):
                out.append((*path, i))
                walk(node[i], (*path, i))

    walk(data, ())
    return out


def _without(data: Data, path: tuple[Any, ...]) -> Data:
    new = copy.deepcopy(data)
    parent: Any = new
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return new


def shrink(data: Data, still_fails: Callable[[Data], bool], *, budget: int = 400) -> Data:
    """Greedy shrinking: keep any one deletion that keeps the failure, pass after pass, until a
    pass deletes nothing or ``budget`` candidates were tried."""
    best = copy.deepcopy(data)
    tries = 0
    for check in list(best.get("checks", [])):  # a single check first: the cheapest big step
        one = copy.deepcopy(best)
        one["checks"] = [check]
        tries += 1
        if still_fails(one):
            best = one
            break
    progress = True
    while progress and tries < budget:
        progress = False
        paths = _paths(best)
        i = 0
        while i < len(paths) and tries < budget:
            cand = _without(best, paths[i])
            tries += 1
            if still_fails(cand):
                best, paths, progress = cand, _paths(cand), True
            else:
                i += 1
    return best


def dump(data: Data) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None)
