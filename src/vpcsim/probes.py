"""Probes: ``telnet HOST PORT`` from an instance, and the scenario's checks.

:class:`Network` is the entry point of the Python API: load (or take) a topology, compile it once,
then probe it as often as you like; every probe runs on its own fresh simulation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vpcsim.compile import CompiledNetwork, compile_network
from vpcsim.errors import ArgumentError, UnknownObjectError
from vpcsim.model import Check, Topology
from vpcsim.scenario import load
from vpcsim.scenario.values import duration
from vpcsim.sim import ConnectOutcome, Simulation, connect
from vpcsim.sim.packet import ip_text
from vpcsim.sim.walk import Capture
from vpcsim.trace import PacketTrace, Reason, Step, Verdict


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
    control_events: tuple[tuple[float, str], ...]
    """Control-plane changes that happened while the probe ran."""
    captures: tuple[Capture, ...] = ()

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

    def telnet(
        self,
        source: str,
        host: str,
        port: int,
        *,
        at: float | str = 0.0,
        seed: int | None = None,
        capture: bool = False,
    ) -> ProbeResult:
        """What ``telnet HOST PORT`` on instance ``source`` gives at simulated time ``at``.

        ``at`` is seconds, or a string with a unit as in scenario files (``"300s"``, ``"500ms"``).
        """
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
        dst = self.address_of(host)
        return probe(
            self.compiled,
            source,
            host,
            dst,
            port,
            at=start,
            seed=self.compiled.seed if seed is None else seed,
            capture=capture,
        )

    def run_check(self, check: Check, *, seed: int | None = None) -> CheckResult:
        return CheckResult(
            check=check, result=self.telnet(check.source, check.host, check.port, at=check.at, seed=seed)
        )

    def run_checks(self, *, seed: int | None = None) -> list[CheckResult]:
        return [self.run_check(c, seed=seed) for c in self.topology.checks]


def probe(
    net: CompiledNetwork,
    source: str,
    host: str,
    dst: int,
    port: int,
    *,
    at: float,
    seed: int,
    capture: bool = False,
) -> ProbeResult:
    """Run one telnet on a fresh simulation of ``net``."""
    sim = Simulation(net, seed=seed, start=at, capture=capture)
    outcome = ConnectOutcome()
    client = sim.env.process(connect(sim, source, dst, port, outcome))
    # Stop when connect() returns: the ACK's walk is already traced, and what is still in
    # flight then (a pending retransmission timer) cannot change the verdict.
    sim.env.run(until=client)
    verdict = Verdict(outcome.verdict)
    packets = tuple(sim.packets)
    reason, detail, blocked_at, ref = _explain(verdict, packets)
    end = max(outcome.at, packets[-1].arrived_at) if packets else outcome.at
    events = (
        tuple((s.time, change) for s in net.states if at < s.time <= end for change in s.changes)
        if len(net.states) > 1
        else ()
    )
    return ProbeResult(
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
        packets=packets,
        control_events=events,
        captures=tuple(sim.captures or ()),
    )


def _explain(verdict: Verdict, packets: tuple[PacketTrace, ...]) -> tuple[Reason, str, str | None, str]:
    if verdict is Verdict.CONNECTED:
        synack = next(p for p in reversed(packets) if p.kind == "SYN-ACK" and p.reason is None)
        return Reason.ESTABLISHED, f"handshake completed with {synack.hops[0].node}", None, ""
    if verdict is Verdict.REFUSED:
        rst = next(p for p in reversed(packets) if p.kind == "RST")
        origin: Step = rst.hops[0].steps[0]
        server = rst.hops[0].node
        return (
            Reason.PORT_CLOSED,
            f"{server} answered RST: {origin.detail.split(': ', 1)[-1]}",
            server,
            server,
        )
    # The last attempt decides: its SYN's drop, else the drop of an answer sent after it.
    last = max(i for i, p in enumerate(packets) if p.kind == "SYN")
    dropped = next((p for p in packets[last:] if p.reason is not None), None)
    if dropped is None:
        syn = packets[last]
        return (
            Reason.NO_ANSWER_IN_TIME,
            f"connect() gave up while the answer to SYN #{syn.attempt} (delivered to {syn.hops[-1].node}) "
            "was still on its way: the round trip is longer than the SYN retries wait",
            syn.hops[-1].node,
            "settings.tcp",
        )
    step = dropped.drop
    assert step is not None
    assert dropped.reason is not None
    return (
        dropped.reason,
        f"{dropped.kind} dropped at {dropped.hops[-1].node}: {step.detail}",
        dropped.hops[-1].node,
        step.ref,
    )
