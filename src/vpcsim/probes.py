"""Probes: ``telnet HOST PORT`` from an instance, several connects at once, and the scenario's checks.

:class:`Network` is the entry point of the Python API: load (or take) a topology, compile it once,
then probe it as often as you like. Every call runs on its own fresh simulation; the flows of one
:meth:`Network.simulate` call share theirs (sessions, ports, scheduler state), as flows share a
real network.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, replace
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from vpcsim.branches import DEFAULT_MAX_BRANCHES, BackendPin, Pins, explore
from vpcsim.errors import ArgumentError, UnknownObjectError
from vpcsim.frontends import compile_network, load
from vpcsim.ir import Balancer, CompiledNetwork, Host, Translator
from vpcsim.load import LoadResult, run_load
from vpcsim.model import BranchMode, Check, Topology
from vpcsim.report import explain
from vpcsim.scenario.pause import paused_gc
from vpcsim.scenario.values import duration
from vpcsim.scenario.values import duration as duration_value
from vpcsim.send import SendResult, send
from vpcsim.sim import Capture, ConnectOutcome, Simulation, connect
from vpcsim.sim.datagram import exchange, ping
from vpcsim.sim.packet import ip_text
from vpcsim.trace import (
    Activation,
    Choice,
    Denied,
    Inactive,
    MissingAccept,
    NoRuleMatch,
    Outcome,
    PacketTrace,
    Peer,
    Reason,
    Verdict,
)
from vpcsim.transfer import TransferResult, run_transfer

MAX_TRANSFER_BYTES = 10**12
"""The largest transfer (1 TB): beyond it a run would not finish in any useful time."""
MAX_CLIENTS = 10_000_000


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
    decisive: int = 0
    """Index in ``packets`` of the packet that decided the verdict: the SYN that the SYN-ACK or the
    RST answered, the dropped packet of a timeout, or the last SYN when no answer came in time."""
    choices: tuple[Choice, ...] = ()
    """The load balancers' choices this connection met, in the order met (its branch)."""
    protocol: str = "tcp"
    """``tcp`` (telnet, nc), ``udp`` (nc -u) or ``icmp`` (ping)."""
    other_branches: tuple[ProbeResult, ...] = ()
    """The same connect on every other branch: each other backend a load balancer on the way may
    choose (see :mod:`vpcsim.branches`). Empty when there is no other, or only one was asked for."""

    @property
    def connected(self) -> bool:
        return self.verdict is Verdict.CONNECTED

    @property
    def succeeded(self) -> bool:
        """Connected (TCP) or answered (UDP, ICMP): what a probe's exit code 0 means."""
        return self.verdict in (Verdict.CONNECTED, Verdict.ANSWERED)

    @property
    def branches(self) -> tuple[ProbeResult, ...]:
        """Every branch, this one (the scheduler's pick) first."""
        return (self, *self.other_branches)

    def ends_like(self, other: ProbeResult) -> bool:
        """Whether two branches end the same way: the same verdict for the same reason, with the same
        object to look at (two backends denied by the rules of one group end alike)."""
        return (self.verdict, self.reason, self.ref) == (other.verdict, other.reason, other.ref)


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    check: Check
    result: ProbeResult
    """The first branch; ``result.branches`` holds every one."""

    def holds_on(self, branch: ProbeResult) -> bool:
        """Whether the check's expectation (and pinned reason) holds on one branch."""
        c = self.check
        if branch.verdict.value != c.expect.value:
            return False
        return c.expect_reason is None or branch.reason.value == c.expect_reason

    @property
    def failing_branches(self) -> tuple[ProbeResult, ...]:
        return tuple(b for b in self.result.branches if not self.holds_on(b))

    @property
    def passed(self) -> bool:
        """On every branch; on at least one with ``branches: any``."""
        held = [self.holds_on(b) for b in self.result.branches]
        return any(held) if self.check.branches is BranchMode.ANY else all(held)


