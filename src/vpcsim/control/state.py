"""Control-plane snapshots over simulated time: the one implementation of the timeline.

Events apply in time order (file order among equal times); each kind has one handler in
:data:`HANDLERS`, which changes a draft of the next snapshot and may schedule what the change
causes later (an accepted endpoint turning ACTIVE). Health checks' verdicts, which follow from
listener changes, are scheduled up front. An event the state at its time cannot take (detach a
VPC that is not attached, remove a rule past the end) raises :class:`TimelineError`, which the
loader reports against the event's key path: the loader validates the timeline by running it.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Network
from typing import Any

from vpcsim.control.ccn_routes import CcnRouteTable
from vpcsim.control.health import health_transitions, probe_admitted
from vpcsim.control.route_tables import RouteError, check_conflicts, check_entry
from vpcsim.model import (
    EndpointState,
    Event,
    EventKind,
    Listener,
    LoadBalancer,
    RouteTable,
    SecurityGroup,
    Topology,
    TunnelState,
)
from vpcsim.model.privatelink import state_name

BackendKey = tuple[str, str, str, int]
"""(load balancer, listener, instance, port)."""

_HEALTH, _ACTIVATE = 1_000_000, 1_000_001
"""Ranks of derived changes: after every event of the same time, health before activations."""


class TimelineError(Exception):
    """A timeline event that the control state at its time cannot take."""

    def __init__(self, order: int, key: str, problem: str) -> None:
        super().__init__(problem)
        self.order = order
        """The event's position in the file's ``timeline`` list."""
        self.key = key
        """The event's key to blame (``vpc``, ``index``), or "" for the whole event."""
        self.problem = problem


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
    listening: dict[str, frozenset[tuple[str, int]]]
    """Instance → its listeners as (protocol, port)."""
    backend_health: dict[BackendKey, bool]
    route_tables: dict[str, RouteTable] = field(default_factory=dict)
    tunnels: dict[tuple[str, str], TunnelState] = field(default_factory=dict)
    """(gateway, tunnel) → its state."""
    changes: tuple[str, ...] = ()


def ccn_members(topo: Topology, ccn_id: str) -> list[tuple[str, list[tuple[str, IPv4Network]]]]:
    """What a CCN's members publish at t=0, in attach order: each listed VPC's subnets, then each
    CCN-type gateway (by id) with its data centres' ranges."""
    members: list[tuple[str, list[tuple[str, IPv4Network]]]] = [
        (vid, [(s.id, s.cidr) for s in topo.vpcs[vid].subnets]) for vid in topo.ccns[ccn_id].attachments
    ]
    for gid in sorted(topo.gateways):
        gw = topo.gateways[gid]
        if gw.ccn == ccn_id:
            members.append((gid, [(idc, cidr) for idc in gw.idcs for cidr in topo.idcs[idc].cidrs]))
    return members


def member_region(topo: Topology, member: str) -> str:
    """The region of a CCN member: a VPC or a CCN-type gateway."""
    vpc = topo.vpcs.get(member)
    return vpc.region if vpc is not None else topo.gateways[member].region


def initial_state(topo: Topology) -> ControlState:
    tables: dict[str, CcnRouteTable] = {}
    for cid in topo.ccns:
        tables[cid] = CcnRouteTable(ccn=cid, attachments=(), routes=()).attach_all(ccn_members(topo, cid))
    listening = {iid: inst.sockets for iid, inst in topo.instances.items()}
    listening.update({hid: h.sockets for hid, h in topo.idc_hosts.items()})
    health: dict[BackendKey, bool] = {}
    for lb in topo.load_balancers.values():
        for lst in lb.listeners:
            for b in lst.backends:
                port = lst.health_check.port or b.port
                health[(lb.id, lst.id, b.instance, b.port)] = (lst.protocol, port) in listening[
                    b.instance
                ] and probe_admitted(topo, topo.security_groups, lb, lst, b.instance, port)
    return ControlState(
        time=0.0,
        endpoint_states={eid: ep.initial_state for eid, ep in topo.endpoints.items()},
        endpoint_notes={eid: ep.state_reason for eid, ep in topo.endpoints.items()},
        ccn_tables=tables,
        security_groups=dict(topo.security_groups),
        listening=listening,
        backend_health=health,
        route_tables=dict(topo.route_tables),
        tunnels={(g.id, t.id): t.state for g in topo.gateways.values() for t in g.tunnels},
    )


