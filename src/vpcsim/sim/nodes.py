"""What each kind of node does with a packet that arrives: one handler per kind, one signature.

``handler(sim, node, flight, prev)`` runs at the packet's arrival time. It appends the steps it
takes to ``flight.steps``, may rewrite ``flight.header``, and returns the id of the next node, or
None when it delivered the packet; it raises :class:`DropError` to stop the packet. A new node kind is
a new entry in :data:`HANDLERS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from vpcsim.ir import (
    PROTO_NAMES,
    Balancer,
    Filter,
    Gateway,
    Host,
    Limits,
    Listener,
    Node,
    NodeKind,
    Router,
    StaticRoute,
    StaticTable,
    SubnetFilter,
    Translator,
)
from vpcsim.sim.flight import DropError, Flight, Handler
from vpcsim.sim.packet import FIN, ICMP, RST, SYN, TCP, Header, ip_text
from vpcsim.sim.ports import FlowKey
from vpcsim.sim.queues import TokenBucket
from vpcsim.sim.sessions import LbSession, NatSession

if TYPE_CHECKING:
    from vpcsim.sim.engine import Simulation

from vpcsim.trace import (
    AclDenied,
    AclMatch,
    AllDead,
    Choice,
    Chosen,
    CircuitsDown,
    Delivered,
    Denied,
    EcmpChoice,
    FlowDiff,
    Inactive,
    LocalHit,
    NoBackend,
    NoCircuit,
    NoListener,
    NoOwner,
    NoPortMapping,
    NoRoute,
    NoRuleMatch,
    NoSession,
    NotForwarded,
    Pool,
    PortsExhausted,
    RateLimited,
    Reason,
    Relayed,
    ReturnSteered,
    RouteHit,
    RuleMatch,
    SelfBackend,
    SessionEvent,
    SessionLimit,
    SourceChecked,
    Step,
    StepAction,
    StepKind,
    Tracked,
    Translated,
    TtlExpired,
)

T = TypeVar("T")

_TRACKED = Step(StepKind.SESSION, StepAction.MATCHED, Tracked(reply=False))
_TRACKED_REPLY = Step(StepKind.SESSION, StepAction.MATCHED, Tracked(reply=True))
_RELATED = Step(StepKind.SESSION, StepAction.MATCHED, Tracked(reply=True, related=True))


# -- filters ---------------------------------------------------------------------------------------------


def check(f: Filter, owner: str, label: str, peer: int, h: Header, steps: list[Step]) -> None:
    """First match wins over the bound groups' rules; no match denies."""
    rule = f.first_match(h.proto, peer, h.dport)
    if rule is not None:
        steps.append(rule.step)
        if rule.accept:
            return
        reason = rule.step.reason
        match = rule.match
        assert reason is not None and isinstance(match, RuleMatch)
        peer_text = ip_text(peer)  # the drop names the packet it denied: rules name only themselves
        raise DropError(reason, Denied(label, f.direction, match, PROTO_NAMES.get(h.proto, "ip"), h.dport, peer_text))
    reason = f.denied
    miss = NoRuleMatch(
        owner, f.direction, f.groups, len(f.rules), PROTO_NAMES.get(h.proto, "ip"), h.dport, ip_text(peer)
    )
    steps.append(Step(StepKind.FILTER, StepAction.DENIED, miss, reason))
    raise DropError(reason, Denied(label, f.direction, miss, miss.protocol, miss.port, miss.peer))


def stateful(sim: Simulation, host: Host, f: Filter, peer: int, h: Header, steps: list[Step]) -> None:
    """A host's filters with connection tracking, as Linux conntrack does it for TCP.

    A packet in the reply direction of a flow the filters admitted passes (and makes the flow
    ESTABLISHED); a packet in the original direction passes unchecked only once the flow is
    ESTABLISHED. A retransmitted SYN that was never answered is still NEW: the rules decide again,
    so a rule removed meanwhile stops it.
    """
    ct = sim.sessions.conntrack.get(host.id)
    if ct is None:
        ct = sim.sessions.conntrack[host.id] = {}
    inner = h.inner
    if inner is not None:
        # An ICMP error about a flow the filters admitted (either way) is RELATED: it passes.
        quoted = (inner.src, inner.sport, inner.dst, inner.dport)
        if quoted in ct or (inner.dst, inner.dport, inner.src, inner.sport) in ct:
            steps.append(_RELATED)
            return
    reverse = (h.dst, h.dport, h.src, h.sport)
    if reverse in ct:
        ct[reverse] = True
        steps.append(_TRACKED_REPLY)
        return
    flow = (h.src, h.sport, h.dst, h.dport)
    if ct.get(flow):
        steps.append(_TRACKED)
        return
    check(f, host.id, host.label, peer, h, steps)
    ct.setdefault(flow, False)


