"""The control plane over time: timeline events (and what they cause later: an accepted endpoint
turning ACTIVE, a backend's health flipping after its checks) → a list of immutable
:class:`ControlState` snapshots, each valid from its time until the next."""

from vpcsim.control.ccn_routes import CcnRoute, CcnRouteTable
from vpcsim.control.health import health_transitions
from vpcsim.control.state import ControlState, TimelineError, control_timeline

__all__ = ["CcnRoute", "CcnRouteTable", "ControlState", "TimelineError", "control_timeline", "health_transitions"]
