"""Cloud Connect Network (Tencent 云联网 [CCN1]-[CCN10])."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Ccn:
    """A CCN with VPCs attached in order (order decides route conflicts: first attached wins).

    ``bandwidth_bps`` caps cross-region traffic; it adds serialisation delay to each packet.
    """

    id: str
    attachments: tuple[str, ...]
    bandwidth_bps: float
