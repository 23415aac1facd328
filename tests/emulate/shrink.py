"""Shrink a scenario that shows a simulator/kernel disagreement to a minimal one, and dump it."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import yaml

from vpcsim.emulate import execute, prepare, report
from vpcsim.errors import VpcsimError
from vpcsim.scenario.load import from_data

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


def _candidates(data: Data) -> Iterator[Data]:
    """Every document one deletion smaller than ``data`` (lists items, then map entries)."""

    def walk(node: Any, path: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
        if isinstance(node, dict):
            for k in list(node):
                if path == () and k in ("version", "vpcs"):
                    yield from walk(node[k], (*path, k))
                    continue
                yield (*path, k)
                yield from walk(node[k], (*path, k))
        elif isinstance(node, list):
            for i in range(len(node)):
                yield (*path, i)
                yield from walk(node[i], (*path, i))

    for path in list(walk(data, ())):
        new = copy.deepcopy(data)
        parent = new
        for key in path[:-1]:
            parent = parent[key]
        del parent[path[-1]]
        yield new


def shrink(data: Data, still_fails: Callable[[Data], bool], *, budget: int = 400) -> Data:
    """Greedy one-deletion shrinking: keep any deletion that keeps the failure, until none does."""
    best = copy.deepcopy(data)
    tries = 0
    # Single checks first: the cheapest big step.
    for check in list(best.get("checks", [])):
        one = copy.deepcopy(best)
        one["checks"] = [check]
        tries += 1
        if still_fails(one):
            best = one
            break
    progress = True
    while progress and tries < budget:
        progress = False
        for cand in _candidates(best):
            tries += 1
            if tries >= budget:
                break
            if still_fails(cand):
                best = cand
                progress = True
                break
    return best


def dump(data: Data) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None)
