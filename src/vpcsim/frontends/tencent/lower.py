"""Lower Tencent Cloud's nouns to the cloud-neutral IR, one control-plane snapshot at a time.

- a CVM instance becomes a host whose filters are its security groups, concatenated in bound
  order (instances bound to the same groups share one filter);
- a VPC becomes a router: the Local route (the VPC CIDR) first, then the routes it learns from its
  CCN, whose table it shares with the CCN and every other member;
- a CCN becomes a routing domain over its members' enabled subnet routes, spanning regions;
- a Private Link endpoint becomes a translator: DNAT to the CLB VIP, SNAT into its service's
  11.163.0.0/16 pool, forwarding only while ACTIVE;
- a CLB becomes a load balancer with its listeners and backends' health.

Every word a trace shows for these objects (``endpoint``, ``Private Link NAT``, ``CCN``) is set
here, as data; the engine never reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Network

from vpcsim.control import ControlState, control_timeline
from vpcsim.frontends.tencent.rules import snat_address
from vpcsim.ir import (
    PROTO_NUMBERS,
    Backend,
    Balancer,
    Circuit,
    CompiledNetwork,
    Delays,
    Filter,
    ForwardingState,
    Gateway,
    Host,
    Link,
    Listener,
    LpmTable,
    Node,
    Owner,
    Router,
    RouteTable,
    SharedRoute,
    StaticRoute,
    StaticTable,
    SubnetFilter,
    Translator,
    acl_rule,
)
from vpcsim.ir.nodes import filter_rule
from vpcsim.model import (
    Action,
    EndpointState,
    Firewall,
    NetworkAcl,
    NextHopKind,
    Protocol,
    Rule,
    SecurityGroup,
    Topology,
    TunnelState,
)
from vpcsim.model import (
    RouteTable as ModelRouteTable,
)
from vpcsim.model.routing import KIND_NOUNS, RANK
from vpcsim.model.security import ALL_PORTS
from vpcsim.model.settings import LINUX_EPHEMERAL_PORTS
from vpcsim.trace import AclMatch, GatewayHit, InvalidRoute, Reason, RouteHit, RuleMatch, Step, StepAction, StepKind

ENDPOINT = "endpoint"
LOAD_BALANCER = "load balancer"
INSTANCE = "instance"
IDC_HOST = "host"
PEERING = "peering connection"


def compile_network(topo: Topology, states: list[ControlState] | None = None) -> CompiledNetwork:
    """Compile every control-plane snapshot of ``topo`` (computed if not given)."""
    snapshots = control_timeline(topo) if states is None else states
    # ACLs do not change over time: one set of subnet filters serves every snapshot.
    subnet_filters = _subnet_filters(topo)
    lowered = tuple(lower_state(topo, cs, subnet_filters) for cs in snapshots)
    addresses: dict[str, int] = {}
    for iid, inst in topo.instances.items():
        addresses[iid] = int(inst.ip)
    for hid, host in topo.idc_hosts.items():
        addresses[hid] = int(host.ip)
    for eid, ep in topo.endpoints.items():
        addresses[eid] = int(ep.ip)
    for lid, lb in topo.load_balancers.items():
        addresses[lid] = int(lb.vip)
    d = topo.settings.delays
    return CompiledNetwork(
        source=topo.source,
        states=lowered,
        delays=Delays(same_zone=d.same_zone, cross_zone=d.cross_zone, regions=dict(d.regions)),
        syn_retries=topo.settings.tcp.syn_retries,
        initial_rto=topo.settings.tcp.initial_rto,
        seed=topo.settings.seed,
        addresses=addresses,
        snat_ports=topo.settings.snat_ports,
        ephemeral_ports=LINUX_EPHEMERAL_PORTS,
    )


class _Filters:
    """One filter per (bound groups, direction) in a snapshot: objects bound alike share it."""

    def __init__(self, groups: Mapping[str, SecurityGroup]) -> None:
        self.groups = groups
        self.made: dict[tuple[tuple[str, ...], str], Filter] = {}

    def get(self, bound: tuple[str, ...], direction: str) -> Filter:
        key = (bound, direction)
        f = self.made.get(key)
        if f is None:
            f = self.made[key] = lower_filter(direction, bound, self.groups)
        return f


def lower_state(
    topo: Topology, cs: ControlState, subnet_filters: Mapping[str, Mapping[str, SubnetFilter]] | None = None
) -> ForwardingState:
    nodes: dict[str, Node] = {}
    filters = _Filters(cs.security_groups)
    relays = {
        r.target for t in cs.route_tables.values() for r in t.routes if r.enabled and r.kind is NextHopKind.INSTANCE
    }
    for inst in topo.instances.values():
        nodes[inst.id] = Host(
            id=inst.id,
            label=inst.id,
            address=int(inst.ip),
            gateway=inst.vpc,
            zone=topo.zone_of(inst.vpc, inst.subnet),
            region=topo.vpcs[inst.vpc].region,
            ingress=filters.get(inst.security_groups, "ingress"),
            egress=filters.get(inst.security_groups, "egress"),
            listening=frozenset((PROTO_NUMBERS[proto], p) for proto, p in cs.listening[inst.id]),
            forwards=inst.id in relays,
        )
    for idc in topo.idcs.values():
        for host in idc.hosts:
            nodes[host.id] = Host(
                id=host.id,
                label=host.id,
                address=int(host.ip),
                gateway=idc.id,
                zone=premises(idc.id),
                region=premises(idc.id),
                ingress=lower_firewall(host.id, host.firewall, "ingress"),
                egress=lower_firewall(host.id, host.firewall, "egress"),
                listening=frozenset((PROTO_NUMBERS[proto], p) for proto, p in cs.listening[host.id]),
            )
    tables = {cid: _ccn_table(cs, cid, topo.vpcs) for cid in cs.ccn_tables}
    member_of = {vid: cid for cid, t in cs.ccn_tables.items() for vid in t.attachments}
    owners = _owners(topo)
    if subnet_filters is None:
        subnet_filters = _subnet_filters(topo)
    static = {tid: lower_route_table(topo, t) for tid, t in cs.route_tables.items()}
    for vpc in topo.vpcs.values():
        ccn = member_of.get(vpc.id)
        nodes[vpc.id] = Router(
            id=vpc.id,
            label=vpc.id,
            noun="VPC",
            region=vpc.region,
            connected=((int(vpc.cidr.network_address), int(vpc.cidr.netmask), str(vpc.cidr)),),
            owners=owners.get(vpc.id, {}),
            table=tables[ccn] if ccn is not None else None,
            via=ccn,
            note="" if ccn is not None else f"{vpc.id} is not attached to any CCN",
            subnet_filters=subnet_filters.get(vpc.id, {}),
            tables={node: static[topo.table_of(vpc.id, subnet).id] for node, subnet in _placed(topo, vpc.id)},
            transit=False,
            closed=_endpoints_closed_to_peers(topo, vpc.id),
        )
    for idc in topo.idcs.values():
        own = _idc_table(idc.id, topo)
        nodes[idc.id] = Router(
            id=idc.id,
            label=idc.id,
            noun="data centre",
            region=premises(idc.id),
            connected=tuple((int(c.network_address), int(c.netmask), str(c)) for c in idc.cidrs),
            owners={int(h.ip): Owner(h.id, IDC_HOST) for h in idc.hosts},
            table=None,
            via=None,
            tables={h.id: own for h in idc.hosts},
            transit=False,
        )
    for peering in topo.peerings.values():
        a, b = (topo.vpcs[v] for v in peering.vpcs)
        routes = [(v.cidr, SharedRoute(str(v.cidr), v.id, v.id, v.cidr.prefixlen, "range of")) for v in (a, b)]
        nodes[peering.id] = Router(
            id=peering.id,
            label=peering.id,
            noun=PEERING,
            region="",
            connected=(),
            owners={},
            table=RouteTable(domain=peering.id, routes=LpmTable(routes), invalid=()),
            via=None,
            split_horizon=True,
            note=f"a peering connection carries traffic between the ranges of {a.id} and {b.id} only",
        )
    for gw in topo.gateways.values():
        noun = KIND_NOUNS[NextHopKind.VPN_GATEWAY if gw.kind == "vpn" else NextHopKind.DC_GATEWAY]
        circuits = []
        for t in gw.tunnels:
            tunnel_state = cs.tunnels[(gw.id, t.id)]
            circuit_noun = "tunnel" if gw.kind == "vpn" else "connection"
            up = tunnel_state is TunnelState.UP
            label = tunnel_state.value.upper()
            circuits.append(
                Circuit(
                    id=t.id,
                    noun=circuit_noun,
                    far=t.idc,
                    nets=tuple((int(c.network_address), int(c.netmask)) for c in topo.idcs[t.idc].cidrs),
                    up=up,
                    state=label,
                    outbound=Step(
                        StepKind.ROUTE, StepAction.FORWARDED, GatewayHit(gw.id, noun, t.id, circuit_noun, label, t.idc)
                    ),
                    inbound=Step(
                        StepKind.ROUTE,
                        StepAction.FORWARDED,
                        GatewayHit(gw.id, noun, t.id, circuit_noun, label, gw.vpc or str(gw.ccn)),
                    ),
                )
            )
        nodes[gw.id] = Gateway(
            id=gw.id,
            label=gw.id,
            noun=noun,
            near=gw.vpc or str(gw.ccn),
            circuits=tuple(circuits),
            region=gw.region,
        )
    for cid in cs.ccn_tables:
        nodes[cid] = Router(
            id=cid,
            label=cid,
            noun="CCN",
            region="",
            owners={},
            table=tables[cid],
            via=None,
            split_horizon=True,
            connected=(),
        )
    for ep in topo.endpoints.values():
        svc = topo.endpoint_services[ep.service]
        lb = topo.load_balancers[svc.load_balancer]
        state = cs.endpoint_states[ep.id]
        nodes[ep.id] = Translator(
            id=ep.id,
            label=f"{ENDPOINT} {ep.id}",
            noun=ENDPOINT,
            address=int(ep.ip),
            gateway=ep.vpc,
            zone=topo.zone_of(ep.vpc, ep.subnet),
            region=topo.vpcs[ep.vpc].region,
            active=state is EndpointState.ACTIVE,
            state=state.value,
            state_note=cs.endpoint_notes[ep.id],
            forwarding_state=EndpointState.ACTIVE.value,
            inactive_reason=Reason.ENDPOINT_NOT_ACTIVE,
            filter=filters.get(ep.security_groups, "ingress") if ep.security_groups else None,
            target=lb.id,
            target_address=int(lb.vip),
            snat_address=snat_address(topo, ep.id),
            service=svc.id,
            translation="Private Link NAT",
            processing_delay=topo.settings.delays.privatelink,
            snat_pool=str(svc.snat_cidr),
            snat_label="Private Link SNAT",
        )
    for lb in topo.load_balancers.values():
        listeners: dict[tuple[int, int], Listener] = {}
        for lst in lb.listeners:
            backends = tuple(
                Backend(
                    instance=b.instance,
                    address=int(topo.instances[b.instance].ip),
                    gateway=topo.instances[b.instance].vpc,
                    port=b.port,
                    weight=b.weight,
                    healthy=cs.backend_health[(lb.id, lst.id, b.instance, b.port)],
                    key=f"{b.instance}:{b.port}",
                )
                for b in lst.backends
            )
            proto = PROTO_NUMBERS[lst.protocol]
            listeners[(proto, lst.port)] = Listener(
                id=lst.id,
                proto=proto,
                port=lst.port,
                scheduler=lst.scheduler.value,
                backends=backends,
                health_checked=lst.health_check.enabled,
            )
        nodes[lb.id] = Balancer(
            id=lb.id,
            label=lb.id,
            noun=LOAD_BALANCER,
            address=int(lb.vip),
            gateway=lb.vpc,
            zone=topo.zone_of(lb.vpc, lb.subnet),
            region=topo.vpcs[lb.vpc].region,
            filter=filters.get(lb.security_groups, "ingress") if lb.security_groups else None,
            listeners=listeners,
            subnet_filter=subnet_filters.get(lb.vpc, {}).get(lb.id),
        )
    return ForwardingState(time=cs.time, nodes=nodes, links=_links(topo, cs, nodes), changes=cs.changes)


def _links(topo: Topology, cs: ControlState, nodes: Mapping[str, Node]) -> dict[tuple[str, str], Link]:
    """Every edge a packet can take, both ways: an instance, endpoint or CLB with its VPC's router,
    an endpoint with its service's CLB, and a VPC with its CCN while attached. A CCN's links carry
    the region pair's delay and its bandwidth; everything else is the zones' business."""
    pairs: list[tuple[str, str]] = [(i.id, i.vpc) for i in topo.instances.values()]
    for ep in topo.endpoints.values():
        pairs += [(ep.id, ep.vpc), (ep.id, topo.endpoint_services[ep.service].load_balancer)]
    pairs += [(lb.id, lb.vpc) for lb in topo.load_balancers.values()]
    pairs += [(h.id, h.idc) for h in topo.idc_hosts.values()]
    pairs += [(gw.id, gw.vpc) for gw in topo.gateways.values() if gw.vpc is not None]
    links: dict[tuple[str, str], Link] = {}
    for a, b in pairs:
        for here, there in ((a, b), (b, a)):
            node = nodes[there]
            links[(here, there)] = Link(zone=node.zone, region=node.region)
    for cid, table in cs.ccn_tables.items():
        bandwidth = topo.ccns[cid].bandwidth_bps
        for vid in table.attachments:
            region = nodes[vid].region
            links[(vid, cid)] = Link(zone="", region=region)
            links[(cid, vid)] = Link(zone="", region=region, inter_region=True, bandwidth_bps=bandwidth)
    for p in topo.peerings.values():
        for vid in p.vpcs:
            region = topo.vpcs[vid].region
            links[(vid, p.id)] = Link(zone="", region=region)
            links[(p.id, vid)] = Link(zone="", region=region, inter_region=True, bandwidth_bps=p.bandwidth_bps)
    for gw in topo.gateways.values():
        # Crossing the tunnel or line costs its own delay, either way; the gateway sits in its region.
        near = gw.vpc or str(gw.ccn)
        links[(gw.id, near)] = Link(
            zone="", region=gw.region, inter_region=True, bandwidth_bps=gw.bandwidth_bps, delay=gw.delay
        )
        for idc in gw.idcs:
            links[(idc, gw.id)] = Link(zone="", region=gw.region)
            links[(gw.id, idc)] = Link(
                zone="", region=premises(idc), inter_region=True, bandwidth_bps=gw.bandwidth_bps, delay=gw.delay
            )
    return links


def _endpoints_closed_to_peers(topo: Topology, vpc: str) -> dict[str, tuple[frozenset[str], str]]:
    """A VPC's endpoints are not reached over its peering connections (docs/decisions.md Q35: Private
    Link names CCN, Direct Connect and VPN as the ways in, not peering; the stricter reading)."""
    peerings = frozenset(p.id for p in topo.peerings.values() if vpc in p.vpcs)
    if not peerings:
        return {}
    why = "a Private Link endpoint is reached from its own VPC and over CCN, Direct Connect or VPN, not over peering"
    return {e.id: (peerings, why) for e in topo.endpoints.values() if e.vpc == vpc}


def _placed(topo: Topology, vpc: str) -> list[tuple[str, str]]:
    """(node, subnet) of everything a VPC's subnets hold: instances, endpoints, load balancers."""
    return [
        *((i.id, i.subnet) for i in topo.instances.values() if i.vpc == vpc),
        *((e.id, e.subnet) for e in topo.endpoints.values() if e.vpc == vpc),
        *((lb.id, lb.subnet) for lb in topo.load_balancers.values() if lb.vpc == vpc),
    ]


