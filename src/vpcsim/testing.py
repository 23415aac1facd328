"""Assertions for pytest suites: ``assert_reachable(net, "cvm-vpc3", "172.16.2.16:1044")``.

A failure message carries the verdict, the reason and the rendered trace.
"""

from __future__ import annotations

from vpcsim.probes import Network, ProbeResult
from vpcsim.scenario.values import host_port
from vpcsim.trace import Reason, Verdict


def _probe(net: Network, source: str, target: str, at: float | str) -> ProbeResult:
    host, port = host_port(target)
    return net.telnet(source, host, port, at=at)


def _message(what: str, r: ProbeResult) -> str:
    from vpcsim.report.text import render_telnet, render_trace

    return f"{what}\n{render_telnet(r)}\n\n{render_trace(r)}"


def assert_reachable(net: Network, source: str, target: str, *, at: float | str = 0.0) -> ProbeResult:
    """Assert that ``telnet HOST PORT`` (``target`` = ``'HOST:PORT'``) from ``source`` connects."""
    __tracebackhide__ = True
    r = _probe(net, source, target, at)
    if not r.connected:
        raise AssertionError(
            _message(f"{source} -> {target}: expected connected, got {r.verdict.value} ({r.reason.value})", r)
        )
    return r


def assert_unreachable(
    net: Network,
    source: str,
    target: str,
    *,
    at: float | str = 0.0,
    verdict: Verdict | str | None = None,
    reason: Reason | str | None = None,
) -> ProbeResult:
    """Assert that the connection fails; optionally with this verdict (refused / timeout) and reason."""
    __tracebackhide__ = True
    r = _probe(net, source, target, at)
    if r.connected:
        raise AssertionError(_message(f"{source} -> {target}: expected no connection, but it connected", r))
    if verdict is not None and r.verdict.value != str(verdict):
        raise AssertionError(_message(f"{source} -> {target}: expected {verdict}, got {r.verdict.value}", r))
    if reason is not None and r.reason.value != str(reason):
        raise AssertionError(_message(f"{source} -> {target}: expected reason {reason}, got {r.reason.value}", r))
    return r