class Request(NamedTuple):
    """One probe as the engine runs it: from ``source`` to ``dst`` (``host`` as asked) at ``at``."""

    source: str
    host: str
    dst: int
    port: int
    at: float
    protocol: str = "tcp"
    wait: float = 0.0
    """How long a UDP probe or a ping waits for its answer."""
    echoes: int = 1
    """Echo requests a ping sends."""


REQUEST_KIND = {"tcp": "SYN", "udp": "UDP", "icmp": "ECHO"}
"""The packet a probe of each protocol sends."""


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
                f"{host!r} is neither an IPv4 address nor the id of an instance, data-centre host, endpoint "
                "or load balancer"
            ) from None
        self._addresses[host] = int(ip)
        return int(ip)

    def _request(
        self,
        source: str,
        host: str,
        port: int,
        at: float | str,
        protocol: str = "tcp",
        wait: float | str = 0.0,
        count: int = 1,
    ) -> Request:
        if source not in self.topology.instances and source not in self.topology.idc_hosts:
            known = ", ".join(sorted(self.topology.host_ids())) or "none"
            raise UnknownObjectError(f"unknown instance or data-centre host {source!r} (known: {known})")
        if protocol != "icmp":
            if isinstance(port, bool) or not isinstance(port, int):
                raise ArgumentError(f"port must be an integer 1-65535, not {port!r}")
            if not 1 <= port <= 65535:
                raise ArgumentError(f"port {port} is out of range 1-65535")
        if type(count) is not int or not 1 <= count <= 1000:
            raise ArgumentError(f"count must be an integer 1-1000, not {count!r}")
        try:
            start = duration(at)
        except ValueError as exc:
            raise ArgumentError(f"at: {exc}") from None
        try:
            waiting = duration(wait)
        except ValueError as exc:
            raise ArgumentError(f"wait: {exc}") from None
        if protocol != "tcp" and not 0 < waiting <= 3600:
            raise ArgumentError(f"wait must be more than 0 and at most 3600 s, not {wait!r}")
        return Request(source, host, self.address_of(host), port, start, protocol, waiting, count)

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
        every_branch: bool = True,
        backends: Sequence[str] = (),
        max_branches: int = DEFAULT_MAX_BRANCHES,
    ) -> ProbeResult:
        """What ``telnet HOST PORT`` on instance ``source`` gives at simulated time ``at``.

        ``at`` is seconds, or a string with a unit as in scenario files (``"300s"``, ``"500ms"``).
        ``trace=False`` keeps the verdict and its explanation but not the hops (faster).

        The result is the branch the schedulers pick first; ``result.branches`` has every branch:
        the connect once per backend each load balancer on the way may choose (at most
        ``max_branches``, else :class:`~vpcsim.branches.BranchLimitError`). ``backends``
        (``"instance"`` or ``"instance:port"``) pins load balancers to those backends instead;
        ``every_branch=False`` runs the first branch only.
        """
        return self.nc(
            source,
            host,
            port,
            at=at,
            seed=seed,
            capture=capture,
            trace=trace,
            every_branch=every_branch,
            backends=backends,
            max_branches=max_branches,
        )

    def nc(
        self,
        source: str,
        host: str,
        port: int,
        *,
        udp: bool = False,
        wait: float | str = 2.0,
        at: float | str = 0.0,
        seed: int | None = None,
        capture: bool = False,
        trace: bool = True,
        every_branch: bool = True,
        backends: Sequence[str] = (),
        max_branches: int = DEFAULT_MAX_BRANCHES,
    ) -> ProbeResult:
        """``nc -u -w WAIT HOST PORT`` (``udp=True``): one datagram from a connected UDP socket,
        ``answered``, ``refused`` (an ICMP port unreachable came back) or ``timeout`` after
        ``wait``; without ``udp``, a TCP connect as :meth:`telnet`. Branches as :meth:`telnet`."""
        protocol = "udp" if udp else "tcp"
        request = self._request(source, host, port, at, protocol, wait if udp else 0.0)
        return self._explore(
            request,
            what=f"{source} -> {host}:{port}" + (" (udp)" if udp else ""),
            seed=seed,
            capture=capture,
            trace=trace,
            every_branch=every_branch,
            backends=backends,
            max_branches=max_branches,
        )

    def ping(
        self,
        source: str,
        host: str,
        *,
        count: int = 1,
        wait: float | str = 1.0,
        at: float | str = 0.0,
        seed: int | None = None,
        capture: bool = False,
        trace: bool = True,
    ) -> ProbeResult:
        """``ping -c COUNT -W WAIT HOST``: echo requests a second apart; ``answered`` at the first
        echo reply, ``timeout`` when none came back within ``wait`` of the last request."""
        request = self._request(source, host, 0, at, "icmp", wait, count)
        return self._explore(
            request,
            what=f"ping {host} from {source}",
            seed=seed,
            capture=capture,
            trace=trace,
            every_branch=True,
            backends=(),
            max_branches=DEFAULT_MAX_BRANCHES,
        )

    def send(self, source: str, packet: Any, *, at: float | str = 0.0, seed: int | None = None) -> SendResult:
        """Send one Scapy IPv4 packet (TCP, UDP or an ICMP echo request) from instance ``source``:
        its trace, the packet as it arrived (headers as rewritten on the way, payload intact) and
        what the destination's stack answered, each walked back. See :mod:`vpcsim.send`."""
        request = self._request(source, source, 1, at)
        return send(
            self.compiled,
            source,
            self.compiled.addresses[source],
            packet,
            at=request.at,
            seed=self.compiled.seed if seed is None else seed,
        )

    def _explore(
        self,
        request: Request,
        *,
        what: str,
        seed: int | None,
        capture: bool,
        trace: bool,
        every_branch: bool,
        backends: Sequence[str],
        max_branches: int,
    ) -> ProbeResult:
        seed = self.compiled.seed if seed is None else seed

        def one(pinned: Pins, traced: bool) -> ProbeResult:
            return run(self.compiled, [request], seed=seed, capture=capture, trace=trace and traced, pins=pinned)[0]

        return _on_every_branch(one, what=what, every_branch=every_branch, backends=backends, max_branches=max_branches)

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

    def transfer(
        self,
        source: str,
        host: str,
        port: int,
        nbytes: int,
        *,
        at: float | str = 0.0,
        seed: int | None = None,
        capture: bool = False,
        every_branch: bool = True,
        backends: Sequence[str] = (),
        max_branches: int = DEFAULT_MAX_BRANCHES,
        progress: Callable[[int], None] | None = None,
    ) -> TransferResult:
        """Send ``nbytes`` over one TCP connection from instance ``source`` to ``host:port``: what
        ``nc HOST PORT < file`` does, every segment simulated (see :mod:`vpcsim.transfer`).

        Branches as :meth:`telnet`: the result is the schedulers' first pick, ``result.branches``
        the transfer over every backend a load balancer on the way may choose. ``progress`` is
        called with the bytes delivered so far."""
        request = self._request(source, host, port, at)
        if type(nbytes) is not int or not 1 <= nbytes <= MAX_TRANSFER_BYTES:
            raise ArgumentError(f"bytes must be an integer 1-{MAX_TRANSFER_BYTES}, not {nbytes!r}")
        seed = self.compiled.seed if seed is None else seed

        def one(pinned: Pins, _traced: bool) -> TransferResult:
            return run_transfer(
                self.compiled,
                source,
                host,
                request.dst,
                port,
                nbytes,
                at=request.at,
                seed=seed,
                pins=pinned,
                capture=capture,
                progress=progress,
            )

        return _on_every_branch(
            one,
            what=f"transfer {source} -> {host}:{port}",
            every_branch=every_branch,
            backends=backends,
            max_branches=max_branches,
        )

    def load(
        self,
        sources: Sequence[str],
        host: str,
        port: int,
        *,
        clients: int,
        rate: float,
        duration: float | str,
        hold: float | str = 0.0,
        nbytes: int = 0,
        at: float | str = 0.0,
        seed: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> LoadResult:
        """``clients`` connections from ``sources`` (taken in turn) to ``host:port``, arriving as a
        Poisson process of ``rate`` per second for at most ``duration``; each holds ``hold`` seconds,
        or sends ``nbytes``, then closes (see :mod:`vpcsim.load`). ``progress`` is called with the
        number of connections that have ended."""
        if not sources:
            raise ArgumentError("no source instances: give at least one")
        requests = [self._request(s, host, port, at) for s in sources]
        if type(clients) is not int or not 1 <= clients <= MAX_CLIENTS:
            raise ArgumentError(f"clients must be an integer 1-{MAX_CLIENTS}, not {clients!r}")
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate <= 1e7:
            raise ArgumentError(
                f"rate must be a number of connections per second, more than 0 and at most 1e7, not {rate!r}"
            )
        try:
            window = duration_value(duration)
            held = duration_value(hold)
        except ValueError as exc:
            raise ArgumentError(f"duration or hold: {exc}") from None
        if not 0 < window <= 86400:
            raise ArgumentError(f"duration must be more than 0 and at most 86400 s, not {duration!r}")
        if held and nbytes:
            raise ArgumentError("give hold or bytes, not both: a connection either holds or sends")
        if type(nbytes) is not int or not 0 <= nbytes <= MAX_TRANSFER_BYTES:
            raise ArgumentError(f"bytes must be an integer 0-{MAX_TRANSFER_BYTES}, not {nbytes!r}")
        return run_load(
            self.compiled,
            [r.source for r in requests],
            host,
            requests[0].dst,
            port,
            clients=clients,
            rate=float(rate),
            duration=window,
            hold=held,
            nbytes=nbytes,
            at=requests[0].at,
            seed=self.compiled.seed if seed is None else seed,
            progress=progress,
        )

    def run_check(
        self, check: Check, *, seed: int | None = None, max_branches: int = DEFAULT_MAX_BRANCHES
    ) -> CheckResult:
        """Run a check on every branch its connection may take."""
        request = self._request(check.source, check.host, check.port, check.at, check.protocol, check.wait)
        result = self._explore(
            request,
            what=f"check {check.name!r}",
            seed=seed,
            capture=False,
            trace=True,
            every_branch=True,
            backends=(),
            max_branches=max_branches,
        )
        return CheckResult(check=check, result=result)

    def run_checks(self, *, seed: int | None = None, max_branches: int = DEFAULT_MAX_BRANCHES) -> list[CheckResult]:
        return [self.run_check(c, seed=seed, max_branches=max_branches) for c in self.topology.checks]


def run(
    net: CompiledNetwork,
    requests: Sequence[Request],
    *,
    seed: int,
    capture: bool = False,
    trace: bool = True,
    pins: Pins | None = None,
) -> list[ProbeResult]:
    """Run connects (source, host as asked, destination address, port, start) in one simulation,
    with load balancers' choices ``pins`` forced."""
    with paused_gc():
        return _run(net, requests, seed=seed, capture=capture, trace=trace, pins=pins)


def _run(
    net: CompiledNetwork,
    requests: Sequence[Request],
    *,
    seed: int,
    capture: bool,
    trace: bool,
    pins: Pins | None,
) -> list[ProbeResult]:
    start = min(r.at for r in requests)
    sim = Simulation(net, seed=seed, start=start, capture=capture, trace=trace, pins=pins)
    env = sim.env
    outcomes = [ConnectOutcome() for _ in requests]
    clients = []
    for i, r in enumerate(requests):
        if r.protocol == "tcp":
            body = connect(sim, r.source, r.dst, r.port, outcomes[i], flow_id=i)
        elif r.protocol == "udp":
            body = exchange(sim, r.source, r.dst, r.port, outcomes[i], r.wait, flow_id=i)
        else:
            body = ping(sim, r.source, r.dst, outcomes[i], r.echoes, r.wait, flow_id=i)
        clients.append(env.process(body if r.at == start else _later(sim, r.at - start, body)))
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
    choices: dict[int, list[Choice]] = {}
    for flow_id, c in sim.choices:
        choices.setdefault(flow_id, []).append(c)
    results = []
    for i, (source, host, dst, port, at, protocol, *_) in enumerate(requests):
        outcome = outcomes[i]
        if outcome.verdict == "no_port":
            raise ArgumentError(f"{source} has no free local port left for {ip_text(dst)}:{port}")
        verdict = Verdict(outcome.verdict)
        outs = per_flow[i]
        reason, detail, blocked_at, ref, decisive = _explain(net, verdict, outs, outcome.at, protocol)
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
                decisive=decisive,
                choices=tuple(choices.get(i, ())),
                protocol=protocol,
            )
        )
    return results


