"""pcapng output: every packet at every capture point, one interface per point (``node:iface``).

Packets go back through Scapy here (the edge): each capture's header view is patched into its
kind's template, parsed by Scapy, and written with Scapy's pcapng writer, which names each
interface after the packet's ``sniffed_on`` and stores a comment per packet.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vpcsim.sim.packet import to_bytes

if TYPE_CHECKING:
    from vpcsim.probes import ProbeResult
    from vpcsim.sim import Capture

EPOCH = Decimal(1_700_000_000)
"""Simulated t=0 is written as this Unix time (2023-11-14), so timestamps are fixed and readable."""


def write_pcapng(result: ProbeResult, path: str | Path) -> int:
    """Write every captured packet of ``result``; returns how many were written."""
    return write_captures(result.captures, path)


def write_captures(
    captures: Iterable[Capture], path: str | Path, *, points: Sequence[str] = (), snaplen: int = 0
) -> int:
    """Write the captures taken at ``points`` (glob patterns over ``node:iface``; none: every point),
    each cut to ``snaplen`` bytes when set (the packet's own length is kept as its wire length);
    returns how many were written."""
    from scapy.layers.inet import IP
    from scapy.utils import PcapNgWriter

    count = 0
    chosen: dict[str, bool] = {}
    with PcapNgWriter(str(path)) as writer:
        for t, point, header, kind in captures:
            take = chosen.get(point)
            if take is None:
                take = chosen[point] = not points or any(fnmatchcase(point, p) for p in points)
            if not take:
                continue
            raw = to_bytes(header)
            pkt: Any = IP(raw[:snaplen] if snaplen else raw)
            pkt.wirelen = len(raw)
            pkt.sniffed_on = point
            pkt.time = EPOCH + Decimal(repr(round(t, 9)))
            pkt.comments = [f"{point} {kind}".encode()]
            writer.write(pkt)
            count += 1
    return count
