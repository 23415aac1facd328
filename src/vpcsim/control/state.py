"""Control-plane snapshots over simulated time."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, replace
from typing import Any

from vpcsim.control.ccn_routes import CcnRouteTable
from vpcsim.control.health import health_transitions
from vpcsim.model import EndpointState, EventKind, SecurityGroup, Topology

BackendKey = tuple[str, str, str, int]
"""(load balancer, listener, instance, port)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlState:
    """What the control plane says at and after ``time`` (until the next snapshot).

    ``changes`` describes what made this snapshot differ from the previous one.
    """

    time: float
    endpoint_states: dict[str, EndpointState]
    endpoint_notes: dict[str, str]
    ccn_tables: dict[str, CcnRouteTable]
    security_groups: dict[str, SecurityGroup]
    listening: dict[str, frozenset[int]]
    backend_health: dict[BackendKey, bool]
    changes: tuple[str, ...] = ()


def initial_state(topo: Topology) -> ControlState:
    tables: dict[str, CcnRouteTable] = {}
    for cid, ccn in topo.ccns.items():
        table = CcnRouteTable(ccn=cid, attachments=(), routes=())
        for vid in ccn.attachments:
            table = table.attach(vid, [(s.id, s.cidr) for s in topo.vpcs[vid].subnets])
        tables[cid] = table
    listening = {iid: inst.listen for iid, inst in topo.instances.items()}
    health: dict[BackendKey, bool] = {}
    for lb in topo.load_balancers.values():
        for lst in lb.listeners:
            for b in lst.backends:
                port = lst.health_check.port or b.port
                health[(lb.id, lst.id, b.instance, b.port)] = port in listening[b.instance]
    return ControlState(
        time=0.0,
        endpoint_states={eid: ep.initial_state for eid, ep in topo.endpoints.items()},
        endpoint_notes={eid: ep.state_reason for eid, ep in topo.endpoints.items()},
        ccn_tables=tables,
        security_groups=dict(topo.security_groups),
        listening=listening,
        backend_health=health,
    )


def control_timeline(topo: Topology) -> list[ControlState]:
    """Every distinct control state, sorted by time; the first is at t=0.

    Mutations that fall at the same time apply in a fixed order (file order of events, derived
    changes after the event that caused them), so the result is deterministic.
    """
    state = initial_state(topo)
    queue: list[tuple[float, int, int, str, Any]] = []
    seq = 0

    def push(at: float, rank: int, kind: str, payload: Any) -> None:
        nonlocal seq
        heapq.heappush(queue, (at, rank, seq, kind, payload))
        seq += 1

    for ev in topo.timeline:
        push(ev.at, ev.order, "event", ev)
    for key, changes in _listener_changes(topo).items():
        inst, port = key
        for lb in sorted(topo.load_balancers.values(), key=lambda x: x.id):
            for lst in lb.listeners:
                for b in lst.backends:
                    if b.instance == inst and (lst.health_check.port or b.port) == port:
                        flips = health_transitions(lst.health_check, port in topo.instances[inst].listen, changes)
                        for when, healthy in flips:
                            push(when, 1_000_000, "health", ((lb.id, lst.id, b.instance, b.port), healthy))

    snapshots = [state]
    accepts: dict[str, int] = {}
    """How many accepts each endpoint has had: names the one an activation belongs to."""
    while queue:
        at = queue[0][0]
        notes: list[str] = []
        cur = snapshots[-1]
        endpoint_states = dict(cur.endpoint_states)
        endpoint_notes = dict(cur.endpoint_notes)
        tables = dict(cur.ccn_tables)
        groups = dict(cur.security_groups)
        listening = dict(cur.listening)
        health = dict(cur.backend_health)
        while queue and queue[0][0] == at:
            _, _, _, kind, payload = heapq.heappop(queue)
            if kind == "health":
                key, healthy = payload
                health[key] = healthy
                notes.append(
                    f"health check: backend {key[2]}:{key[3]} of {key[0]}/{key[1]} is now "
                    + ("healthy" if healthy else "unhealthy")
                )
            elif kind == "activate":
                eid, generation = payload
                # Only the latest accept may finish: a reject (and a new accept) in between voids it.
                if endpoint_states[eid] is EndpointState.ACCEPTING and accepts[eid] == generation:
                    endpoint_states[eid] = EndpointState.ACTIVE
                    endpoint_notes[eid] = f"accepted by the provider; ACTIVE since {at:g}s"
                    notes.append(f"endpoint {eid} is now ACTIVE")
            else:
                ev = payload
                notes.append(f"timeline: {ev.describe()}")
                k = ev.kind
                if k is EventKind.ACCEPT_ENDPOINT:
                    eid = ev.endpoint
                    if endpoint_states[eid] in (EndpointState.PENDING, EndpointState.REJECTED):
                        endpoint_states[eid] = EndpointState.ACCEPTING
                        endpoint_notes[eid] = (
                            f"accepted at {at:g}s; ACCEPTING until {at + topo.settings.endpoint_accept_delay:g}s"
                        )
                        accepts[eid] = accepts.get(eid, 0) + 1
                        push(at + topo.settings.endpoint_accept_delay, 1_000_001, "activate", (eid, accepts[eid]))
                elif k is EventKind.REJECT_ENDPOINT:
                    endpoint_states[ev.endpoint] = EndpointState.REJECTED
                    endpoint_notes[ev.endpoint] = f"rejected by the provider at {at:g}s"
                elif k is EventKind.ATTACH_VPC:
                    vpc = topo.vpcs[ev.vpc]
                    tables[ev.ccn] = tables[ev.ccn].attach(ev.vpc, [(s.id, s.cidr) for s in vpc.subnets])
                elif k is EventKind.DETACH_VPC:
                    tables[ev.ccn] = tables[ev.ccn].detach(ev.vpc)
                elif k in (EventKind.ADD_RULE, EventKind.REMOVE_RULE):
                    g = groups[ev.security_group]
                    rules = list(g.rules(ev.direction))
                    if k is EventKind.ADD_RULE:
                        rules.insert(ev.index, ev.rule)
                    else:
                        del rules[ev.index]
                    if ev.direction == "ingress":
                        groups[ev.security_group] = replace(g, ingress=tuple(rules))
                    else:
                        groups[ev.security_group] = replace(g, egress=tuple(rules))
                elif k is EventKind.STOP_LISTENER:
                    listening[ev.instance] = listening[ev.instance] - {ev.port}
                elif k is EventKind.START_LISTENER:
                    listening[ev.instance] = listening[ev.instance] | {ev.port}
        snapshots.append(
            ControlState(
                time=at,
                endpoint_states=endpoint_states,
                endpoint_notes=endpoint_notes,
                ccn_tables=tables,
                security_groups=groups,
                listening=listening,
                backend_health=health,
                changes=tuple(notes),
            )
        )
    if len(snapshots) > 1 and snapshots[1].time == 0.0:
        # Events at t=0 replace the initial snapshot instead of living beside it.
        snapshots = snapshots[1:]
    return snapshots


def _listener_changes(topo: Topology) -> dict[tuple[str, int], list[tuple[float, bool]]]:
    out: dict[tuple[str, int], list[tuple[float, bool]]] = {}
    for ev in topo.timeline:
        if ev.kind in (EventKind.STOP_LISTENER, EventKind.START_LISTENER):
            assert ev.instance is not None and ev.port is not None
            out.setdefault((ev.instance, ev.port), []).append((ev.at, ev.kind is EventKind.START_LISTENER))
    return out
