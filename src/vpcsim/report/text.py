"""Plain-text rendering: what Linux telnet prints, then the trace hop by hop (or, brief, the
retransmissions folded and the deciding packet's path); a check's result line."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from vpcsim.report.steps import render_step
from vpcsim.sim.packet import UDP_PAYLOAD
from vpcsim.trace import Disposition, Originated, PacketTrace, Verdict

if TYPE_CHECKING:  # the results' types only: probes renders its explanations with this package
    from vpcsim.model import Check
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


def render_nc(r: ProbeResult) -> str:
    """What ``nc -u -v HOST PORT`` shows, and how the datagram's exchange ended."""
    lines = [f"Sending one datagram to {r.address} port {r.port} (udp)..."]
    if r.verdict is Verdict.ANSWERED:
        lines.append(f"{len(UDP_PAYLOAD)} bytes back from {r.address}:{r.port}: answered")
    elif r.verdict is Verdict.REFUSED:
        lines.append("nc: read: Connection refused (an ICMP port unreachable came back)")
    else:
        lines.append(f"no answer within {r.connect_time:g} s")
    return "\n".join(lines)


def render_ping(r: ProbeResult) -> str:
    """What iputils ``ping -c COUNT HOST`` prints: a line per echo reply, then the statistics."""
    lines = [f"PING {r.address} ({r.address}) 56(84) bytes of data."]
    sent: dict[int, float] = {}
    received = 0
    for p in r.packets:
        if p.kind == "ECHO" and p.attempt > 0:
            sent[p.attempt] = p.sent_at
        elif p.kind == "ECHO-REPLY" and p.reason is None:
            data = p.hops[0].steps[0].data
            seq = data.number if isinstance(data, Originated) else 0
            if seq in sent:
                received += 1
                rtt = (p.arrived_at - sent[seq]) * 1000
                lines.append(f"64 bytes from {r.address}: icmp_seq={seq} ttl=64 time={rtt:.3g} ms")
    if not r.packets:  # run without a trace: only the verdict is known
        received = 1 if r.verdict is Verdict.ANSWERED else 0
    loss = 100 * (r.attempts - received) // max(r.attempts, 1)
    lines += [
        "",
        f"--- {r.address} ping statistics ---",
        f"{r.attempts} packets transmitted, {received} received, {loss}% packet loss",
    ]
    return "\n".join(lines)


def render_head(r: ProbeResult) -> str:
    """The lines the probe's own command prints: telnet, nc -u or ping."""
    if r.protocol == "udp":
        return render_nc(r)
    if r.protocol == "icmp":
        return render_ping(r)
    return render_telnet(r)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def fate(p: PacketTrace) -> str:
    """How the packet ended, in JSON's words: ``delivered``, or the disposition and the reason
    (``discarded (no_listener)``)."""
    return p.disposition.value if p.reason is None else f"{p.disposition.value} ({p.reason.value})"


def render_packet(p: PacketTrace, start: float) -> str:
    head = f"{p.kind}"
    if p.attempt > 1:
        head += f" (retransmission {p.attempt - 1})"
    end = fate(p)
    lines = [f"  {head} {p.summary}  sent at +{_ms(p.sent_at - start)}, {end} at +{_ms(p.arrived_at - start)}"]
    for i, hop in enumerate(p.hops, 1):
        lines.append(f"    {i}. {hop.node}  +{_ms(hop.time - start)}")
        lines.extend(f"         {render_step(step)}" for step in hop.steps)
    return "\n".join(lines)


def _verdict(r: ProbeResult) -> str:
    return f"verdict: {r.verdict.value} ({r.reason.value}) after {_ms(r.connect_time)}"


def via(r: ProbeResult) -> str:
    """The choices of one branch: ``cvm-backend2:8080``, or ``cvm-a:80 (lb-1), cvm-b:80 (lb-2)``
    past more than one load balancer."""
    if len(r.choices) == 1:
        return r.choices[0].backend
    return ", ".join(f"{c.backend} ({c.balancer})" for c in r.choices)


