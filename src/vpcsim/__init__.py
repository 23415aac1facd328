"""vpcsim: will ``telnet VIP VPORT`` from this server connect, and if not, what stops it?

A packet-level simulator of cloud private networks (VPCs, security groups, layer-4 load
balancers, Private Link endpoints, CCN). The data flows one way::

    scenario file → Topology → control-plane snapshots → compiled forwarding state
                 → SimPy packet walk → traces and verdicts → reports
"""

from vpcsim.errors import ScenarioError, UnknownObjectError, VpcsimError
from vpcsim.model import Topology
from vpcsim.probes import CheckResult, Network, ProbeResult
from vpcsim.scenario import load, loads
from vpcsim.testing import assert_reachable, assert_unreachable
from vpcsim.trace import Reason, Verdict

__all__ = [
    "CheckResult",
    "Network",
    "ProbeResult",
    "Reason",
    "ScenarioError",
    "Topology",
    "UnknownObjectError",
    "Verdict",
    "VpcsimError",
    "assert_reachable",
    "assert_unreachable",
    "load",
    "loads",
]
