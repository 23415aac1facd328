"""TCP as Linux does it for ``connect()``: SYN, retries on a doubling RTO, SYN-ACK completes,
RST refuses; a listening server answers SYN-ACK and a closed port answers RST.

The client is a SimPy process because it really waits (its retransmission timer); the server
answers when a segment is delivered to it, as a kernel does.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from vpcsim.sim.connection import accept
from vpcsim.sim.packet import ACK, FIN, RST, RST_ACK, SYN, SYN_ACK, TCP, Header
from vpcsim.trace import Cause, Originated

if TYPE_CHECKING:
    from vpcsim.sim.engine import Simulation


class Pending(NamedTuple):
    """A connect() waiting for its answer: what a valid SYN-ACK or RST must look like."""

    wake: Any
    peer: int
    peer_port: int
    ack: int
    flow_id: int


@dataclass(slots=True)
class ConnectOutcome:
    """How ``connect()`` returned: ``connected``, ``refused`` or ``timeout``, and when.

    ``no_port`` when the client had no free local port for the destination (``EADDRNOTAVAIL``).
    """

    verdict: str = "pending"
    at: float = 0.0
    attempts: int = 0
    sport: int = 0
    answers: int = 0
    """Echo replies a ping received."""


def connect(
    sim: Simulation, client: str, dst: int, dport: int, outcome: ConnectOutcome, flow_id: int = 0
) -> Generator[Any, Any, None]:
    """The client side of a TCP handshake, as a SimPy process body."""
    env = sim.env
    net = sim.net
    src = net.addresses[client]
    sport = sim.ephemeral.allocate(src, dst, dport)
    if sport is None:
        outcome.verdict, outcome.at = "no_port", env.now
        return
    outcome.sport = sport
    isn = sim.rng.getrandbits(32)
    syn = Header(src, dst, sport, dport, SYN, isn, 0)
    rto = net.initial_rto
    for attempt in range(1, net.syn_retries + 2):
        # One event per attempt, fired by the answer or by the retransmission timer, whichever
        # comes first: cheaper than a SimPy condition over two events.
        wake = env.event()
        sim.sockets[(client, TCP, sport)] = Pending(wake, dst, dport, isn + 1, flow_id)
        outcome.attempts = attempt
        cause = Originated(client, "SYN", Cause.CONNECT) if attempt == 1 else _retransmission(client, attempt - 1)
        sim.send(syn, client, cause, attempt=attempt, flow_id=flow_id)
        timer = env.timeout(rto)
        timer.callbacks.append(partial(_expire, wake))
        answer = yield wake
        if answer is not None:
            assert isinstance(answer, Header)
            del sim.sockets[(client, TCP, sport)]
            outcome.at = env.now
            if answer.flags & 0x04:
                outcome.verdict = "refused"
                return
            outcome.verdict = "connected"
            sim.send(
                Header(src, dst, sport, dport, ACK, isn + 1, answer.seq + 1),
                client,
                Originated(client, "ACK", Cause.HANDSHAKE),
                attempt=attempt,
                flow_id=flow_id,
            )
            return
        rto *= 2
    sim.sockets.pop((client, TCP, sport), None)
    outcome.verdict = "timeout"
    outcome.at = env.now


def _retransmission(client: str, number: int) -> Originated:
    return Originated(client, "SYN", Cause.RETRANSMISSION, number)


def _expire(wake: Any, _timer: Any) -> None:
    if not wake.triggered:
        wake.succeed(None)


def answer(sim: Simulation, host: str, h: Header, flow_id: int) -> None:
    """What the kernel of ``host`` does with a delivered TCP segment (of flow ``flow_id``)."""
    if sim.connections:
        conn = sim.connections.get((host, h.dport, h.src, h.sport))
        if conn is not None:
            conn.receive(h)
            return
    if h.flags == SYN:
        node = sim.host(host)
        if sim.streams and (h.proto, h.dport) in node.listening:
            accept(sim, host, h, flow_id)
            return
        if (h.proto, h.dport) in node.listening:
            isn = sim.rng.getrandbits(32)
            sim.send(
                Header(h.dst, h.src, h.dport, h.sport, SYN_ACK, isn, h.seq + 1),
                host,
                Originated(host, "SYN-ACK", Cause.LISTENING, h.dport),
                attempt=0,
                flow_id=flow_id,
            )
        else:
            sim.send(
                Header(h.dst, h.src, h.dport, h.sport, RST_ACK, 0, h.seq + 1),
                host,
                Originated(host, "RST", Cause.CLOSED, h.dport),
                attempt=0,
                flow_id=flow_id,
            )
        return
    pending = sim.sockets.get((host, TCP, h.dport))
    if pending is None and sim.streams and not h.flags & RST:
        # No socket: the kernel answers RST (a segment of a connection it no longer has).
        ack = h.seq + h.length + (1 if h.flags & (SYN | FIN) else 0)
        sim.send(
            Header(h.dst, h.src, h.dport, h.sport, RST_ACK, h.ack, ack),
            host,
            Originated(host, "RST", Cause.CLOSED, h.dport),
            attempt=0,
            flow_id=flow_id,
        )
        return
    if pending is None or pending.wake.triggered or h.flags not in (SYN_ACK, RST_ACK):
        return
    # Linux completes (or refuses) the connect only for an answer from the peer it dialled that
    # acknowledges its SYN (tcp_rcv_synsent_state_process); anything else never reaches connect().
    if (h.src, h.sport, h.ack) == (pending.peer, pending.peer_port, pending.ack):
        pending.wake.succeed(h)