# -- hosts -----------------------------------------------------------------------------------------------


def at_host(sim: Simulation, node: Node, fl: Flight, prev: str) -> str | None:
    host = cast(Host, node)
    h = fl.header
    if h.dst != host.address and (h.dst not in host.aliases or host.source_checked):
        if not host.forwards:
            if host.source_checked:
                raise DropError(Reason.SOURCE_DEST_CHECK, SourceChecked(host.id, ip_text(h.dst)))
            raise DropError(Reason.NO_HOST, NoOwner(prev, ip_text(h.dst), ""))  # pragma: no cover
        # A route's next hop: it forwards, its filters (with connection tracking) checking both ways.
        if h.ttl - fl.routed <= 1:
            raise DropError(Reason.TTL_EXCEEDED, TtlExpired(host.id, h.ttl - fl.routed))
        fl.routed += 1
        steps = fl.steps
        for f, peer in ((host.ingress, h.src), (host.egress, h.dst)):
            stateful(sim, host, f, peer, h, steps)
        fl.steps.append(Step(StepKind.ROUTE, StepAction.FORWARDED, Relayed(host.id, ip_text(h.dst), host.gateway)))
        return host.gateway
    stateful(sim, host, host.ingress, h.src, h, fl.steps)
    if (h.proto, h.dport) in host.listening:  # a server's port: one step for every packet to it
        memo = sim.net.engine_cache
        key = (host.id, h.proto, h.dport)
        step = memo.get(key)
        if step is None:
            step = _remember(memo, key, _delivered_step(host.id, h))
    else:  # a client's ephemeral port: one per connection, not worth remembering
        step = _delivered_step(host.id, h)
    fl.steps.append(step)
    return None


def _delivered_step(host: str, h: Header) -> Step:
    return Step(StepKind.DELIVER, StepAction.DELIVERED, Delivered(host, PROTO_NAMES[h.proto], h.dport))


# -- routers ---------------------------------------------------------------------------------------------


def subnet_check(
    sim: Simulation, network: str, sf: SubnetFilter, f: Filter, peer: int, h: Header, steps: list[Step], node: str
) -> None:
    """A subnet's filter ``f`` (its ingress or egress list) on a packet crossing its boundary in
    ``network``. One that tracks connections passes the packets of a flow it admitted either way."""
    if not sf.stateful:
        stateless(node, f, peer, h, steps)
        return
    flows = sim.sessions.acl_flows.get((network, sf.net, sf.mask))
    if flows is None:
        flows = sim.sessions.acl_flows[(network, sf.net, sf.mask)] = set()
    flow = (h.src, h.sport, h.dst, h.dport)
    if flow in flows:
        steps.append(_TRACKED)
        return
    if (h.dst, h.dport, h.src, h.sport) in flows:
        steps.append(_TRACKED_REPLY)
        return
    stateless(node, f, peer, h, steps)
    flows.add(flow)


def stateless(node: str, f: Filter, peer: int, h: Header, steps: list[Step]) -> None:
    """A subnet's filter: every packet is checked, replies too; its last rule matches everything."""
    rule = f.first_match(h.proto, peer, h.dport)
    assert rule is not None
    steps.append(rule.step)
    if rule.accept:
        return
    reason, match = rule.step.reason, rule.match
    assert reason is not None and isinstance(match, AclMatch)
    raise DropError(reason, AclDenied(node, match, PROTO_NAMES.get(h.proto, "ip"), h.dport, ip_text(peer)))


def _handed(sim: Simulation, router: Router, node: str, h: Header, steps: list[Step]) -> None:
    """The filter of the subnet the router hands a packet into, unless it comes from inside it."""
    sf = router.subnet_filters.get(node)
    if sf is not None and (h.src & sf.mask) != sf.net:
        subnet_check(sim, router.id, sf, sf.ingress, h.src, h, steps, router.id)


