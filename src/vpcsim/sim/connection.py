"""A TCP connection that carries data: handshake, bulk transfer, teardown, as a Linux host does it.

Every segment walks the network like any other packet (translators, load balancers, queues), and
the connection reacts to what arrives, when it arrives. What is modelled (docs/tcp.md says where
each choice comes from):

- Handshake: SYN with MSS and window-scale options, SYN-ACK, ACK; SYN retransmissions on a doubling
  timer (``syn_retries``), SYN-ACK retransmissions (``synack_retries``). The MSS is the smaller of
  what each side offers (MTU - 40), after gateways on the way clamp it to their links' MTU.
- Sending: at most ``min(cwnd, peer's window)`` bytes in flight, full-sized segments.
- Congestion control: slow start from ``initial_window`` segments, Reno or CUBIC congestion
  avoidance (:mod:`vpcsim.sim.congestion`), fast retransmit on the third duplicate ACK and NewReno
  fast recovery (RFC 6582: window inflation, partial ACKs retransmit the next hole).
- Retransmission timer: RFC 6298 with Linux's floor (``RTO = SRTT + max(4 RTTVAR, min_rto)``), one
  RTT sample per round trip, none from retransmitted data (Karn), exponential backoff to
  ``max_rto``, go-back-N from the first unacknowledged byte, the connection dropped after
  ``retries`` expiries in a row.
- Receiving: cumulative ACKs; out-of-order segments are kept and answered by an immediate
  duplicate ACK; in-order data is acknowledged every second full segment or after ``delayed_ack``;
  the advertised window is ``receive_window`` less what waits out of order (the application reads
  at once), scaled by ``window_scale``.
- Teardown: FIN each way; the side that closes first waits in TIME_WAIT for ``time_wait`` before its
  port is free again. An RST ends the connection at once.

Not modelled: SACK, timestamps, PRR, RACK, HyStart, pacing, Nagle (every segment is full until the
last), receive-buffer autotuning, urgent data, simultaneous open.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING

from vpcsim.sim.congestion import ALGORITHMS
from vpcsim.sim.packet import ACK, FIN, PSH, RST, SYN, SYN_ACK, TCP, Header
from vpcsim.sim.spans import Spans
from vpcsim.trace import Cause, Originated

if TYPE_CHECKING:
    from vpcsim.sim.engine import Simulation

MAX_WINDOW_FIELD = 0xFFFF


class State(StrEnum):
    SYN_SENT = "SYN_SENT"
    SYN_RECV = "SYN_RECV"
    ESTABLISHED = "ESTABLISHED"
    FIN_WAIT_1 = "FIN_WAIT_1"
    FIN_WAIT_2 = "FIN_WAIT_2"
    CLOSING = "CLOSING"
    TIME_WAIT = "TIME_WAIT"
    CLOSE_WAIT = "CLOSE_WAIT"
    LAST_ACK = "LAST_ACK"
    CLOSED = "CLOSED"


ConnKey = tuple[str, int, int, int]
"""(host, local port, remote address, remote port): how a host finds a connection's segments."""


