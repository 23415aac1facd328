"""The Linux kernel as oracle: build a scenario as network namespaces, veth pairs, routes and
iptables, run each check as a real TCP connect, and compare with the simulator's verdict."""

from vpcsim.emulate.kernel import CannotEmulateError, Fabric, Job, KernelError, Outcome, cleanup_leftovers, preflight
from vpcsim.emulate.plan import NetPlan, NsPlan, Pin, PlanError, plan_state
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
    "EmulationReport",
    "Fabric",
    "Job",
    "KernelError",
    "NetPlan",
    "NsPlan",
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