def branch_line(r: ProbeResult) -> str:
    """One branch in one line: ``via cvm-backend2:8080: timeout (sg_ingress_denied) at cvm-backend2,
    look at sg-backend: no accept for tcp/8080 from 11.163.0.0/16`` (the reason's sentence when there
    is nothing to look at)."""
    end = f"{r.verdict.value} ({r.reason.value})"
    if r.blocked_at:
        end += f" at {r.blocked_at}"
    return f"via {via(r)}: {end}, " + (f"look at {r.ref}" if r.ref else r.detail)


def render_branches(r: ProbeResult) -> str:
    """After the first branch: how many there are, and one line per other branch that ends
    differently (empty when the connection meets no choice)."""
    if not r.choices:
        return ""
    others = r.other_branches
    if not others:
        if all(c.pinned for c in r.choices):
            return f"branches: 1, via {via(r)} (pinned)"
        return f"branches: 1, via {via(r)} (the only backend that may be chosen)"
    differ = [b for b in others if not b.ends_like(r)]
    head = f"branches: {len(others) + 1}, the first via {via(r)} (the scheduler's first pick)"
    if not differ:
        return f"{head}; every other branch ({', '.join(via(b) for b in others)}) ends the same way"
    ends = "1 other ends" if len(differ) == 1 else f"{len(differ)} others end"
    lines = [f"{head}; {ends} differently:"]
    lines.extend(f"  {branch_line(b)}" for b in differ)
    return "\n".join(lines)


def render_trace(r: ProbeResult, *, branches: bool = True) -> str:
    """The verdict, its reason, what to look at, the control-plane changes, the branches (unless
    ``branches`` is False: ``r`` is one of another's branches) and every packet hop by hop."""
    lines = [_verdict(r), f"reason: {r.detail}"]
    if r.ref:
        lines.append(f"look at: {r.ref}")
    for t, change in r.control_events:
        lines.append(f"control plane at {t:g}s: {change}")
    summary = render_branches(r) if branches else ""
    if summary:
        lines.append(summary)
    lines.append(f"packets ({len(r.packets)}):")
    lines.extend(render_packet(p, r.started_at) for p in r.packets)
    return "\n".join(lines)


# -- brief ------------------------------------------------------------------------------------------------


def _times(offsets: list[float]) -> str:
    """``0, 1, 3, 7 s``: seconds after the probe started, to the microsecond, without trailing zeros
    (SYN retries read as Linux's timer, an answer as ``0.00415 s``)."""
    return ", ".join(f"{t:.6f}".rstrip("0").rstrip(".") for t in offsets) + " s"


def _group_key(p: PacketTrace) -> tuple[object, ...]:
    """Packets with the same key are the same packet sent again: same kind, same path, same end."""
    return (p.kind, p.nodes, p.disposition, p.reason, p.hops[-1].steps[-1].data)


def fold_packets(r: ProbeResult) -> list[str]:
    """One line per distinct packet, retransmissions folded: ``SYN ×7 (0, 1, 3, 7, 15, 31, 63 s), each
    discarded at vpce-1 (endpoint_not_active)``. Groups keep the order of their first packet."""
    groups: dict[tuple[object, ...], list[PacketTrace]] = {}
    for p in r.packets:
        groups.setdefault(_group_key(p), []).append(p)
    lines = []
    for same in groups.values():
        p = same[0]
        node = p.hops[-1].node
        if p.disposition is Disposition.DELIVERED or p.reason is None:
            end = f"delivered to {node}"
        else:
            end = f"{p.disposition.value} at {node} ({p.reason.value})"
        when = _times([q.sent_at - r.started_at for q in same])
        if len(same) == 1:
            lines.append(f"{p.kind} ({when}), {end}")
        else:
            lines.append(f"{p.kind} ×{len(same)} ({when}), each {end}")
    return lines


def render_brief(r: ProbeResult) -> str:
    """The telnet lines, the verdict with its reason, what to look at, the control-plane changes
    (one line), the packets with retransmissions folded, the deciding packet's path and, when some
    other branch ends differently, the branches."""
    lines = [render_head(r), f"{_verdict(r)}: {r.detail}"]
    if r.ref:
        lines.append(f"look at: {r.ref}")
    if r.control_events:
        lines.append("control plane: " + "; ".join(f"at {t:g}s {change}" for t, change in r.control_events))
    lines.extend(fold_packets(r))
    if r.packets:
        lines.append("path: " + " -> ".join(r.packets[r.decisive].nodes))
    if any(not b.ends_like(r) for b in r.other_branches):  # brief: branches only where they differ
        lines.append(render_branches(r))
    return "\n".join(lines)