@dataclass(slots=True)
class Draft:
    """The next snapshot while the events of one time apply to it."""

    topo: Topology
    at: float
    endpoint_states: dict[str, EndpointState]
    endpoint_notes: dict[str, str]
    tables: dict[str, CcnRouteTable]
    groups: dict[str, SecurityGroup]
    listening: dict[str, frozenset[tuple[str, int]]]
    health: dict[BackendKey, bool]
    route_tables: dict[str, RouteTable]
    tunnels: dict[tuple[str, str], TunnelState]
    schedule: Callable[[float, int, str, Any], None]
    accepts: dict[str, int]
    """How many accepts each endpoint has had: names the one an activation belongs to."""
    notes: list[str] = field(default_factory=list)

    def member_of(self, vpc: str) -> str | None:
        return next((cid for cid, t in self.tables.items() if vpc in t.attachments), None)


# -- one handler per event kind ----------------------------------------------------------------------


def _failed_at_creation(d: Draft, ev: Event) -> None:
    ep = d.topo.endpoints[str(ev.endpoint)]
    if ep.initial_state is EndpointState.FAILED:
        raise TimelineError(
            ev.order,
            "endpoint",
            f"endpoint {ep.id} {state_name(d.topo.cloud, EndpointState.FAILED)} at creation ({ep.state_reason}); "
            "it has no connection to accept or reject",
        )


def _accept_endpoint(d: Draft, ev: Event) -> str:
    _failed_at_creation(d, ev)
    eid = str(ev.endpoint)
    if d.endpoint_states[eid] in (EndpointState.PENDING, EndpointState.REJECTED):
        delay = d.topo.settings.endpoint_accept_delay
        d.endpoint_states[eid] = EndpointState.ACCEPTING
        accepting = state_name(d.topo.cloud, EndpointState.ACCEPTING)
        d.endpoint_notes[eid] = f"accepted at {d.at:g}s; {accepting} until {d.at + delay:g}s"
        d.accepts[eid] = d.accepts.get(eid, 0) + 1
        d.schedule(d.at + delay, _ACTIVATE, "activate", (eid, d.accepts[eid]))
    return ev.describe()


def _reject_endpoint(d: Draft, ev: Event) -> str:
    _failed_at_creation(d, ev)
    eid = str(ev.endpoint)
    d.endpoint_states[eid] = EndpointState.REJECTED
    d.endpoint_notes[eid] = f"rejected by the provider at {d.at:g}s"
    return ev.describe()


def _attach_vpc(d: Draft, ev: Event) -> str:
    ccn, vpc = str(ev.ccn), str(ev.vpc)
    member = d.member_of(vpc)
    if member is not None:
        raise TimelineError(ev.order, "vpc", f"VPC {vpc} is already attached to {member} then")
    table = d.tables[ccn].attach(vpc, [(s.id, s.cidr) for s in d.topo.vpcs[vpc].subnets])
    regions = sorted({member_region(d.topo, v) for v in table.attachments})
    for i, a in enumerate(regions):
        for b in regions[i + 1 :]:
            if d.topo.settings.delays.between_regions(a, b) is None:
                raise TimelineError(
                    ev.order,
                    "vpc",
                    f"no delay known between {a} and {b}: add settings.delays.regions['{a}/{b}'] (one-way)",
                )
    d.tables[ccn] = table
    return ev.describe()


def _detach_vpc(d: Draft, ev: Event) -> str:
    ccn, vpc = str(ev.ccn), str(ev.vpc)
    if vpc not in d.tables[ccn].attachments:
        raise TimelineError(ev.order, "vpc", f"VPC {vpc} is not attached to {ccn} then")
    d.tables[ccn] = d.tables[ccn].detach(vpc)
    return ev.describe()


def _edit_rules(d: Draft, ev: Event) -> str:
    gid = str(ev.security_group)
    d.groups[gid], index = edited(d.groups[gid], ev)
    return replace(ev, index=index).describe()


def edited(g: SecurityGroup, ev: Event) -> tuple[SecurityGroup, int]:
    """Group ``g`` after an add_rule or remove_rule event, and the index the event took."""
    gid, direction = str(ev.security_group), str(ev.direction)
    rules = list(g.rules(direction))
    if ev.kind is EventKind.ADD_RULE:
        assert ev.rule is not None
        index = len(rules) if ev.index is None else ev.index
        if index > len(rules):
            raise TimelineError(
                ev.order, "index", f"index {index} is past the end: {gid} has {len(rules)} {direction} rules then"
            )
        rules.insert(index, ev.rule)
    else:
        index = int(ev.index or 0)
        if index >= len(rules):
            raise TimelineError(ev.order, "index", f"no {direction} rule #{index}: {gid} has {len(rules)} then")
        del rules[index]
    if direction == "ingress":
        return replace(g, ingress=tuple(rules)), index
    return replace(g, egress=tuple(rules)), index