Branched = TypeVar("Branched", ProbeResult, TransferResult)


def _on_every_branch(
    one: Callable[[Pins, bool], Branched],
    *,
    what: str,
    every_branch: bool,
    backends: Sequence[str],
    max_branches: int,
) -> Branched:
    """The first branch (the schedulers' picks, or the pinned ``backends``) with every other branch
    in ``other_branches``; ``one(pins, traced)`` runs one branch as its own simulation."""
    if type(max_branches) is not int or max_branches < 1:  # not a bool either
        raise ArgumentError(f"max_branches must be a positive integer, not {max_branches!r}")
    first = None
    if not backends:
        first = one({}, True)
        if not every_branch or _no_choice(first.choices):
            return first  # no choice on the way: the first branch is the only one
    pins = tuple(BackendPin.parse(b) for b in backends)
    explored = explore(
        one, lambda r: r.choices, what=what, limit=max_branches, pins=pins, first=first, others=every_branch
    )
    head, *others = explored.results
    rest: tuple[Any, ...] = tuple(others)  # the same type as head, which mypy cannot see through replace()
    return replace(head, other_branches=rest)


def _no_choice(choices: tuple[Choice, ...]) -> bool:
    """Whether every load balancer met had one candidate (a loop: the common case is cheap)."""
    for c in choices:  # noqa: SIM110 - all() over a generator costs a frame per check
        if len(c.candidates) > 1:
            return False
    return True