def at_router(sim: Simulation, node: Node, fl: Flight, prev: str) -> str | None:
    router = cast(Router, node)
    h = fl.header
    if h.ttl - fl.routed <= 1:
        raise DropError(Reason.TTL_EXCEEDED, TtlExpired(router.id, h.ttl - fl.routed))
    fl.routed += 1
    filters = router.subnet_filters
    if filters:
        sf = filters.get(prev)
        if sf is not None and (h.dst & sf.mask) != sf.net:  # leaving the sender's subnet
            subnet_check(sim, router.id, sf, sf.egress, h.dst, h, fl.steps, router.id)
    steering = sim.sessions.steering
    if steering:
        inner = h.inner
        # An ICMP error travels the way of the flow it quotes (the reply direction of that flow).
        flow = (h.src, h.sport, h.dst, h.dport) if inner is None else (inner.dst, inner.dport, inner.src, inner.sport)
        balancer = steering.get((router.id, flow))
        if balancer is not None:
            fl.steps.append(Step(StepKind.SESSION, StepAction.MATCHED, ReturnSteered(balancer)))
            if filters:
                _handed(sim, router, balancer, h, fl.steps)
            return balancer
    memo = sim.net.engine_cache
    dst = h.dst
    for connected in router.connected:
        if (dst & connected[1]) == connected[0]:
            local_key = (router.id, dst)
            hit = memo.get(local_key)
            if hit is None:
                owner = router.owners.get(dst)
                if owner is None:
                    raise DropError(Reason.NO_HOST, NoOwner(router.id, ip_text(dst), connected[2]))
                step = Step(
                    StepKind.ROUTE,
                    StepAction.FORWARDED,
                    LocalHit(router.id, ip_text(dst), connected[2], owner.node, owner.noun),
                )
                hit = _remember(memo, local_key, (owner.node, step))
            if router.closed:
                shut = router.closed.get(hit[0])
                if shut is not None and prev in shut[0]:
                    raise DropError(Reason.NO_ROUTE, NoRoute(router.id, ip_text(dst), False, (), shut[1], "", prev))
            fl.steps.append(hit[1])
            if filters:
                _handed(sim, router, hit[0], h, fl.steps)
            return cast(str, hit[0])
    static = router.tables.get(prev) if router.tables else None
    if static is None and not router.transit:
        raise DropError(Reason.NO_ROUTE, NoRoute(router.id, ip_text(dst), False, (), router.note, "", prev))
    table = router.table
    route = table.routes.lookup(dst) if table is not None else None
    group = static.routes.lookup(dst) if static is not None else None
    if group is not None and (route is None or group[0].plen > route.plen):
        assert static is not None
        if static.onward is not None and group[0].next_hop not in static.onward:
            raise DropError(
                Reason.NO_ROUTE, NoRoute(router.id, ip_text(dst), False, (), static.onward_note, static.label, prev)
            )
        return _static_route(sim, router, static, group, fl)
    if route is None or (router.split_horizon and route.next_hop == prev):
        invalid = table.invalid_for(dst) if table is not None else ()
        if static is not None:
            invalid = (*static.invalid_for(dst), *invalid)
        raise DropError(
            Reason.NO_ROUTE,
            NoRoute(
                router.id,
                ip_text(dst),
                not router.connected,
                invalid,
                router.note,
                static.label if static is not None else "",
            ),
        )
    nxt = router.via or route.next_hop
    route_key = (router.id, id(route))  # a route lives as long as the network that holds the memo
    route_step: Step | None = memo.get(route_key)
    if route_step is None:
        route_step = _remember(
            memo,
            route_key,
            Step(
                StepKind.ROUTE,
                StepAction.FORWARDED,
                RouteHit(
                    router.id,
                    route.prefix,
                    nxt,
                    route.origin_subnet,
                    route.next_hop,
                    router.via or "",
                    origin_noun=route.origin_noun,
                ),
            ),
        )
    fl.steps.append(route_step)
    return nxt


def _static_route(
    sim: Simulation, router: Router, table: StaticTable, group: tuple[StaticRoute, ...], fl: Flight
) -> str:
    """A static table's route; several equal-cost ones are a branch point, else a hash of the flow."""
    if len(group) == 1:
        route = group[0]
    else:
        h = fl.header
        point = f"{table.label} {group[0].prefix}"
        keys = tuple(r.next_hop for r in group)
        pin = sim.pins.get((router.id, point)) if sim.pins else None
        pinned = pin is not None and pin in keys
        if pinned:
            route = group[keys.index(cast(str, pin))]
        else:
            # Per flow, as ECMP hashes the 5-tuple: every packet of a flow takes one path.
            mix = (h.src * 0x9E3779B1 ^ h.dst * 0x85EBCA77 ^ h.sport << 16 ^ h.dport ^ h.proto) & 0xFFFFFFFF
            route = group[mix % len(group)]
        fl.steps.append(
            Step(
                StepKind.ROUTE,
                StepAction.CHOSEN,
                EcmpChoice(router.id, table.label, route.prefix, keys, route.next_hop, pinned),
            )
        )
        choice = (router.id, point, 0, keys, route.next_hop, route.next_hop, 0, pinned, "next_hop")
        sim.choices.append((fl.flow_id, tuple.__new__(Choice, choice)))
    fl.steps.append(route.step)
    if router.subnet_filters:
        _handed(sim, router, route.next_hop, fl.header, fl.steps)
    return route.next_hop


