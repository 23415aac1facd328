"""JSON rendering: verdict, reason, connect_time_ms, and every packet's hops with typed steps.

Each step carries its sentence (``detail``), the object to look at (``ref``) and, as ``record``
and ``data``, the typed record that decided it: the rule, the route, the NAT diffs, the chosen
backend. ``SCHEMA`` versions the shape; README documents it.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import TYPE_CHECKING, Any

from vpcsim.report.steps import describe
from vpcsim.trace import PacketTrace, Step, Translated

if TYPE_CHECKING:  # the results' types only: probes renders its explanations with this package
    from vpcsim.probes import CheckResult, ProbeResult


SCHEMA = 5
"""The version of the JSON shape: 1 had steps as text only; 2 adds ``record`` and ``data``; 3 adds
``branches`` and ``protocol``, and counts ``attempts`` (SYNs, datagrams or echo requests) where 2
had ``syn_attempts``."""


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 6)


def record_name(data: object) -> str:
    """``RuleMatch`` → ``rule_match``: a step record's name in JSON."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(data).__name__).lower()


def _value(v: Any) -> Any:
    if isinstance(v, Enum):
        return v.value
    if isinstance(v, tuple) and hasattr(v, "_fields"):
        return {"record": record_name(v), **{k: _value(x) for k, x in zip(v._fields, v, strict=True)}}
    if isinstance(v, tuple):
        return [_value(x) for x in v]
    return v


def record_to_dict(data: object) -> dict[str, Any]:
    """A step's typed record as JSON: its fields, records nested inside it as objects."""
    fields = _value(data)
    assert isinstance(fields, dict)
    fields.pop("record")
    return fields


def _step(s: Step) -> dict[str, Any]:
    detail, ref = describe(s)
    out: dict[str, Any] = {"kind": s.kind.value, "action": s.action.value, "detail": detail}
    if ref:
        out["ref"] = ref
    if isinstance(s.data, Translated) and s.data.diffs:
        out["diffs"] = [{"field": d.field, "old": d.old, "new": d.new} for d in s.data.diffs]
    if s.reason is not None:
        out["reason"] = s.reason.value
    out["record"] = record_name(s.data)
    out["data"] = record_to_dict(s.data)
    return out


def packet_to_dict(p: PacketTrace, start: float) -> dict[str, Any]:
    return {
        "kind": p.kind,
        "attempt": p.attempt,
        "summary": p.summary,
        "sent_at_ms": _ms(p.sent_at - start),
        "arrived_at_ms": _ms(p.arrived_at - start),
        "disposition": p.disposition.value,
        "reason": p.reason.value if p.reason else None,
        "hops": [
            {"node": h.node, "time_ms": _ms(h.time - start), "steps": [_step(s) for s in h.steps]} for h in p.hops
        ],
    }


def probe_to_dict(r: ProbeResult, *, schema: bool = True) -> dict[str, Any]:
    head = {"schema": SCHEMA} if schema else {}
    return {
        **head,
        "source": r.source,
        "host": r.host,
        "address": r.address,
        "port": r.port,
        "at_s": r.started_at,
        "verdict": r.verdict.value,
        "reason": r.reason.value,
        "detail": r.detail,
        "blocked_at": r.blocked_at,
        "ref": r.ref or None,
        "connect_time_ms": _ms(r.connect_time),
        "protocol": r.protocol,
        "attempts": r.attempts,
        "control_events": [{"at_s": t, "change": c} for t, c in r.control_events],
        "branches": [branch_to_dict(b) for b in r.branches],
        "packets": [packet_to_dict(p, r.started_at) for p in r.packets],
    }


def branch_to_dict(b: ProbeResult) -> dict[str, Any]:
    """One branch: the load balancers' choices on it and how it ended (its packets are not kept)."""
    return {
        "choices": [
            {
                "node": c.balancer,
                "listener": c.listener,
                "backend": c.instance,
                "port": c.port,
                "pinned": c.pinned,
                "kind": c.kind,
            }
            for c in b.choices
        ],
        "verdict": b.verdict.value,
        "reason": b.reason.value,
        "detail": b.detail,
        "connect_time_ms": _ms(b.connect_time),
        "blocked_at": b.blocked_at,
        "ref": b.ref or None,
    }


def check_to_dict(c: CheckResult) -> dict[str, Any]:
    return {
        "name": c.check.name,
        "from": c.check.source,
        "to": c.check.host if c.check.protocol == "icmp" else f"{c.check.host}:{c.check.port}",
        "at_s": c.check.at,
        "protocol": c.check.protocol,
        "expect": c.check.expect.value,
        "expect_reason": c.check.expect_reason,
        "branches": c.check.branches.value,
        "passed": c.passed,
        "failing_branches": [i for i, b in enumerate(c.result.branches) if not c.holds_on(b)],
        "result": probe_to_dict(c.result, schema=False),
    }
