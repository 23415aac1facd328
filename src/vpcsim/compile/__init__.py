"""Model → generic forwarding IR (Batfish's "lowering"): nodes, filters, LPM route tables,
translation parameters, one :class:`ForwardingState` per control-plane snapshot."""

from vpcsim.compile.ir import CompiledNetwork, ForwardingState
from vpcsim.compile.lower import compile_network, lower_state
from vpcsim.compile.lpm import LpmTable

__all__ = ["CompiledNetwork", "ForwardingState", "LpmTable", "compile_network", "lower_state"]