# -- gateways --------------------------------------------------------------------------------------------


def at_gateway(sim: Simulation, node: Node, fl: Flight, prev: str) -> str | None:
    gw = cast(Gateway, node)
    h = fl.header
    if h.ttl - fl.routed <= 1:
        raise DropError(Reason.TTL_EXCEEDED, TtlExpired(gw.id, h.ttl - fl.routed))
    fl.routed += 1
    if prev == gw.near:
        dst = h.dst
        toward = [c for c in gw.circuits if any((dst & mask) == net for net, mask in c.nets)]
        if not toward:
            raise DropError(Reason.NO_ROUTE, NoCircuit(gw.id, gw.noun, ip_text(dst)))
    else:
        toward = [c for c in gw.circuits if c.far == prev]
    for c in toward:
        if c.up:
            if prev == gw.near:
                fl.steps.append(c.outbound)
                return c.far
            fl.steps.append(c.inbound)
            return gw.near
    raise DropError(
        Reason.TUNNEL_DOWN,
        CircuitsDown(
            gw.id,
            gw.noun,
            tuple((c.id, c.state) for c in toward),
            toward[0].noun,
            ip_text(h.dst if prev == gw.near else h.src),
        ),
    )


MEMO_LIMIT = 1_000_000
"""Most entries the engine's memo of steps holds before it starts over (it only saves work)."""


def _remember(memo: dict[Any, Any], key: Any, value: T) -> T:
    if len(memo) >= MEMO_LIMIT:
        memo.clear()
    memo[key] = value
    return value


# -- translators -----------------------------------------------------------------------------------------


def _diffs(old: FlowKey, new: FlowKey) -> tuple[FlowDiff, ...]:
    diffs: list[FlowDiff] = []
    if old[0] != new[0]:
        diffs.append(FlowDiff("src", ip_text(old[0]), ip_text(new[0])))
    if old[1] != new[1]:
        diffs.append(FlowDiff("sport", str(old[1]), str(new[1])))
    if old[2] != new[2]:
        diffs.append(FlowDiff("dst", ip_text(old[2]), ip_text(new[2])))
    if old[3] != new[3]:
        diffs.append(FlowDiff("dport", str(old[3]), str(new[3])))
    return tuple(diffs)


def _rewrite(h: Header, src: int, dst: int, sport: int, dport: int) -> Header:
    return Header(
        src,
        dst,
        sport,
        dport,
        h.flags,
        h.seq,
        h.ack,
        h.ttl,
        h.proto,
        h.inner,
        h.length,
        h.window,
        h.mss,
        h.wscale,
        h.sack,
    )


# -- sessions' lives -------------------------------------------------------------------------------------


CLOSE_LINGER = 120.0
"""Seconds a finished connection's translation stays after its close (Linux conntrack's TIME_WAIT):
stray segments still in flight are translated, not dropped; the port and the entry are freed after."""
CLOSED = 4
"""``state[1]`` of a session whose connection finished (it only lingers)."""


def _expired(limits: Limits | None, state: list[float], now: float) -> bool:
    """Whether a session has been idle longer than its node's timeout (then it is gone); else it is
    touched now."""
    if limits is None or not limits.idle_timeout or state[1] == CLOSED:
        return False
    if now - state[0] > limits.idle_timeout:
        return True
    state[0] = now
    return False


def _ends(state: list[float], flags: int, reply: bool) -> bool:
    """Whether this TCP segment finishes its connection: an RST, or the ACK after a FIN each way."""
    if state[1] == CLOSED:
        return False
    if flags & RST:
        return True
    if flags & FIN:
        state[1] = int(state[1]) | (2 if reply else 1)
        return False
    return state[1] == 3


