"""Probes: ``telnet HOST PORT`` from an instance, several connects at once, and the scenario's checks.

:class:`Network` is the entry point of the Python API: load (or take) a topology, compile it once,
then probe it as often as you like. Every call runs on its own fresh simulation; the flows of one
:meth:`Network.simulate` call share theirs (sessions, ports, scheduler state), as flows share a
real network.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vpcsim.errors import ArgumentError, UnknownObjectError
from vpcsim.frontends import compile_network, load
from vpcsim.ir import CompiledNetwork
from vpcsim.model import Check, Topology
from vpcsim.report.steps import cause_text, describe
from vpcsim.scenario.pause import paused_gc
from vpcsim.scenario.values import duration
from vpcsim.sim import Capture, ConnectOutcome, Simulation, connect
from vpcsim.sim.packet import ip_text
from vpcsim.trace import Originated, Outcome, PacketTrace, Reason, Verdict


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeResult:
    """The answer to one telnet: verdict, reason, where it was decided, and every packet's trace."""

    source: str
    host: str
    """As asked: an IP or an object id."""
    address: str
    port: int
    started_at: float
    """Simulated seconds at which the probe's first SYN left."""
    verdict: Verdict
    reason: Reason
    detail: str
    """One sentence: what decided the verdict, naming the object to change."""
    blocked_at: str | None
    """The node where the deciding packet stopped (None when connected)."""
    ref: str
    """The object (security group and rule, endpoint, listener, route table) behind the verdict."""
    connect_time: float
    """Simulated seconds (not milliseconds) from the first SYN until connect() returned: the SYN-ACK,
    the RST, or the end of the SYN retries (127.0 with Linux's defaults). JSON reports it as
    ``connect_time_ms``."""
    attempts: int
    packets: tuple[PacketTrace, ...]
    """Every packet of this connect, hop by hop (empty when the probe ran without a trace)."""
    control_events: tuple[tuple[float, str], ...]
    """Control-plane changes that happened while the probe ran."""
    captures: tuple[Capture, ...] = ()
    local_port: int = 0
    """The client's ephemeral port."""

    @property
    def connected(self) -> bool:
        return self.verdict is Verdict.CONNECTED


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    check: Check
    result: ProbeResult

    @property
    def passed(self) -> bool:
        c = self.check
        if self.result.verdict.value != c.expect.value:
            return False
        return c.expect_reason is None or self.result.reason.value == c.expect_reason


@dataclass(frozen=True, slots=True)
class Flow:
    """One connect for :meth:`Network.simulate`: from instance ``source`` to ``host:port`` at ``at``."""

    source: str
    host: str
    port: int
    at: float | str = 0.0