def lower_route_table(topo: Topology, table: ModelRouteTable) -> StaticTable:
    """A route table's enabled routes by destination: the best-ranked type forwards (several routes
    of it are ECMP); disabled and outranked routes are kept to explain a drop [RT1]."""
    by_dest: dict[IPv4Network, list[tuple[int, int]]] = {}
    invalid: list[tuple[int, int, InvalidRoute]] = []
    for i, r in enumerate(table.routes):
        if r.enabled:
            by_dest.setdefault(r.destination, []).append((RANK[r.kind], i))
        else:
            invalid.append(_invalid(table, r.destination, r.target, r.kind, f"disabled (route {r.id})"))
    routes: list[tuple[IPv4Network, tuple[StaticRoute, ...]]] = []
    for dest, ranked in by_dest.items():
        best = min(rank for rank, _ in ranked)
        group = []
        for rank, i in ranked:
            r = table.routes[i]
            if rank != best:
                winner = table.routes[next(j for k, j in ranked if k == best)]
                status = f"outranked by route {winner.id} to {KIND_NOUNS[winner.kind]} {winner.target} (route {r.id})"
                invalid.append(_invalid(table, dest, r.target, r.kind, status))
                continue
            hit = RouteHit(table.vpc, str(dest), r.target, "", "", "", table.id, r.id, KIND_NOUNS[r.kind])
            group.append(
                StaticRoute(str(dest), dest.prefixlen, r.target, Step(StepKind.ROUTE, StepAction.FORWARDED, hit))
            )
        routes.append((dest, tuple(group)))
    return StaticTable(id=table.id, label=table.id, routes=LpmTable(routes), invalid=tuple(invalid))