def _open(sim: Simulation, node: str, label: str, limits: Limits | None) -> None:
    """Count a new session at ``node``, or refuse it when a limit says no."""
    s = sim.sessions
    if s.closing:
        _reap(sim)
    if limits is not None:
        if limits.max_sessions and s.live.get(node, 0) >= limits.max_sessions:
            if limits.idle_timeout:
                _sweep(sim, node, limits)
            if s.live.get(node, 0) >= limits.max_sessions:
                raise DropError(Reason.SESSION_LIMIT, SessionLimit(node, label, limits.max_sessions))
        if limits.new_per_second:
            bucket = s.buckets.get(node)
            if bucket is None:
                bucket = s.buckets[node] = TokenBucket(limits.new_per_second, sim.env._now)
            if not bucket.take(sim.env._now):
                raise DropError(Reason.RATE_LIMIT, RateLimited(node, label, limits.new_per_second))
    s.live[node] = s.live.get(node, 0) + 1
    s.opened[node] = s.opened.get(node, 0) + 1


def _sweep(sim: Simulation, node: str, limits: Limits) -> None:
    """Forget ``node``'s sessions idle past its timeout (at its session limit: they free room)."""
    now = sim.env._now
    s = sim.sessions
    idle = limits.idle_timeout
    for nat in [x for (n, _), x in s.nat_forward.items() if n == node and now - x.state[0] > idle]:
        close_nat(sim, nat)
    for lb in [x for (n, _), x in s.lb_forward.items() if n == node and now - x.state[0] > idle]:
        close_lb(sim, lb)


def _finished(sim: Simulation, sess: NatSession | LbSession) -> None:
    """The connection closed: it no longer counts (limits, least connections); its entries linger."""
    s = sim.sessions
    sess.state[1] = CLOSED
    if isinstance(sess, LbSession):
        s.live[sess.balancer] -= 1
        s.active[((sess.balancer, sess.listener), sess.backend)] -= 1
    else:
        s.live[sess.node] -= 1
    s.closing.append((sim.env._now + CLOSE_LINGER, sess))


def _reap(sim: Simulation) -> None:
    """Free the sessions whose linger is over."""
    closing = sim.sessions.closing
    now = sim.env._now
    while closing and closing[0][0] <= now:
        _, sess = closing.popleft()
        if isinstance(sess, LbSession):
            close_lb(sim, sess)
        else:
            close_nat(sim, sess)


def close_nat(sim: Simulation, nat: NatSession) -> None:
    """Free a translator's session: its entries, its reply steering, its port (and its count, unless
    its connection already finished)."""
    s = sim.sessions
    if s.nat_forward.get((nat.node, nat.client)) is not nat:
        return
    del s.nat_forward[(nat.node, nat.client)]
    tsrc, tsport, tdst, tdport = nat.translated
    reply = (tdst, tdport, tsrc, tsport)
    s.nat_reverse.pop((nat.node, reply), None)
    if nat.steered_at and s.steering.get((nat.steered_at, reply)) == nat.node:
        del s.steering[(nat.steered_at, reply)]
    sim.snat.release(tsrc, tsport)
    if nat.state[1] != CLOSED:
        s.live[nat.node] -= 1


def close_lb(sim: Simulation, sess: LbSession) -> None:
    """Free a load balancer's connection: its entries, its steering, its port (and its counts,
    unless it already finished)."""
    s = sim.sessions
    if s.lb_forward.get((sess.balancer, sess.incoming)) is not sess:
        return
    del s.lb_forward[(sess.balancer, sess.incoming)]
    reply = (sess.backend_address, sess.backend_port, sess.source, sess.source_port)
    s.lb_reverse.pop((sess.balancer, reply), None)
    s.steering.pop((sess.gateway, reply), None)
    if sess.source != sess.incoming[0]:
        sim.snat.release(sess.source, sess.source_port)
    if sess.state[1] != CLOSED:
        s.active[((sess.balancer, sess.listener), sess.backend)] -= 1
        s.live[sess.balancer] -= 1


