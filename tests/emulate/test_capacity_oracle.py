"""The capacity oracle: the simulator's cap behaviour against real Linux TCP through a ``tbf`` cap.

The same network both ways: a client, a router, a server; the link into the server capped at a rate
with a tail-drop queue of the same size (the kernel's tbf counts bytes, the simulator packets of a
full frame), Ethernet's 14 header bytes charged per packet, the same congestion control, SACK on.
The kernel side is built by :mod:`vpcsim.emulate.capacity` from these numbers alone; the simulator's
from a scenario written here: they share nothing but the numbers.

Both must deliver every byte, both must keep to the cap on the wire, and their goodputs must agree:
with no propagation delay the standing queue keeps the link busy, so each sits at its framing's
ceiling (the kernel's segments carry 12 bytes of timestamps more, so its ceiling is ~0.8 % lower).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests import summaries
from vpcsim import Network
from vpcsim.emulate.capacity import ETH_HEADER, capped_transfer, max_bytes_in_windows
from vpcsim.frontends import from_data

pytestmark = pytest.mark.kernel

NBYTES = 2_000_000
MTU = 1500
FRAME = MTU + ETH_HEADER


def simulated(rate: float, limit: int, congestion: str) -> Any:
    """The same cap in a scenario: the server's link at ``rate``, a queue of ``limit`` bytes of full
    frames, 14 bytes of Ethernet header per packet, 20 µs between the hosts."""
    data = {
        "version": 1,
        "settings": {"delays": {"same_zone": "0.02ms"}, "tcp": {"congestion_control": congestion}},
        "vpcs": {
            "vpc-a": {
                "region": "ap-chengdu",
                "account": "1",
                "cidr": "10.255.0.0/16",
                "subnets": {"sn": {"cidr": "10.255.0.0/24", "zone": "ap-chengdu-1"}},
            }
        },
        "security_groups": {
            "open": {
                "ingress": [{"action": "accept", "source": "0.0.0.0/0"}],
                "egress": [{"action": "accept", "destination": "0.0.0.0/0"}],
            }
        },
        "instances": {
            "client": {"vpc": "vpc-a", "subnet": "sn", "ip": "10.255.0.10", "security_groups": ["open"]},
            "server": {
                "vpc": "vpc-a",
                "subnet": "sn",
                "ip": "10.255.0.20",
                "security_groups": ["open"],
                "listen": [5001],
                "link": {"bandwidth": rate / 1e6, "queue": limit // FRAME, "overhead": ETH_HEADER},
            },
        },
    }
    return Network(from_data(data, source="<oracle>")).transfer("client", "server", 5001, NBYTES, capture=True)


@pytest.mark.parametrize(("rate", "limit"), [(20e6, 30_000), (50e6, 300_000)])
@pytest.mark.parametrize("congestion", ["cubic", "reno"])
def test_the_simulators_cap_agrees_with_the_kernels(tbf_ready: None, rate: float, limit: int, congestion: str) -> None:
    kernel = capped_transfer(NBYTES, rate, limit_bytes=limit, congestion=congestion, where="router")
    sim = simulated(rate, limit, congestion)
    # Every byte, in order.
    assert kernel.intact
    assert kernel.received == NBYTES
    assert sim.completed
    assert sim.delivered == NBYTES
    # Never beyond the cap on the wire: frames into the server over windows of ten frame times or more.
    wire: list[tuple[float, int]] = []
    total = 0
    for t, point, h, _ in sim.captures:
        if point == "server:eth0" and h.dport == 5001:  # arriving (its ACKs leave from the same point)
            total += h.size + ETH_HEADER
            wire.append((t, total))
    for frames in (10, 100, 1000):
        window = frames * FRAME * 8 / rate
        assert max_bytes_in_windows(wire, window) <= rate * window / 8 + FRAME
        # The kernel's frames are stamped when its receive path runs: under load a few arrive together,
        # so its bound allows tbf's bucket and three frames of jitter (the kernel half's own tests hold
        # it to one frame on a quiet run).
        assert max_bytes_in_windows(kernel.wire, window) <= rate * window / 8 + kernel.burst_bytes + 3 * FRAME
    # The same goodput under the same cap (each at its framing's ceiling, within 3 %).
    assert sim.goodput_bps <= rate
    assert kernel.goodput_bps <= rate
    assert sim.goodput_bps == pytest.approx(kernel.goodput_bps, rel=0.03)
    if limit < 100_000:  # a shallow queue overflows both ways
        assert kernel.drops > 0
        assert sim.drops.get("queue_full", 0) > 0
    summaries.add(
        "capacity oracle",
        f"{NBYTES // 1_000_000} MB at {rate / 1e6:g} Mbit/s, limit {limit} B, {congestion}: kernel "
        f"{kernel.goodput_bps / 1e6:.2f} Mbit/s ({kernel.drops} drops), simulator "
        f"{sim.goodput_bps / 1e6:.2f} Mbit/s ({sim.drops.get('queue_full', 0)} drops, "
        f"{sim.retransmissions} retransmissions, {sim.timeouts} timeouts)",
    )
