"""A small deterministic random source (SplitMix64).

Each simulation draws only a handful of numbers (ephemeral ports, initial sequence numbers, the
first SNAT port), so seeding matters more than period: ``random.Random(seed)`` spends ~4 µs
expanding its Mersenne Twister state per simulation, SplitMix64 nothing. The stream depends
only on the seed, never on PYTHONHASHSEED or the platform.
"""

from __future__ import annotations

_MASK = (1 << 64) - 1


class SplitMix64:
    __slots__ = ("_state",)

    def __init__(self, seed: int) -> None:
        self._state = seed & _MASK

    def next64(self) -> int:
        self._state = (self._state + 0x9E3779B97F4A7C15) & _MASK
        z = self._state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def getrandbits(self, bits: int) -> int:
        """``bits`` (≤ 64) random bits."""
        return self.next64() >> (64 - bits)

    def randint(self, low: int, high: int) -> int:
        """An integer in [low, high]; the modulo bias is < 2^-40 for port-sized ranges."""
        return low + self.next64() % (high - low + 1)


def mix64(value: int) -> int:
    """SplitMix64's finaliser: a 64-bit hash of ``value`` (its low 64 bits)."""
    z = (value + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)
