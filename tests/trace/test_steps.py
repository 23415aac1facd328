"""A packet trace checks its own structure when built (Batfish Trace.validateHops)."""

from __future__ import annotations

import pytest

from vpcsim.trace import (
    Cause,
    Delivered,
    Disposition,
    Hop,
    NoRoute,
    Originated,
    PacketTrace,
    Reason,
    Received,
    Step,
    StepAction,
    StepKind,
    Transmitted,
)

ORIGIN = Step(StepKind.ORIGINATE, StepAction.ORIGINATED, Originated("a", "SYN", Cause.CONNECT))
IN = Step(StepKind.INGRESS, StepAction.RECEIVED, Received("a"))
OUT = Step(StepKind.EGRESS, StepAction.TRANSMITTED, Transmitted("b"))
DELIVER = Step(StepKind.DELIVER, StepAction.DELIVERED, Delivered("b", "tcp", 80))
DROP = Step(StepKind.DROP, StepAction.DROPPED, NoRoute("r", "10.0.0.1", False, ()), Reason.NO_ROUTE)


def trace(hops: tuple[Hop, ...], disposition: Disposition = Disposition.DELIVERED) -> PacketTrace:
    reason = None if disposition is Disposition.DELIVERED else Reason.NO_ROUTE
    return PacketTrace(
        kind="SYN", attempt=1, sent_at=0.0, flow=(1, 2, 3, 4), hops=hops, disposition=disposition, reason=reason
    )


def test_a_well_formed_trace_is_accepted() -> None:
    t = trace((Hop("a", 0.0, (ORIGIN, OUT)), Hop("b", 0.001, (IN, DELIVER))))
    assert t.nodes == ("a", "b")
    assert t.arrived_at == 0.001
    assert t.drop is None


def test_an_empty_hop_is_a_bug() -> None:
    with pytest.raises(ValueError, match="no steps"):
        trace((Hop("a", 0.0, (ORIGIN, OUT)), Hop("b", 0.0, ())))


def test_a_hop_that_does_not_start_with_ingress_is_a_bug() -> None:
    with pytest.raises(ValueError, match="ingress"):
        trace((Hop("a", 0.0, (ORIGIN, OUT)), Hop("b", 0.0, (DELIVER,))))


def test_a_hop_before_the_last_must_end_with_egress() -> None:
    with pytest.raises(ValueError, match="egress"):
        trace((Hop("a", 0.0, (ORIGIN,)), Hop("b", 0.0, (IN, DELIVER))))


def test_a_dropped_packet_ends_with_its_drop_step() -> None:
    t = trace((Hop("a", 0.0, (ORIGIN, OUT)), Hop("r", 0.0, (IN, DROP))), Disposition.NO_ROUTE)
    assert t.drop == DROP
    with pytest.raises(ValueError, match="drop"):
        trace((Hop("a", 0.0, (ORIGIN, OUT)), Hop("r", 0.0, (IN, DELIVER))), Disposition.NO_ROUTE)


def test_every_reason_maps_to_one_disposition() -> None:
    for reason in Reason:
        assert isinstance(reason.disposition, Disposition)
    assert Disposition.DELIVERED.is_success
    assert not Disposition.DENIED.is_success
