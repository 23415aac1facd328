"""Assertions for pytest suites: ``assert_reachable(net, "cvm-vpc3", "172.16.2.16:1044")``.

An assertion holds on every branch the connection may take (every backend each load balancer on
the way may choose) unless ``branches="any"`` relaxes it to one. A failure message carries the
verdict, the reason and the rendered trace of the branch that failed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from vpcsim.probes import Network, ProbeResult
from vpcsim.scenario.values import host_port
from vpcsim.trace import Reason, Verdict

Branches = Literal["all", "any"]


def _probe(net: Network, source: str, target: str, at: float | str) -> ProbeResult:
    host, port = host_port(target)
    return net.telnet(source, host, port, at=at)


def _message(what: str, b: ProbeResult, first: ProbeResult) -> str:
    from vpcsim.report.text import branch_line, render_head, render_trace, via

    if b is first:
        return f"{what}\n{render_head(b)}\n\n{render_trace(b)}"
    head = (
        f"{what} on the branch via {via(b)}, one of {len(first.branches)}\n"
        f"(the scheduler's first pick: {branch_line(first)})"
    )
    return f"{head}\n{render_head(b)}\n\n{render_trace(b, branches=False)}"


def _judge(
    r: ProbeResult,
    branches: Branches,
    failure: Callable[[ProbeResult], str | None],
    what: str,
) -> ProbeResult:
    """The first branch, when ``failure`` finds nothing wrong on every branch (or, ``any``, on one);
    else an AssertionError showing the first failing branch's trace."""
    if branches not in ("all", "any"):
        raise ValueError(f"branches must be 'all' or 'any', not {branches!r}")
    failures = [(b, failure(b)) for b in r.branches]
    bad = [(b, why) for b, why in failures if why is not None]
    if not bad or (branches == "any" and len(bad) < len(failures)):
        return r
    b, why = bad[0]
    if branches == "any" and len(failures) > 1:
        why = f"{why} (on every one of {len(failures)} branches)"
    raise AssertionError(_message(f"{what}: {why}", b, r))


def assert_reachable(
    net: Network, source: str, target: str, *, at: float | str = 0.0, branches: Branches = "all"
) -> ProbeResult:
    """Assert that ``telnet HOST PORT`` (``target`` = ``'HOST:PORT'``) from ``source`` connects,
    on every branch (``branches="any"``: on at least one). Returns the first branch."""
    __tracebackhide__ = True
    r = _probe(net, source, target, at)

    def failure(b: ProbeResult) -> str | None:
        if b.connected:
            return None
        return f"expected connected, got {b.verdict.value} ({b.reason.value})"

    return _judge(r, branches, failure, f"{source} -> {target}")


def assert_unreachable(
    net: Network,
    source: str,
    target: str,
    *,
    at: float | str = 0.0,
    verdict: Verdict | str | None = None,
    reason: Reason | str | None = None,
    branches: Branches = "all",
) -> ProbeResult:
    """Assert that the connection fails, on every branch (``branches="any"``: on at least one);
    optionally with this verdict (refused / timeout) and reason. Returns the first branch."""
    __tracebackhide__ = True
    r = _probe(net, source, target, at)

    def failure(b: ProbeResult) -> str | None:
        if b.connected:
            return "expected no connection, but it connected"
        if verdict is not None and b.verdict.value != str(verdict):
            return f"expected {verdict}, got {b.verdict.value}"
        if reason is not None and b.reason.value != str(reason):
            return f"expected reason {reason}, got {b.reason.value}"
        return None

    return _judge(r, branches, failure, f"{source} -> {target}")
