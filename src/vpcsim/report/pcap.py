"""pcapng output: every packet at every capture point, one interface per point (``node:iface``).

Packets go back through Scapy here (the edge): each capture's header view is patched into its
kind's template, parsed by Scapy, and written with Scapy's pcapng writer, which names each
interface after the packet's ``sniffed_on`` and stores a comment per packet.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from vpcsim.sim.packet import to_scapy

if TYPE_CHECKING:
    from vpcsim.probes import ProbeResult

EPOCH = Decimal(1_700_000_000)
"""Simulated t=0 is written as this Unix time (2023-11-14), so timestamps are fixed and readable."""


def write_pcapng(result: ProbeResult, path: str | Path) -> int:
    """Write every captured packet of ``result``; returns how many were written."""
    from scapy.utils import PcapNgWriter

    count = 0
    with PcapNgWriter(str(path)) as writer:
        for t, point, header, kind in result.captures:
            pkt = to_scapy(header)
            pkt.sniffed_on = point
            pkt.time = EPOCH + Decimal(repr(round(t, 9)))
            pkt.comments = [f"{point} {kind}".encode()]
            writer.write(pkt)
            count += 1
    return count
