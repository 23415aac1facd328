"""The SimPy packet engine: header views and Scapy templates, sessions, the hop-by-hop walk,
and TCP endpoints. Reads only the compiled IR (:mod:`vpcsim.compile`) and the trace vocabulary."""

from vpcsim.sim.engine import Simulation
from vpcsim.sim.packet import Header, from_bytes, to_bytes, to_scapy
from vpcsim.sim.tcp import ConnectOutcome, connect

__all__ = ["ConnectOutcome", "Header", "Simulation", "connect", "from_bytes", "to_bytes", "to_scapy"]