def _invalid(
    table: ModelRouteTable, dest: IPv4Network, target: str, kind: NextHopKind, status: str
) -> tuple[int, int, InvalidRoute]:
    route = InvalidRoute(str(dest), f"{KIND_NOUNS[kind]} {target}", table.id, "route table", status)
    return (int(dest.network_address), int(dest.netmask), route)


def premises(idc_id: str) -> str:
    """A data centre's place (its zone and region in the delay model): a name no cloud region or zone
    can take (ids have no colon), so a crossing into it always pays the tunnel's delay."""
    return f"idc:{idc_id}"


def _idc_table(idc_id: str, topo: Topology) -> StaticTable:
    """A data centre's own static routes, each to a gateway."""
    routes = []
    for r in topo.idcs[idc_id].routes:
        gw = topo.gateways[r.gateway]
        noun = KIND_NOUNS[NextHopKind.VPN_GATEWAY if gw.kind == "vpn" else NextHopKind.DC_GATEWAY]
        hit = RouteHit(idc_id, str(r.destination), gw.id, "", "", "", f"{idc_id} routes", r.id, noun)
        step = Step(StepKind.ROUTE, StepAction.FORWARDED, hit)
        routes.append((r.destination, (StaticRoute(str(r.destination), r.destination.prefixlen, gw.id, step),)))
    return StaticTable(id=f"{idc_id}:routes", label=f"{idc_id} routes", routes=LpmTable(routes))


