"""Huawei Cloud VPC Endpoint across VPCs and accounts, through the Python API.

Runs every check of huawei_cross_vpc.yaml and prints, for each, its verdict and the typed records of
the packet that decided it: the routes taken, the endpoint's VPCEP NAT and the ELB's translation with
what they rewrote (the backend sees the server port, and 100.125.x.x behind the shared ELB or the
VPCEP address behind the dedicated one), the backend chosen, and the drop: an endpoint that is not
accepted, a client port with no mapping, a security group without 198.19.128.0/17, no route.
"""

from __future__ import annotations

import sys
from pathlib import Path

from vpcsim import Network
from vpcsim.trace import (
    AclDenied,
    AllDead,
    Chosen,
    CircuitsDown,
    Delivered,
    Denied,
    GatewayHit,
    Inactive,
    LocalHit,
    NoOwner,
    NoPortMapping,
    NoRoute,
    RouteHit,
    SessionLimit,
    SourceChecked,
    Translated,
)

SCENARIO = Path(__file__).with_name("huawei_cross_vpc.yaml")
ANSWERS = ("SYN-ACK", "RST", "UDP")


def describe(d: object) -> str | None:
    """One line for each record that shows the path; None for the rest (receipts, sessions, filters
    that let the packet pass)."""
    if isinstance(d, RouteHit) and d.table:
        return f"{d.router}: route {d.entry} of {d.table} -> {d.hop_noun} {d.next_hop}"
    if isinstance(d, RouteHit):
        return f"{d.router}: {d.prefix} ({d.origin_noun} {d.origin_subnet}) -> {d.next_hop}"
    if isinstance(d, LocalHit):
        return f"{d.router}: Local -> {d.owner_noun} {d.owner}"
    if isinstance(d, GatewayHit):
        return f"{d.gateway}: {d.noun} over {d.circuit_noun} {d.circuit} ({d.state}) -> {d.toward}"
    if isinstance(d, Translated) and not d.reverse:
        changes = ", ".join(f"{c.field} {c.old} -> {c.new}" for c in d.diffs)
        if d.translation:  # a VPC endpoint's (or gateway endpoint's) NAT
            return f"{d.node}: {d.translation} for service {d.service}: {changes}"
        return f"{d.node}: {d.noun} listener {d.listener} -> {d.target}: {changes}"
    if isinstance(d, Chosen):
        return f"{d.balancer}: {d.scheduler} chose {d.backend} among {d.candidates} {d.pool.value} backend(s)"
    if isinstance(d, AllDead):
        return f"{d.balancer}: every backend of {d.listener} fails its health checks, so all are scheduled"
    if isinstance(d, Delivered):
        return f"{d.node}: delivered on {d.protocol}/{d.port}"
    # The drops.
    if isinstance(d, Inactive):
        return f"{d.node}: dropped, the {d.noun} is {d.state} ({d.note}); only {d.forwarding_state} forwards"
    if isinstance(d, NoPortMapping):
        return f"{d.node}: dropped, no mapping for {d.protocol}/{d.port} (client ports mapped: {d.ports})"
    if isinstance(d, SessionLimit):
        return f"{d.node}: dropped, {d.limit} concurrent connections already open"
    if isinstance(d, Denied):
        groups = getattr(d.match, "groups", None) or (getattr(d.match, "group", ""),)
        return f"{d.owner}: dropped, {', '.join(groups)} {d.direction} admits no {d.protocol}/{d.port} from {d.peer}"
    if isinstance(d, AclDenied):
        return (
            f"{d.node}: dropped, network ACL {d.match.acl} {d.match.direction} denies {d.protocol}/{d.port} ({d.peer})"
        )
    if isinstance(d, SourceChecked):
        return f"{d.host}: dropped, source/destination check on: not addressed to it ({d.destination})"
    if isinstance(d, CircuitsDown):
        down = ", ".join(f"{c} {state}" for c, state in d.circuits)
        return f"{d.gateway}: dropped, the {d.noun} has no {d.circuit_noun} up ({down})"
    if isinstance(d, NoOwner):
        return f"{d.router}: dropped, {d.address} is in {d.prefix} but nothing there owns it"
    if isinstance(d, NoRoute):
        where = f" (entered from {d.entered_from})" if d.entered_from else ""
        table = f" in {d.table}" if d.table else ""
        note = f": {d.note}" if d.note else ""
        return f"{d.router}: dropped, no route to {d.address}{table}{where}{note}"
    return None


def main(scenario: Path = SCENARIO) -> int:
    """Every check of ``scenario`` (the other Huawei examples print theirs with this too)."""
    net = Network.from_file(scenario)
    results = net.run_checks()
    for r in results:
        got = r.result
        print(f"{'PASS' if r.passed else 'FAIL'}  {r.check.name}")
        print(f"      {got.verdict.value} ({got.reason.value})")
        packet = got.packets[got.decisive]
        print(f"      deciding packet: {packet.summary}")
        for hop in packet.hops:
            for step in hop.steps:
                line = describe(step.data)
                if line is not None:
                    print(f"        {line}")
        answer = next((p for p in got.packets[got.decisive + 1 :] if p.kind in ANSWERS), None)
        if answer is not None and (got.succeeded or got.verdict.value == "refused"):
            # The answer as the server sent it: its destination is the source the server saw.
            print(f"      answer as sent: {answer.summary}")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
