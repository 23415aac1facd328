"""Reading scenario files, whatever their cloud: bytes → YAML data with the position of every key,
limits, values (times, ports, CIDRs), shape errors in plain words.

Loading never runs code: YAML is composed into nodes and only plain scalars, mappings and sequences
are accepted. What a document means is its cloud front-end's business: :func:`vpcsim.load`.
"""

from vpcsim.scenario.limits import DEFAULT_LIMITS, Limits
from vpcsim.scenario.locate import Located, Locator

__all__ = ["DEFAULT_LIMITS", "Limits", "Located", "Locator"]