def lower_firewall(host: str, fw: Firewall, direction: str) -> Filter:
    """A data-centre host's firewall for one direction: its rules then the implicit deny, or, for a
    direction it does not filter, one rule that lets everything through."""
    group = f"{host} firewall"
    given = fw.rules(direction)
    if given is None:
        rule = Rule(action=Action.ACCEPT, protocol=Protocol.ALL, ports=ALL_PORTS, peer=IPv4Network("0.0.0.0/0"))
        return lower_rules(direction, ((f"{host} (no {direction} firewall)", (rule,)),), "firewall")
    return lower_rules(direction, ((group, given),), "firewall")


def _owners(topo: Topology) -> dict[str, dict[int, Owner]]:
    """Per VPC: address → the object that owns it (the Local route's destinations)."""
    out: dict[str, dict[int, Owner]] = {}
    for inst in topo.instances.values():
        out.setdefault(inst.vpc, {})[int(inst.ip)] = Owner(inst.id, INSTANCE)
    for ep in topo.endpoints.values():
        out.setdefault(ep.vpc, {})[int(ep.ip)] = Owner(ep.id, ENDPOINT)
    for lb in topo.load_balancers.values():
        out.setdefault(lb.vpc, {})[int(lb.vip)] = Owner(lb.id, LOAD_BALANCER)
    return out


