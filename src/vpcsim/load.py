"""``load``: many clients connecting at Poisson arrivals, each holding its connection or sending
some bytes, then closing, all in one simulation.

Clients share the network as real ones do: load balancers schedule them (weighted round robin,
least connections over the connections open at that moment), gateways count their sessions against
their limits, queues fill. What comes out is read off that one run: how many connected and when,
connect-latency percentiles, how the load balancers spread the connections, how many sessions each
gateway and load balancer held over time, and every drop by its reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vpcsim.ir import Balancer, CompiledNetwork, Translator
from vpcsim.scenario.pause import paused_gc
from vpcsim.sim import Simulation
from vpcsim.sim.connection import Connection
from vpcsim.sim.packet import ip_text
from vpcsim.sim.rng import SplitMix64
from vpcsim.trace import Reason

ARRIVALS_STREAM = 0x6C6F6164  # "load": arrivals draw from their own stream, apart from ports and ISNs
SAMPLES = 200
"""Occupancy samples over the arrival window."""


@dataclass(frozen=True, slots=True)
class Percentiles:
    """Seconds (nearest rank); all 0.0 with ``count`` 0 when nothing was measured."""

    p50: float
    p90: float
    p99: float
    max: float
    count: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Percentiles:
        if not values:
            return cls(0.0, 0.0, 0.0, 0.0, 0)
        ordered = sorted(values)

        def rank(q: float) -> float:  # nearest rank
            return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

        return cls(rank(0.50), rank(0.90), rank(0.99), ordered[-1], len(ordered))


@dataclass(frozen=True, slots=True)
class Spread:
    """How one listener of a load balancer spread the connections it scheduled."""

    balancer: str
    listener: str
    scheduler: str
    counts: dict[str, int]
    """Backend (``instance:port``) → connections scheduled to it."""
    weights: dict[str, int]
    peak_open: dict[str, int]
    """Backend → the most connections it had open at once."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadResult:
    sources: tuple[str, ...]
    host: str
    address: str
    port: int
    clients: int
    """Connections asked for."""
    started: int
    """Connections opened (arrivals within the duration)."""
    outcomes: dict[str, int]
    """``connected``, ``refused``, ``timeout``, ``reset``, ``no_port`` → connections."""
    failures: dict[str, int]
    """Reason of the first drop of each connection that did not connect → connections."""
    drops: dict[str, int]
    """Reason → packets dropped (every packet of the run)."""
    connect: Percentiles
    """connect() latency of the connections that connected."""
    completion: Percentiles
    """With ``bytes``: from the SYN until everything written was acknowledged."""
    connection_rate: float
    """Connections established per second over the arrival window."""
    arrival_window: float
    duration: float
    """Seconds simulated until the last connection ended."""
    spread: tuple[Spread, ...]
    occupancy: dict[str, tuple[tuple[float, int], ...]]
    """Gateway or load balancer → (seconds since start, sessions open) samples."""
    peak_sessions: dict[str, int]
    opened_sessions: dict[str, int]
    hold: float = 0.0
    bytes: int = 0


