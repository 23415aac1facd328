"""Plain-text rendering: what Linux telnet prints, then the trace hop by hop."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vpcsim.report.steps import render_step
from vpcsim.trace import PacketTrace, Verdict

if TYPE_CHECKING:  # the results' types only: probes renders its explanations with this package
    from vpcsim.probes import CheckResult, ProbeResult


def render_telnet(r: ProbeResult) -> str:
    """The lines ``telnet ADDRESS PORT`` prints on Linux for this outcome."""
    lines = [f"Trying {r.address}..."]
    if r.verdict is Verdict.CONNECTED:
        lines += [f"Connected to {r.address}.", "Escape character is '^]'."]
    elif r.verdict is Verdict.REFUSED:
        lines.append("telnet: Unable to connect to remote host: Connection refused")
    else:
        lines.append("telnet: Unable to connect to remote host: Connection timed out")
    return "\n".join(lines)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def render_packet(p: PacketTrace, start: float) -> str:
    head = f"{p.kind}"
    if p.attempt > 1:
        head += f" (retransmission {p.attempt - 1})"
    end = "delivered" if p.reason is None else f"DROPPED ({p.reason.value})"
    lines = [f"  {head} {p.summary}  sent at +{_ms(p.sent_at - start)}, {end} at +{_ms(p.arrived_at - start)}"]
    for i, hop in enumerate(p.hops, 1):
        lines.append(f"    {i}. {hop.node}  +{_ms(hop.time - start)}")
        lines.extend(f"         {render_step(step)}" for step in hop.steps)
    return "\n".join(lines)


def render_trace(r: ProbeResult) -> str:
    verdict = f"verdict: {r.verdict.value} ({r.reason.value}) after {_ms(r.connect_time)}"
    lines = [verdict, f"reason: {r.detail}"]
    if r.ref:
        lines.append(f"look at: {r.ref}")
    for t, change in r.control_events:
        lines.append(f"control plane at {t:g}s: {change}")
    lines.append(f"packets ({len(r.packets)}):")
    lines.extend(render_packet(p, r.started_at) for p in r.packets)
    return "\n".join(lines)


def render_check_line(c: CheckResult) -> str:
    mark = "PASS" if c.passed else "FAIL"
    want = c.check.expect.value + (f" ({c.check.expect_reason})" if c.check.expect_reason else "")
    got = f"{c.result.verdict.value} ({c.result.reason.value})"
    line = f"{mark}  {c.check.name}: expected {want}, got {got}"
    if not c.passed:
        line += f"\n      {c.result.detail}"
    return line