class Connection:
    """One end of a TCP connection on ``host``. A client is made by :meth:`open`, a server end by a
    listening host's stack when a SYN arrives (:func:`vpcsim.sim.tcp.answer`).

    The application drives it with :meth:`write` and :meth:`close`; it learns what happens through
    the callbacks ``on_established``, ``on_delivered`` (in-order bytes received) and ``on_closed`` (with ``error``: ``""``, ``refused``,
    ``timeout`` or ``reset``).
    """

    # Slots: a load holds two per connection, a million at once.
    __slots__ = (
        "_delack_due",
        "_rto_due",
        "_rto_gen",
        "acked_at",
        "app_end",
        "attempts",
        "cc",
        "cfg",
        "client",
        "closed_at",
        "cwnd_log",
        "delack_at",
        "delivered",
        "dupacks",
        "error",
        "established_at",
        "expiries",
        "fast_retransmits",
        "fin_received",
        "fin_wanted",
        "flow_id",
        "host",
        "iss",
        "key",
        "last_ooo",
        "local",
        "local_port",
        "mss",
        "offered_edge",
        "on_closed",
        "on_delivered",
        "on_established",
        "ooo",
        "peer_fin",
        "peer_scale",
        "progress",
        "rcv_nxt",
        "recover",
        "recovering",
        "released",
        "remote",
        "remote_port",
        "rescued",
        "resend_from",
        "resent_marks",
        "retransmissions",
        "rexmit",
        "rto",
        "rto_at",
        "rtt_samples",
        "rttvar",
        "sack_ok",
        "sacked",
        "scaling",
        "sim",
        "snd_max",
        "snd_nxt",
        "snd_una",
        "snd_wnd",
        "srtt",
        "started_at",
        "state",
        "timed",
        "timeouts",
        "ts_ok",
        "unacked_segments",
    )

    def __init__(
        self,
        sim: Simulation,
        host: str,
        local: int,
        local_port: int,
        remote: int,
        remote_port: int,
        flow_id: int,
        *,
        client: bool,
    ) -> None:
        cfg = sim.net.tcp
        self.sim = sim
        self.cfg = cfg
        self.host = host
        self.local, self.local_port, self.remote, self.remote_port = local, local_port, remote, remote_port
        self.flow_id = flow_id
        self.client = client
        self.key: ConnKey = (host, local_port, remote, remote_port)
        self.state = State.CLOSED
        self.error = ""
        self.cc = ALGORITHMS[cfg.congestion_control](cfg.initial_window)
        self.mss = cfg.mtu - 40
        """Data bytes per full segment: the smaller MSS of the two, less the timestamps option."""
        self.ts_ok = False
        """Both SYNs carried the timestamps option: every later segment carries it (RFC 7323)."""
        self.iss = sim.rng.getrandbits(32)
        self.snd_una = self.snd_nxt = self.snd_max = self.iss
        self.app_end = self.iss + 1
        """The sequence number after the last byte the application wrote."""
        self.fin_wanted = False
        self.snd_wnd = 0
        self.peer_scale = 0
        self.scaling = False
        """Whether both SYNs carried a window scale (RFC 7323): only then are windows scaled."""
        self.sack_ok = False
        """Whether both SYNs carried SACK-permitted (and this stack uses SACK)."""
        self.sacked = Spans()
        """The scoreboard: ranges above ``snd_una`` the peer holds."""
        self.rexmit = Spans()
        """Ranges sent again in the current recovery and not known delivered."""
        self.resend_from = self.iss
        """Where the search for the next lost range resumes in this recovery."""
        self.rescued = False
        """The rescue retransmission of this recovery went out (RFC 6675 NextSeg rule 4)."""
        self.resent_marks: deque[tuple[int, int, int]] | None = None
        """(highest sequence sent then, start, end) of each range resent in this recovery, in order
        (made at the first: an empty deque is 760 bytes, and a load holds millions of connections)."""
        self.last_ooo: tuple[int, int] | None = None
        """The out-of-order range the last segment landed in (first SACK block, RFC 2018)."""
        self.dupacks = 0
        self.recovering = False
        self.recover = self.iss
        self.srtt = 0.0
        self.rttvar = 0.0
        self.rto = sim.net.initial_rto
        self.expiries = 0
        self.timed: tuple[int, float] | None = None
        """(sequence that ends the timed segment, when it left): one RTT sample per round trip."""
        self.rto_at: float | None = None
        self._rto_due: float | None = None
        self._rto_gen = 0
        self.attempts = 0
        # receiving
        self.rcv_nxt = 0
        self.ooo = Spans()
        """What arrived above ``rcv_nxt`` (held out of order)."""
        self.unacked_segments = 0
        self.delack_at: float | None = None
        self._delack_due: float | None = None
        self.fin_received = False
        self.offered_edge = 0
        """The right edge of the window last advertised (rcv_nxt + window)."""
        self.peer_fin: int | None = None
        """The sequence number of the peer's FIN, once it arrived (in order or not)."""
        self.released = False
        self.delivered = 0
        # what happened, for reports
        self.started_at = sim.env._now
        self.established_at: float | None = None
        self.acked_at: float | None = None
        """When everything written was first acknowledged."""
        self.closed_at: float | None = None
        self.retransmissions = 0
        self.timeouts = 0
        self.fast_retransmits = 0
        self.rtt_samples: list[tuple[float, float]] = []
        self.cwnd_log: list[tuple[float, int]] = []
        self.progress: list[tuple[float, int]] = []
        """(time, bytes delivered in order so far), at every advance (receivers)."""
        self.on_established: Callable[[Connection], None] | None = None
        self.on_delivered: Callable[[Connection], None] | None = None
        self.on_closed: Callable[[Connection], None] | None = None

    # -- the application's side -------------------------------------------------------------------
    @classmethod
    def open(cls, sim: Simulation, host: str, dst: int, dport: int, flow_id: int) -> Connection | None:
        """``connect()``: a client connection from ``host`` to ``dst:dport``, its SYN sent now (None
        when no local port is free)."""
        src = sim.net.addresses[host]
        sport = sim.ephemeral.allocate(src, dst, dport)
        if sport is None:
            return None
        conn = cls(sim, host, src, sport, dst, dport, flow_id, client=True)
        sim.connections[conn.key] = conn
        conn.state = State.SYN_SENT
        conn._send_syn()
        return conn

    def write(self, nbytes: int) -> None:
        """Queue ``nbytes`` more to send."""
        self.app_end += nbytes
        if self.state in (State.ESTABLISHED, State.CLOSE_WAIT):
            self._send_more()

    def close(self) -> None:
        """``close()``: a FIN after what was written."""
        if self.fin_wanted or self.state is State.CLOSED:
            return
        self.fin_wanted = True
        if self.state is State.ESTABLISHED:
            self.state = State.FIN_WAIT_1
        elif self.state is State.CLOSE_WAIT:
            self.state = State.LAST_ACK
        if self.state in (State.FIN_WAIT_1, State.LAST_ACK):
            self._send_more()

    @property
    def alive(self) -> bool:
        """Not yet CLOSED (an ACK may have just closed it)."""
        return self.state is not State.CLOSED

    @property
    def cwnd_bytes(self) -> int:
        return int(self.cc.cwnd * self.mss)

    # -- segments out -------------------------------------------------------------------------------
    def _window_field(self) -> int:
        # What is held out of order takes buffer room, but the right edge once offered never moves
        # back (Linux's tcp_select_window, RFC 7323 §2.4): the window shrinks only as data arrives.
        room = max(0, self.cfg.receive_window - self.ooo.total)
        edge = max(self.rcv_nxt + room, self.offered_edge)
        self.offered_edge = edge
        window = edge - self.rcv_nxt
        return min(window >> self.cfg.window_scale if self.scaling else window, MAX_WINDOW_FIELD)

    def _emit(self, flags: int, seq: int, length: int, kind: str, cause: Cause, number: int = 0) -> None:
        sim = self.sim
        window = self._window_field() if not flags & SYN else min(self.cfg.receive_window, MAX_WINDOW_FIELD)
        h = tuple.__new__(  # skips the NamedTuple's Python-level __new__: a frame per segment
            Header,
            (
                self.local,
                self.remote,
                self.local_port,
                self.remote_port,
                flags,
                seq,
                self.rcv_nxt if flags & ACK else 0,
                64,
                TCP,
                None,
                length,
                window,
                (self.cfg.mtu - 40 if self.cfg.mss_option else 0) if flags & SYN else 1460,
                self.cfg.window_scale if flags & SYN and (self.client or self.scaling) else -1,
                self._sack_blocks() if self.ooo and self.sack_ok and not flags & SYN else (),
                self.ts_ok or bool(flags & SYN and self.client and self.cfg.timestamps),
            ),
        )
        data = tuple.__new__(Originated, (self.host, kind, cause, number, "tcp"))
        sim.send(h, self.host, data, attempt=self.attempts, flow_id=self.flow_id)

    def _sack_blocks(self) -> tuple[tuple[int, int], ...]:
        """What we hold out of order, at most four blocks: the range of the latest arrival first,
        then the highest others (RFC 2018)."""
        starts, ends = self.ooo.starts, self.ooo.ends
        blocks: list[tuple[int, int]] = []
        if self.last_ooo is not None:
            end = self.ooo.end_of(self.last_ooo[0])
            if end is not None:
                blocks.append((self._start_of(self.last_ooo[0]), end))
        k = len(starts) - 1
        most = 3 if self.ts_ok else 4  # 40 bytes of options: three blocks beside the timestamps
        while k >= 0 and len(blocks) < most:
            if (starts[k], ends[k]) not in blocks:
                blocks.append((starts[k], ends[k]))
            k -= 1
        return tuple(blocks)

    def _start_of(self, seq: int) -> int:
        i = bisect_right(self.ooo.starts, seq) - 1
        return self.ooo.starts[i]

    def _send_syn(self) -> None:
        self.attempts += 1
        if self.attempts == 1:
            cause, number = (Cause.CONNECT, 0) if self.client else (Cause.LISTENING, self.local_port)
        else:
            cause, number = Cause.RETRANSMISSION, self.attempts - 1
        self.snd_nxt = self.snd_max = self.iss + 1
        self.timed = (self.iss + 1, self.sim.env._now) if self.attempts == 1 else None
        self._emit(SYN if self.client else SYN_ACK, self.iss, 0, "SYN" if self.client else "SYN-ACK", cause, number)
        self._arm_rto()

    def _ack_now(self) -> None:
        self.unacked_segments = 0
        self.delack_at = None
        self._emit(ACK, self.snd_nxt, 0, "ACK", Cause.STREAM)

    def _segment(self, seq: int, size: int = 0) -> None:
        """Send the segment that starts at ``seq`` (data, or the FIN); at most ``size`` bytes when set."""
        now = self.sim.env._now
        retransmission = seq < self.snd_max
        if seq < self.app_end:
            n = min(self.mss, self.app_end - seq, size or self.mss)
            end = seq + n
            flags = ACK | PSH if end == self.app_end else ACK
            kind = "DATA"
        else:
            n, end, flags, kind = 0, seq + 1, FIN | ACK, "FIN"
        if retransmission:
            self.retransmissions += 1
            if self.timed is not None and self.timed[0] > seq:
                self.timed = None  # Karn: no sample from a round that retransmitted
        elif self.timed is None:
            self.timed = (end, now)
        self.unacked_segments = 0  # the ACK rides on this segment
        self.delack_at = None
        self._emit(flags, seq, n, kind, Cause.RETRANSMISSION if retransmission else Cause.STREAM, n)
        if end > self.snd_nxt:
            self.snd_nxt = end
        if end > self.snd_max:
            self.snd_max = end
        if self.rto_at is None:
            self._arm_rto()

    def _send_more(self) -> None:
        """Send what the windows allow: data up to the end of what was written, then the FIN."""
        if self.state in (State.SYN_SENT, State.SYN_RECV, State.CLOSED, State.TIME_WAIT):
            return
        if self.recovering and self.sack_ok:
            self._sack_recovery()
            return
        while True:
            nxt = self.snd_nxt
            if self.sacked and nxt < self.snd_max:
                nxt = self._skip_sacked(nxt)  # going back after a timeout: what the peer holds is not sent again
                if nxt != self.snd_nxt:
                    self.snd_nxt = nxt
                    continue
            if nxt < self.app_end:
                n = min(self.mss, self.app_end - nxt)
                limit = self.snd_una + min(self.cwnd_bytes, self.snd_wnd)
                if nxt + n > limit:
                    return
                self._segment(nxt)
            elif self.fin_wanted and nxt == self.app_end:
                self._segment(nxt)
                return
            else:
                return

    # -- selective acknowledgements (RFC 2018, RFC 6675) -----------------------------------------------
    def _note_sacked(self, blocks: tuple[tuple[int, int], ...], ack: int) -> None:
        """Merge the peer's SACK blocks into the scoreboard (what it holds above ``ack``)."""
        for left, right in blocks:
            if ack < right <= self.snd_max:
                left = max(left, ack)
                self.sacked.add(left, right)
                if self.rexmit:
                    self.rexmit.cut(left, right)  # delivered: no longer in flight
        marks = self.resent_marks
        if marks and self.sacked:
            # A resent range is lost again once data first sent after it is SACKed well past it
            # (as Linux's lost-retransmit detection): it may go out once more.
            highest = self.sacked.ends[-1]
            while marks and highest > marks[0][0] + 2 * self.mss:
                _, start, end = marks.popleft()
                if self.rexmit.end_of(start) is not None:
                    self.rexmit.cut(start, end)
                    self.resend_from = min(self.resend_from, start)

    def _forget_below(self, ack: int) -> None:
        self.sacked.drop_below(ack)
        self.rexmit.drop_below(ack)

    def _lost(self, seq: int) -> bool:
        """RFC 6675 IsLost: three discontiguous SACKed blocks, or more than two segments' worth of
        SACKed bytes, above ``seq``."""
        starts, ends = self.sacked.starts, self.sacked.ends
        total = 0
        top = len(starts) - 1
        for k in range(top, -1, -1):
            if ends[k] <= seq:
                break
            total += ends[k] - max(starts[k], seq)
            if top - k >= 2 or total > 2 * self.mss:
                return True
        return False

    def _lost_below(self) -> tuple[int, int]:
        """(where the holes taken as lost end, their bytes): every hole below the highest SACKed block
        with three blocks or more than two segments SACKed above it."""
        starts, ends = self.sacked.starts, self.sacked.ends
        total = 0
        for k in range(len(starts) - 1, -1, -1):
            total += ends[k] - starts[k]
            if len(starts) - k >= 3 or total > 2 * self.mss:
                below = self.sacked.total - total
                return starts[k], starts[k] - self.snd_una - below
        return self.snd_una, 0

    def _pipe(self) -> int:
        """RFC 6675: bytes believed in the network (outstanding, less SACKed and lost, plus resent)."""
        _, lost = self._lost_below()
        outstanding = self.snd_max - self.snd_una
        return max(outstanding - self.sacked.total - lost + self.rexmit.total, 0)

    def _next_hole(self, limit: int | None = None) -> int | None:
        """The first byte of the first lost range (below ``limit``, when given, lost or not) not yet
        sent again in this recovery."""
        if limit is None:
            limit, _ = self._lost_below()
        at = max(self.resend_from, self.snd_una)
        while at < limit:
            end = self.sacked.end_of(at) or self.rexmit.end_of(at)
            if end is None:
                return at
            at = end
        return None

    def _skip_sacked(self, seq: int) -> int:
        return self.sacked.end_of(seq) or seq

    def _enter_recovery(self, now: float) -> None:
        self.fast_retransmits += 1
        self.cc.on_loss(now)
        self.recover = self.snd_max
        self.recovering = True
        self.timed = None
        self.rexmit = Spans()
        self.resent_marks = None
        self.resend_from = self.snd_una
        self.rescued = False
        self.cc.cwnd = self.cc.ssthresh
        self._log_cwnd(now)
        first = self._next_hole()
        self._resend(self.snd_una if first is None else first)  # the first loss goes at once, whatever the pipe
        self._sack_recovery()

    def _resend(self, seq: int, rescue: bool = False) -> None:
        n = min(self.mss, self.app_end - seq) if seq < self.app_end else 1
        above = self.sacked.first_at_or_above(seq)  # not into what the peer already holds
        if above is not None:
            n = min(n, above - seq)
        self._segment(seq, n)
        self.rexmit.add(seq, seq + n)
        if self.resent_marks is None:
            self.resent_marks = deque()
        self.resent_marks.append((self.snd_max, seq, seq + n))
        if not rescue:  # a rescue jumps to the top: the holes below it still wait their turn
            self.resend_from = seq + n

    def _sack_recovery(self) -> None:
        """Send while the pipe is below the window: lost ranges first, then new data (RFC 6675)."""
        while self.cwnd_bytes - self._pipe() >= self.mss:
            hole = self._next_hole()
            if hole is not None:
                self._resend(hole)
                continue
            nxt = self.snd_max
            if nxt < self.app_end:
                n = min(self.mss, self.app_end - nxt)
                if nxt + n > self.snd_una + self.snd_wnd:
                    return
                self._segment(nxt)
            elif self.fin_wanted and nxt == self.app_end:
                self._segment(nxt)
                return
            else:
                self._last_resorts()
                return

    def _last_resorts(self) -> None:
        """RFC 6675 NextSeg rules 3 and 4, when nothing is lost and nothing new is left: a hole below
        the highest SACKed byte, else once per recovery the highest unSACKed segment (a rescue)."""
        if self.sacked:
            hole = self._next_hole(self.sacked.ends[-1])
            if hole is not None:
                self._resend(hole)
                return
        if not self.rescued and self.snd_max > self.snd_una:
            self.rescued = True
            top = self.snd_max - 1
            starts, ends = self.sacked.starts, self.sacked.ends
            while top >= self.snd_una:  # down past the SACKed ranges to the highest byte not held
                i = bisect_right(starts, top) - 1
                if i < 0 or top >= ends[i]:
                    break
                top = starts[i] - 1
            if top < self.snd_una:
                return
            start = self.app_end if top >= self.app_end else max(self.snd_una, top - self.mss + 1)
            self._resend(start, rescue=True)

    def _limited_transmit(self) -> None:
        """RFC 3042: on the first two duplicate ACKs, one new segment each, if the peer's window allows."""
        nxt = self.snd_max
        if nxt < self.app_end and self.snd_nxt == nxt:
            n = min(self.mss, self.app_end - nxt)
            if nxt + n <= self.snd_una + self.snd_wnd and nxt - self.snd_una <= self.cwnd_bytes + 2 * self.mss:
                self._segment(nxt)

    # -- timers (one SimPy event at a time per timer: a later deadline re-arms when the early one fires)
    def _arm_rto(self) -> None:
        now = self.sim.env._now
        self.rto_at = now + self.rto
        if self._rto_due is None or self._rto_due > self.rto_at:
            self._schedule_rto(self.rto_at)

    def _schedule_rto(self, at: float) -> None:
        env = self.sim.env
        self._rto_due = at
        self._rto_gen += 1
        gen = self._rto_gen
        env.timeout(at - env._now).callbacks.append(lambda _e: self._rto_fired(gen))

    def _rto_fired(self, gen: int) -> None:
        if gen != self._rto_gen:
            return
        self._rto_due = None
        if self.rto_at is None or self.state is State.CLOSED:
            return
        if self.sim.env._now < self.rto_at:
            self._schedule_rto(self.rto_at)
            return
        self.rto_at = None
        self._on_timeout()

    def _arm_delack(self) -> None:
        env = self.sim.env
        self.delack_at = env._now + self.cfg.delayed_ack
        if self._delack_due is None:
            self._delack_due = self.delack_at
            env.timeout(self.cfg.delayed_ack).callbacks.append(self._delack_fired)

    def _delack_fired(self, _event: object) -> None:
        self._delack_due = None
        if self.delack_at is None or self.state is State.CLOSED:
            return
        env = self.sim.env
        if env._now < self.delack_at:
            self._delack_due = self.delack_at
            env.timeout(self.delack_at - env._now).callbacks.append(self._delack_fired)
            return
        self._ack_now()

    def _on_timeout(self) -> None:
        now = self.sim.env._now
        self.timeouts += 1
        if self.state in (State.SYN_SENT, State.SYN_RECV):
            limit = self.sim.net.syn_retries if self.client else self.cfg.synack_retries
            if self.attempts > limit:
                self._finish("timeout")
                return
            self.rto = min(self.rto * 2, self.cfg.max_rto)
            self._send_syn()
            return
        self.expiries += 1
        if self.expiries > self.cfg.retries:
            self._finish("timeout")
            return
        if self.recovering:
            self.cc.cwnd = 1.0  # the loss was already answered when recovery began (as Linux)
        else:
            self.cc.on_timeout(now)
        self._log_cwnd(now)
        self.recovering = False
        self.rexmit = Spans()
        self.dupacks = 0
        self.recover = self.snd_max
        self.timed = None
        self.rto = min(self.rto * 2, self.cfg.max_rto)
        self.snd_nxt = self.snd_una  # go back N: everything unacknowledged is sent again
        self._arm_rto()
        self._send_more()

    # -- segments in --------------------------------------------------------------------------------
    def receive(self, h: Header) -> None:
        """A segment of this connection was delivered to its host."""
        if self.state is State.CLOSED:
            return
        flags = h.flags
        if flags & RST:
            self._finish("refused" if self.state is State.SYN_SENT else "reset")
            return
        if self.state is State.SYN_SENT:
            if flags & SYN_ACK == SYN_ACK and h.ack == self.iss + 1:
                self.rcv_nxt = h.seq + 1
                self._handshake_done(h)
                self._ack_now()
                if self.on_established is not None:
                    self.on_established(self)
                self._send_more()
            return
        if flags & SYN:
            if self.client:
                self._ack_now()  # our ACK was lost: the server sent its SYN-ACK again
            elif not flags & ACK and self.state is State.SYN_RECV:
                self._emit(SYN_ACK, self.iss, 0, "SYN-ACK", Cause.RETRANSMISSION, self.attempts)
            return
        if self.state is State.SYN_RECV:
            if not flags & ACK or h.ack != self.iss + 1:
                return
            self._handshake_done(h)
            if self.on_established is not None:
                self.on_established(self)
        if flags & ACK:
            self._on_ack(h)
        if (h.length or flags & FIN) and self.alive:
            self._on_data(h)

    def _handshake_done(self, h: Header) -> None:
        now = self.sim.env._now
        self.state = State.ESTABLISHED if not self.fin_wanted else State.FIN_WAIT_1
        self.established_at = now
        self.snd_una = self.iss + 1
        self.rto_at = None
        if self.timed is not None:
            self._sample(now - self.timed[1])
        self.timed = None
        self.expiries = 0
        self.rto = self._rto_from_samples()
        if h.flags & SYN:  # the SYN-ACK's options: the client learns the server's
            self.sack_ok = self.cfg.sack and h.wscale >= 0
            self.scaling = h.wscale >= 0
            self.peer_scale = h.wscale if self.scaling else 0
            self._learn_mss(h)
            self.snd_wnd = h.window
        else:
            self.snd_wnd = h.window << self.peer_scale
        self._log_cwnd(now)

    def _learn_mss(self, h: Header) -> None:
        """The peer's SYN options: its MSS bounds ours (without the option each side keeps its own,
        as ns-3 does; RFC 9293 would assume 536) and, when both sent timestamps, every segment
        gives 12 bytes to them (Linux's ``mss_cache``: 1,448 data bytes at MTU 1500)."""
        self.ts_ok = self.cfg.timestamps and h.ts
        if h.mss:
            self.mss = min(self.mss, h.mss)
        if self.ts_ok:
            self.mss -= 12

    def _sample(self, rtt: float) -> None:
        if not self.srtt:
            self.srtt, self.rttvar = rtt, rtt / 2
        else:
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - rtt)
            self.srtt = 0.875 * self.srtt + 0.125 * rtt
        self.rtt_samples.append((self.sim.env._now, rtt))

    def _rto_from_samples(self) -> float:
        if not self.srtt:
            return self.sim.net.initial_rto
        return min(self.srtt + max(4 * self.rttvar, self.cfg.min_rto), self.cfg.max_rto)

    def _log_cwnd(self, now: float) -> None:
        log = self.cwnd_log
        value = self.cwnd_bytes
        if log and log[-1][0] == now:
            log[-1] = (now, value)
        elif not log or log[-1][1] != value:
            log.append((now, value))

    def _on_ack(self, h: Header) -> None:
        now = self.sim.env._now
        ack = h.ack
        if ack > self.snd_max:
            return
        window = h.window << self.peer_scale
        if self.sack_ok and h.sack:
            self._note_sacked(h.sack, ack)
        if ack > self.snd_una:
            acked = ack - self.snd_una
            self.snd_una = ack
            if self.sacked or self.rexmit:
                self._forget_below(ack)
            if self.snd_nxt < ack:
                self.snd_nxt = ack
            self.snd_wnd = window
            self.expiries = 0
            if self.timed is not None and ack >= self.timed[0]:
                self._sample(now - self.timed[1])
                self.timed = None
            self.rto = self._rto_from_samples()
            self.dupacks = 0
            if self.recovering:
                if ack >= self.recover:  # a full ACK: recovery ends, the window deflates
                    self.recovering = False
                    self.rexmit = Spans()
                    self.cc.cwnd = self.cc.ssthresh
                elif not self.sack_ok:  # a partial ACK: the next hole is lost too (RFC 6582)
                    self._segment(ack)
                    self.cc.cwnd = max(self.cc.cwnd - acked / self.mss + 1.0, 1.0)
            elif self.sack_ok and self.sacked and self.snd_una >= self.recover and self._lost(self.snd_una):
                self._enter_recovery(now)
            else:
                # The window grows only while it limits sending (Linux's tcp_is_cwnd_limited): a
                # flow held back by the receiver's window does not inflate it.
                flight = self.snd_nxt - (ack - acked)
                cwnd = self.cwnd_bytes
                if flight >= cwnd - self.mss or (self.cc.cwnd < self.cc.ssthresh and cwnd < 2 * flight):
                    self.cc.on_ack(acked / self.mss, now, self.srtt)
            self._log_cwnd(now)
            if ack == self.snd_max:
                self.rto_at = None
            else:
                self._arm_rto()
            if ack >= self.app_end and self.acked_at is None:
                self.acked_at = now
            fin_acked = self.fin_wanted and ack == self.app_end + 1
            if fin_acked:
                self._our_fin_acked()
                if self.state is State.CLOSED:
                    return
            self._send_more()
            return
        if ack == self.snd_una and self.snd_max > self.snd_una and not h.length and not h.flags & FIN:
            if window > self.snd_wnd and not h.sack:
                self.snd_wnd = window  # a window update, not a duplicate (Linux: only a larger one)
                self._send_more()
                return
            self.dupacks += 1
            if self.sack_ok:
                if (
                    not self.recovering
                    and self.snd_una >= self.recover
                    and (self.dupacks >= 3 or self._lost(self.snd_una))
                ):
                    self._enter_recovery(now)
                elif self.recovering:
                    self._send_more()
                elif self.dupacks < 3:
                    self._limited_transmit()
                return
            if self.dupacks == 3 and not self.recovering and self.snd_una >= self.recover:
                self.fast_retransmits += 1
                self.cc.on_loss(now)
                self.recover = self.snd_max
                self.recovering = True
                self.timed = None
                self._segment(self.snd_una)
                self.cc.cwnd = self.cc.ssthresh + 3.0
                self._log_cwnd(now)
            elif self.recovering:
                self.cc.cwnd += 1.0
                self._send_more()
            elif self.dupacks < 3:
                self._limited_transmit()
        elif window > self.snd_wnd:
            self.snd_wnd = window
            self._send_more()

    def _our_fin_acked(self) -> None:
        if self.state is State.FIN_WAIT_1:
            self.state = State.FIN_WAIT_2
            # Linux's tcp_fin_timeout: a closed socket waits this long for the peer's FIN.
            self.sim.env.timeout(self.cfg.fin_timeout).callbacks.append(self._fin_wait_over)
        elif self.state is State.CLOSING:
            self._time_wait()
        elif self.state is State.LAST_ACK:
            self._finish("")

    def _on_data(self, h: Header) -> None:
        seq, n = h.seq, h.length
        now = self.sim.env._now
        before = self.rcv_nxt
        quick = False
        if n:
            end = seq + n
            if end <= self.rcv_nxt:
                quick = True  # an old duplicate: say again what we have
            elif seq <= self.rcv_nxt:
                filled = bool(self.ooo)
                self.rcv_nxt = end
                while self.ooo and self.ooo.starts[0] <= self.rcv_nxt:
                    _, stop = self.ooo.pop_first()
                    if stop > self.rcv_nxt:
                        self.rcv_nxt = stop
                quick = filled
            else:
                self.ooo.add(seq, end)
                self.last_ooo = (seq, end)
                quick = True
        if h.flags & FIN:
            self.peer_fin = seq + n
            quick = True
        fin_now = False
        if self.peer_fin is not None and self.peer_fin == self.rcv_nxt and not self.fin_received:
            self.fin_received = fin_now = True  # in order now, whether it came last or before a hole filled
            self.rcv_nxt += 1
        data = self.rcv_nxt - before - (1 if self.fin_received and self.rcv_nxt > before and fin_now else 0)
        if data > 0:  # the FIN's own sequence number is no data
            self.delivered += data
            self.progress.append((now, self.delivered))
            if self.on_delivered is not None:
                self.on_delivered(self)
        if fin_now or (self.fin_received and h.flags & FIN):
            self._peer_closed()
            return
        if quick:
            self._ack_now()
            return
        self.unacked_segments += 1
        if self.unacked_segments >= 2:
            self._ack_now()
        elif self.delack_at is None:
            self._arm_delack()

    def _peer_closed(self) -> None:
        """The peer's FIN arrived in order."""
        if self.state is State.ESTABLISHED:
            self.state = State.CLOSE_WAIT
            # The application reads the end of the stream and closes at once: the FIN carries the ACK.
            self.close()
            if self.snd_nxt <= self.app_end:
                self._ack_now()
        elif self.state is State.FIN_WAIT_1:
            self.state = State.CLOSING
            self._ack_now()
        elif self.state is State.FIN_WAIT_2:
            self._ack_now()
            self._time_wait()
        else:
            self._ack_now()  # a FIN again (our ACK was lost)

    def _fin_wait_over(self, _event: object) -> None:
        if self.state is State.FIN_WAIT_2:
            self._finish("timeout")

    def _time_wait(self) -> None:
        self.state = State.TIME_WAIT
        self.rto_at = None
        self.closed_at = self.sim.env._now
        if self.on_closed is not None:
            self.on_closed(self)
        self.sim.env.timeout(self.cfg.time_wait).callbacks.append(lambda _e: self._release())

    def _finish(self, error: str) -> None:
        if self.closed_at is None:  # an RST in TIME_WAIT does not make a clean close an error
            self.error = error
        self.state = State.CLOSED
        self.rto_at = None
        self.delack_at = None
        if self.closed_at is None:
            self.closed_at = self.sim.env._now
            if self.on_closed is not None:
                self.on_closed(self)
        self._release()

    def _release(self) -> None:
        self.state = State.CLOSED
        if self.released:
            return
        self.released = True
        if self.sim.connections.get(self.key) is self:
            del self.sim.connections[self.key]
        if self.client:
            self.sim.ephemeral.release(self.local, self.remote, self.remote_port, self.local_port)


def accept(sim: Simulation, host: str, h: Header, flow_id: int) -> Connection:
    """A listening ``host`` answers SYN ``h``: a server connection in SYN_RECV, its SYN-ACK sent."""
    conn = Connection(sim, host, h.dst, h.dport, h.src, h.sport, flow_id, client=False)
    sim.connections[conn.key] = conn
    conn.state = State.SYN_RECV
    conn.rcv_nxt = h.seq + 1
    conn.scaling = h.wscale >= 0
    conn.sack_ok = sim.net.tcp.sack and h.wscale >= 0
    conn.peer_scale = h.wscale if conn.scaling else 0
    conn._learn_mss(h)
    if sim.on_accept is not None:
        sim.on_accept(conn)
    conn._send_syn()
    return conn