def run_load(
    net: CompiledNetwork,
    sources: Sequence[str],
    host: str,
    dst: int,
    port: int,
    *,
    clients: int,
    rate: float,
    duration: float,
    hold: float = 0.0,
    nbytes: int = 0,
    at: float = 0.0,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> LoadResult:
    """Open ``clients`` connections from ``sources`` (in turn) to ``dst:port``, arriving as a Poisson
    process of ``rate`` a second from ``at`` (no arrival after ``at + duration``); each holds for
    ``hold`` seconds, or writes ``nbytes``, then closes."""
    with paused_gc():
        return _run(net, sources, host, dst, port, clients, rate, duration, hold, nbytes, at, seed, progress)


def _run(
    net: CompiledNetwork,
    sources: Sequence[str],
    host: str,
    dst: int,
    port: int,
    clients: int,
    rate: float,
    duration: float,
    hold: float,
    nbytes: int,
    at: float,
    seed: int,
    progress: Callable[[int], None] | None,
) -> LoadResult:
    sim = Simulation(net, seed=seed, start=at, trace=False, outcomes=False)
    sim.streams = True
    env = sim.env
    arrivals = SplitMix64(seed ^ ARRIVALS_STREAM)
    started = [0]  # connections are not kept: a load may open millions
    outcome: dict[int, str] = {}
    latency: list[float] = []
    completion: list[float] = []
    live = [0]
    ended = [0]
    done = env.event()
    arrivals_over = [False]
    last_arrival = [at]
    end_at = at + duration

    def closed(conn: Connection) -> None:
        live[0] -= 1
        ended[0] += 1
        if conn.established_at is None:
            outcome[conn.flow_id] = conn.error or "timeout"
        if progress is not None:
            progress(ended[0])
        if arrivals_over[0] and not live[0] and not done.triggered:
            done.succeed()

    def established(conn: Connection) -> None:
        outcome[conn.flow_id] = "connected"
        latency.append(conn.established_at - conn.started_at if conn.established_at is not None else 0.0)
        if nbytes:
            conn.write(nbytes)
            conn.close()
        else:
            env.timeout(hold).callbacks.append(lambda _e: conn.close())

    def acked(conn: Connection) -> None:
        if conn.acked_at is not None:
            completion.append(conn.acked_at - conn.started_at)

    def arrive() -> object:
        t = at
        for i in range(clients):
            u = (arrivals.next64() >> 11) * (1.0 / (1 << 53))  # uniform in [0, 1)
            t += -math.log(1.0 - u) / rate
            if t > end_at:
                break
            yield env.timeout(t - env.now)
            last_arrival[0] = t
            conn = Connection.open(sim, sources[i % len(sources)], dst, port, i)
            started[0] += 1
            if conn is None:
                outcome[i] = "no_port"
                ended[0] += 1
                continue
            live[0] += 1
            conn.on_established = established
            conn.on_closed = closed
            if nbytes:
                conn.on_closed = _both(acked, closed)
        arrivals_over[0] = True
        if not live[0] and not done.triggered:
            done.succeed()

    nodes = [n for n in net.state_at(at).nodes.values() if isinstance(n, Translator | Balancer)]
    occupancy: dict[str, list[tuple[float, int]]] = {n.id: [] for n in nodes}
    peak_open: dict[tuple[tuple[str, str], str], int] = {}
    step = max(duration / SAMPLES, 1e-3)

    def sample() -> object:
        while not done.triggered:
            now = env.now
            for n in nodes:
                occupancy[n.id].append((now - at, sim.sessions.live.get(n.id, 0)))
            for key, count in sim.sessions.active.items():
                if count > peak_open.get(key, 0):
                    peak_open[key] = count
            yield env.timeout(step)

    env.process(arrive())  # type: ignore[arg-type]
    env.process(sample())  # type: ignore[arg-type]
    env.run(until=done)
    sim.drain()
    failures: dict[str, int] = {}
    first = sim.first_drop
    drops = {r.value: n for r, n in sim.drops.items()}
    counts: dict[str, int] = {}
    for i, verdict in outcome.items():
        counts[verdict] = counts.get(verdict, 0) + 1
        if verdict != "connected":
            why = Reason.PORT_CLOSED if verdict == "refused" else first.get(i, Reason.NO_ANSWER_IN_TIME)
            failures[why.value] = failures.get(why.value, 0) + 1
    window = last_arrival[0] - at
    result = LoadResult(
        sources=tuple(sources),
        host=host,
        address=ip_text(dst),
        port=port,
        clients=clients,
        started=started[0],
        outcomes=counts,
        failures=failures,
        drops=drops,
        connect=Percentiles.of(latency),
        completion=Percentiles.of(completion),
        connection_rate=counts.get("connected", 0) / window if window else 0.0,
        arrival_window=window,
        duration=env.now - at,
        spread=_spread(net, at, sim, peak_open),
        occupancy={k: tuple(v) for k, v in occupancy.items()},
        peak_sessions={k: max((n for _, n in v), default=0) for k, v in occupancy.items()},
        opened_sessions={n.id: sim.sessions.opened.get(n.id, 0) for n in nodes},
        hold=hold,
        bytes=nbytes,
    )
    sim.close()  # millions of records: freed now, not walked by the cyclic collector
    return result


def _both(a: Callable[[Connection], None], b: Callable[[Connection], None]) -> Callable[[Connection], None]:
    def call(conn: Connection) -> None:
        a(conn)
        b(conn)

    return call


def _spread(
    net: CompiledNetwork, at: float, sim: Simulation, peak_open: dict[tuple[tuple[str, str], str], int]
) -> tuple[Spread, ...]:
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for _, c in sim.choices:
        if c.kind != "backend":
            continue
        per = counts.setdefault((c.balancer, c.listener), {})
        per[c.backend] = per.get(c.backend, 0) + 1
    out = []
    nodes = net.state_at(at).nodes
    for (lb_id, listener_id), per in sorted(counts.items()):
        lb = nodes[lb_id]
        assert isinstance(lb, Balancer)
        listener = next(lst for lst in lb.listeners.values() if lst.id == listener_id)
        weights = {b.key: b.weight for b in listener.backends}
        out.append(
            Spread(
                lb_id,
                listener_id,
                listener.scheduler,
                dict(sorted(per.items())),
                weights,
                {b: peak_open.get(((lb_id, listener_id), b), 0) for b in weights},
            )
        )
    return tuple(out)
