"""``vpcsim emulate SCENARIO [--json] [--cleanup]``: the scenario's checks, simulated and run for real.

Exit codes: 0 every emulated check agrees with the simulator; 1 a disagreement; 2 invalid input;
3 nothing to compare: this machine cannot emulate (not root, iproute2 or iptables missing, no network
namespaces), the scenario has no checks, or none of them is emulable.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import click

from vpcsim.emulate.kernel import CannotEmulateError, KernelError, cleanup_leftovers, preflight
from vpcsim.emulate.runner import DEFAULT_DEADLINE, SCHEMA, CheckEmulation, EmulationReport
from vpcsim.emulate.runner import emulate as run_emulation
from vpcsim.errors import VpcsimError
from vpcsim.report.progress import for_terminal

EXIT_OK, EXIT_DISAGREE, EXIT_INVALID, EXIT_CANNOT = 0, 1, 2, 3


class _TerminatedError(Exception):
    """Raised from a signal handler so that ``finally`` blocks remove what was built."""


@contextmanager
def _signals_raise() -> Iterator[None]:
    def handler(signum: int, _frame: FrameType | None) -> None:
        raise _TerminatedError(signal.Signals(signum).name)

    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    for s in saved:
        signal.signal(s, handler)
    try:
        yield
    finally:
        for s, h in saved.items():
            signal.signal(s, h)


def _no_checks(scenario: str | None) -> None:
    """Agreement over nothing proves nothing: a scenario without checks is not a pass."""
    click.echo(f"vpcsim: {scenario} has no checks: nothing to compare with the kernel", err=True)
    sys.exit(EXIT_CANNOT)


def render_text(rep: EmulationReport) -> str:
    rows = [("#", "from", "to", "at", "backend", "simulator", "kernel", "stopped at", "result")]
    for c in rep.checks:
        result = {"agree": "agree", "disagree": "DISAGREE", "not_emulable": "not emulable"}[c.status]
        rows.append(
            (
                _number(c),
                c.source,
                _target(c),
                f"{c.at:g}s",
                c.backend or "-",
                f"{c.simulator} ({c.simulator_reason})",
                "-"
                if c.kernel is None
                else f"{c.kernel} ({c.kernel_seconds * 1000:.1f} ms)"
                if c.kernel_seconds is not None
                else c.kernel,
                _stopped(c),
                result,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.extend(f"#{_number(c)} {c.name}: {c.note}" for c in rep.checks if c.note)
    lines.extend(
        f"build: state(s) at {', '.join(f'{t:g}s' for t in b.state_times)}: {b.namespaces} namespaces, "
        f"{b.links} veth pairs, built in {b.build_seconds:.2f}s, {b.checks} connects in {b.run_seconds:.2f}s"
        for b in rep.builds
    )
    n = rep.counts()
    lines.append(
        f"{n['agree']} agree, {n['disagree']} disagree, {n['not_emulable']} not emulable "
        f"(of {n['branches']} branches of {n['checks']} checks; {n['located']} compared by where they "
        f"stopped; a connect counts as timed out after {rep.deadline:g}s)"
    )
    return "\n".join(lines)


def _stopped(c: CheckEmulation) -> str:
    """Where both sides stopped the packet (the simulator's drop point, which the kernel logged
    too), or each side's when they differ."""
    if c.location == "same":
        return c.simulator_at
    if c.location == "different":
        return f"{c.simulator_at or '-'} / kernel: {'; '.join(c.kernel_at) or 'nothing logged'}"
    return "-"


def _target(c: CheckEmulation) -> str:
    """``172.16.2.16:1044``, ``172.16.2.16:53 (udp)``, ``ping 192.168.1.10``."""
    if c.protocol == "icmp":
        return f"ping {c.host}"
    return f"{c.host}:{c.port}" + (" (udp)" if c.protocol == "udp" else "")


def _number(c: CheckEmulation) -> str:
    """``3``, or ``3.1`` for the second branch of check 3 when it has several."""
    return str(c.check) if c.branches == 1 else f"{c.check}.{c.branch}"


EPILOG = """\b
Example:
  vpcsim emulate scenarios/chengdu_chongqing.yaml

\b
Exit codes:
  0  every emulated check agrees with the simulator
  1  at least one disagreement
  2  invalid input (one message on stderr)
  3  nothing to compare: cannot emulate here, no checks, or no check emulable

Reason codes: README.md, section "Reason codes" (the simulator's "reason" of --json)."""


@click.command(epilog=EPILOG)
@click.argument("scenario", type=click.Path(dir_okay=False), required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
@click.option(
    "--cleanup",
    is_flag=True,
    help="Remove the namespaces of vpcsim runs that were killed outright (then run SCENARIO, if given).",
)
@click.option(
    "--deadline",
    type=click.FloatRange(0.05, 60.0),
    default=DEFAULT_DEADLINE,
    show_default=True,
    help="Seconds a real connect may take before it counts as timed out.",
)
def emulate(scenario: str | None, as_json: bool, cleanup: bool, deadline: float) -> None:
    """Build SCENARIO as real Linux networking and check every verdict against the kernel.

    Needs root, iproute2 and iptables. Everything is built in network namespaces named
    vpcsim-PID-N-I and removed at the end, on failure and on Ctrl-C.
    """
    from vpcsim.frontends import load

    if scenario is None and not cleanup:
        click.echo("vpcsim: emulate needs a SCENARIO (or --cleanup)", err=True)
        sys.exit(EXIT_INVALID)
    topo = None
    if scenario is not None:
        try:
            from vpcsim.cli import limits

            topo = load(scenario, limits=limits())
        except VpcsimError as exc:
            click.echo(f"vpcsim: {exc}", err=True)
            sys.exit(EXIT_INVALID)
    if topo is not None and not topo.checks and not cleanup:
        _no_checks(scenario)
    try:
        preflight()
    except CannotEmulateError as exc:
        click.echo(f"vpcsim: cannot emulate here: {exc}", err=True)
        sys.exit(EXIT_CANNOT)
    if cleanup:
        try:
            removed = cleanup_leftovers()
        except KernelError as exc:
            click.echo(f"vpcsim: cleanup failed: {exc}", err=True)
            sys.exit(EXIT_CANNOT)
        if topo is None:
            if as_json:
                click.echo(json.dumps({"schema": SCHEMA, "removed": removed}, indent=2))
            else:
                click.echo(
                    f"removed {len(removed)} leftover namespaces" + (f": {' '.join(removed)}" if removed else "")
                )
            sys.exit(EXIT_OK)
    assert topo is not None
    if not topo.checks:
        _no_checks(scenario)
    try:
        with _signals_raise(), for_terminal() as progress:
            rep = run_emulation(topo, deadline=deadline, progress=progress)
    except (_TerminatedError, KeyboardInterrupt) as exc:
        click.echo(f"vpcsim: interrupted ({exc or 'SIGINT'}); everything built was removed", err=True)
        sys.exit(130)
    except KernelError as exc:
        click.echo(f"vpcsim: cannot emulate here: {exc}", err=True)
        sys.exit(EXIT_CANNOT)
    if as_json:
        click.echo(json.dumps(rep.to_dict(), indent=2))
    else:
        click.echo(render_text(rep))
    if not rep.agree:
        sys.exit(EXIT_DISAGREE)
    if rep.checks and all(c.status == "not_emulable" for c in rep.checks):
        # Agreement over nothing proves nothing: say so instead of exiting 0.
        click.echo("vpcsim: no check of this scenario could be emulated (see the reasons above)", err=True)
        sys.exit(EXIT_CANNOT)
    sys.exit(EXIT_OK)