# -- checks ---------------------------------------------------------------------------------------------------


def _seconds(t: float) -> str:
    """A time as ``--at`` reads it back exactly: ``300s``, ``0.25s``."""
    return f"{t:.9f}".rstrip("0").rstrip(".") + "s"


def telnet_command(scenario: str, check: Check, seed: int | None = None, branch: ProbeResult | None = None) -> str:
    """The ``vpcsim telnet`` (``nc -u``, ``ping``) command that shows a check's trace (on ``branch``,
    its backends pinned with ``--backend``), ready to paste into a shell."""
    if check.protocol == "icmp":
        args = ["vpcsim", "ping", scenario, "--from", check.source, check.host, "-W", _seconds(check.wait)]
    elif check.protocol == "udp":
        args = ["vpcsim", "nc", "-u", scenario, "--from", check.source, check.host, str(check.port)]
        args += ["--wait", _seconds(check.wait)]
    else:
        args = ["vpcsim", "telnet", scenario, "--from", check.source, check.host, str(check.port)]
    if check.at:
        args += ["--at", _seconds(check.at)]
    if seed is not None:
        args += ["--seed", str(seed)]
    if branch is not None:
        for c in branch.choices:
            args += ["--backend", c.backend]
    return shlex.join(args)


def target_text(c: CheckResult) -> str:
    """``vpce-1 (172.16.2.2):1044`` for a host named by id (its address may be assigned, not
    written), ``172.16.2.16:1044`` for an address; no port for a ping, ``(udp)`` after a UDP one."""
    host, address = c.check.host, c.result.address
    named = host if host == address else f"{host} ({address})"
    if c.check.protocol == "icmp":
        return named
    return f"{named}:{c.check.port}" + (" (udp)" if c.check.protocol == "udp" else "")


def _got(c: CheckResult) -> str:
    """What the check got: one outcome (on all N branches), or each outcome with its branches."""
    ends: dict[tuple[str, str], list[str]] = {}
    for b in c.result.branches:
        ends.setdefault((b.verdict.value, b.reason.value), []).append(via(b) if b.choices else "")
    if len(ends) == 1:
        (verdict, reason), vias = next(iter(ends.items()))
        n = len(vias)
        return f"{verdict} ({reason})" + ("" if n == 1 else " on both branches" if n == 2 else f" on all {n} branches")
    return "; ".join(f"{v} ({reason}) via {', '.join(vias)}" for (v, reason), vias in ends.items())


def render_check_line(c: CheckResult, command: str = "", scenario: str = "", seed: int | None = None) -> str:
    """``PASS  name: expected ..., got ...`` — and, for a failure, where the check goes, then for each
    failing branch the reason, what to look at and the telnet that shows its trace (``command`` for
    a check without branches; with ``scenario`` given, a command per branch), one per indented line."""
    mark = "PASS" if c.passed else "FAIL"
    want = c.check.expect.value + (f" ({c.check.expect_reason})" if c.check.expect_reason else "")
    if c.check.branches.value == "any" and c.result.other_branches:
        want += " on at least one branch"
    line = f"{mark}  {c.check.name}: expected {want}, got {_got(c)}"
    if c.passed:
        return line
    at = f" at {c.check.at:g}s" if c.check.at else ""
    lines = [line, f"from {c.check.source} to {target_text(c)}{at}"]
    failing = c.failing_branches
    # Branches that fail for the same reason at the same object are one finding, told once.
    groups: dict[tuple[str, str, str], list[ProbeResult]] = {}
    for b in failing:
        groups.setdefault((b.verdict.value, b.reason.value, b.ref), []).append(b)  # as ends_like
    everywhere = len(groups) == 1 and len(failing) == len(c.result.branches)
    for same in groups.values():
        b = same[0]
        prefix = "" if everywhere else f"via {', '.join(via(x) for x in same)}: "
        lines.append(f"{prefix}reason: {b.detail}")
        if b.ref:
            lines.append(f"{prefix}look at: {b.ref}")
        trace = telnet_command(scenario, c.check, seed, None if everywhere else b) if scenario else command
        if trace:
            lines.append(f"{prefix}trace: {trace}")
    return "\n      ".join(lines)