def _listener(d: Draft, ev: Event) -> str:
    inst, socket = str(ev.instance), (ev.protocol, int(ev.port or 0))
    if ev.kind is EventKind.STOP_LISTENER:
        d.listening[inst] = d.listening[inst] - {socket}
    else:
        d.listening[inst] = d.listening[inst] | {socket}
    return ev.describe()


def _route(d: Draft, ev: Event) -> str:
    table = d.route_tables[str(ev.route_table)]
    routes = list(table.routes)
    rid = str(ev.route)
    at = next((i for i, r in enumerate(routes) if r.id == rid), None)
    try:
        if ev.kind is EventKind.ADD_ROUTE:
            assert ev.entry is not None
            check_entry(d.topo, table, routes, ev.entry)
            routes.append(ev.entry)
        elif at is None:
            raise RouteError("route", f"route table {table.id} has no route {rid!r} then")
        elif ev.kind is EventKind.DELETE_ROUTE:
            del routes[at]
        else:
            enable = ev.kind is EventKind.ENABLE_ROUTE
            if enable and not routes[at].enabled:
                check_conflicts(table, routes, routes[at])
            routes[at] = replace(routes[at], enabled=enable)
    except RouteError as exc:
        keys = ("route", "destination", "next_hop") if ev.kind is EventKind.ADD_ROUTE else ()
        key = exc.key if exc.key in keys else "route" if ev.kind is not EventKind.ADD_ROUTE else ""
        raise TimelineError(ev.order, key, exc.problem) from None
    d.route_tables[table.id] = replace(table, routes=tuple(routes))
    return ev.describe()


def _tunnel(d: Draft, ev: Event) -> str:
    key = (str(ev.gateway), str(ev.tunnel))
    d.tunnels[key] = TunnelState.UP if ev.kind is EventKind.TUNNEL_UP else TunnelState.DOWN
    return ev.describe()


HANDLERS: dict[EventKind, Callable[[Draft, Event], str]] = {
    EventKind.ACCEPT_ENDPOINT: _accept_endpoint,
    EventKind.REJECT_ENDPOINT: _reject_endpoint,
    EventKind.ATTACH_VPC: _attach_vpc,
    EventKind.DETACH_VPC: _detach_vpc,
    EventKind.ADD_RULE: _edit_rules,
    EventKind.REMOVE_RULE: _edit_rules,
    EventKind.STOP_LISTENER: _listener,
    EventKind.START_LISTENER: _listener,
    EventKind.ADD_ROUTE: _route,
    EventKind.DELETE_ROUTE: _route,
    EventKind.ENABLE_ROUTE: _route,
    EventKind.DISABLE_ROUTE: _route,
    EventKind.TUNNEL_DOWN: _tunnel,
    EventKind.TUNNEL_UP: _tunnel,
}
"""Event kind → how it changes the next snapshot; returns the change as the trace shows it."""


# -- what changes cause later ------------------------------------------------------------------------


def _health(d: Draft, payload: Any) -> None:
    key, healthy = payload
    d.health[key] = healthy
    d.notes.append(
        f"health check: backend {key[2]}:{key[3]} of {key[0]}/{key[1]} is now "
        + ("healthy" if healthy else "unhealthy")
    )


def _activate(d: Draft, payload: Any) -> None:
    eid, generation = payload
    # Only the latest accept may finish: a reject (and a new accept) in between voids it.
    if d.endpoint_states[eid] is EndpointState.ACCEPTING and d.accepts[eid] == generation:
        d.endpoint_states[eid] = EndpointState.ACTIVE
        active = state_name(d.topo.cloud, EndpointState.ACTIVE)
        d.endpoint_notes[eid] = f"accepted by the provider; {active} since {d.at:g}s"
        d.notes.append(f"endpoint {eid} is now {active}")


_DERIVED: dict[str, Callable[[Draft, Any], None]] = {"health": _health, "activate": _activate}