def _subnet_filters(topo: Topology) -> dict[str, dict[str, SubnetFilter]]:
    """Per VPC: each instance, endpoint and load balancer in a subnet with a network ACL → that
    subnet's stateless filter (docs/decisions.md Q28: the ACL binds every address of the subnet)."""
    made: dict[tuple[str, str], SubnetFilter] = {}
    out: dict[str, dict[str, SubnetFilter]] = {}
    placed = [
        *((i.id, i.vpc, i.subnet) for i in topo.instances.values()),
        *((e.id, e.vpc, e.subnet) for e in topo.endpoints.values()),
        *((lb.id, lb.vpc, lb.subnet) for lb in topo.load_balancers.values()),
    ]
    for node, vpc, subnet in placed:
        acl = topo.acl_of(vpc, subnet)
        if acl is None:
            continue
        key = (vpc, subnet)
        if key not in made:
            cidr = topo.subnet(vpc, subnet).cidr
            made[key] = SubnetFilter(
                net=int(cidr.network_address),
                mask=int(cidr.netmask),
                ingress=lower_acl(acl, "ingress", str(cidr)),
                egress=lower_acl(acl, "egress", str(cidr)),
            )
        out.setdefault(vpc, {})[node] = made[key]
    return out


def lower_acl(acl: NetworkAcl, direction: str, subnet: str) -> Filter:
    """An ACL's rules for one direction, in order, then the immutable deny-all [ACL2]."""
    rules = []
    for i, r in enumerate(acl.rules(direction)):
        match = AclMatch(
            acl.id,
            direction,
            i,
            r.action is Action.ACCEPT,
            r.protocol.value,
            r.ports.low,
            r.ports.high,
            str(r.peer),
            subnet,
        )
        rules.append(acl_rule(int(r.peer.network_address), int(r.peer.netmask), match))
    deny = AclMatch(acl.id, direction, -1, False, Protocol.ALL.value, 1, 65535, "0.0.0.0/0", subnet)
    rules.append(acl_rule(0, 0, deny))
    return Filter(direction=direction, groups=(acl.id,), rules=tuple(rules), kind="acl")