def _later(sim: Simulation, delay: float, body: Generator[Any, Any, None]) -> Generator[Any, Any, None]:
    yield sim.env.timeout(delay)
    yield from body


ANSWER_KIND = {"tcp": "SYN-ACK", "udp": "UDP", "icmp": "ECHO-REPLY"}
"""The answer that ends a probe of each protocol well."""
REFUSAL_KIND = {"tcp": "RST", "udp": "UNREACHABLE"}


def _explain(
    net: CompiledNetwork, verdict: Verdict, outs: list[Outcome], decided: float, protocol: str = "tcp"
) -> tuple[Reason, str, str | None, str, int]:
    """The reason code, the sentence, where it was decided, what to look at and the index of the
    deciding packet, from typed steps (``decided``: when the probe returned)."""
    request = REQUEST_KIND[protocol]
    if verdict in (Verdict.CONNECTED, Verdict.ANSWERED):
        kind = ANSWER_KIND[protocol]
        a = next(
            a
            for a in range(len(outs) - 1, -1, -1)
            if outs[a].kind == kind and outs[a].attempt == 0 and outs[a].reason is None
        )
        reason = Reason.ESTABLISHED if protocol == "tcp" else Reason.ANSWERED
        return reason, explain.connected(outs[a]), None, "", _answered(outs, a, request)
    if verdict is Verdict.REFUSED:
        kind = REFUSAL_KIND[protocol]
        a = next(a for a in range(len(outs) - 1, -1, -1) if outs[a].kind == kind)
        rst = outs[a]
        return Reason.PORT_CLOSED, explain.refused(rst), rst.origin, rst.origin, _answered(outs, a, request)
    # The last attempt decides: its request's drop, else the drop of an answer sent after it.
    last = max(i for i, o in enumerate(outs) if o.kind == request and o.attempt > 0)
    k = next((k for k in range(last, len(outs)) if outs[k].reason is not None), None)
    if k is None:
        syn = outs[last]
        look = "settings.tcp" if protocol == "tcp" else "the wait (--wait, -W, or the check's wait)"
        return Reason.NO_ANSWER_IN_TIME, explain.no_answer(syn), syn.last_node, look, last
    out = outs[k]
    assert out.reason is not None
    data = out.last.data
    peer = missing = activation = None
    if isinstance(data, Denied):
        peer = _peer(net, out.arrived_at, data)
        missing = _missing_accept(data, peer)
    elif isinstance(data, Inactive):
        activation = _activation(net, data, decided)
    detail, ref = explain.dropped(out, peer=peer, missing=missing, activation=activation)
    return out.reason, detail, out.last_node, ref, k


