"""A scenario without checks.

``vpcsim check`` fails on it — nothing passes over nothing — and ``vpcsim emulate`` has nothing to
compare, so a scenario meant for CI without a ``checks`` section vouches for nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from vpcsim.errors import ScenarioWarning, WarningCode
from vpcsim.lint.context import Context


def check(ctx: Context) -> Iterator[ScenarioWarning]:
    if not ctx.topology.checks:
        yield ctx.warn(
            ("checks",),
            WarningCode.NO_CHECKS,
            "the scenario has no checks, so 'vpcsim check' fails on it (nothing passes over nothing); add a "
            "'checks' section: [{from: INSTANCE, to: 'HOST:PORT', expect: connected}]",
        )
