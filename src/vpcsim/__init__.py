"""vpcsim: will ``telnet VIP VPORT`` from this server connect, and if not, what stops it?

A packet-level simulator of cloud private networks (VPCs, security groups, layer-4 load
balancers, Private Link endpoints, CCN). The data flows one way::

    scenario file → Topology → control-plane snapshots → compiled forwarding state
                 → SimPy packet walk → traces and verdicts → reports

The public names below load lazily, so ``import vpcsim.frontends`` (say, to validate a file)
does not pull in the engine, SimPy or Scapy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vpcsim.errors import ArgumentError, ScenarioError, UnknownObjectError, VpcsimError
    from vpcsim.frontends import load, loads
    from vpcsim.load import LoadResult
    from vpcsim.model import Topology
    from vpcsim.probes import CheckResult, Flow, Network, ProbeResult
    from vpcsim.scenario import Limits
    from vpcsim.send import SendResult
    from vpcsim.testing import assert_reachable, assert_unreachable
    from vpcsim.trace import Reason, Verdict
    from vpcsim.transfer import TransferResult

_HOME = {
    "Flow": "vpcsim.probes",
    "Limits": "vpcsim.scenario",
    "ArgumentError": "vpcsim.errors",
    "CheckResult": "vpcsim.probes",
    "Network": "vpcsim.probes",
    "ProbeResult": "vpcsim.probes",
    "Reason": "vpcsim.trace",
    "ScenarioError": "vpcsim.errors",
    "SendResult": "vpcsim.send",
    "TransferResult": "vpcsim.transfer",
    "LoadResult": "vpcsim.load",
    "Topology": "vpcsim.model",
    "UnknownObjectError": "vpcsim.errors",
    "Verdict": "vpcsim.trace",
    "VpcsimError": "vpcsim.errors",
    "assert_reachable": "vpcsim.testing",
    "assert_unreachable": "vpcsim.testing",
    "load": "vpcsim.frontends",
    "loads": "vpcsim.frontends",
}

__all__ = [
    "ArgumentError",
    "CheckResult",
    "Flow",
    "Limits",
    "LoadResult",
    "Network",
    "ProbeResult",
    "Reason",
    "ScenarioError",
    "SendResult",
    "Topology",
    "TransferResult",
    "UnknownObjectError",
    "Verdict",
    "VpcsimError",
    "assert_reachable",
    "assert_unreachable",
    "load",
    "loads",
]
assert sorted(__all__) == sorted(_HOME)


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'vpcsim' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
