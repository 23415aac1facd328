"""Warnings about scenarios that are valid but probably wrong.

:func:`lint` reads a validated scenario with the file positions of its keys (a
:class:`~vpcsim.scenario.locate.Located`) and returns every :class:`~vpcsim.errors.ScenarioWarning`,
in file order: the ones loading found (``Topology.coded_warnings``) and the ones each module here
finds, one kind of mistake per module:

* :mod:`~vpcsim.lint.private_link` — groups that drop Private Link's SNAT range
* :mod:`~vpcsim.lint.backends` — listeners and backends that cannot serve
* :mod:`~vpcsim.lint.elb_sources` — backends whose groups drop their load balancer's own source
* :mod:`~vpcsim.lint.missing_rules` — instances whose groups hold no rule in a direction in use
* :mod:`~vpcsim.lint.shadowing` — rules that can never match
* :mod:`~vpcsim.lint.endpoint_accepts` — timeline accepts that change nothing
* :mod:`~vpcsim.lint.regions` — unknown regions and zones
* :mod:`~vpcsim.lint.network_paths` — routes to down next hops, one-sided or cross-region peering,
  network ACLs that drop the replies a check expects
* :mod:`~vpcsim.lint.checks` — no checks at all

Nothing here changes what a scenario means: warnings never turn a valid scenario invalid, only
``vpcsim validate --strict`` makes them fail a run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from vpcsim.errors import ScenarioWarning
from vpcsim.lint import (
    backends,
    checks,
    elb_sources,
    endpoint_accepts,
    missing_rules,
    network_paths,
    private_link,
    regions,
    shadowing,
)
from vpcsim.lint.context import Context
from vpcsim.scenario.locate import Located

RULES: tuple[Callable[[Context], Iterator[ScenarioWarning]], ...] = (
    regions.check,
    private_link.check,
    backends.check,
    elb_sources.check,
    missing_rules.check,
    shadowing.check,
    endpoint_accepts.check,
    network_paths.check,
    checks.check,
)


def lint(located: Located) -> tuple[ScenarioWarning, ...]:
    """Every warning about ``located``, in file order (those without a position last, by key path)."""
    ctx = Context(located.topology, located.locator)
    found = list(located.topology.coded_warnings)
    for rule in RULES:
        found.extend(rule(ctx))
    return tuple(
        sorted(
            found,
            key=lambda w: (w.line is None, w.line or 0, w.column or 0, w.path, w.code.value, w.message),
        )
    )


__all__ = ["lint"]
