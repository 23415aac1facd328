"""How load errors name what exists: the ids a key could have named."""

from __future__ import annotations

from collections.abc import Mapping


def known(objs: Mapping[str, object]) -> str:
    ids = sorted(objs)
    if not ids:
        return " (none are defined)"
    shown = ", ".join(ids[:8]) + (", ..." if len(ids) > 8 else "")
    return f" (known: {shown})"