def control_timeline(topo: Topology) -> list[ControlState]:
    """Every distinct control state, sorted by time; the first is at t=0.

    Changes that fall at the same time apply in a fixed order (file order of events, derived
    changes after the event that caused them), so the result is deterministic. Raises
    :class:`TimelineError` for an event the state at its time cannot take.
    """
    queue: list[tuple[float, int, int, str, Any]] = []
    seq = 0

    def push(at: float, rank: int, kind: str, payload: Any) -> None:
        nonlocal seq
        heapq.heappush(queue, (at, rank, seq, kind, payload))
        seq += 1

    for ev in topo.timeline:
        push(ev.at, ev.order, "event", ev)
    listener_changes = _listener_changes(topo)
    # Only probes that security groups judge need the groups over time.
    probed = any(lb.probe_ip is not None for lb in topo.load_balancers.values())
    groups_over_time = _groups_over_time(topo) if probed else []
    for lb in sorted(topo.load_balancers.values(), key=lambda x: x.id):
        for lst in lb.listeners:
            for b in lst.backends:
                port = lst.health_check.port or b.port
                changes = _probe_changes(topo, lb, lst, b.instance, port, listener_changes, groups_over_time)
                if not changes:
                    continue
                initial = (lst.protocol, port) in topo.instances[b.instance].sockets and probe_admitted(
                    topo, topo.security_groups, lb, lst, b.instance, port
                )
                for when, healthy in health_transitions(lst.health_check, initial, changes):
                    push(when, _HEALTH, "health", ((lb.id, lst.id, b.instance, b.port), healthy))

    snapshots = [initial_state(topo)]
    accepts: dict[str, int] = {}
    while queue:
        cur = snapshots[-1]
        d = Draft(
            topo=topo,
            at=queue[0][0],
            endpoint_states=dict(cur.endpoint_states),
            endpoint_notes=dict(cur.endpoint_notes),
            tables=dict(cur.ccn_tables),
            groups=dict(cur.security_groups),
            listening=dict(cur.listening),
            health=dict(cur.backend_health),
            route_tables=dict(cur.route_tables),
            tunnels=dict(cur.tunnels),
            schedule=push,
            accepts=accepts,
        )
        while queue and queue[0][0] == d.at:
            _, _, _, kind, payload = heapq.heappop(queue)
            if kind == "event":
                d.notes.append(f"timeline: {HANDLERS[payload.kind](d, payload)}")
            else:
                _DERIVED[kind](d, payload)
        snapshots.append(
            ControlState(
                time=d.at,
                endpoint_states=d.endpoint_states,
                endpoint_notes=d.endpoint_notes,
                ccn_tables=d.tables,
                security_groups=d.groups,
                listening=d.listening,
                backend_health=d.health,
                route_tables=d.route_tables,
                tunnels=d.tunnels,
                changes=tuple(d.notes),
            )
        )
    if len(snapshots) > 1 and snapshots[1].time == 0.0:
        # Events at t=0 replace the initial snapshot instead of living beside it.
        snapshots = snapshots[1:]
    return snapshots


def _listener_changes(topo: Topology) -> dict[tuple[str, str, int], list[tuple[float, bool]]]:
    """(instance, protocol, port) → when its listener stops (False) and starts (True)."""
    out: dict[tuple[str, str, int], list[tuple[float, bool]]] = {}
    for ev in topo.timeline:
        if ev.kind in (EventKind.STOP_LISTENER, EventKind.START_LISTENER):
            assert ev.instance is not None and ev.port is not None
            key = (ev.instance, ev.protocol, ev.port)
            out.setdefault(key, []).append((ev.at, ev.kind is EventKind.START_LISTENER))
    return out


def _groups_over_time(topo: Topology) -> list[tuple[float, dict[str, SecurityGroup]]]:
    """The security groups after each time the timeline edits them (an edit the groups cannot take
    is left for the timeline itself to report)."""
    out: list[tuple[float, dict[str, SecurityGroup]]] = []
    groups = dict(topo.security_groups)
    for ev in topo.timeline:
        if ev.kind in (EventKind.ADD_RULE, EventKind.REMOVE_RULE):
            try:
                groups[str(ev.security_group)], _ = edited(groups[str(ev.security_group)], ev)
            except TimelineError:
                break
            if out and out[-1][0] == ev.at:
                out[-1] = (ev.at, dict(groups))
            else:
                out.append((ev.at, dict(groups)))
    return out


def _probe_changes(
    topo: Topology,
    lb: LoadBalancer,
    lst: Listener,
    instance: str,
    port: int,
    listener_changes: dict[tuple[str, str, int], list[tuple[float, bool]]],
    groups_over_time: list[tuple[float, dict[str, SecurityGroup]]],
) -> list[tuple[float, bool]]:
    """(time, whether a probe would succeed) at each time that may change it: the backend's
    listener starting or stopping, and, for probes that must be admitted, its groups changing."""
    own = listener_changes.get((instance, lst.protocol, port), [])
    if lb.probe_ip is None:
        return own
    bound = set(topo.instances[instance].security_groups)
    edits = {
        ev.at
        for ev in topo.timeline
        if ev.kind in (EventKind.ADD_RULE, EventKind.REMOVE_RULE) and ev.security_group in bound
    }
    times = sorted({t for t, _ in own} | edits)
    out: list[tuple[float, bool]] = []
    listening = (lst.protocol, port) in topo.instances[instance].sockets
    for t in times:
        for when, up in own:
            if when == t:
                listening = up
        groups: Mapping[str, SecurityGroup] = topo.security_groups
        for when, g in groups_over_time:
            if when <= t:
                groups = g
        out.append((t, listening and probe_admitted(topo, groups, lb, lst, instance, port)))
    return out