def at_translator(sim: Simulation, node: Node, fl: Flight, prev: str) -> str | None:
    t = cast(Translator, node)
    h = fl.header
    steps = fl.steps
    if not t.active:  # both ways: a translator that stops forwarding stops its open flows too
        raise DropError(t.inactive_reason, Inactive(t.id, t.label, t.noun, t.state, t.state_note, t.forwarding_state))
    s = sim.sessions
    if s.closing and s.closing[0][0] <= sim.env._now:
        _reap(sim)  # lingering translations end on time, not only when a new one opens
    if h.proto == ICMP:
        # Only TCP and UDP are forwarded: an echo request to the address, or an ICMP error from
        # behind it, stops here.
        what = "ICMP error" if h.inner is not None else "echo request"
        raise DropError(Reason.NOT_FORWARDED, NotForwarded(t.id, t.label, t.noun, "icmp", what))
    if h.dst == t.snat_address:  # a reply: flows toward the target leave from this address
        nat = s.nat_reverse.get((t.id, (h.src, h.sport, h.dst, h.dport)))
        if nat is not None and t.limits is not None and _expired(t.limits, nat.state, sim.env._now):
            close_nat(sim, nat)
            nat = None
        if nat is None:
            raise DropError(Reason.NO_SESSION, NoSession(t.id, t.label, h.summary()))
        steps.append(Step(StepKind.SESSION, StepAction.MATCHED, SessionEvent(t.id, t.label, False, True)))
        steps.append(nat.reverse_step)
        csrc, csport, cdst, cdport = nat.client
        fl.header = _rewrite(h, cdst, csrc, cdport, csport)
        if (h.flags & 5 or nat.state[1] == 3) and h.proto == TCP and _ends(nat.state, h.flags, True):
            _finished(sim, nat)
        return t.gateway
    if t.filter is not None:
        check(t.filter, t.id, t.label, h.src, h, steps)
    key: FlowKey = (h.src, h.sport, h.dst, h.dport)
    nat = s.nat_forward.get((t.id, key))
    if nat is not None and nat.state[1] == CLOSED and h.flags & SYN and h.proto == TCP:
        close_nat(sim, nat)  # the port is used again for a new connection: a new session
        nat = None
    if nat is not None and t.limits is not None and _expired(t.limits, nat.state, sim.env._now):
        close_nat(sim, nat)
        nat = None
    if nat is None and h.proto == TCP and not h.flags & SYN and t.limits is not None and t.limits.idle_timeout:
        # The rest of a flow it forgot (or never saw): a node that forgets has nothing to map it to.
        raise DropError(Reason.NO_SESSION, NoSession(t.id, t.label, h.summary()))
    if nat is None:
        dport = h.dport
        if t.ports is not None:
            mapped = t.ports.get((h.proto, dport))
            if mapped is None:
                proto = PROTO_NAMES.get(h.proto, "ip")
                ports = tuple(sorted(p for pr, p in t.ports if pr == h.proto))
                raise DropError(Reason.NO_PORT_MAPPING, NoPortMapping(t.id, t.label, proto, dport, ports))
            dport = mapped
        _open(sim, t.id, t.label, t.limits)
        sport = sim.snat.allocate(t.snat_address)
        if sport is None:
            s.live[t.id] -= 1
            s.opened[t.id] -= 1
            raise DropError(
                Reason.SNAT_PORTS_EXHAUSTED, PortsExhausted(t.id, t.label, ip_text(t.snat_address), sim.snat.size)
            )
        dst = h.dst if t.keep_destination else t.target_address
        translated = (t.snat_address, sport, dst, dport)
        reply = (dst, dport, t.snat_address, sport)
        nat = NatSession(
            t.id,
            key,
            translated,
            Step(
                StepKind.TRANSFORM,
                StepAction.TRANSFORMED,
                Translated(
                    t.id,
                    t.noun,
                    False,
                    t.translation,
                    t.target_label or t.target,
                    t.service,
                    "",
                    _diffs(key, translated),
                ),
            ),
            Step(
                StepKind.TRANSFORM,
                StepAction.TRANSFORMED,
                Translated(t.id, t.noun, True, "", "", "", "", _diffs(reply, (h.dst, h.dport, h.src, h.sport))),
            ),
            [sim.env._now, 0],
            t.target if t.steer else "",
        )
        s.nat_forward[(t.id, key)] = nat
        s.nat_reverse[(t.id, reply)] = nat
        if t.steer:
            s.steering[(t.target, reply)] = t.id
        steps.append(Step(StepKind.SESSION, StepAction.CREATED, SessionEvent(t.id, t.label, True, False, t.service)))
    else:
        steps.append(Step(StepKind.SESSION, StepAction.MATCHED, SessionEvent(t.id, t.label, False, False)))
    steps.append(nat.forward_step)
    tsrc, tsport, tdst, tdport = nat.translated
    fl.header = _rewrite(h, tsrc, tdst, tsport, tdport)
    if (h.flags & 5 or nat.state[1] == 3) and h.proto == TCP and _ends(nat.state, h.flags, False):
        _finished(sim, nat)
    return t.target


