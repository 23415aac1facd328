"""The packet walk: one packet, hop by hop, through the compiled forwarding state.

Stateless hops are plain function calls: a walk computes each hop's arrival time from the link
delays and reads the forwarding state valid at that time, so SimPy is needed only where something
waits (TCP timers, deliveries). Each node kind has one way in, ``_at_<kind>``, which appends its
steps and returns where the packet goes next (or None when it stops there).
"""

from __future__ import annotations

from typing import NamedTuple

from vpcsim.compile.ir import (
    CcnNode,
    CompiledNetwork,
    EndpointNode,
    Filter,
    HostNode,
    ListenerIR,
    LoadBalancerNode,
    Node,
    RouterNode,
)
from vpcsim.sim.packet import Header, ip_text
from vpcsim.sim.sessions import FlowKey, LbSession, NatSession, Sessions
from vpcsim.trace import Disposition, FlowDiff, Hop, PacketTrace, Reason, Step, StepAction, StepKind

MAX_HOPS = 64
PACKET_BITS = 44 * 8
"""Size of a SYN with an MSS option, for serialisation delay on bandwidth-capped CCN links."""

Capture = tuple[float, str, Header, str]
"""(time, capture point 'node:iface', header as seen there, packet kind)."""

_CONNTRACK = Step(
    StepKind.SESSION,
    StepAction.MATCHED,
    "matches an established connection: security groups are stateful, rules are not consulted",
)
_CONNTRACK_REPLY = Step(
    StepKind.SESSION,
    StepAction.MATCHED,
    "reply of a connection the security groups admitted: stateful, rules are not consulted",
)


def _hop(node: str, time: float, steps: tuple[Step, ...]) -> Hop:
    # tuple.__new__ skips the NamedTuple's Python-level __new__: a hop per node per packet adds up.
    return tuple.__new__(Hop, (node, time, steps))


class WalkResult(NamedTuple):
    trace: PacketTrace
    header: Header
    """The header as delivered (after every translation), or as dropped."""
    delivered_to: str | None
    arrived_at: float


class _DropError(Exception):
    """Raised inside a node handler to end the walk with a drop step."""

    def __init__(self, reason: Reason, detail: str, ref: str) -> None:
        self.step = Step(StepKind.DROP, StepAction.DROPPED, detail, ref, (), reason)