def _answered(outs: list[Outcome], k: int, request: str = "SYN") -> int:
    """The request whose delivery made the host send answer ``outs[k]``: delivered to that host at
    the moment the answer left."""
    answer = outs[k]
    for i in range(k - 1, -1, -1):
        o = outs[i]
        if o.kind == request and o.reason is None and o.last_node == answer.origin and o.arrived_at == answer.sent_at:
            return i
    return k  # pragma: no cover - every answer follows the SYN it answers


def _peer(net: CompiledNetwork, at: float, d: Denied) -> Peer | None:
    """What owns the address a filter denied, in the forwarding state of the moment it did."""
    if not d.peer:
        return None
    address = int(IPv4Address(d.peer))
    own = f"{d.peer}/32"
    nodes = net.state_at(at).nodes.values()
    for node in nodes:
        if isinstance(node, Translator | Balancer) and node.snat_address == address:
            return Peer(d.peer, node.label, node.id, node.snat_label, node.snat_pool or own)
    for node in nodes:
        if isinstance(node, Host | Balancer | Translator) and node.address == address:
            return Peer(d.peer, node.label, admit=own)
    return Peer(d.peer, "", admit=own)


def _missing_accept(d: Denied, peer: Peer | None) -> MissingAccept | None:
    """The accept a filter lacks when nothing more specific than a catch-all decided: the default
    deny, or a drop rule over every port of the packet's protocol whose peer covers the whole range
    an accept should admit. A narrower drop rule is a deliberate denial: the rule is what to look at."""
    if peer is None:
        return None
    m = d.match
    if isinstance(m, NoRuleMatch):
        if not m.groups:
            return None  # nothing bound: there is no group to add an accept to
        return MissingAccept(m.groups[0], d.direction, d.protocol, d.port, peer.admit, None)
    every_port = m.protocol == "all" or (m.low == 1 and m.high == 65535)
    if m.accept or not every_port or not IPv4Network(peer.admit).subnet_of(IPv4Network(m.peer)):
        return None
    return MissingAccept(m.group, d.direction, d.protocol, d.port, peer.admit, m.number)


def _activation(net: CompiledNetwork, d: Inactive, decided: float) -> Activation | None:
    """The control-plane change after ``decided`` that makes the node that dropped forward, if the
    forwarding states hold one: when the change starts (the state before forwarding begins) and when
    the node forwards. None when it never forwards later, or the change began before ``decided``
    (the probe's own control-plane events report that)."""
    current = net.state_at(decided).nodes.get(d.node)
    if not isinstance(current, Translator) or current.active:
        return None
    state, began = current.state, None
    for s in net.states:
        if s.time <= decided:
            continue
        node = s.nodes.get(d.node)
        if not isinstance(node, Translator):
            return None
        if node.active:
            if began is None and current.state != d.state:
                return None
            return Activation(d.node, s.time if began is None else began, s.time)
        if node.state != state:
            state, began = node.state, s.time
    return None
