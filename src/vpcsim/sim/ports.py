"""Port allocation: a client's ephemeral ports (as Linux chooses them) and a translator's SNAT ports.

Linux's ``connect()`` starts its search for a free local port at an offset hashed from the
destination (``__inet_hash_connect``: the offset comes from a keyed hash of the source, destination
address and destination port), walks the range in steps of two from an even port, then tries the
odd ones, and takes the first port whose 4-tuple is not in use. We do the same with a keyed hash
seeded by the simulation's seed, so flows to different destinations start at different places and
concurrent flows to one destination never collide.
"""

from __future__ import annotations

from vpcsim.sim.rng import mix64

FlowKey = tuple[int, int, int, int]
"""(src, sport, dst, dport)."""


class EphemeralPorts:
    """Local ports of live flows, per (source, destination, destination port).

    As Linux, each destination keeps a perturbation that advances past the port last taken
    (``table_perturb`` in ``__inet_hash_connect``), so the next search starts where the last one
    ended instead of walking every port in use again.
    """

    __slots__ = ("_high", "_key", "_low", "_perturb", "_used")

    def __init__(self, key: int, low: int, high: int) -> None:
        self._key = key
        self._low = low
        self._high = high
        self._used: dict[tuple[int, int, int], set[int]] = {}
        self._perturb: dict[tuple[int, int, int], int] = {}

    def allocate(self, src: int, dst: int, dport: int) -> int | None:
        """A free local port for a new connection from ``src`` to ``dst:dport`` (None: all in use)."""
        dest = (src, dst, dport)
        used = self._used.setdefault(dest, set())
        low, size = self._low, self._high - self._low + 1
        offset = (mix64(self._key ^ (src << 32 | dst) ^ (dport << 17)) + self._perturb.get(dest, 0)) % size
        start = offset & ~1  # even ports first, as Linux does for connect()
        for parity in (0, 1):
            for i in range(parity, size, 2):
                port = low + (start + i) % size
                if port not in used:
                    used.add(port)
                    self._perturb[dest] = self._perturb.get(dest, 0) + i + 2
                    return port
        return None

    def release(self, src: int, dst: int, dport: int, port: int) -> None:
        """The connection on ``port`` is gone (closed, TIME_WAIT over): the port may be used again."""
        used = self._used.get((src, dst, dport))
        if used is not None:
            used.discard(port)


class SnatPorts:
    """Source ports a translator hands out on each of its pool addresses, one per flow, in order
    from a seeded start; a port in use is skipped; when every port is in use, none is left."""

    __slots__ = ("_first", "_high", "_low", "_next", "_used")

    def __init__(self, first: int, low: int, high: int) -> None:
        self._low = low
        self._high = high
        self._first = low + (first - low) % (high - low + 1)
        self._next: dict[int, int] = {}
        self._used: dict[int, set[int]] = {}

    @property
    def size(self) -> int:
        return self._high - self._low + 1

    def allocate(self, address: int) -> int | None:
        used = self._used.setdefault(address, set())
        size = self.size
        if len(used) >= size:
            return None
        port = self._next.get(address, self._first)
        while port in used:
            port = self._low + (port - self._low + 1) % size
        used.add(port)
        self._next[address] = self._low + (port - self._low + 1) % size
        return port

    def release(self, address: int, port: int) -> None:
        """The flow on ``address:port`` ended: the port may be handed out again."""
        used = self._used.get(address)
        if used is not None:
            used.discard(port)
