"""Steps as text: one sentence (``detail``) and the object to look at (``ref``) per typed record.

This is the only place a step becomes prose. Each record type has one renderer in
:data:`_RENDER`; the sentence names the objects a user would change, in the front-end's words
(labels and nouns the IR carries).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vpcsim.trace import (
    AclDenied,
    AclMatch,
    AllDead,
    Cause,
    Chosen,
    CircuitsDown,
    Delivered,
    Denied,
    EcmpChoice,
    FlowDiff,
    GatewayHit,
    HopLimit,
    Inactive,
    LocalHit,
    Loopback,
    NoBackend,
    NoCircuit,
    NoListener,
    NoOwner,
    NoPortMapping,
    NoRoute,
    NoRuleMatch,
    NoSession,
    NotForwarded,
    Originated,
    PortsExhausted,
    QueueFull,
    RateLimited,
    Received,
    Relayed,
    ReturnSteered,
    RouteHit,
    RuleMatch,
    SelfBackend,
    SessionEvent,
    SessionLimit,
    SourceChecked,
    Step,
    StepData,
    Tracked,
    Translated,
    Transmitted,
    TtlExpired,
)

Text = tuple[str, str]
"""(detail, ref)."""


def _ports(low: int, high: int) -> str:
    if low == 1 and high == 65535:
        return "all"
    return str(low) if low == high else f"{low}-{high}"


def _peer_word(direction: str) -> str:
    return "from" if direction == "ingress" else "to"


def cause_text(o: Originated) -> str:
    """Why the host sent it, as a short clause (``connect()``, ``retransmission 2``)."""
    c = o.cause
    if c is Cause.CONNECT:
        return "connect()"
    if c is Cause.RETRANSMISSION:
        return f"retransmission {o.number}"
    if c is Cause.HANDSHAKE:
        return "handshake completes"
    if c is Cause.LISTENING:
        if o.protocol == "udp":
            return f"listening on udp/{o.number}: echoes the datagram"
        return f"listening on {o.protocol}/{o.number}"
    if c is Cause.DATAGRAM:
        return f"nc -u to udp/{o.number}"
    if c is Cause.ECHO:
        return f"ping, icmp_seq={o.number}"
    if c is Cause.ECHO_REPLY:
        return f"answers the echo request, icmp_seq={o.number}"
    if c is Cause.HANDMADE:
        return "a packet handed in (Network.send)"
    if c is Cause.STREAM:
        return f"{o.number} bytes of data" if o.number else "established connection"
    if o.protocol == "udp":
        return f"nothing listens on udp/{o.number}: port unreachable"
    return f"nothing listens on {o.protocol}/{o.number}: connection refused"


def _originated(d: Originated) -> Text:
    return f"{d.host} sends {d.packet}: {cause_text(d)}", ""


def _received(d: Received) -> Text:
    return f"received from {d.neighbour}", ""


def _transmitted(d: Transmitted) -> Text:
    return f"sent to {d.neighbour}", ""


def _delivered(d: Delivered) -> Text:
    return f"delivered to {d.node} {d.protocol}/{d.port}", ""


def _loopback(d: Loopback) -> Text:
    return (
        f"{d.address} is local to {d.host}: delivered over loopback, security groups and routes do not apply",
        f"{d.host} lo",
    )


def rule_ref(d: RuleMatch) -> str:
    return f"{d.group} {d.direction} rule #{d.number}"


def _rule_words(d: RuleMatch | AclMatch) -> str:
    """``(drop tcp/3306 from 10.0.0.0/16) drops``: a rule and what it did, for groups and ACLs alike."""
    what = d.protocol + (f"/{_ports(d.low, d.high)}" if d.protocol in ("tcp", "udp") else "")
    action, verb = ("accept", "accepts") if d.accept else ("drop", "drops")
    return f"({action} {what} {_peer_word(d.direction)} {d.peer}) {verb}"


def _rule(d: RuleMatch) -> Text:
    ref = rule_ref(d)
    return f"{ref} {_rule_words(d)}", ref


def traffic(protocol: str, port: int) -> str:
    """``tcp/8080``; a protocol without ports alone (``icmp``)."""
    return f"{protocol}/{port}" if protocol in ("tcp", "udp") else protocol


def _no_rule(d: NoRuleMatch, peer: str = "") -> Text:
    """``peer`` replaces the bare address when the caller knows what owns it."""
    word = _peer_word(d.direction)
    shown = peer or d.peer
    if d.groups:
        ref = ", ".join(d.groups)
        checked = f"{d.rules_checked} rule{'' if d.rules_checked == 1 else 's'} checked"
        return (
            f"{ref} {d.direction}: no rule matches {traffic(d.protocol, d.port)} {word} {shown} ({checked}): "
            "default deny",
            ref,
        )
    return (
        f"{d.owner} has no security group: {d.direction} {traffic(d.protocol, d.port)} {word} {shown} is denied",
        f"{d.owner} (no security group)",
    )


def denied_text(d: Denied, peer: str = "") -> Text:
    """A filter's drop: whose filter, the rule (or the default deny) and the packet it denied.

    ``peer`` replaces the packet's bare address when the caller knows what owns it."""
    if isinstance(d.match, NoRuleMatch):
        detail, ref = _no_rule(d.match, peer)
    else:
        detail, ref = _rule(d.match)
        shown = peer or d.peer
        if shown:  # a record built without its packet (a test's) shows the rule alone
            detail += f" {traffic(d.protocol, d.port)} {_peer_word(d.direction)} {shown}"
    return f"{d.owner} {d.direction}: {detail}", ref