# -- load balancers --------------------------------------------------------------------------------------


def at_balancer(sim: Simulation, node: Node, fl: Flight, prev: str) -> str | None:
    lb = cast(Balancer, node)
    h = fl.header
    steps = fl.steps
    s = sim.sessions
    if s.closing and s.closing[0][0] <= sim.env._now:
        _reap(sim)  # lingering translations end on time, not only when a new one opens
    if h.proto == ICMP:
        what = "ICMP error" if h.inner is not None else "echo request"
        raise DropError(Reason.NOT_FORWARDED, NotForwarded(lb.id, lb.label, lb.noun, "icmp", what))
    sf = lb.subnet_filter
    if sf is not None and prev != lb.gateway and (h.src & sf.mask) != sf.net:
        # From a translator: a leg into the subnet that no router sees, so the subnet's filter is here.
        subnet_check(sim, lb.gateway, sf, sf.ingress, h.src, h, steps, lb.id)
    if h.dst != lb.address:
        sess = s.lb_reverse.get((lb.id, (h.src, h.sport, h.dst, h.dport)))
        if sess is not None and lb.limits is not None and _expired(lb.limits, sess.state, sim.env._now):
            close_lb(sim, sess)
            sess = None
        if sess is None:
            raise DropError(Reason.NO_SESSION, NoSession(lb.id, lb.label, h.summary()))
        steps.append(
            Step(StepKind.SESSION, StepAction.MATCHED, SessionEvent(lb.id, lb.label, False, True, "", sess.listener))
        )
        steps.append(sess.reverse_step)
        client, client_port, vip, vport = sess.incoming
        fl.header = _rewrite(h, vip, client, vport, client_port)
        if sf is not None and sess.return_to != lb.gateway and (h.dst & sf.mask) != sf.net:
            subnet_check(sim, lb.gateway, sf, sf.egress, h.dst, fl.header, steps, lb.id)
        if (h.flags & 5 or sess.state[1] == 3) and h.proto == TCP and _ends(sess.state, h.flags, True):
            _finished(sim, sess)
        return sess.return_to
    listener = lb.listeners.get((h.proto, h.dport))
    if listener is None:
        ports = tuple(sorted(port for proto, port in lb.listeners if proto == h.proto))
        raise DropError(Reason.NO_LISTENER, NoListener(lb.id, PROTO_NAMES.get(h.proto, "ip"), h.dport, ports))
    if lb.filter is not None:
        check(lb.filter, lb.id, lb.label, h.src, h, steps)
    key: FlowKey = (h.src, h.sport, h.dst, h.dport)
    sess = s.lb_forward.get((lb.id, key))
    if sess is not None and sess.state[1] == CLOSED and h.flags & SYN and h.proto == TCP:
        close_lb(sim, sess)  # the port is used again for a new connection: a new session
        sess = None
    if sess is not None and lb.limits is not None and _expired(lb.limits, sess.state, sim.env._now):
        close_lb(sim, sess)
        sess = None
    if sess is None and h.proto == TCP and not h.flags & SYN and lb.limits is not None and lb.limits.idle_timeout:
        # The rest of a flow it forgot (or never saw): a node that forgets has nothing to map it to.
        raise DropError(Reason.NO_SESSION, NoSession(lb.id, lb.label, h.summary()))
    if sess is None:
        sess = _schedule(sim, lb, listener, key, prev, fl)
    else:
        steps.append(
            Step(
                StepKind.SESSION,
                StepAction.MATCHED,
                SessionEvent(lb.id, lb.label, False, False, "", sess.listener, sess.backend),
            )
        )
    if sess.backend_address == sess.source:
        # The backend would answer itself directly, never through the load balancer.
        raise DropError(Reason.LB_LOOPBACK, SelfBackend(lb.id, sess.listener, sess.backend))
    steps.append(sess.forward_step)
    fl.header = _rewrite(h, sess.source, sess.backend_address, sess.source_port, sess.backend_port)
    if (h.flags & 5 or sess.state[1] == 3) and h.proto == TCP and _ends(sess.state, h.flags, False):
        _finished(sim, sess)
    return lb.gateway


