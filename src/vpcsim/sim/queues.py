"""Queues without processes: a FIFO server and a token bucket, computed from arrival times.

A link (or a gateway) serves one packet at a time in arrival order; a packet that finds it busy
waits, and one that finds ``limit`` packets already waiting is dropped (tail drop), as a DropTail
queue in front of a device does (the packet being transmitted is not in the queue). Because the
engine hands every packet to a queue at the moment it enters it, in time order, when each packet
finishes is known at once: no event is scheduled for the queue itself, only for the packet's
arrival at the far end.
"""

from __future__ import annotations

from collections import deque


class Fifo:
    """One server with a FIFO in front of it; counts what it carried, dropped and was busy for."""

    __slots__ = ("busy", "carried", "dropped", "free_at", "limit", "peak", "waiting")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        """Packets that may wait (0: any number)."""
        self.free_at = 0.0
        """When the server finishes the last packet it took."""
        self.waiting: deque[float] = deque()
        """When each waiting packet starts its service (non-decreasing)."""
        self.busy = 0.0
        """Seconds of service given (for utilisation: busy time over a duration)."""
        self.carried = 0
        self.dropped = 0
        self.peak = 0
        """The most packets that ever waited at once."""

    def admit(self, at: float, service: float) -> float:
        """When a packet that enters at ``at`` and needs ``service`` seconds leaves the server, or
        -1.0 when the queue is full and it is dropped."""
        waiting = self.waiting
        while waiting and waiting[0] <= at:
            waiting.popleft()
        start = self.free_at if self.free_at > at else at
        if start > at:
            if self.limit and len(waiting) >= self.limit:
                self.dropped += 1
                return -1.0
            waiting.append(start)
            if len(waiting) > self.peak:
                self.peak = len(waiting)
        self.free_at = start + service
        self.busy += service
        self.carried += 1
        return self.free_at


class TokenBucket:
    """``rate`` tokens a second, at most one second's worth held (and at least one token); full at
    the start."""

    __slots__ = ("at", "depth", "rate", "tokens")

    def __init__(self, rate: float, at: float) -> None:
        self.rate = rate
        self.depth = max(rate, 1.0)
        self.tokens = self.depth
        self.at = at

    def take(self, now: float) -> bool:
        """Spend a token if one is there (a new connection may open), else False."""
        tokens = min(self.depth, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if tokens < 1.0:
            self.tokens = tokens
            return False
        self.tokens = tokens - 1.0
        return True
