"""The SimPy packet engine: header views and Scapy templates, sessions and ports, node handlers
run at each packet's arrival, and TCP endpoints. Reads only the IR (:mod:`vpcsim.ir`) and the trace
vocabulary: no cloud's words or rules live here."""

from vpcsim.sim.engine import Capture, Simulation
from vpcsim.sim.packet import Header, from_bytes, to_bytes, to_scapy
from vpcsim.sim.tcp import ConnectOutcome, connect

__all__ = ["Capture", "ConnectOutcome", "Header", "Simulation", "connect", "from_bytes", "to_bytes", "to_scapy"]
