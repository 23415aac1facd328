"""Cloud Connect Network (Tencent 云联网 [CCN1]-[CCN10])."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, kw_only=True)
class Ccn:
    """A CCN with VPCs attached in order (order decides route conflicts: first attached wins).

    ``bandwidth_bps`` caps traffic between any two regions; ``pair_bandwidth`` (keyed by the
    unordered pair of regions, a one-region pair for traffic inside a region) overrides it per pair.
    Each packet crossing is serialised at its pair's rate, through one queue per direction.
    """

    id: str
    attachments: tuple[str, ...]
    bandwidth_bps: float
    pair_bandwidth: Mapping[frozenset[str], float] = field(default_factory=dict)
