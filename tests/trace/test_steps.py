"""A packet trace checks its own structure when built (Batfish Trace.validateHops)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vpcsim.cli import main
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

SEED = str(Path(__file__).resolve().parents[2] / "scenarios" / "chengdu_chongqing.yaml")

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


def telnet(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as done:
        main(["telnet", SEED, *args])
    assert done.value.code == 0
    return capsys.readouterr().out


def rewrites(step: dict[str, Any]) -> str:
    return ", ".join(f"{d['field']} {d['old']} -> {d['new']}" for d in step["diffs"])


def test_the_text_trace_shows_each_nat_rewrite_from_old_to_new(capsys: pytest.CaptureFixture[str]) -> None:
    probe = ("--from", "cvm-vpc3", "172.16.2.16", "1044")
    text = telnet(capsys, *probe)
    doc = json.loads(telnet(capsys, *probe, "--json"))
    transforms = [
        (p["kind"], h["node"], s)
        for p in doc["packets"]
        for h in p["hops"]
        for s in h["steps"]
        if s["kind"] == "transform"
    ]
    shown = [line.strip() for line in text.splitlines() if line.strip().startswith("transform ")]
    assert shown == [f"transform TRANSFORMED: {s['detail']} [{rewrites(s)}]" for _, _, s in transforms]
    nat = {(kind, node): {d["field"]: (d["old"], d["new"]) for d in s["diffs"]} for kind, node, s in transforms}
    # The SYN leaves the client as the summary says; the endpoint rewrites it into its SNAT
    # address toward the load balancer, which rewrites it to a backend.
    client, sport = doc["packets"][0]["summary"].split(" ")[0].split(":")
    endpoint_snat = nat["SYN", "vpce-vpc1"]
    snat, lb_vip = endpoint_snat["src"][1], endpoint_snat["dst"][1]
    assert endpoint_snat["src"] == (client, snat)
    assert endpoint_snat["sport"][0] == sport
    assert endpoint_snat["dst"] == ("172.16.2.16", lb_vip)
    lb_dnat = nat["SYN", "lb-service"]
    backend, backend_port = lb_dnat["dst"][1], lb_dnat["dport"][1]
    assert lb_dnat == {"dst": (lb_vip, backend), "dport": ("1044", backend_port)}
    snat_port = endpoint_snat["sport"][1]
    assert f"[src {client} -> {snat}, sport {sport} -> {snat_port}, dst 172.16.2.16 -> {lb_vip}]" in text
    assert f"[dst {lb_vip} -> {backend}, dport 1044 -> {backend_port}]" in text
    # The SYN-ACK is translated back: the backend becomes the VIP, then the endpoint the client sees.
    assert nat["SYN-ACK", "lb-service"]["src"] == (backend, lb_vip)
    endpoint_reverse = nat["SYN-ACK", "vpce-vpc1"]
    assert endpoint_reverse["src"] == (lb_vip, "172.16.2.16")
    assert endpoint_reverse["dst"] == (snat, client)
    assert f"src {lb_vip} -> 172.16.2.16, dst {snat} -> {client}" in text
