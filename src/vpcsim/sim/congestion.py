"""Congestion control: how a TCP sender's window grows on ACKs and shrinks on loss.

Windows are in segments (floats), as Linux keeps ``snd_cwnd`` in segments. Both algorithms share
slow start with appropriate byte counting (RFC 3465, L = 2: at most two segments of growth per ACK,
what Linux's ``tcp_slow_start`` gives with delayed ACKs) and differ in congestion avoidance and in
how far they back off:

- :class:`Reno` — RFC 5681 congestion avoidance (one segment per window of data acknowledged),
  ``ssthresh = max(cwnd / 2, 2)`` on loss, as Linux's ``tcp_reno_ssthresh``.
- :class:`Cubic` — RFC 9438 (Linux's default, ``tcp_cubic.c``): the window follows
  ``W(t) = C (t - K)^3 + W_max`` with C = 0.4 and β = 0.7, fast convergence, and the Reno-friendly
  region. Not modelled: HyStart (Linux's slow-start exit heuristic).
"""

from __future__ import annotations


class Reno:
    """RFC 5681 slow start and congestion avoidance."""

    name = "reno"
    __slots__ = ("acked", "cwnd", "ssthresh")

    def __init__(self, initial_window: int) -> None:
        self.cwnd = float(initial_window)
        self.ssthresh = float("inf")
        self.acked = 0.0
        """Segments acknowledged toward the next one-segment increase (congestion avoidance)."""

    def on_ack(self, segments: float, now: float, rtt: float) -> None:
        """``segments`` newly acknowledged (bytes / MSS) outside recovery."""
        if self.cwnd < self.ssthresh:
            self.cwnd += min(segments, 2.0)
            return
        self.acked += segments
        if self.acked >= self.cwnd:
            self.acked -= self.cwnd
            self.cwnd += 1.0

    def on_loss(self, now: float) -> None:
        """Three duplicate ACKs: the window halves (recovery then inflates and deflates it)."""
        self.ssthresh = max(self.cwnd / 2.0, 2.0)
        self.acked = 0.0

    def on_timeout(self, now: float) -> None:
        """The retransmission timer expired: back to one segment, slow start to half the window."""
        self.on_loss(now)
        self.cwnd = 1.0


class Cubic(Reno):
    """RFC 9438 CUBIC, as Linux's ``tcp_cubic`` (without HyStart)."""

    name = "cubic"
    __slots__ = ("epoch", "k", "origin", "w_est", "w_max")

    C = 0.4
    BETA = 0.7

    def __init__(self, initial_window: int) -> None:
        super().__init__(initial_window)
        self.w_max = 0.0
        self.epoch = -1.0
        """When the current congestion-avoidance epoch began (-1: not begun)."""
        self.k = 0.0
        self.origin = 0.0
        self.w_est = 0.0

    def on_ack(self, segments: float, now: float, rtt: float) -> None:
        if self.cwnd < self.ssthresh:
            self.cwnd += min(segments, 2.0)
            return
        if self.epoch < 0:
            self.epoch = now
            if self.cwnd < self.w_max:
                self.k = ((self.w_max - self.cwnd) / self.C) ** (1.0 / 3.0)
                self.origin = self.w_max
            else:
                self.k = 0.0
                self.origin = self.cwnd
            self.w_est = self.cwnd
        t = now - self.epoch + rtt
        target = self.origin + self.C * (t - self.k) ** 3
        target = min(max(target, self.cwnd), 1.5 * self.cwnd)
        # The Reno-friendly estimate grows as Reno would with CUBIC's backoff (RFC 9438 §4.3).
        alpha = 3.0 * (1.0 - self.BETA) / (1.0 + self.BETA)
        self.w_est += alpha * segments / self.cwnd
        if self.w_est > target:
            target = self.w_est
        self.cwnd += segments * (target - self.cwnd) / self.cwnd

    def on_loss(self, now: float) -> None:
        # Fast convergence: a flow that lost before reaching its last maximum yields some room.
        self.w_max = self.cwnd * (1.0 + self.BETA) / 2.0 if self.cwnd < self.w_max else self.cwnd
        self.ssthresh = max(self.cwnd * self.BETA, 2.0)
        self.epoch = -1.0
        self.acked = 0.0


ALGORITHMS: dict[str, type[Reno]] = {"reno": Reno, "cubic": Cubic}
"""Name (``settings.tcp.congestion_control``) → algorithm."""
