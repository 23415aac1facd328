"""Lower cloud nouns to the forwarding IR, one control-plane snapshot at a time.

- an instance becomes a host node whose filters are its security groups, concatenated in order;
- a VPC becomes a router: Local route for its CIDR, then the CCN routes it learns;
- a CCN becomes one routing instance over the enabled routes of its members;
- an endpoint becomes a translating node (DNAT to the CLB VIP, SNAT into 11.163.0.0/16);
- a load balancer becomes a node with a listener table and backends with their health.
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Address, IPv4Network

from vpcsim.compile.ir import (
    PROTO_NUMBERS,
    BackendIR,
    CcnNode,
    CompiledNetwork,
    EndpointNode,
    Filter,
    FilterRule,
    ForwardingState,
    HostNode,
    Link,
    ListenerIR,
    LoadBalancerNode,
    Node,
    RouteEntry,
    RouterNode,
)
from vpcsim.compile.lpm import LpmTable
from vpcsim.control import ControlState, control_timeline
from vpcsim.model import Action, SecurityGroup, Topology
from vpcsim.trace import Reason, Step, StepAction, StepKind


def compile_network(topo: Topology, states: list[ControlState] | None = None) -> CompiledNetwork:
    """Compile every control-plane snapshot of ``topo`` (computed if not given)."""
    snapshots = control_timeline(topo) if states is None else states
    lowered = tuple(lower_state(topo, cs) for cs in snapshots)
    addresses: dict[str, int] = {}
    kinds: dict[str, str] = {}
    for iid, inst in topo.instances.items():
        addresses[iid], kinds[iid] = int(inst.ip), "instance"
    for eid, ep in topo.endpoints.items():
        addresses[eid], kinds[eid] = int(ep.ip), "endpoint"
    for lid, lb in topo.load_balancers.items():
        addresses[lid], kinds[lid] = int(lb.vip), "load_balancer"
    for vid in topo.vpcs:
        kinds[vid] = "vpc"
    for cid in topo.ccns:
        kinds[cid] = "ccn"
    d = topo.settings.delays
    return CompiledNetwork(
        source=topo.source,
        states=lowered,
        times=tuple(s.time for s in lowered),
        same_zone=d.same_zone,
        cross_zone=d.cross_zone,
        privatelink=d.privatelink,
        region_delays=dict(d.regions),
        syn_retries=topo.settings.tcp.syn_retries,
        initial_rto=topo.settings.tcp.initial_rto,
        seed=topo.settings.seed,
        addresses=addresses,
        kinds=kinds,
    )


def lower_state(topo: Topology, cs: ControlState) -> ForwardingState:
    nodes: dict[str, Node] = {}
    groups = cs.security_groups
    for inst in topo.instances.values():
        nodes[inst.id] = HostNode(
            id=inst.id,
            ip=int(inst.ip),
            zone=topo.zone_of(inst.vpc, inst.subnet),
            region=topo.vpcs[inst.vpc].region,
            router=inst.vpc,
            ingress=lower_filter(inst.id, "ingress", inst.security_groups, groups),
            egress=lower_filter(inst.id, "egress", inst.security_groups, groups),
            listening=cs.listening[inst.id],
        )
    for vpc in topo.vpcs.values():
        nodes[vpc.id] = lower_router(topo, cs, vpc.id)
    for cid in topo.ccns:
        nodes[cid] = lower_ccn(topo, cs, cid)
    for ep in topo.endpoints.values():
        svc = topo.endpoint_services[ep.service]
        lb = topo.load_balancers[svc.load_balancer]
        nodes[ep.id] = EndpointNode(
            id=ep.id,
            ip=int(ep.ip),
            zone=topo.zone_of(ep.vpc, ep.subnet),
            region=topo.vpcs[ep.vpc].region,
            router=ep.vpc,
            state=cs.endpoint_states[ep.id].value,
            state_note=cs.endpoint_notes[ep.id],
            filter=lower_filter(ep.id, "ingress", ep.security_groups, groups) if ep.security_groups else None,
            service=svc.id,
            load_balancer=lb.id,
            lb_vip=int(lb.vip),
            snat_ip=snat_address(topo, ep.id),
        )
    for lb in topo.load_balancers.values():
        listeners: dict[int, ListenerIR] = {}
        for lst in lb.listeners:
            backends = tuple(
                BackendIR(
                    instance=b.instance,
                    ip=int(topo.instances[b.instance].ip),
                    port=b.port,
                    weight=b.weight,
                    healthy=cs.backend_health[(lb.id, lst.id, b.instance, b.port)],
                    key=f"{b.instance}:{b.port}",
                )
                for b in lst.backends
            )
            takers = tuple(b for b in backends if b.weight > 0)
            listeners[lst.port] = ListenerIR(
                id=lst.id,
                port=lst.port,
                scheduler=lst.scheduler.value,
                backends=backends,
                health_checked=lst.health_check.enabled,
                takers=takers,
                healthy_takers=tuple(b for b in takers if b.healthy),
                any_healthy=any(b.healthy for b in backends),
            )
        nodes[lb.id] = LoadBalancerNode(
            id=lb.id,
            vip=int(lb.vip),
            zone=topo.zone_of(lb.vpc, lb.subnet),
            region=topo.vpcs[lb.vpc].region,
            router=lb.vpc,
            filter=lower_filter(lb.id, "ingress", lb.security_groups, groups) if lb.security_groups else None,
            listeners=listeners,
        )
    _link_neighbours(topo, cs, nodes)
    return ForwardingState(time=cs.time, nodes=nodes, changes=cs.changes)


def _link_neighbours(topo: Topology, cs: ControlState, nodes: Mapping[str, Node]) -> None:
    """Prebuild the ingress and egress steps of every edge a walk can take."""
    edges: set[tuple[str, str]] = set()
    for inst in topo.instances.values():
        edges.add((inst.id, inst.vpc))
    for ep in topo.endpoints.values():
        edges.add((ep.id, ep.vpc))
        edges.add((ep.id, topo.endpoint_services[ep.service].load_balancer))
    for lb in topo.load_balancers.values():
        edges.add((lb.id, lb.vpc))
    for cid, table in cs.ccn_tables.items():
        edges.update((cid, vid) for vid in table.attachments)
    for a, b in sorted(edges):
        for here, there in ((a, b), (b, a)):
            # Built while the state is assembled; nodes are not shared until it is returned.
            nodes[here].links[there] = Link(
                Step(StepKind.INGRESS, StepAction.RECEIVED, f"received from {there}"),
                Step(StepKind.EGRESS, StepAction.TRANSMITTED, f"sent to {there}"),
            )


def snat_address(topo: Topology, endpoint_id: str) -> int:
    """A deterministic SNAT address per endpoint in its service's pool (docs/decisions.md Q5):
    the n-th endpoint of a service, by sorted id, takes the pool's (n+1)-th address."""
    ep = topo.endpoints[endpoint_id]
    svc = topo.endpoint_services[ep.service]
    peers = sorted(e.id for e in topo.endpoints.values() if e.service == svc.id)
    return int(svc.snat_cidr.network_address) + 1 + peers.index(endpoint_id)


