"""Pause Python's cyclic garbage collector while building many small objects.

Reading a large scenario (hundreds of thousands of YAML nodes) and running a simulation (a session,
a step, a hop per packet per node) allocate many small objects that reference counting frees at
once. The cyclic collector would rescan all the live ones again and again as they pile up: twice
the load time of a 1,000-VPC file, three times the run time of ten thousand flows. The few cycles
made meanwhile are collected when it resumes.
"""

from __future__ import annotations

import gc


class paused_gc:  # noqa: N801 - used as a function: ``with paused_gc():``
    """While inside, the cyclic collector waits (a class, not a generator: it is entered per check)."""

    __slots__ = ("_was",)

    def __enter__(self) -> None:
        self._was = gc.isenabled()
        gc.disable()

    def __exit__(self, *_: object) -> None:
        if self._was:
            gc.enable()
