"""UDP and ICMP as Linux does them for ``nc -u`` and ``ping``, and what a host's kernel answers.

A client's connected UDP socket sends one datagram and waits: an answer from the peer it dialled
ends it ``answered``; an ICMP port unreachable quoting its datagram ends it ``refused``
(ECONNREFUSED); nothing, ``timeout``. ``ping`` sends echo requests one second apart and is
``answered`` when any echo reply with its identifier comes back before its deadline.

A server with a UDP listener on the port echoes the datagram back; without one its kernel answers
ICMP port unreachable. Every host answers an echo request (``net.ipv4.icmp_echo_ignore_all=0``).
"""

from __future__ import annotations

from collections.abc import Generator
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from vpcsim.sim.packet import ECHO_REPLY, ECHO_REQUEST, ICMP, PORT_UNREACHABLE, UDP, Header
from vpcsim.sim.tcp import ConnectOutcome
from vpcsim.trace import Cause, Originated

if TYPE_CHECKING:
    from vpcsim.sim.engine import Simulation

PING_INTERVAL = 1.0
"""Seconds between ping's echo requests (its default ``-i 1``)."""


class Waiting(NamedTuple):
    """A client socket waiting: the peer it dialled and the event its answer fires."""

    wake: Any
    peer: int
    peer_port: int
    flow_id: int
    outcome: ConnectOutcome | None = None
    """Ping's outcome: its first reply marks it answered when it arrives."""


def exchange(
    sim: Simulation, client: str, dst: int, dport: int, outcome: ConnectOutcome, wait: float, flow_id: int = 0
) -> Generator[Any, Any, None]:
    """``nc -u -w WAIT HOST PORT``: one datagram from a connected socket, then wait for an answer."""
    env = sim.env
    src = sim.net.addresses[client]
    sport = sim.ephemeral.allocate(src, dst, dport)
    if sport is None:
        outcome.verdict, outcome.at = "no_port", env.now
        return
    outcome.sport, outcome.attempts = sport, 1
    wake = env.event()
    sim.sockets[(client, UDP, sport)] = Waiting(wake, dst, dport, flow_id)
    sim.send(
        Header(src, dst, sport, dport, 0, 0, 0, 64, UDP),
        client,
        Originated(client, "UDP", Cause.DATAGRAM, dport, "udp"),
        attempt=1,
        flow_id=flow_id,
    )
    timer = env.timeout(wait)
    timer.callbacks.append(partial(_expire, wake))
    answer = yield wake
    del sim.sockets[(client, UDP, sport)]
    outcome.at = env.now
    if answer is None:
        outcome.verdict = "timeout"
    else:
        outcome.verdict = "refused" if answer.proto == ICMP else "answered"


def ping(
    sim: Simulation,
    client: str,
    dst: int,
    outcome: ConnectOutcome,
    count: int,
    wait: float,
    flow_id: int = 0,
) -> Generator[Any, Any, None]:
    """``ping -c COUNT -W WAIT HOST``: echo requests a second apart; answered at the first reply.

    Like Linux ping, it stops once every request is answered, or ``WAIT`` after the last request.
    """
    env = sim.env
    src = sim.net.addresses[client]
    ident = sim.rng.randint(1, 0xFFFF)
    wake = env.event()
    # An echo socket has no peer port: it holds how many replies end the ping early.
    sim.sockets[(client, ICMP, ident)] = Waiting(wake, dst, count, flow_id, outcome)
    outcome.sport = ident
    for seq in range(1, count + 1):
        outcome.attempts = seq
        sim.send(
            Header(src, dst, ident, ident, ECHO_REQUEST, seq, 0, 64, ICMP),
            client,
            Originated(client, "ECHO", Cause.ECHO, seq, "icmp"),
            attempt=seq,
            flow_id=flow_id,
        )
        if seq < count:
            yield env.timeout(PING_INTERVAL)
    if outcome.answers < count:
        timer = env.timeout(wait)
        timer.callbacks.append(partial(_expire, wake))
        yield wake
    del sim.sockets[(client, ICMP, ident)]
    if outcome.verdict == "answered":
        return
    outcome.verdict, outcome.at = "timeout", env.now


def _expire(wake: Any, _timer: Any) -> None:
    if not wake.triggered:
        wake.succeed(None)


def answer_udp(sim: Simulation, host: str, h: Header, flow_id: int) -> None:
    """A datagram delivered to ``host``: a client socket's answer, or a server's request."""
    waiting = sim.sockets.get((host, UDP, h.dport))
    if waiting is not None:
        # A connected socket takes datagrams from the peer it dialled only.
        if (h.src, h.sport) == (waiting.peer, waiting.peer_port) and not waiting.wake.triggered:
            waiting.wake.succeed(h)
        return
    node = sim.host(host)
    if (UDP, h.dport) in node.listening:
        sim.send(
            Header(h.dst, h.src, h.dport, h.sport, 0, 0, 0, 64, UDP),
            host,
            Originated(host, "UDP", Cause.LISTENING, h.dport, "udp"),
            attempt=0,
            flow_id=flow_id,
        )
        return
    sim.send(
        Header(h.dst, h.src, 0, 0, PORT_UNREACHABLE, 0, 0, 64, ICMP, h),
        host,
        Originated(host, "UNREACHABLE", Cause.CLOSED, h.dport, "udp"),
        attempt=0,
        flow_id=flow_id,
    )


def answer_icmp(sim: Simulation, host: str, h: Header, flow_id: int) -> None:
    """An ICMP message delivered to ``host``: echo requests are answered; replies and errors go to
    the socket they are for."""
    if h.flags == ECHO_REQUEST:
        sim.send(
            Header(h.dst, h.src, h.sport, h.dport, ECHO_REPLY, h.seq, 0, 64, ICMP),
            host,
            Originated(host, "ECHO-REPLY", Cause.ECHO_REPLY, h.seq, "icmp"),
            attempt=0,
            flow_id=flow_id,
        )
        return
    if h.flags == ECHO_REPLY:
        waiting = sim.sockets.get((host, ICMP, h.dport))
        outcome = waiting.outcome if waiting is not None else None
        if waiting is None or outcome is None or h.src != waiting.peer:
            return
        if outcome.answers == 0:
            outcome.verdict, outcome.at = "answered", sim.env.now
        outcome.answers += 1
        # Like ping, stop once every request is answered (it would wait out the deadline otherwise).
        if outcome.answers >= waiting.peer_port and not waiting.wake.triggered:
            waiting.wake.succeed(h)
        return
    inner = h.inner
    if h.flags == PORT_UNREACHABLE and inner is not None and inner.proto == UDP:
        waiting = sim.sockets.get((host, UDP, inner.sport))
        # Linux reports the error on the socket whose datagram it quotes (ECONNREFUSED).
        quotes_it = waiting is not None and (inner.dst, inner.dport) == (waiting.peer, waiting.peer_port)
        if quotes_it and waiting is not None and not waiting.wake.triggered:
            waiting.wake.succeed(h)