def lower_filter(owner: str, direction: str, bound: tuple[str, ...], groups: Mapping[str, SecurityGroup]) -> Filter:
    rules: list[FilterRule] = []
    peer_word = "from" if direction == "ingress" else "to"
    reason = Reason.SG_INGRESS_DENIED if direction == "ingress" else Reason.SG_EGRESS_DENIED
    for gid in bound:
        for i, r in enumerate(groups[gid].rules(direction)):
            accept = r.action is Action.ACCEPT
            ref = f"{gid} {direction} rule #{i}"
            what = f"{r.protocol.value}" + (f"/{r.ports}" if r.protocol.value in ("tcp", "udp") else "")
            detail = f"{ref} ({r.action.value} {what} {peer_word} {r.peer}) " + ("accepts" if accept else "drops")
            step = Step(
                StepKind.FILTER,
                StepAction.PERMITTED if accept else StepAction.DENIED,
                detail,
                ref,
                (),
                None if accept else reason,
            )
            rules.append(
                FilterRule(
                    group=gid,
                    index=i,
                    net=int(r.peer.network_address),
                    mask=int(r.peer.netmask),
                    proto=PROTO_NUMBERS[r.protocol.value],
                    low=r.ports.low,
                    high=r.ports.high,
                    accept=accept,
                    step=step,
                )
            )
    return Filter(owner=owner, direction=direction, groups=bound, rules=tuple(rules))


