"""The Linux kernel as oracle: build a scenario as network namespaces, veth pairs, routes and
iptables, run each check as a real connect, datagram or ping, and compare with the simulator's
verdict and with where it says the packet stopped.

The build is derived from the validated model by this package's own code (``plan_control``,
``plan``), never from the simulator's control plane or compiled state; only ``runner`` asks the
simulator."""

from vpcsim.emulate.kernel import CannotEmulateError, Fabric, Job, KernelError, Outcome, cleanup_leftovers, preflight
from vpcsim.emulate.plan import DropPoint, NetPlan, NsPlan, Pin, PlanError, plan_state
from vpcsim.emulate.plan_control import Oracle, OracleState
from vpcsim.emulate.runner import (
    DEFAULT_DEADLINE,
    CheckEmulation,
    EmulationReport,
    Prepared,
    emulate,
    execute,
    prepare,
    report,
)

__all__ = [
    "DEFAULT_DEADLINE",
    "CannotEmulateError",
    "CheckEmulation",
    "DropPoint",
    "EmulationReport",
    "Fabric",
    "Job",
    "KernelError",
    "NetPlan",
    "NsPlan",
    "Oracle",
    "OracleState",
    "Outcome",
    "Pin",
    "PlanError",
    "Prepared",
    "cleanup_leftovers",
    "emulate",
    "execute",
    "plan_state",
    "preflight",
    "prepare",
    "report",
]
