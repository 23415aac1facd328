"""How much a scenario file may hold: the loader's limits, settings with today's values as defaults.

A hostile or broken file is refused as soon as it crosses one (loading never runs code, and never
spends more than a fraction of a second on a file it refuses). Raise them for very large networks:
``load(path, limits=Limits(max_objects=200_000, ...))`` or the CLI's ``--max-*`` options.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    max_bytes: int = 4 * 1024 * 1024
    """Largest scenario file, in bytes (characters, for text)."""
    max_values: int = 200_000
    """Most values a document may hold, counting every use of an alias in full."""
    max_depth: int = 40
    """Deepest nesting of lists and mappings (a real scenario needs 7)."""
    max_objects: int = 10_000
    """Most entries in one section or list of objects (VPCs, instances, backends, attachments, ...)."""

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_values", "max_depth", "max_objects"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


DEFAULT_LIMITS = Limits()