def _denied(d: Denied) -> Text:
    return denied_text(d)


def acl_ref(d: AclMatch) -> str:
    which = "deny-all" if d.number == -1 else "default rule" if d.number < -1 else f"rule #{d.number}"
    return f"network ACL {d.acl} {d.direction} {which}"


def _acl_rule(d: AclMatch) -> Text:
    ref = acl_ref(d)
    way = "into" if d.direction == "ingress" else "out of"
    if d.number == -1:
        return f"{ref} (the immutable last rule) drops it on its way {way} {d.subnet}", ref
    return f"{ref} {_rule_words(d)} it on its way {way} {d.subnet}", ref


def _acl_denied(d: AclDenied) -> Text:
    detail, ref = _acl_rule(d.match)
    return f"{detail}: {traffic(d.protocol, d.port)} {_peer_word(d.match.direction)} {d.peer}", ref


def _tracked(d: Tracked) -> Text:
    if d.related:
        return "ICMP error about a connection the security groups admitted: related, rules are not consulted", ""
    if d.reply:
        return "reply of a connection the security groups admitted: stateful, rules are not consulted", ""
    return "matches an established connection: security groups are stateful, rules are not consulted", ""


def _steered(d: ReturnSteered) -> Text:
    return f"reply of a {d.balancer} connection: returned to {d.balancer}", ""


def _local(d: LocalHit) -> Text:
    return (
        f"{d.address} matches the Local route {d.prefix}: {d.owner_noun} {d.owner}",
        f"{d.router} Local route {d.prefix}",
    )


def _no_owner(d: NoOwner) -> Text:
    return (
        f"{d.address} is in {d.router}'s Local route {d.prefix}, but no instance, endpoint or load balancer owns it",
        f"{d.router} Local route {d.prefix}",
    )


def _route(d: RouteHit) -> Text:
    if d.table:
        entry = f" (route {d.entry})" if d.entry else ""
        where = d.table if " " in d.table else f"route table {d.table}"
        return (
            f"{where}{entry}: longest prefix {d.prefix}, next hop {d.hop_noun} {d.next_hop}",
            f"{where} route {d.entry or d.prefix}",
        )
    if d.learned_from:
        return (
            f"longest prefix {d.prefix} ({d.origin_noun} {d.origin_subnet} of {d.origin_network}, learned from "
            f"{d.learned_from}): next hop {d.next_hop}",
            f"{d.router} route {d.prefix} via {d.learned_from}",
        )
    return (
        f"longest prefix {d.prefix} ({d.origin_noun} {d.origin_subnet}): next hop {d.next_hop}",
        f"{d.router} route {d.prefix} -> {d.next_hop}",
    )


def _no_route(d: NoRoute) -> Text:
    if d.entered_from and d.note:
        return f"{d.address} is not reached from {d.entered_from}: {d.note}", f"{d.router} (from {d.entered_from})"
    if d.entered_from:
        return (
            f"{d.address} is outside {d.router}, and {d.router} carries on nothing that enters it from "
            f"{d.entered_from} (no transit): only its own addresses are reached that way",
            f"{d.router} (no transit from {d.entered_from})",
        )
    if d.table:
        why = [f"{r.domain_noun} {r.domain}: route {r.prefix} to {r.next_hop} is {r.status}" for r in d.invalid]
        if d.note:
            why.append(d.note)
        where = d.table if " " in d.table else f"route table {d.table}"
        return (
            f"{where} of {d.router} has no route to {d.address}" + (f" ({'; '.join(why)})" if why else ""),
            where,
        )
    if d.own_table:
        why = [f"route {r.prefix} to {r.next_hop} is {r.status}" for r in d.invalid]
        if d.note:
            why.append(d.note)
        head, ref = f"{d.router} has no valid route to {d.address}", f"{d.router} routes"
    else:
        why = [f"{r.domain_noun} route {r.prefix} to {r.next_hop} in {r.domain} is {r.status}" for r in d.invalid]
        if d.note:
            why.append(d.note)
        head, ref = f"{d.router}'s route table has no route to {d.address}", f"{d.router} route table"
    return head + (f" ({'; '.join(why)})" if why else ""), ref