class Walker:
    """Walks packets for one simulation; owns nothing but references to its sessions."""

    def __init__(
        self, net: CompiledNetwork, sessions: Sessions, *, first_snat_port: int, capture: list[Capture] | None
    ) -> None:
        self.net = net
        self.sessions = sessions
        self.first_snat_port = first_snat_port
        self.capture = capture
        self._delays = net.delay_cache

    # -- helpers ---------------------------------------------------------------------------
    def _cached(self, key: tuple[object, ...], kind: StepKind, action: StepAction, detail: str, ref: str = "") -> Step:
        cache = self.net.step_cache
        step = cache.get(key)
        if step is None:
            step = cache[key] = Step(kind, action, detail, ref)
        return step

    def _deliver(self, node: str, port: int) -> Step:
        key = ("deliver", node, port)
        return self.net.step_cache.get(key) or self._cached(
            key, StepKind.DELIVER, StepAction.DELIVERED, f"delivered to {node} tcp/{port}"
        )

    def _ingress(self, node: str, prev: str) -> Step:
        return self._cached(("in", node, prev), StepKind.INGRESS, StepAction.RECEIVED, f"received from {prev}")

    def _egress(self, node: str, nxt: str) -> Step:
        return self._cached(("out", node, nxt), StepKind.EGRESS, StepAction.TRANSMITTED, f"sent to {nxt}")

    def _delay(self, zone_a: str, region_a: str, zone_b: str, region_b: str) -> float:
        key = (zone_a, region_a, zone_b, region_b)
        d = self._delays.get(key)
        if d is None:
            if zone_a == zone_b and zone_a:
                d = self.net.same_zone
            elif region_a == region_b:
                d = self.net.cross_zone
            else:
                found = self.net.region_delays.get(frozenset({region_a, region_b}))
                if found is None:  # validation guarantees a delay for every connected pair
                    raise RuntimeError(f"no delay between {region_a} and {region_b}")
                d = found
            self._delays[key] = d
        return d

    def _filter(self, f: Filter, peer: int, port: int, steps: list[Step], what: str) -> None:
        rule = f.first_match(6, peer, port)
        if rule is not None:
            steps.append(rule.step)
            if rule.accept:
                return
            raise _DropError(rule.step.reason or Reason.SG_INGRESS_DENIED, f"{what}: {rule.step.detail}", rule.step.ref)
        reason = Reason.SG_INGRESS_DENIED if f.direction == "ingress" else Reason.SG_EGRESS_DENIED
        peer_word = "from" if f.direction == "ingress" else "to"
        if f.groups:
            detail = (
                f"{f.ref} {f.direction}: no rule matches tcp/{port} {peer_word} {ip_text(peer)} "
                f"({len(f.rules)} rules checked): default deny"
            )
        else:
            detail = f"{f.owner} has no security group: {f.direction} tcp/{port} {peer_word} {ip_text(peer)} is denied"
        steps.append(Step(StepKind.FILTER, StepAction.DENIED, detail, f.ref, (), reason))
        raise _DropError(reason, f"{what}: {detail}", f.ref)

    def _record(self, t: float, node: Node, neighbour: str, h: Header) -> None:
        if self.capture is not None:
            iface = "eth0" if isinstance(node, HostNode) else neighbour
            self.capture.append((t, f"{node.id}:{iface}", h, h.kind))

    # -- the walk --------------------------------------------------------------------------
    def walk(self, h: Header, origin: HostNode, t: float, *, attempt: int, note: str = "") -> WalkResult:
        """Send ``h`` from host ``origin`` at time ``t``; follow it until delivered or dropped."""
        net = self.net
        sent_at = t
        flow = (h.src, h.sport, h.dst, h.dport)
        cache = net.step_cache
        capture = self.capture
        static = len(net.states) == 1
        nodes = net.states[0].nodes
        hops: list[Hop] = []
        steps: list[Step] = [
            cache.get(("from", origin.id, h.flags, note))
            or self._cached(
                ("from", origin.id, h.flags, note),
                StepKind.ORIGINATE,
                StepAction.ORIGINATED,
                f"{origin.id} sends {h.kind}" + (f": {note}" if note else ""),
            )
        ]
        node: Node = origin
        arrived = t
        try:
            if h.dst == origin.ip or h.dst >> 24 == 127 or h.dst == 0:  # own address, 127/8, 0.0.0.0
                return self._loopback(origin, h, t, steps, attempt, flow)
            self._host_egress(origin, h, steps)
            nxt = origin.router
            steps.append(origin.links[nxt].leave)
            hops.append(_hop(origin.id, t, tuple(steps)))
            if capture is not None:
                self._record(t, origin, nxt, h)
            prev = origin.id
            zone, region = origin.zone, origin.region
            for _ in range(MAX_HOPS):
                if not static:
                    nodes = net.state_at(t).nodes
                node = nodes[nxt]
                kind = type(node)
                if kind is not RouterNode and kind is not CcnNode:
                    nz, nr = node.zone, node.region  # type: ignore[union-attr]
                    if zone:  # after a CCN crossing the region delay is paid: zone is ""
                        d = self._delays.get((zone, region, nz, nr))
                        t += d if d is not None else self._delay(zone, region, nz, nr)
                    zone, region = nz, nr
                arrived = t
                if capture is not None:
                    self._record(t, node, prev, h)
                link = node.links.get(prev)
                steps = [link.arrive if link is not None else self._ingress(node.id, prev)]
                if kind is RouterNode:
                    nxt = self._at_router(node, h, steps)  # type: ignore[arg-type]
                elif kind is LoadBalancerNode:
                    nxt, h = self._at_load_balancer(node, h, prev, steps)  # type: ignore[arg-type]
                elif kind is EndpointNode:
                    nxt, h = self._at_endpoint(node, h, prev, steps)  # type: ignore[arg-type]
                    t += net.privatelink  # the Private Link gateway translates both ways
                elif kind is CcnNode:
                    nxt = self._at_ccn(node, h, prev, steps)  # type: ignore[arg-type]
                    into = node.member_regions[nxt]  # type: ignore[union-attr]
                    if into != region:
                        # The inter-region delay covers the whole path between the two regions.
                        t += self._delay("", region, "", into) + PACKET_BITS / node.bandwidth_bps  # type: ignore[union-attr]
                        zone, region = "", into
                else:
                    self._at_host(node, h, steps)  # type: ignore[arg-type]
                    hops.append(_hop(node.id, arrived, tuple(steps)))
                    trace = PacketTrace(
                        kind=h.kind,
                        attempt=attempt,
                        sent_at=sent_at,
                        flow=flow,
                        hops=tuple(hops),
                        disposition=Disposition.DELIVERED,
                        reason=None,
                    )
                    return WalkResult(trace, h, node.id, t)
                link = node.links.get(nxt)
                steps.append(link.leave if link is not None else self._egress(node.id, nxt))
                hops.append(_hop(node.id, arrived, tuple(steps)))
                if capture is not None:
                    self._record(t, node, nxt, h)
                prev = node.id
            raise _DropError(Reason.LOOP, f"more than {MAX_HOPS} hops: forwarding loop", node.id)
        except _DropError as drop:
            steps.append(drop.step)
            hops.append(_hop(node.id, arrived, tuple(steps)))
            assert drop.step.reason is not None
            trace = PacketTrace(
                kind=h.kind,
                attempt=attempt,
                sent_at=sent_at,
                flow=flow,
                hops=tuple(hops),
                disposition=drop.step.reason.disposition,
                reason=drop.step.reason,
            )
            return WalkResult(trace, h, None, t)

    def _loopback(
        self, node: HostNode, h: Header, t: float, steps: list[Step], attempt: int, flow: tuple[int, int, int, int]
    ) -> WalkResult:
        """A host talking to its own address: the kernel uses lo, the cloud never sees it."""
        if self.capture is not None:
            self.capture.append((t, f"{node.id}:lo", h, h.kind))
        steps.append(
            self._cached(
                ("lo", node.id, h.dst),
                StepKind.ROUTE,
                StepAction.FORWARDED,
                f"{ip_text(h.dst)} is local to {node.id}: delivered over loopback, "
                "security groups and routes do not apply",
                f"{node.id} lo",
            )
        )
        steps.append(self._deliver(node.id, h.dport))
        trace = PacketTrace(
            kind=h.kind,
            attempt=attempt,
            sent_at=t,
            flow=flow,
            hops=(_hop(node.id, t, tuple(steps)),),
            disposition=Disposition.DELIVERED,
            reason=None,
        )
        return WalkResult(trace, h, node.id, t)

    # -- node handlers ---------------------------------------------------------------------
    def _stateful(self, node: HostNode, f: Filter, peer: int, h: Header, steps: list[Step]) -> None:
        """Security groups with connection tracking, as Linux conntrack does it for TCP.

        A packet in the reply direction of a flow the groups admitted passes (and makes the flow
        ESTABLISHED); a packet in the original direction passes unchecked only once the flow is
        ESTABLISHED. A retransmitted SYN that was never answered is still NEW: the rules decide
        again, so a rule removed meanwhile stops it.
        """
        ct = self.sessions.conntrack.get(node.id)
        if ct is None:
            ct = self.sessions.conntrack[node.id] = {}
        reverse = (h.dst, h.dport, h.src, h.sport)
        if reverse in ct:
            ct[reverse] = True
            steps.append(_CONNTRACK_REPLY)
            return
        flow = (h.src, h.sport, h.dst, h.dport)
        if ct.get(flow):
            steps.append(_CONNTRACK)
            return
        self._filter(f, peer, h.dport, steps, f"{node.id} {f.direction}")
        ct.setdefault(flow, False)

    def _host_egress(self, node: HostNode, h: Header, steps: list[Step]) -> None:
        self._stateful(node, node.egress, h.dst, h, steps)

    def _at_host(self, node: HostNode, h: Header, steps: list[Step]) -> None:
        if h.dst != node.ip:  # pragma: no cover - routers deliver only to the owner
            raise _DropError(Reason.NO_HOST, f"{ip_text(h.dst)} is not {node.id}'s address", node.id)
        self._stateful(node, node.ingress, h.src, h, steps)
        steps.append(self._deliver(node.id, h.dport))

    def _at_router(self, node: RouterNode, h: Header, steps: list[Step]) -> str:
        lbs = self.sessions.lb_reverse.get((h.src, h.sport, h.dst, h.dport))
        if lbs is not None:
            steps.append(
                self._cached(
                    ("lbreply", node.id, lbs.load_balancer),
                    StepKind.SESSION,
                    StepAction.MATCHED,
                    f"reply of a {lbs.load_balancer} connection: returned to {lbs.load_balancer}",
                )
            )
            return lbs.load_balancer
        if (h.dst & node.mask) == node.net:
            entry = node.local.get(h.dst)
            if entry is None:
                raise _DropError(
                    Reason.NO_HOST,
                    f"{ip_text(h.dst)} is in {node.id}'s Local route {node.cidr}, but no instance, endpoint or "
                    "load balancer owns it",
                    f"{node.id} Local route {node.cidr}",
                )
            steps.append(entry.step)
            return entry.next_hop
        entry = node.ccn_routes.lookup(h.dst)
        if entry is None:
            why = [note for net, mask, note in node.invalid_routes if (h.dst & mask) == net]
            if node.ccn is None:
                why.append(f"{node.id} is not attached to any CCN")
            raise _DropError(
                Reason.NO_ROUTE,
                f"{node.id}'s route table has no route to {ip_text(h.dst)}" + (f" ({'; '.join(why)})" if why else ""),
                f"{node.id} route table",
            )
        steps.append(entry.step)
        return entry.next_hop

    def _at_ccn(self, node: CcnNode, h: Header, prev: str, steps: list[Step]) -> str:
        entry = node.routes.lookup(h.dst)
        if entry is None or entry.next_hop == prev:
            why = [note for net, mask, note in node.invalid_routes if (h.dst & mask) == net]
            raise _DropError(
                Reason.NO_ROUTE,
                f"{node.id} has no valid route to {ip_text(h.dst)}" + (f" ({'; '.join(why)})" if why else ""),
                f"{node.id} routes",
            )
        steps.append(entry.step)
        return entry.next_hop

    def _at_endpoint(self, node: EndpointNode, h: Header, prev: str, steps: list[Step]) -> tuple[str, Header]:
        s = self.sessions
        cache = self.net.step_cache
        if node.state != "ACTIVE":  # both ways: a rejected endpoint stops its open flows too
            raise _DropError(
                Reason.ENDPOINT_NOT_ACTIVE,
                f"endpoint {node.id} is {node.state} ({node.state_note}): only ACTIVE endpoints forward",
                node.id,
            )
        if prev == node.load_balancer:
            nat = s.nat_reverse.get((h.src, h.sport, h.dst, h.dport))
            if nat is None:
                raise _DropError(
                    Reason.NO_SESSION, f"reply {h.summary()} matches no session of endpoint {node.id}", node.id
                )
            csrc, csport, cdst, cdport = nat.client
            steps.append(
                cache.get(("natreply", node.id))
                or self._cached(
                    ("natreply", node.id),
                    StepKind.SESSION,
                    StepAction.MATCHED,
                    f"reply of an endpoint {node.id} session",
                )
            )
            steps.append(nat.reverse_step)
            return node.router, Header(cdst, csrc, cdport, csport, h.flags, h.seq, h.ack, h.ttl)
        if node.filter is not None:
            self._filter(node.filter, h.src, h.dport, steps, f"endpoint {node.id} ingress")
        key: FlowKey = (h.src, h.sport, h.dst, h.dport)
        nat = s.nat_forward.get(key)
        if nat is None:
            sport = s.snat_port(node.snat_ip, self.first_snat_port)
            translated = (node.snat_ip, sport, node.lb_vip, h.dport)
            nat = NatSession(
                node.id,
                key,
                translated,
                _nat_step(f"Private Link NAT toward {node.load_balancer} of {node.service}", key, translated),
                _nat_step(
                    "reverse translation of the endpoint session",
                    (node.lb_vip, h.dport, node.snat_ip, sport),
                    (h.dst, h.dport, h.src, h.sport),
                ),
            )
            s.nat_forward[key] = nat
            s.nat_reverse[(node.lb_vip, h.dport, node.snat_ip, sport)] = nat
            steps.append(
                self._cached(
                    ("natnew", node.id),
                    StepKind.SESSION,
                    StepAction.CREATED,
                    f"new session on endpoint {node.id} (service {node.service})",
                )
            )
        else:
            steps.append(
                self._cached(
                    ("natold", node.id),
                    StepKind.SESSION,
                    StepAction.MATCHED,
                    f"existing session on endpoint {node.id}",
                )
            )
        steps.append(nat.forward_step)
        tsrc, tsport, tdst, _ = nat.translated
        return node.load_balancer, Header(tsrc, tdst, tsport, h.dport, h.flags, h.seq, h.ack, h.ttl)

    def _at_load_balancer(self, node: LoadBalancerNode, h: Header, prev: str, steps: list[Step]) -> tuple[str, Header]:
        s = self.sessions
        if h.dst != node.vip:
            sess = s.lb_reverse.get((h.src, h.sport, h.dst, h.dport))
            if sess is None:
                raise _DropError(Reason.NO_SESSION, f"reply {h.summary()} matches no session of {node.id}", node.id)
            steps.append(
                self._cached(
                    ("lbrev", node.id, sess.listener),
                    StepKind.SESSION,
                    StepAction.MATCHED,
                    f"reply of a {node.id} connection via listener {sess.listener}",
                )
            )
            steps.append(sess.reverse_step)
            return sess.return_to, Header(node.vip, h.dst, sess.incoming[3], h.dport, h.flags, h.seq, h.ack, h.ttl)
        listener = node.listeners.get(h.dport)
        if listener is None:
            ports = ", ".join(str(p) for p in sorted(node.listeners)) or "none"
            raise _DropError(
                Reason.NO_LISTENER,
                f"{node.id} has no TCP listener on port {h.dport} (listeners on: {ports})",
                f"{node.id} listeners",
            )
        if node.filter is not None:
            self._filter(node.filter, h.src, h.dport, steps, f"{node.id} ingress")
        key: FlowKey = (h.src, h.sport, h.dst, h.dport)
        sess = s.lb_forward.get(key)
        if sess is None:
            sess = self._schedule(node, listener, key, prev, steps)
        else:
            steps.append(
                self._cached(
                    ("lbold", node.id, sess.backend),
                    StepKind.SESSION,
                    StepAction.MATCHED,
                    f"existing {node.id} connection: same backend {sess.backend}",
                )
            )
        if sess.backend_ip == h.src:
            # The backend would answer itself directly, never through the load balancer.
            raise _DropError(
                Reason.LB_LOOPBACK,
                f"{node.id} chose backend {sess.backend}, which is the client itself: a backend cannot "
                "reach its own load balancer's VIP (layer-4 CLB loopback is not supported)",
                f"{node.id} listener {sess.listener}",
            )
        steps.append(sess.forward_step)
        return node.router, Header(h.src, sess.backend_ip, h.sport, sess.backend_port, h.flags, h.seq, h.ack, h.ttl)

    def _schedule(
        self, node: LoadBalancerNode, listener: ListenerIR, key: FlowKey, prev: str, steps: list[Step]
    ) -> LbSession:
        s = self.sessions
        if not listener.takers:
            raise _DropError(
                Reason.NO_BACKEND,
                f"listener {listener.id} of {node.id} has no backend that takes connections "
                f"({len(listener.backends)} bound, none with weight > 0)",
                f"{node.id} listener {listener.id}",
            )
        if not listener.health_checked:
            pool, pool_word = listener.takers, "bound"
        elif listener.healthy_takers:
            pool, pool_word = listener.healthy_takers, "healthy"
        elif listener.any_healthy:
            # Someone passes its checks but takes no new connections: all-dead-all-alive is for
            # when every server is unhealthy [CLB8], so nothing is scheduled.
            raise _DropError(
                Reason.NO_BACKEND,
                f"listener {listener.id} of {node.id}: its healthy backends all have weight 0 and the "
                "others fail their health checks",
                f"{node.id} listener {listener.id}",
            )
        else:
            steps.append(
                self._cached(
                    ("alldead", node.id, listener.id),
                    StepKind.LOAD_BALANCE,
                    StepAction.CHOSEN,
                    f"all {len(listener.backends)} backends of listener {listener.id} fail their health checks: "
                    "all-dead-all-alive, scheduling among all of them",
                    f"{node.id} listener {listener.id} health check",
                )
            )
            pool, pool_word = listener.takers, "bound"
        lkey = (node.id, listener.id)
        if listener.scheduler == "least_conn":
            active = s.active
            # Fewest connections per unit of weight; ties break by sorted backend id (instance:port).
            chosen = min(pool, key=lambda b: (active.get((lkey, b.key), 0) / b.weight, b.key))
        else:
            cur = s.wrr_current.setdefault(lkey, {})
            total = 0
            chosen = pool[0]
            best_w = -1
            for b in pool:  # smooth weighted round robin, ties to the first bound
                w = cur.get(b.key, 0) + b.weight
                cur[b.key] = w
                total += b.weight
                if w > best_w:
                    chosen, best_w = b, w
            cur[chosen.key] -= total
        akey = (lkey, chosen.key)
        s.active[akey] = s.active.get(akey, 0) + 1
        steps.append(
            self._cached(
                ("lbchose", node.id, listener.id, chosen.key, str(len(pool)), pool_word),
                StepKind.LOAD_BALANCE,
                StepAction.CHOSEN,
                f"{listener.scheduler} chose {chosen.key} (weight {chosen.weight}) among {len(pool)} {pool_word} backends",
                f"{node.id} listener {listener.id}",
            )
        )
        vip, vport = key[2], key[3]
        sess = LbSession(
            node.id,
            listener.id,
            key,
            chosen.key,
            chosen.ip,
            chosen.port,
            prev,
            _nat_step(
                f"{node.id} listener {listener.id} forwards to backend {chosen.key}",
                key,
                (key[0], key[1], chosen.ip, chosen.port),
            ),
            _nat_step(
                "reverse translation of the load-balancer session",
                (chosen.ip, chosen.port, key[0], key[1]),
                (vip, vport, key[0], key[1]),
            ),
        )
        s.lb_forward[key] = sess
        s.lb_reverse[(chosen.ip, chosen.port, key[0], key[1])] = sess
        return sess


def _nat_step(detail: str, old: FlowKey, new: FlowKey) -> Step:
    """A transformation step with the changed fields as diffs; keys are (src, sport, dst, dport)."""
    diffs: list[FlowDiff] = []
    if old[0] != new[0]:
        diffs.append(FlowDiff("src", ip_text(old[0]), ip_text(new[0])))
    if old[1] != new[1]:
        diffs.append(FlowDiff("sport", str(old[1]), str(new[1])))
    if old[2] != new[2]:
        diffs.append(FlowDiff("dst", ip_text(old[2]), ip_text(new[2])))
    if old[3] != new[3]:
        diffs.append(FlowDiff("dport", str(old[3]), str(new[3])))
    return Step(StepKind.TRANSFORM, StepAction.TRANSFORMED, detail, "", tuple(diffs))
