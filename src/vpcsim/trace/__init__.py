"""The vocabulary of answers: typed steps, hops, packet traces, dispositions, reasons and verdicts.

It depends on nothing else in vpcsim, so the compiler can prebuild steps and the engine can
record them (Batfish's ``Trace``/``Hop``/``Step``).
"""

from vpcsim.trace.steps import FlowDiff, Hop, PacketTrace, Step, StepAction, StepKind
from vpcsim.trace.verdict import Disposition, Reason, Verdict

__all__ = [
    "Disposition",
    "FlowDiff",
    "Hop",
    "PacketTrace",
    "Reason",
    "Step",
    "StepAction",
    "StepKind",
    "Verdict",
]