def _ecmp(d: EcmpChoice) -> Text:
    how = "pinned" if d.pinned else "by the flow's hash"
    return (
        f"{len(d.candidates)} equal-cost routes to {d.prefix} in route table {d.table} "
        f"({', '.join(d.candidates)}): {d.chosen}, {how}",
        f"route table {d.table} {d.prefix}",
    )


def _gateway_hit(d: GatewayHit) -> Text:
    return (
        f"{d.noun} {d.gateway}: {d.circuit_noun} {d.circuit} is {d.state}, toward {d.toward}",
        f"{d.noun} {d.gateway} {d.circuit_noun} {d.circuit}",
    )


def _circuits_down(d: CircuitsDown) -> Text:
    states = ", ".join(f"{c} {s}" for c, s in d.circuits)
    plural = "s" if len(d.circuits) > 1 else ""
    return (
        f"{d.noun} {d.gateway} has no {d.circuit_noun} up for {d.address} ({d.circuit_noun}{plural}: {states})",
        f"{d.noun} {d.gateway} {d.circuit_noun}{plural} " + ", ".join(c for c, _ in d.circuits),
    )


def _no_circuit(d: NoCircuit) -> Text:
    return (
        f"{d.noun} {d.gateway} connects no network that holds {d.address}",
        f"{d.noun} {d.gateway}",
    )


def _relayed(d: Relayed) -> Text:
    return (
        f"{d.host} is a route's next hop: it forwards the packet for {d.address} back to {d.router}",
        f"{d.host} (forwarding)",
    )


def _hop_limit(d: HopLimit) -> Text:
    return f"more than {d.limit} hops: forwarding loop", d.node


def _ttl(d: TtlExpired) -> Text:
    return f"TTL {d.ttl} on arrival: the packet would expire on the next hop, so {d.router} drops it", d.router


def _diffs(diffs: tuple[FlowDiff, ...]) -> str:
    return " [" + ", ".join(f"{x.field} {x.old} -> {x.new}" for x in diffs) + "]" if diffs else ""


def _translated(d: Translated) -> Text:
    if d.reverse:
        text = f"reverse translation of the {d.noun.replace(' ', '-')} session"
    elif d.listener:
        text = f"{d.noun} {d.node} listener {d.listener} forwards to backend {d.target}"
    else:
        text = f"{d.translation} toward {d.target} of {d.service}"
    return text, ""


def _article(word: str) -> str:
    """``a`` or ``an`` before ``word``, by its first letter (``an endpoint``, ``a VPC endpoint``)."""
    return "an" if word[:1].lower() in "aeio" else "a"


def _session(d: SessionEvent) -> Text:
    if d.listener:  # a load balancer's connection
        if d.reply:
            return f"reply of {_article(d.label)} {d.label} connection via listener {d.listener}", ""
        return f"existing {d.label} connection: same backend {d.backend}", ""
    if d.created:
        return f"new session on {d.label} (service {d.service})", ""
    if d.reply:
        return f"reply of {_article(d.label)} {d.label} session", ""
    return f"existing session on {d.label}", ""


def _inactive(d: Inactive) -> Text:
    return f"{d.label} is {d.state} ({d.note}): only {d.forwarding_state} {d.noun}s forward", d.node


def _no_session(d: NoSession) -> Text:
    return f"reply {d.flow} matches no session of {d.label}", d.node


def _not_forwarded(d: NotForwarded) -> Text:
    if d.what == "echo request":
        return f"{d.label} neither answers nor forwards an echo request: it forwards TCP and UDP only", d.node
    return f"{d.label} does not carry an ICMP error back: it forwards TCP and UDP only", d.node


def _no_mapping(d: NoPortMapping) -> Text:
    mapped = ", ".join(str(p) for p in d.ports) or "none"
    return f"{d.label} maps no server port to {d.protocol}/{d.port} (client ports it maps: {mapped})", d.node