class Network:
    """A compiled scenario, ready to probe."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.compiled: CompiledNetwork = compile_network(topology)
        self._addresses: dict[str, int] = dict(self.compiled.addresses)

    @classmethod
    def from_file(cls, path: str | Path) -> Network:
        return cls(load(path))

    def address_of(self, host: str) -> int:
        known = self._addresses.get(host)
        if known is not None:
            return known
        try:
            ip, _ = self.topology.resolve_host(host)
        except ValueError:
            raise UnknownObjectError(
                f"{host!r} is neither an IPv4 address nor the id of an instance, endpoint or load balancer"
            ) from None
        self._addresses[host] = int(ip)
        return int(ip)

    def _request(self, source: str, host: str, port: int, at: float | str) -> tuple[str, str, int, int, float]:
        if source not in self.topology.instances:
            known = ", ".join(sorted(self.topology.instances)) or "none"
            raise UnknownObjectError(f"unknown instance {source!r} (instances: {known})")
        if isinstance(port, bool) or not isinstance(port, int):
            raise ArgumentError(f"port must be an integer 1-65535, not {port!r}")
        if not 1 <= port <= 65535:
            raise ArgumentError(f"port {port} is out of range 1-65535")
        try:
            start = duration(at)
        except ValueError as exc:
            raise ArgumentError(f"at: {exc}") from None
        return source, host, self.address_of(host), port, start

    def telnet(
        self,
        source: str,
        host: str,
        port: int,
        *,
        at: float | str = 0.0,
        seed: int | None = None,
        capture: bool = False,
        trace: bool = True,
    ) -> ProbeResult:
        """What ``telnet HOST PORT`` on instance ``source`` gives at simulated time ``at``.

        ``at`` is seconds, or a string with a unit as in scenario files (``"300s"``, ``"500ms"``).
        ``trace=False`` keeps the verdict and its explanation but not the hops (faster).
        """
        request = self._request(source, host, port, at)
        return run(
            self.compiled,
            [request],
            seed=self.compiled.seed if seed is None else seed,
            capture=capture,
            trace=trace,
        )[0]

    def simulate(
        self,
        flows: Sequence[Flow | tuple[str, str, int] | tuple[str, str, int, float | str]],
        *,
        seed: int | None = None,
    ) -> list[ProbeResult]:
        """Several connects in one simulation, each starting at its own time; one result per flow.

        The flows share the network as real ones do: a load balancer schedules them in the order
        their SYNs arrive, a translator gives each its own source port, and a client picks each
        one's ephemeral port as Linux does (no two live flows to one destination share one).
        """
        requests = [self._request(*(f if isinstance(f, tuple) else (f.source, f.host, f.port, f.at))) for f in flows]
        if not requests:
            return []
        return run(self.compiled, requests, seed=self.compiled.seed if seed is None else seed)

    def run_check(self, check: Check, *, seed: int | None = None) -> CheckResult:
        return CheckResult(
            check=check, result=self.telnet(check.source, check.host, check.port, at=check.at, seed=seed)
        )

    def run_checks(self, *, seed: int | None = None) -> list[CheckResult]:
        return [self.run_check(c, seed=seed) for c in self.topology.checks]


def run(
    net: CompiledNetwork,
    requests: Sequence[tuple[str, str, int, int, float]],
    *,
    seed: int,
    capture: bool = False,
    trace: bool = True,
) -> list[ProbeResult]:
    """Run connects (source, host as asked, destination address, port, start) in one simulation."""
    with paused_gc():
        return _run(net, requests, seed=seed, capture=capture, trace=trace)


def _run(
    net: CompiledNetwork,
    requests: Sequence[tuple[str, str, int, int, float]],
    *,
    seed: int,
    capture: bool,
    trace: bool,
) -> list[ProbeResult]:
    start = min(r[4] for r in requests)
    sim = Simulation(net, seed=seed, start=start, capture=capture, trace=trace)
    env = sim.env
    outcomes = [ConnectOutcome() for _ in requests]
    clients = []
    for i, (source, _, dst, port, at) in enumerate(requests):
        body = connect(sim, source, dst, port, outcomes[i], flow_id=i)
        clients.append(env.process(body if at == start else _later(sim, at - start, body)))
    # Stop when every connect() has returned; what is still in flight then finishes its walk (so
    # an ACK's path is traced), but nothing it reaches answers any more.
    env.run(until=clients[0] if len(clients) == 1 else env.all_of(clients))
    sim.drain()
    per_flow: list[list[Outcome]] = [[] for _ in requests]
    for o in sim.outcomes:
        per_flow[o.flow_id].append(o)
    traces: list[list[PacketTrace]] = [[] for _ in requests]
    for p in sim.packets:
        traces[p.flow_id].append(p)
    results = []
    for i, (source, host, dst, port, at) in enumerate(requests):
        outcome = outcomes[i]
        if outcome.verdict == "no_port":
            raise ArgumentError(f"{source} has no free local port left for {ip_text(dst)}:{port}")
        verdict = Verdict(outcome.verdict)
        outs = per_flow[i]
        reason, detail, blocked_at, ref = _explain(verdict, outs)
        end = max(outcome.at, outs[-1].arrived_at) if outs else outcome.at
        events = (
            tuple((s.time, change) for s in net.states if at < s.time <= end for change in s.changes)
            if len(net.states) > 1
            else ()
        )
        results.append(
            ProbeResult(
                source=source,
                host=host,
                address=ip_text(dst),
                port=port,
                started_at=at,
                verdict=verdict,
                reason=reason,
                detail=detail,
                blocked_at=blocked_at,
                ref=ref,
                connect_time=outcome.at - at,
                attempts=outcome.attempts,
                packets=tuple(traces[i]),
                control_events=events,
                captures=tuple(sim.captures or ()),
                local_port=outcome.sport,
            )
        )
    return results


def _later(sim: Simulation, delay: float, body: Generator[Any, Any, None]) -> Generator[Any, Any, None]:
    yield sim.env.timeout(delay)
    yield from body


def _explain(verdict: Verdict, outs: list[Outcome]) -> tuple[Reason, str, str | None, str]:
    """The reason code, the sentence, where it was decided and what to look at, from typed steps."""
    if verdict is Verdict.CONNECTED:
        synack = next(o for o in reversed(outs) if o.kind == "SYN-ACK" and o.reason is None)
        return Reason.ESTABLISHED, f"handshake completed with {synack.origin}", None, ""
    if verdict is Verdict.REFUSED:
        rst = next(o for o in reversed(outs) if o.kind == "RST")
        assert isinstance(rst.first.data, Originated)
        return Reason.PORT_CLOSED, f"{rst.origin} answered RST: {cause_text(rst.first.data)}", rst.origin, rst.origin
    # The last attempt decides: its SYN's drop, else the drop of an answer sent after it.
    last = max(i for i, o in enumerate(outs) if o.kind == "SYN")
    dropped = next((o for o in outs[last:] if o.reason is not None), None)
    if dropped is None:
        syn = outs[last]
        return (
            Reason.NO_ANSWER_IN_TIME,
            f"connect() gave up while the answer to SYN #{syn.attempt} (delivered to {syn.last_node}) "
            "was still on its way: the round trip is longer than the SYN retries wait",
            syn.last_node,
            "settings.tcp",
        )
    assert dropped.reason is not None
    detail, ref = describe(dropped.last)
    return dropped.reason, f"{dropped.kind} dropped at {dropped.last_node}: {detail}", dropped.last_node, ref
