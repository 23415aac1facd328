"""A progress bar for commands that can run longer than a second, drawn on a terminal only.

Commands create one :class:`Progress` with :func:`for_terminal` and call :meth:`Progress.stage`
and :meth:`Progress.advance` as they go. The bar is drawn on stderr, and only when stdout and
stderr are both terminals: a pipe, a file or a test's captured output never gets a control
character, so what scripts read stays exactly the command's output. It appears only once the work
has lasted ``delay`` seconds (a fast run shows nothing) and is erased when the work ends. ``rich``
is imported only when a bar may be drawn, so a command run by a script pays nothing for it.
"""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import Any, TextIO

DELAY = 0.5
"""Seconds of work before a bar appears: shorter runs finish before anyone would look at it."""


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def shows_progress(stdout: Any, stderr: Any) -> bool:
    """Whether a bar may be drawn: both streams are terminals (a person is watching, and the
    command's output is not going to a program)."""
    return _isatty(stdout) and _isatty(stderr)


class Progress:
    """One bar at a time: a stage (a description and, when known, how many steps) and its steps.

    Disabled, every method does nothing. Enabled, the bar is drawn on ``stream`` from ``delay``
    seconds after entering the context until leaving it.
    """

    def __init__(self, *, enabled: bool, stream: TextIO | None = None, delay: float = DELAY) -> None:
        self.enabled = enabled
        self._stream = stream
        self._delay = delay
        self._lock = threading.Lock()
        self._bar: Any = None
        self._task: Any = None
        self._started = False
        self._closed = False
        self._timer: threading.Timer | None = None

    def __enter__(self) -> Progress:
        if not self.enabled:
            return self
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        console = Console(file=self._stream or sys.stderr, force_terminal=True)
        self._bar = RichProgress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        if self._delay <= 0:
            self._start()
        else:
            # A timer, not the next advance(): a long single step (building namespaces) must show
            # its bar while it runs.
            self._timer = threading.Timer(self._delay, self._start)
            self._timer.daemon = True
            self._timer.start()
        return self

    def _start(self) -> None:
        with self._lock:
            if self._closed or self._started:
                return
            self._started = True
            self._bar.start()

    def stage(self, description: str, total: int | None = None) -> None:
        """Start a new stage; the previous one, if any, is removed from the display."""
        if not self.enabled or self._bar is None:
            return
        with self._lock:
            if self._task is not None:
                self._bar.remove_task(self._task)
            self._task = self._bar.add_task(description, total=total)

    def advance(self, steps: int = 1) -> None:
        if not self.enabled or self._bar is None or self._task is None:
            return
        self._bar.advance(self._task, steps)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self.enabled:
            return
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self._closed = True
            if self._started:
                self._bar.stop()


def for_terminal(*, stdout: Any = None, stderr: Any = None, delay: float = DELAY) -> Progress:
    """A :class:`Progress` drawn on stderr when stdout and stderr are terminals, silent otherwise."""
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
    return Progress(enabled=shows_progress(out, err), stream=err, delay=delay)


NO_PROGRESS = Progress(enabled=False)
"""Shared by callers that report no progress (library use, tests)."""