def lower_filter(direction: str, bound: tuple[str, ...], groups: Mapping[str, SecurityGroup]) -> Filter:
    return lower_rules(direction, tuple((gid, groups[gid].rules(direction)) for gid in bound))


def lower_rules(direction: str, lists: tuple[tuple[str, tuple[Rule, ...]], ...], kind: str = "sg") -> Filter:
    """Named rule lists, concatenated in order: one first-match filter (``kind``: ``sg``, ``firewall``)."""
    rules = []
    for gid, listed in lists:
        for i, r in enumerate(listed):
            match = RuleMatch(
                group=gid,
                direction=direction,
                number=i,
                accept=r.action is Action.ACCEPT,
                protocol=r.protocol.value,
                low=r.ports.low,
                high=r.ports.high,
                peer=str(r.peer),
            )
            rules.append(filter_rule(int(r.peer.network_address), int(r.peer.netmask), match, kind))
    return Filter(direction=direction, groups=tuple(g for g, _ in lists), rules=tuple(rules), kind=kind)


def _ccn_table(cs: ControlState, ccn_id: str, topo_vpcs: Mapping[str, object]) -> RouteTable:
    """The CCN's routes, shared by the CCN and every member VPC's router.

    A member never needs to skip the routes it published itself: they lie inside its own CIDR,
    where the Local route decides first [RT1].
    """
    routes: list[tuple[IPv4Network, SharedRoute]] = []
    invalid: list[tuple[int, int, InvalidRoute]] = []
    for r in cs.ccn_tables[ccn_id].routes:
        if r.enabled:
            noun = "subnet" if r.vpc in topo_vpcs else "data centre"
            routes.append((r.prefix, SharedRoute(str(r.prefix), r.vpc, r.subnet, r.prefix.prefixlen, noun)))
        else:
            invalid.append(
                (
                    int(r.prefix.network_address),
                    int(r.prefix.netmask),
                    InvalidRoute(str(r.prefix), r.vpc, ccn_id, "CCN", r.note),
                )
            )
    return RouteTable(domain=ccn_id, routes=LpmTable(routes), invalid=tuple(invalid))
