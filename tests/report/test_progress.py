"""The progress bar: drawn on a terminal, never into a pipe, a file or a test's captured output."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import SEED, read_data

from vpcsim.emulate.runner import prepare
from vpcsim.frontends import load
from vpcsim.report.progress import NO_PROGRESS, Progress, for_terminal, shows_progress

PROGRESS_MARKS = ("\x1b[", "━", "\r")
"""What a drawn bar leaves in a stream: escape sequences, the bar's glyph, carriage returns."""


class Tty(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class Closed(io.StringIO):
    def isatty(self) -> bool:
        raise ValueError("I/O operation on closed file")


@pytest.mark.parametrize(
    ("stdout", "stderr", "shown"),
    [
        (Tty(), Tty(), True),
        (io.StringIO(), Tty(), False),  # output piped to a program: stay silent
        (Tty(), io.StringIO(), False),  # stderr redirected to a file: no escape codes in it
        (io.StringIO(), io.StringIO(), False),
        (object(), Tty(), False),  # no isatty at all
        (Closed(), Tty(), False),
    ],
)
def test_the_bar_is_shown_only_when_stdout_and_stderr_are_terminals(stdout: Any, stderr: Any, shown: bool) -> None:
    assert shows_progress(stdout, stderr) is shown
    assert for_terminal(stdout=stdout, stderr=stderr).enabled is shown


def test_an_enabled_bar_draws_on_its_stream_and_a_disabled_one_writes_nothing() -> None:
    for enabled in (True, False):
        stream = Tty()
        with Progress(enabled=enabled, stream=stream, delay=0) as bar:
            bar.stage("checks", total=3)
            for _ in range(3):
                bar.advance()
        drawn = stream.getvalue()
        assert bool(drawn) is enabled
        if enabled:
            assert "checks" in drawn


def test_a_run_shorter_than_the_delay_draws_nothing() -> None:
    stream = Tty()
    with Progress(enabled=True, stream=stream, delay=60) as bar:
        bar.stage("checks", total=1)
        bar.advance()
    assert stream.getvalue() == ""


def test_emulate_planning_reports_one_step_per_check() -> None:
    seen: list[tuple[str, int | None]] = []

    class Recorder(Progress):
        def stage(self, description: str, total: int | None = None) -> None:
            seen.append((description, total))

        def advance(self, steps: int = 1) -> None:
            seen.append(("advance", steps))

    topo = load(SEED)
    prepare(topo, progress=Recorder(enabled=False))
    assert seen[0] == ("simulating and planning checks", len(topo.checks))
    assert seen[1:] == [("advance", 1)] * len(topo.checks)
    assert not NO_PROGRESS.enabled


def many_checks(tmp_path: Path, n: int) -> Path:
    data = read_data(SEED)
    data["checks"] = [
        {"from": "cvm-vpc3", "to": "172.16.2.16:1044", "at": f"{i}ms", "expect": "connected"} for i in range(n)
    ]
    path = tmp_path / "many.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


VPCSIM = [sys.executable, "-m", "vpcsim"]


def test_check_through_a_pipe_prints_no_progress(tmp_path: Path) -> None:
    done = subprocess.run(
        [*VPCSIM, "check", str(many_checks(tmp_path, 400))], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert not any(mark in done.stdout for mark in PROGRESS_MARKS)
    assert done.stdout.splitlines()[-1] == "400 passed, 0 failed"


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the terminal's other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.slow
def test_check_on_a_terminal_draws_a_bar_on_stderr_and_keeps_stdout_clean(tmp_path: Path) -> None:
    """Both streams on terminals and a run longer than the bar's delay: the bar appears on stderr."""
    scenario = many_checks(tmp_path, 2000)
    out_main, out_side = pty.openpty()
    err_main, err_side = pty.openpty()
    proc = subprocess.Popen([*VPCSIM, "check", str(scenario)], stdout=out_side, stderr=err_side)
    os.close(out_side)
    os.close(err_side)
    # Drain both terminals while the command runs: a full terminal buffer would block it.

    got: dict[str, bytes] = {}
    readers = [
        threading.Thread(target=lambda k=k, fd=fd: got.__setitem__(k, _read_all(fd)))
        for k, fd in (("out", out_main), ("err", err_main))
    ]
    for t in readers:
        t.start()
    assert proc.wait(timeout=300) == 0
    for t in readers:
        t.join(timeout=30)
    os.close(out_main)
    os.close(err_main)
    assert "checks" in got["err"].decode(errors="replace")
    out = got["out"].decode(errors="replace")
    assert "━" not in out
    assert out.splitlines()[-1].strip() == "2000 passed, 0 failed"
