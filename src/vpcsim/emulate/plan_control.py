"""The kernel oracle's own reading of the control plane: what holds at a given time, from the
validated model and its timeline alone.

The simulator gets the same answers from ``vpcsim.control`` and a front-end's lowering; the oracle
shares none of that code, so a bug there shows up as a disagreement instead of being built into
both sides. Each rule is written here again, as plainly as possible (replaying from t=0 instead of
keeping snapshots, scanning lists instead of indexing prefixes):

- endpoint admission: same account is ACTIVE; another account needs the whitelist (or ``*``),
  else FAILED; then ACTIVE with auto-accept, PENDING without. Huawei: a cloud service's endpoint
  is ACTIVE; the owner's account is whitelisted too, but without auto-accept (approval on) every
  endpoint is PENDING, the owner's own included. An accept moves PENDING or REJECTED
  to ACCEPTING, which turns ACTIVE after ``endpoint_accept_delay`` unless a reject (or another
  accept) came in between; a reject makes it REJECTED. Only ACTIVE forwards.
- CCN routes: each attached VPC publishes its subnets (by prefix, then id); a route overlapping
  an enabled route learned earlier is disabled and stays so while its VPC stays attached (first
  attached wins); detaching withdraws a VPC's routes; attaching again puts it last.
- security groups as the timeline edits them; listeners as the timeline starts and stops them.
- health: probes every ``interval`` from t=0 see whether the checked port listens (and, for a load
  balancer with a ``probe_ip``, whether the backend's groups, then its subnet's ACL for a probe
  from outside the subnet, admit the probe, and ICMP too for UDP); a backend whose probe
  succeeds at t=0 starts healthy; ``unhealthy_threshold`` failures in a row make it unhealthy when
  the last probe times out, ``healthy_threshold`` successes make it healthy again.
- which backends a new connection may reach: weight > 0 and healthy (health checks on) or weight
  > 0 (off); when every backend fails its checks and one has weight > 0, every bound backend;
  nobody when only weight-0 backends are healthy, or when every weight is 0.
- CCN-type gateways join their CCN after the listed VPCs, by id, each publishing its data
  centres' ranges; route tables as the timeline adds, deletes, enables and disables routes; VPN
  tunnels as the timeline takes them down and up.
- which route of a table forwards a destination: among its enabled routes to that destination, the
  best-ranked type (Direct Connect gateway, then VPN gateway, then the rest); a CCN route to the
  same prefix beats them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv4Network

from vpcsim.model import (
    Backend,
    EventKind,
    HealthCheck,
    LoadBalancer,
    NextHopKind,
    RouteEntry,
    Rule,
    SecurityGroup,
    Topology,
)

ACTIVE, PENDING, ACCEPTING, REJECTED, FAILED = "ACTIVE", "PENDING", "ACCEPTING", "REJECTED", "FAILED"

_RANKS = {
    NextHopKind.DC_GATEWAY: 1,
    NextHopKind.VPN_GATEWAY: 2,
    NextHopKind.PEERING: 3,
    NextHopKind.INSTANCE: 3,
    NextHopKind.ENDPOINT: 3,
}


@dataclass(frozen=True, slots=True)
class CcnPrefix:
    prefix: IPv4Network
    vpc: str
    enabled: bool


@dataclass(frozen=True, slots=True)
class OracleState:
    """What the control plane says at ``time``."""

    time: float
    endpoint_states: dict[str, str]
    """Endpoint → ACTIVE, PENDING, ACCEPTING, REJECTED or FAILED."""
    attached: dict[str, tuple[str, ...]]
    """CCN → its VPCs, in the order they were attached."""
    ccn_routes: dict[str, tuple[CcnPrefix, ...]]
    """CCN → every route its members published, in the order learned."""
    groups: dict[str, SecurityGroup]
    listening: dict[str, frozenset[tuple[str, int]]]
    """Instance → (protocol, port) of each listener."""
    candidates: dict[tuple[str, str], tuple[Backend, ...]]
    """(load balancer, listener id) → the backends a new connection may reach, in bound order."""
    routes: dict[str, tuple[RouteEntry, ...]] = field(default_factory=dict)
    """Route table → its routes, enabled or not, in order."""
    tunnels_up: dict[tuple[str, str], bool] = field(default_factory=dict)
    """(gateway, tunnel) → whether it is up."""

    def forwarding(self, table: str) -> dict[IPv4Network, list[RouteEntry]]:
        """Destination → the routes of ``table`` that forward it (several: equal-cost paths)."""
        best: dict[IPv4Network, list[RouteEntry]] = {}
        for r in self.routes[table]:
            if not r.enabled:
                continue
            held = best.get(r.destination)
            if held is None or _RANKS[r.kind] < _RANKS[held[0].kind]:
                best[r.destination] = [r]
            elif _RANKS[r.kind] == _RANKS[held[0].kind]:
                held.append(r)
        return best

    def ccn_of(self, vpc: str) -> str | None:
        return next((c for c, vpcs in self.attached.items() if vpc in vpcs), None)

    def enabled_routes(self, ccn: str) -> list[CcnPrefix]:
        return [r for r in self.ccn_routes[ccn] if r.enabled]


def admission(topo: Topology, endpoint: str) -> str:
    ep = topo.endpoints[endpoint]
    svc = topo.endpoint_services[ep.service]
    if not svc.vpc:
        return ACTIVE  # a cloud service's
    consumer, provider = topo.vpcs[ep.vpc].account, topo.vpcs[svc.vpc].account
    if topo.cloud == "huawei":
        if consumer != provider and consumer not in svc.whitelist and "*" not in svc.whitelist:
            return FAILED
        return ACTIVE if svc.auto_accept else PENDING
    if consumer == provider:
        return ACTIVE
    if consumer not in svc.whitelist and "*" not in svc.whitelist:
        return FAILED
    return ACTIVE if svc.auto_accept else PENDING


def snat_address(topo: Topology, endpoint: str) -> str:
    """The n-th endpoint of a service (by sorted id, from 0) takes its pool's address n + 1. On
    Huawei every endpoint of every service shares one range: ordered by service, then interface
    endpoints before gateway ones, then id."""
    if topo.cloud != "huawei":
        svc = topo.endpoint_services[topo.endpoints[endpoint].service]
        peers = sorted(e for e, ep in topo.endpoints.items() if ep.service == svc.id)
        return str(svc.snat_cidr.network_address + 1 + peers.index(endpoint))
    order = sorted(
        [(ep.service, 0, e) for e, ep in topo.endpoints.items()]
        + [(ep.service, 1, e) for e, ep in topo.gateway_endpoints.items()]
    )
    position = [e for _, _, e in order].index(endpoint)
    base = next(iter(topo.endpoint_services.values())).snat_cidr.network_address
    return str(base + 1 + position)


def groups_at(topo: Topology, t: float) -> dict[str, SecurityGroup]:
    """The security groups as the timeline has edited them by ``t``."""
    groups = dict(topo.security_groups)
    for ev in topo.timeline:
        if ev.at > t:
            break
        if ev.kind in (EventKind.ADD_RULE, EventKind.REMOVE_RULE):
            g = groups[str(ev.security_group)]
            rules = list(g.ingress if ev.direction == "ingress" else g.egress)
            if ev.kind is EventKind.ADD_RULE:
                assert ev.rule is not None
                rules.insert(len(rules) if ev.index is None else ev.index, ev.rule)
            else:
                del rules[ev.index or 0]
            groups[g.id] = (
                replace(g, ingress=tuple(rules)) if ev.direction == "ingress" else replace(g, egress=tuple(rules))
            )
    return groups


def _admits(rules: list[Rule], protocol: str, source: IPv4Address, port: int) -> bool:
    """The first rule that matches decides; none matching denies."""
    for r in rules:
        proto_ok = r.protocol.value in ("all", protocol)
        port_ok = protocol not in ("tcp", "udp") or r.ports.low <= port <= r.ports.high
        if proto_ok and port_ok and source in r.peer:
            return r.action.value == "accept"
    return False


def probe_passes(topo: Topology, lb: LoadBalancer, protocol: str, instance: str, port: int, t: float) -> bool:
    """Whether ``lb``'s health probe passes the backend's filters at ``t`` (always, without a probe_ip)."""
    if lb.probe_ip is None:
        return True
    inst = topo.instances[instance]
    groups = groups_at(topo, t)
    rules = [r for gid in inst.security_groups for r in groups[gid].ingress]
    kinds = [protocol, "icmp"] if protocol == "udp" else [protocol]
    if not all(_admits(rules, k, lb.probe_ip, port) for k in kinds):
        return False
    subnet = next(s for s in topo.vpcs[inst.vpc].subnets if s.id == inst.subnet)
    if lb.probe_ip in subnet.cidr:
        return True
    leaving = next((a for a in topo.network_acls.values() if a.vpc == lb.vpc and lb.backend_subnet in a.subnets), None)
    outbound = [*leaving.egress, *leaving.defaults[1]] if lb.backend_subnet and leaving is not None else None
    if outbound is not None and not all(_admits(outbound, k, inst.ip, port) for k in kinds):
        return False
    acl = next((a for a in topo.network_acls.values() if a.vpc == inst.vpc and inst.subnet in a.subnets), None)
    if acl is None:
        return True
    listed = [*acl.ingress, *acl.defaults[0]]
    return all(_admits(listed, k, lb.probe_ip, port) for k in kinds)


def _overlap(a: IPv4Network, b: IPv4Network) -> bool:
    return a.subnet_of(b) or b.subnet_of(a)


def _publish(routes: list[CcnPrefix], topo: Topology, member: str) -> None:
    """A VPC publishes its subnets; a CCN-type gateway the ranges of the data centres it reaches."""
    if member in topo.vpcs:
        prefixes = [(s.cidr, s.id) for s in topo.vpcs[member].subnets]
    else:
        gw = topo.gateways[member]
        idcs = {t.idc for t in gw.tunnels}
        prefixes = [(c, i) for i in idcs for c in topo.idcs[i].cidrs]
    for cidr, _ in sorted(prefixes):
        clash = any(r.enabled and _overlap(r.prefix, cidr) for r in routes)
        routes.append(CcnPrefix(cidr, member, not clash))


def _listening_history(topo: Topology, instance: str, socket: tuple[str, int]) -> list[tuple[float, bool]]:
    """(time, listening) from t=0 on, one entry per event that concerns ``socket``."""
    out = [(0.0, socket in topo.instances[instance].sockets)]
    for ev in topo.timeline:
        if ev.instance == instance and (ev.protocol, ev.port) == socket:
            if ev.kind is EventKind.STOP_LISTENER:
                out.append((ev.at, False))
            elif ev.kind is EventKind.START_LISTENER:
                out.append((ev.at, True))
    return out


def _probe_history(
    topo: Topology, lb: LoadBalancer, instance: str, socket: tuple[str, int]
) -> list[tuple[float, bool]]:
    """(time, whether a probe succeeds) from t=0 on: the socket listens and the probe passes the
    backend's filters, at every time either may change."""
    listening = _listening_history(topo, instance, socket)
    times = sorted({t for t, _ in listening} | {ev.at for ev in topo.timeline if ev.security_group is not None})
    if lb.probe_ip is None:
        return listening
    return [
        (t, _listening_at(listening, t) and probe_passes(topo, lb, socket[0], instance, socket[1], t)) for t in times
    ]


