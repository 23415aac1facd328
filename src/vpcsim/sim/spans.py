"""Sorted, disjoint ranges of sequence numbers: what a receiver holds out of order, what a sender
knows the receiver holds (its SACK scoreboard), what it sent again.

Every operation a connection does per ACK is a binary search plus work on the few ranges it
touches, so a window with thousands of holes costs no more per ACK than one with two.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right


class Spans:
    """Disjoint half-open ranges ``[start, end)``, merged when they touch, with their total size."""

    __slots__ = ("ends", "starts", "total")

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.total = 0

    def __bool__(self) -> bool:
        return bool(self.starts)

    def __len__(self) -> int:
        return len(self.starts)

    def add(self, start: int, end: int) -> int:
        """Add ``[start, end)``; returns how many bytes were not already there."""
        if end <= start:
            return 0
        starts, ends = self.starts, self.ends
        i = bisect_left(ends, start)  # the first range that ends at or after start: it may touch
        j = bisect_right(starts, end)  # ranges from i to j-1 overlap or touch [start, end)
        if i == j:
            starts.insert(i, start)
            ends.insert(i, end)
            self.total += end - start
            return end - start
        covered = sum(min(ends[k], end) - max(starts[k], start) for k in range(i, j) if ends[k] > start)
        covered = max(covered, 0)
        new_start, new_end = min(starts[i], start), max(ends[j - 1], end)
        before = sum(ends[k] - starts[k] for k in range(i, j))
        del starts[i:j]
        del ends[i:j]
        starts.insert(i, new_start)
        ends.insert(i, new_end)
        self.total += (new_end - new_start) - before
        return end - start - covered

    def drop_below(self, at: int) -> None:
        """Forget everything below ``at`` (acknowledged, or delivered in order)."""
        starts, ends = self.starts, self.ends
        i = bisect_right(ends, at)
        if i:
            self.total -= sum(ends[k] - starts[k] for k in range(i))
            del starts[:i]
            del ends[:i]
        if starts and starts[0] < at:
            self.total -= at - starts[0]
            starts[0] = at

    def cut(self, start: int, end: int) -> None:
        """Remove ``[start, end)`` wherever it overlaps."""
        starts, ends = self.starts, self.ends
        i = bisect_right(ends, start)
        j = bisect_left(starts, end)
        if i >= j:
            return
        pieces = []
        if starts[i] < start:
            pieces.append((starts[i], start))
        if ends[j - 1] > end:
            pieces.append((end, ends[j - 1]))
        self.total -= sum(ends[k] - starts[k] for k in range(i, j)) - sum(e - s for s, e in pieces)
        starts[i:j] = [s for s, _ in pieces]
        ends[i:j] = [e for _, e in pieces]

    def pop_first(self) -> tuple[int, int]:
        start, end = self.starts.pop(0), self.ends.pop(0)
        self.total -= end - start
        return start, end

    def end_of(self, seq: int) -> int | None:
        """The end of the range that holds ``seq``, or None."""
        i = bisect_right(self.starts, seq) - 1
        if i >= 0 and seq < self.ends[i]:
            return self.ends[i]
        return None

    def first_at_or_above(self, seq: int) -> int | None:
        """The start of the first range at or above ``seq``."""
        i = bisect_left(self.starts, seq)
        return self.starts[i] if i < len(self.starts) else None

    def items(self) -> list[tuple[int, int]]:
        return list(zip(self.starts, self.ends, strict=True))