def _invalid(prefix: IPv4Network, note: str) -> tuple[int, int, str]:
    """An invalid route as (net, mask, why), kept to explain a drop that it would have routed."""
    return int(prefix.network_address), int(prefix.netmask), note


def _route_step(detail: str, ref: str) -> Step:
    return Step(StepKind.ROUTE, StepAction.FORWARDED, detail, ref)


def lower_router(topo: Topology, cs: ControlState, vpc_id: str) -> RouterNode:
    vpc = topo.vpcs[vpc_id]
    local: dict[int, RouteEntry] = {}
    ref = f"{vpc_id} Local route {vpc.cidr}"

    def own(ip: IPv4Address, node: str, what: str) -> None:
        local[int(ip)] = RouteEntry(node, _route_step(f"{ip} matches the Local route {vpc.cidr}: {what} {node}", ref))

    for inst in topo.instances.values():
        if inst.vpc == vpc_id:
            own(inst.ip, inst.id, "instance")
    for ep in topo.endpoints.values():
        if ep.vpc == vpc_id:
            own(ep.ip, ep.id, "endpoint")
    for lb in topo.load_balancers.values():
        if lb.vpc == vpc_id:
            own(lb.vip, lb.id, "load balancer")
    ccn_id = next((cid for cid, t in cs.ccn_tables.items() if vpc_id in t.attachments), None)
    routes: list[tuple[IPv4Network, RouteEntry]] = []
    invalid: list[tuple[int, int, str]] = []
    if ccn_id is not None:
        for r in cs.ccn_tables[ccn_id].routes:
            if r.vpc == vpc_id:
                continue
            if not r.enabled:
                invalid.append(_invalid(r.prefix, f"CCN route {r.prefix} to {r.vpc} in {ccn_id} is {r.note}"))
                continue
            # A learned route may overlap the VPC's own CIDR: the router tries the Local route
            # first, so the learned one applies only to destinations outside the VPC [RT1].
            step = _route_step(
                f"longest prefix {r.prefix} (subnet {r.subnet} of {r.vpc}, learned from {ccn_id}): next hop {ccn_id}",
                f"{vpc_id} route {r.prefix} via {ccn_id}",
            )
            routes.append((r.prefix, RouteEntry(ccn_id, step)))
    return RouterNode(
        id=vpc_id,
        region=vpc.region,
        net=int(vpc.cidr.network_address),
        mask=int(vpc.cidr.netmask),
        cidr=str(vpc.cidr),
        local=local,
        ccn=ccn_id,
        ccn_routes=LpmTable(routes),
        invalid_routes=tuple(invalid),
    )


def lower_ccn(topo: Topology, cs: ControlState, ccn_id: str) -> CcnNode:
    table = cs.ccn_tables[ccn_id]
    routes: list[tuple[IPv4Network, RouteEntry]] = []
    invalid: list[tuple[int, int, str]] = []
    for r in table.routes:
        if not r.enabled:
            invalid.append(_invalid(r.prefix, f"route {r.prefix} to {r.vpc} is {r.note}"))
            continue
        step = _route_step(
            f"longest prefix {r.prefix} (subnet {r.subnet}): next hop {r.vpc}",
            f"{ccn_id} route {r.prefix} -> {r.vpc}",
        )
        routes.append((r.prefix, RouteEntry(r.vpc, step)))
    return CcnNode(
        id=ccn_id,
        routes=LpmTable(routes),
        bandwidth_bps=topo.ccns[ccn_id].bandwidth_bps,
        member_regions={v: topo.vpcs[v].region for v in table.attachments},
        invalid_routes=tuple(invalid),
    )
