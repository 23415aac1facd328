"""A hang guard for tests: fail if a block runs far longer than it ever should.

Not a timing target (those live in benchmarks/): the limits are generous, they only turn a hang
(an alias bomb expanded, a parser stuck) into a failure instead of a stuck CI run.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


class Hang(BaseException):
    """Raised by the watchdog; a BaseException so no ``except Exception`` on the way can swallow it."""


@contextlib.contextmanager
def watchdog(seconds: float) -> Iterator[None]:
    """Fail with :class:`Hang` if the block runs longer than ``seconds`` (SIGALRM, main thread)."""
    assert threading.current_thread() is threading.main_thread(), "the watchdog needs the main thread"

    def fire(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
