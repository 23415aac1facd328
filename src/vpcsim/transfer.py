"""``transfer``: one TCP connection that sends N bytes, with every segment walking the network.

The client connects, writes ``nbytes`` and closes (as ``nc HOST PORT < file`` does); the server reads
everything and closes when the client's FIN arrives. What comes out is what a performance engineer
measures: when connect() returned, when the last byte reached the server, the goodput, every RTT
sample and congestion-window change, retransmissions, and how busy each capped link and gateway was.
Nothing is computed from a formula: every number is read off the simulation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vpcsim.branches import Pins
from vpcsim.ir import CompiledNetwork
from vpcsim.scenario.pause import paused_gc
from vpcsim.sim import Capture, Simulation
from vpcsim.sim.connection import Connection
from vpcsim.sim.engine import queue_name
from vpcsim.sim.packet import ip_text
from vpcsim.trace import Choice, Reason


@dataclass(frozen=True, slots=True)
class QueueUse:
    """What one FIFO (a link's, a gateway's) did during the transfer."""

    name: str
    busy: float
    """Seconds spent serving packets."""
    utilisation: float
    """``busy`` over the transfer's duration (0..1)."""
    carried: int
    dropped: int
    peak: int
    """The most packets waiting at once."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferResult:
    source: str
    host: str
    address: str
    port: int
    bytes: int
    started_at: float
    outcome: str
    """``completed`` (every byte delivered and the connection closed), ``refused``, ``timeout``
    (connect() or the data gave up), ``reset``."""
    reason: Reason | None
    """For anything but ``completed``: the reason of the first drop of this connection (or
    ``no_answer_in_time`` when nothing was dropped)."""
    connect_time: float
    """Seconds from the SYN until connect() returned."""
    completion_time: float
    """Seconds from the SYN until the last byte reached the server (0 when it never did)."""
    goodput_bps: float
    """Bytes delivered × 8 over the time from connect() returning to the last byte delivered."""
    delivered: int
    retransmissions: int
    timeouts: int
    fast_retransmits: int
    mss: int
    rtt_samples: tuple[tuple[float, float], ...]
    """(seconds since start, RTT seconds) at the sender."""
    cwnd: tuple[tuple[float, int], ...]
    """(seconds since start, congestion window in bytes) at every change."""
    progress: tuple[tuple[float, int], ...]
    """(seconds since start, bytes delivered in order to the server) at every advance."""
    queues: tuple[QueueUse, ...]
    drops: dict[str, int]
    """Packets of this transfer dropped, by reason."""
    duration: float
    """Seconds simulated, from the SYN until both ends closed (or gave up)."""
    choices: tuple[Choice, ...] = ()
    captures: tuple[Capture, ...] = ()
    other_branches: tuple[TransferResult, ...] = ()

    @property
    def completed(self) -> bool:
        return self.outcome == "completed"

    @property
    def branches(self) -> tuple[TransferResult, ...]:
        return (self, *self.other_branches)


def run_transfer(
    net: CompiledNetwork,
    source: str,
    host: str,
    dst: int,
    port: int,
    nbytes: int,
    *,
    at: float,
    seed: int,
    pins: Pins | None = None,
    capture: bool = False,
    progress: Callable[[int], None] | None = None,
) -> TransferResult:
    """Send ``nbytes`` from ``source`` to ``dst:port`` starting at ``at``, in one simulation."""
    with paused_gc():
        return _run(net, source, host, dst, port, nbytes, at, seed, pins, capture, progress)


def _run(
    net: CompiledNetwork,
    source: str,
    host: str,
    dst: int,
    port: int,
    nbytes: int,
    at: float,
    seed: int,
    pins: Pins | None,
    capture: bool,
    progress: Callable[[int], None] | None,
) -> TransferResult:
    sim = Simulation(net, seed=seed, start=at, capture=capture, trace=False, pins=pins, outcomes=False)
    sim.streams = True
    env = sim.env
    done = env.event()
    servers: list[Connection] = []

    def finished(_conn: Connection) -> None:
        client_over = client.state.value in ("TIME_WAIT", "CLOSED")
        servers_over = all(not s.alive for s in servers)
        if client_over and (servers_over or client.error) and not done.triggered:
            done.succeed()

    def established(conn: Connection) -> None:
        conn.write(nbytes)
        conn.close()

    opened = Connection.open(sim, source, dst, port, 0)
    if opened is None:  # pragma: no cover - a fresh simulation always has a port
        raise RuntimeError("no local port")
    client = opened
    client.on_established = established
    client.on_closed = finished

    def accepted(conn: Connection) -> None:
        servers.append(conn)
        conn.on_closed = finished
        if progress is not None:
            conn.on_delivered = lambda c: progress(c.delivered)

    sim.on_accept = accepted
    env.run(until=done)
    sim.drain()
    end = env.now
    server = servers[-1] if servers else None
    delivered = server.delivered if server is not None else 0
    last = server.progress[-1][0] if server is not None and server.progress else None
    connected_at = client.established_at
    outcome = "completed" if delivered == nbytes and not client.error else (client.error or "timeout")
    drops = {r.value: n for r, n in sim.drops.items()}
    first = next(iter(sim.first_drop.values()), None)
    reason = None
    if outcome == "refused":
        reason = Reason.PORT_CLOSED
    elif outcome != "completed":
        reason = first or Reason.NO_ANSWER_IN_TIME
    duration = end - at
    queues = tuple(
        QueueUse(queue_name(k), q.busy, q.busy / duration if duration else 0.0, q.carried, q.dropped, q.peak)
        for k, q in sim.queues.items()
    )
    goodput = 0.0
    if last is not None and connected_at is not None and last > connected_at:
        goodput = delivered * 8 / (last - connected_at)
    result = TransferResult(
        source=source,
        host=host,
        address=ip_text(dst),
        port=port,
        bytes=nbytes,
        started_at=at,
        outcome=outcome,
        reason=reason,
        connect_time=(connected_at if connected_at is not None else client.closed_at or end) - at,
        completion_time=(last - at) if last is not None and delivered == nbytes else 0.0,
        goodput_bps=goodput,
        delivered=delivered,
        retransmissions=client.retransmissions,
        timeouts=client.timeouts,
        fast_retransmits=client.fast_retransmits,
        mss=client.mss,
        rtt_samples=tuple((t - at, r) for t, r in client.rtt_samples),
        cwnd=tuple((t - at, w) for t, w in client.cwnd_log),
        progress=tuple((t - at, n) for t, n in server.progress) if server is not None else (),
        queues=queues,
        drops=drops,
        duration=duration,
        choices=tuple(c for _, c in sim.choices),
        captures=tuple(sim.captures or ()),
    )
    for conn in (client, *servers):
        conn.on_established = conn.on_closed = conn.on_delivered = None
    sim.close()
    return result
