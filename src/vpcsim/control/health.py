"""Load-balancer health checks over time [CLB5]-[CLB8].

Probes leave every ``interval`` seconds from t=0. A probe succeeds when the backend listens on the
checked port at that moment, and, for a load balancer whose probes must be admitted (its
``probe_ip``: Huawei's ELB [HWELB1][HWELB2]), when the backend's security groups and its subnet's
network ACL admit the probe; a UDP probe needs ICMP admitted too. Tencent's probes come from
100.64.0.0/10, which the backend's security group admits automatically [CLB10]. ``unhealthy_threshold`` failures in a row mark
the backend unhealthy when the last one times out; ``healthy_threshold`` successes in a row mark it
healthy again. At t=0 every backend is in the steady state its listener gives (docs/decisions.md Q19).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from ipaddress import IPv4Address

from vpcsim.model.loadbalancer import HealthCheck, Listener, LoadBalancer
from vpcsim.model.security import Action, Protocol, Rule, SecurityGroup
from vpcsim.model.topology import Topology


def health_transitions(
    hc: HealthCheck, initial_listening: bool, changes: list[tuple[float, bool]]
) -> list[tuple[float, bool]]:
    """The (time, healthy) transitions that listener ``changes`` cause, in time order.

    ``changes`` are (time, listening) pairs sorted by time. A backend starts healthy exactly when
    it listens at t=0 (the steady state), so the initial health needs no computing.
    """
    healthy = initial_listening
    if not hc.enabled or not changes:
        return []
    out: list[tuple[float, bool]] = []
    horizon = changes[-1][0] + (max(hc.healthy_threshold, hc.unhealthy_threshold) + 2) * hc.interval
    streak_ok = streak_fail = 0
    k = math.ceil(changes[0][0] / hc.interval)
    listening, seen = initial_listening, 0
    while k * hc.interval <= horizon:
        probe = k * hc.interval
        while seen < len(changes) and changes[seen][0] <= probe:  # probes only move forward
            listening = changes[seen][1]
            seen += 1
        ok = listening
        if ok:
            streak_ok, streak_fail = streak_ok + 1, 0
            if not healthy and streak_ok >= hc.healthy_threshold:
                healthy = True
                out.append((probe, True))
        else:
            streak_ok, streak_fail = 0, streak_fail + 1
            if healthy and streak_fail >= hc.unhealthy_threshold:
                healthy = False
                out.append((probe + hc.timeout, False))
        k += 1
    return out


def _matches(rule: Rule, protocol: str, address: IPv4Address, port: int) -> bool:
    if rule.protocol is not Protocol.ALL and rule.protocol.value != protocol:
        return False
    if protocol in ("tcp", "udp") and not rule.ports.low <= port <= rule.ports.high:
        return False
    return address in rule.peer


def _first_accepts(rules: tuple[Rule, ...], protocol: str, address: IPv4Address, port: int) -> bool:
    for r in rules:
        if _matches(r, protocol, address, port):
            return r.action is Action.ACCEPT
    return False


def probe_admitted(
    topo: Topology, groups: Mapping[str, SecurityGroup], lb: LoadBalancer, listener: Listener, instance: str, port: int
) -> bool:
    """Whether ``lb``'s probe reaches ``instance`` on ``port`` past its filters: the bound groups'
    ingress rules (one first-match list), and for a probe from outside the subnet the ACLs on the way:
    the probing subnet's outbound (a dedicated ELB's backend subnet), the backend subnet's inbound
    (they track connections, so the answer passes). A load balancer without ``probe_ip`` is
    admitted without a rule."""
    source = lb.probe_ip
    if source is None:
        return True
    inst = topo.instances[instance]
    kinds = [listener.protocol] + (["icmp"] if listener.protocol == "udp" else [])
    rules = tuple(r for gid in inst.security_groups for r in groups[gid].ingress)
    if not all(_first_accepts(rules, kind, source, port) for kind in kinds):
        return False
    target = topo.subnet(inst.vpc, inst.subnet).cidr
    if source in target:
        return True  # within one subnet no ACL applies
    if lb.backend_subnet:
        # A probe from the backend subnet leaves it first: that subnet's ACL, outbound.
        out = topo.acl_of(lb.vpc, lb.backend_subnet)
        if out is not None:
            listed = (*out.egress, *out.default_rules("egress"))
            if not all(_first_accepts(listed, kind, inst.ip, port) for kind in kinds):
                return False
    acl = topo.acl_of(inst.vpc, inst.subnet)
    if acl is None:
        return True
    listed = (*acl.ingress, *acl.default_rules("ingress"))
    return all(_first_accepts(listed, kind, source, port) for kind in kinds)
