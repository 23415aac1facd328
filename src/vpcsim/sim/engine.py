"""One simulation: a SimPy environment, fresh sessions, a seeded RNG, and the walker.

Each probe gets its own :class:`Simulation`, so checks never influence each other.
"""

from __future__ import annotations

import simpy

from vpcsim.compile.ir import CompiledNetwork, HostNode
from vpcsim.sim.packet import Header
from vpcsim.sim.rng import SplitMix64
from vpcsim.sim.sessions import Sessions
from vpcsim.sim.tcp import Pending, answer
from vpcsim.sim.walk import Capture, Walker
from vpcsim.trace import PacketTrace


class Simulation:
    def __init__(self, net: CompiledNetwork, *, seed: int, start: float = 0.0, capture: bool = False) -> None:
        self.net = net
        self.env = simpy.Environment(initial_time=start)
        self.rng = SplitMix64(seed)
        self.sessions = Sessions()
        self.captures: list[Capture] | None = [] if capture else None
        self.walker = Walker(net, self.sessions, first_snat_port=self.rng.randint(1024, 65535), capture=self.captures)
        self.packets: list[PacketTrace] = []
        self.sockets: dict[tuple[str, int], Pending] = {}

    def host(self, host_id: str) -> HostNode:
        node = self.net.state_at(self.env.now).nodes[host_id]
        assert isinstance(node, HostNode)
        return node

    def send(self, h: Header, origin: str, *, attempt: int, note: str = "") -> None:
        """Originate ``h`` at host ``origin`` now; deliver it when (and if) it arrives."""
        result = self.walker.walk(h, self.host(origin), self.env.now, attempt=attempt, note=note)
        self.packets.append(result.trace)
        if result.delivered_to is not None:
            dest, header = result.delivered_to, result.header
            ev = self.env.timeout(result.arrived_at - self.env.now)
            ev.callbacks.append(lambda _e: answer(self, dest, header))