def _schedule(sim: Simulation, lb: Balancer, listener: Listener, key: FlowKey, prev: str, fl: Flight) -> LbSession:
    s = sim.sessions
    steps = fl.steps
    if not listener.takers:
        raise DropError(Reason.NO_BACKEND, NoBackend(lb.id, listener.id, len(listener.backends), False))
    if not listener.health_checked:
        pool, pool_kind = listener.takers, Pool.BOUND
        candidates, keys = pool, listener.taker_keys
    elif listener.healthy_takers:
        pool, pool_kind = listener.healthy_takers, Pool.HEALTHY
        candidates, keys = pool, listener.healthy_keys
    elif listener.any_healthy:
        # Someone passes its checks but takes no new connections: all-dead-all-alive is for when
        # every server is unhealthy, so nothing is scheduled.
        raise DropError(Reason.NO_BACKEND, NoBackend(lb.id, listener.id, len(listener.backends), True))
    else:
        steps.append(
            Step(StepKind.LOAD_BALANCE, StepAction.CHOSEN, AllDead(lb.id, listener.id, len(listener.backends)))
        )
        pool, pool_kind = listener.takers, Pool.BOUND
        # "Requests go to all servers": the scheduler weighs them as usual, but a connection may
        # reach any bound backend, weight 0 included, so every one is a branch.
        candidates, keys = listener.backends, listener.backend_keys
    _open(sim, lb.id, lb.label, lb.limits)
    lkey = (lb.id, listener.id)
    pinned = None
    if sim.pins:
        pin = sim.pins.get(lkey)
        if pin in keys:
            pinned = candidates[keys.index(pin)]
    if pinned is not None:
        # A forced branch: the scheduler's state is left as it was (it did not choose).
        chosen = pinned
    elif listener.scheduler == "least_conn":
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
    source, source_port = key[0], key[1]
    if lb.snat_address:
        # A port first: a connection that gets none is refused before the scheduler counts it.
        sport = sim.snat.allocate(lb.snat_address)
        if sport is None:
            s.live[lb.id] -= 1
            s.opened[lb.id] -= 1
            raise DropError(
                Reason.SNAT_PORTS_EXHAUSTED, PortsExhausted(lb.id, lb.label, ip_text(lb.snat_address), sim.snat.size)
            )
        source, source_port = lb.snat_address, sport
    akey = (lkey, chosen.key)
    s.active[akey] = s.active.get(akey, 0) + 1
    steps.append(
        Step(
            StepKind.LOAD_BALANCE,
            StepAction.CHOSEN,
            Chosen(
                lb.id,
                listener.id,
                listener.port,
                listener.scheduler,
                chosen.key,
                ip_text(chosen.address),
                chosen.port,
                chosen.weight,
                len(candidates),
                pool_kind,
                pinned is not None,
            ),
        )
    )
    # tuple.__new__ skips the NamedTuple's Python-level __new__ (one per new connection).
    choice = (
        lb.id,
        listener.id,
        listener.port,
        keys,
        chosen.key,
        chosen.instance,
        chosen.port,
        pinned is not None,
        "backend",
    )
    sim.choices.append((fl.flow_id, tuple.__new__(Choice, choice)))
    vip, vport = key[2], key[3]
    backend_flow = (source, source_port, chosen.address, chosen.port)
    reply = (chosen.address, chosen.port, source, source_port)
    sess = LbSession(
        lb.id,
        listener.id,
        key,
        chosen.key,
        chosen.address,
        chosen.port,
        source,
        source_port,
        prev,
        Step(
            StepKind.TRANSFORM,
            StepAction.TRANSFORMED,
            Translated(lb.id, lb.noun, False, "", chosen.key, "", listener.id, _diffs(key, backend_flow)),
        ),
        Step(
            StepKind.TRANSFORM,
            StepAction.TRANSFORMED,
            Translated(lb.id, lb.noun, True, "", "", "", listener.id, _diffs(reply, (vip, vport, key[0], key[1]))),
        ),
        [sim.env._now, 0],
        chosen.gateway,
    )
    s.lb_forward[(lb.id, key)] = sess
    s.lb_reverse[(lb.id, reply)] = sess
    s.steering[(chosen.gateway, reply)] = lb.id
    return sess


HANDLERS: dict[NodeKind, Handler] = {
    NodeKind.HOST: at_host,
    NodeKind.ROUTER: at_router,
    NodeKind.TRANSLATOR: at_translator,
    NodeKind.BALANCER: at_balancer,
    NodeKind.GATEWAY: at_gateway,
}
"""The engine's one dispatch table: node kind → what the node does with an arriving packet."""
