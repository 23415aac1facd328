"""connect() completes only on an answer from the peer it dialled that acknowledges its SYN."""

from __future__ import annotations

import pytest

from vpcsim import Network
from vpcsim.sim import Simulation
from vpcsim.sim.packet import RST_ACK, SYN_ACK, TCP, Header
from vpcsim.sim.tcp import Pending, answer


@pytest.mark.parametrize(
    ("field", "value"),
    [("src", 0x0A000063), ("sport", 1045), ("ack", 1234)],
)
@pytest.mark.parametrize("flags", [SYN_ACK, RST_ACK])
def test_a_stray_answer_does_not_finish_connect(seed_net: Network, field: str, value: int, flags: int) -> None:
    sim = Simulation(seed_net.compiled, seed=1)
    wake = sim.env.event()
    vip = seed_net.address_of("vpce-vpc1")
    client = seed_net.address_of("cvm-vpc1")
    sim.sockets[("cvm-vpc1", TCP, 40000)] = Pending(wake, vip, 1044, 101, 0)
    good = Header(vip, client, 1044, 40000, flags, 7, 101)
    answer(sim, "cvm-vpc1", good._replace(**{field: value}), 0)
    assert not wake.triggered
    answer(sim, "cvm-vpc1", good, 0)
    assert wake.triggered
