"""Scenario files → validated :class:`~vpcsim.model.Topology`.

:func:`load` reads a YAML file, :func:`loads` a string. Both raise :class:`~vpcsim.errors.ScenarioError`
with the file, key path (and line:column) and the problem. Loading never runs code: YAML is composed
into nodes and only plain scalars, mappings and sequences are accepted.
"""

from vpcsim.scenario.build import build_topology
from vpcsim.scenario.load import load, loads

__all__ = ["build_topology", "load", "loads"]