def _session_limit(d: SessionLimit) -> Text:
    held = f"{d.limit} concurrent connection{'' if d.limit == 1 else 's'}"
    return f"{d.label} already holds {held}, its limit: a new one is refused", d.node


def _rate_limited(d: RateLimited) -> Text:
    return (
        f"{d.label} already opened {d.per_second:g} new connections in the last second, its limit: a new one is refused",
        d.node,
    )


def _queue_full(d: QueueFull) -> Text:
    where = f"the link from {d.node} to {d.toward}" if d.toward else d.node
    return f"the queue of {where} already holds {d.limit} packets: tail drop", d.node


def _source_checked(d: SourceChecked) -> Text:
    return (
        f"{d.host} has its source/destination check on: it drops a packet for {d.destination}, not addressed to it",
        d.host,
    )


def _exhausted(d: PortsExhausted) -> Text:
    return f"{d.label} has no free source port on {d.address}: all {d.ports} ports are in use", d.node


def _no_listener(d: NoListener) -> Text:
    ports = ", ".join(str(p) for p in d.ports) or "none"
    return (
        f"{d.balancer} has no {d.protocol.upper()} listener on port {d.port} (listeners on: {ports})",
        f"{d.balancer} listeners",
    )


def _all_dead(d: AllDead) -> Text:
    return (
        f"all {d.backends} backends of listener {d.listener} fail their health checks: all-dead-all-alive, "
        "scheduling among all of them",
        f"{d.balancer} listener {d.listener} health check",
    )


def _no_backend(d: NoBackend) -> Text:
    ref = f"{d.balancer} listener {d.listener}"
    if d.healthy_zero_weight:
        return (
            f"listener {d.listener} of {d.balancer}: its healthy backends all have weight 0 and the others fail "
            "their health checks",
            ref,
        )
    return (
        f"listener {d.listener} of {d.balancer} has no backend that takes connections ({d.bound} bound, none "
        "with weight > 0)",
        ref,
    )


def _chosen(d: Chosen) -> Text:
    backends = "backend" if d.candidates == 1 else "backends"
    return (
        f"{d.scheduler} chose {d.backend} (weight {d.weight}) among {d.candidates} {d.pool.value} {backends}",
        f"{d.balancer} listener {d.listener}",
    )


def _self_backend(d: SelfBackend) -> Text:
    return (
        f"{d.balancer} chose backend {d.backend}, which is the client itself: a backend cannot reach its own "
        "load balancer's VIP (layer-4 CLB loopback is not supported)",
        f"{d.balancer} listener {d.listener}",
    )


_RENDER: dict[type[Any], Callable[[Any], Text]] = {
    Originated: _originated,
    Received: _received,
    Transmitted: _transmitted,
    Delivered: _delivered,
    Loopback: _loopback,
    RuleMatch: _rule,
    NoRuleMatch: _no_rule,
    Denied: _denied,
    AclMatch: _acl_rule,
    AclDenied: _acl_denied,
    Tracked: _tracked,
    ReturnSteered: _steered,
    LocalHit: _local,
    NoOwner: _no_owner,
    RouteHit: _route,
    NoRoute: _no_route,
    EcmpChoice: _ecmp,
    GatewayHit: _gateway_hit,
    CircuitsDown: _circuits_down,
    NoCircuit: _no_circuit,
    Relayed: _relayed,
    HopLimit: _hop_limit,
    TtlExpired: _ttl,
    Translated: _translated,
    SessionEvent: _session,
    Inactive: _inactive,
    NoSession: _no_session,
    PortsExhausted: _exhausted,
    NotForwarded: _not_forwarded,
    NoPortMapping: _no_mapping,
    SessionLimit: _session_limit,
    RateLimited: _rate_limited,
    QueueFull: _queue_full,
    SourceChecked: _source_checked,
    NoListener: _no_listener,
    AllDead: _all_dead,
    NoBackend: _no_backend,
    Chosen: _chosen,
    SelfBackend: _self_backend,
}


def describe_data(data: StepData) -> Text:
    """(detail, ref) of one record."""
    return _RENDER[type(data)](data)


def describe(step: Step) -> Text:
    """(detail, ref) of a step: the sentence a trace shows, and the object to look at."""
    return _RENDER[type(step.data)](step.data)


def render_step(step: Step) -> str:
    """``kind ACTION: detail`` as a trace line shows it."""
    detail, _ = describe(step)
    text = f"{step.kind.value} {step.action.value.upper()}: {detail}"
    if isinstance(step.data, Translated):
        text += _diffs(step.data.diffs)
    return text


def step_text(step: Step) -> str:
    """A step's sentence alone (its ``detail``)."""
    return describe(step)[0]