def _listening_at(history: list[tuple[float, bool]], t: float) -> bool:
    value = history[0][1]
    for when, v in history:
        if when <= t:
            value = v
    return value


def health_flips(hc: HealthCheck, history: list[tuple[float, bool]]) -> list[tuple[float, bool]]:
    """(time, healthy) whenever a backend's health changes, probing from t=0 on."""
    healthy = history[0][1]
    flips: list[tuple[float, bool]] = []
    if not hc.enabled or len(history) == 1:
        return flips
    last_change = max(when for when, _ in history)
    horizon = last_change + (max(hc.healthy_threshold, hc.unhealthy_threshold) + 2) * hc.interval
    ok_run = fail_run = 0
    k = 0
    while k * hc.interval <= horizon:
        probe = k * hc.interval
        if _listening_at(history, probe):
            ok_run, fail_run = ok_run + 1, 0
            if not healthy and ok_run >= hc.healthy_threshold:
                healthy = True
                flips.append((probe, True))
        else:
            ok_run, fail_run = 0, fail_run + 1
            if healthy and fail_run >= hc.unhealthy_threshold:
                healthy = False
                flips.append((probe + hc.timeout, False))
        k += 1
    return flips


class Oracle:
    """The control plane of one topology, answered at any time by replaying from t=0."""

    def __init__(self, topo: Topology) -> None:
        self.topo = topo
        self._health: dict[tuple[str, str, str, int], tuple[bool, list[tuple[float, bool]]]] = {}
        for lb in topo.load_balancers.values():
            for lst in lb.listeners:
                for b in lst.backends:
                    socket = (lst.protocol, lst.health_check.port or b.port)
                    history = _probe_history(topo, lb, b.instance, socket)
                    self._health[(lb.id, lst.id, b.instance, b.port)] = (
                        history[0][1],
                        health_flips(lst.health_check, history),
                    )

    def endpoint_state(self, endpoint: str, t: float) -> str:
        """Replay the endpoint's admission, accepts and rejects up to ``t``."""
        state = admission(self.topo, endpoint)
        ready: float | None = None  # when the pending accept turns ACTIVE
        for ev in self.topo.timeline:
            if ev.at > t:
                break
            if ready is not None and ready < ev.at:
                state, ready = ACTIVE, None
            if ev.endpoint != endpoint:
                continue
            if ev.kind is EventKind.ACCEPT_ENDPOINT and state in (PENDING, REJECTED):
                state, ready = ACCEPTING, ev.at + self.topo.settings.endpoint_accept_delay
            elif ev.kind is EventKind.REJECT_ENDPOINT:
                state, ready = REJECTED, None
        # Events apply before an activation due at the same time, so only now does it land.
        if ready is not None and ready <= t:
            state = ACTIVE
        return state

    def change_times(self) -> list[float]:
        """Every time the control plane may change (events, activations, health flips)."""
        times = {ev.at for ev in self.topo.timeline}
        delay = self.topo.settings.endpoint_accept_delay
        times |= {ev.at + delay for ev in self.topo.timeline if ev.kind is EventKind.ACCEPT_ENDPOINT}
        for _, flips in self._health.values():
            times |= {t for t, _ in flips}
        return sorted(times)

    def at(self, t: float) -> OracleState:
        topo = self.topo
        events = [ev for ev in topo.timeline if ev.at <= t]
        states = {e: self.endpoint_state(e, t) for e in topo.endpoints}
        attached = {c: list(ccn.attachments) for c, ccn in topo.ccns.items()}
        for gid in sorted(topo.gateways):
            if topo.gateways[gid].ccn is not None:
                attached[str(topo.gateways[gid].ccn)].append(gid)
        routes: dict[str, list[CcnPrefix]] = {c: [] for c in topo.ccns}
        for c, vpcs in attached.items():
            for vpc in vpcs:
                _publish(routes[c], topo, vpc)
        groups = groups_at(topo, t)
        listening = {i: inst.sockets for i, inst in topo.instances.items()}
        listening |= {h.id: h.sockets for idc in topo.idcs.values() for h in idc.hosts}
        tables = {tid: list(t.routes) for tid, t in topo.route_tables.items()}
        tunnels = {(g.id, t.id): t.state.value == "up" for g in topo.gateways.values() for t in g.tunnels}
        for ev in events:
            if ev.kind is EventKind.ATTACH_VPC:
                attached[str(ev.ccn)].append(str(ev.vpc))
                _publish(routes[str(ev.ccn)], topo, str(ev.vpc))
            elif ev.kind is EventKind.DETACH_VPC:
                attached[str(ev.ccn)].remove(str(ev.vpc))
                routes[str(ev.ccn)] = [r for r in routes[str(ev.ccn)] if r.vpc != ev.vpc]
            elif ev.kind is EventKind.STOP_LISTENER:
                listening[str(ev.instance)] = listening[str(ev.instance)] - {(ev.protocol, int(ev.port or 0))}
            elif ev.kind is EventKind.START_LISTENER:
                listening[str(ev.instance)] = listening[str(ev.instance)] | {(ev.protocol, int(ev.port or 0))}
            elif ev.kind is EventKind.ADD_ROUTE:
                assert ev.entry is not None
                tables[str(ev.route_table)].append(ev.entry)
            elif ev.kind in (EventKind.DELETE_ROUTE, EventKind.ENABLE_ROUTE, EventKind.DISABLE_ROUTE):
                rows = tables[str(ev.route_table)]
                at = next(i for i, r in enumerate(rows) if r.id == ev.route)
                if ev.kind is EventKind.DELETE_ROUTE:
                    del rows[at]
                else:
                    rows[at] = replace(rows[at], enabled=ev.kind is EventKind.ENABLE_ROUTE)
            elif ev.kind in (EventKind.TUNNEL_DOWN, EventKind.TUNNEL_UP):
                tunnels[(str(ev.gateway), str(ev.tunnel))] = ev.kind is EventKind.TUNNEL_UP
        candidates = {}
        for lb in topo.load_balancers.values():
            for lst in lb.listeners:
                candidates[(lb.id, lst.id)] = self._candidates(lb.id, lst.id, lst.backends, lst.health_check, t)
        return OracleState(
            time=t,
            endpoint_states=states,
            attached={c: tuple(v) for c, v in attached.items()},
            ccn_routes={c: tuple(v) for c, v in routes.items()},
            groups=groups,
            listening=listening,
            candidates=candidates,
            routes={tid: tuple(rows) for tid, rows in tables.items()},
            tunnels_up=tunnels,
        )

    def healthy(self, lb: str, listener: str, b: Backend, t: float) -> bool:
        healthy, flips = self._health[(lb, listener, b.instance, b.port)]
        for when, h in flips:
            if when <= t:
                healthy = h
        return healthy

    def _candidates(
        self, lb: str, listener: str, backends: tuple[Backend, ...], hc: HealthCheck, t: float
    ) -> tuple[Backend, ...]:
        weighted = tuple(b for b in backends if b.weight > 0)
        if not weighted:
            return ()
        if not hc.enabled:
            return weighted
        healthy = [b for b in backends if self.healthy(lb, listener, b, t)]
        if any(b.weight > 0 for b in healthy):
            return tuple(b for b in healthy if b.weight > 0)
        if healthy:
            return ()
        return backends
