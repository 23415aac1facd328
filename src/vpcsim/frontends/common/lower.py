"""Lowering what every cloud shares to the cloud-neutral IR: instances, data centres and their
hosts, VPC routers, peering connections, VPN and Direct Connect gateways, route tables, security
groups, network ACLs and the links between them. A cloud's lowering adds its own products (load
balancers, endpoints, its routing domains) and names them in its words (:class:`Nouns`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from ipaddress import IPv4Network
from typing import Any

from vpcsim.control import ControlState
from vpcsim.ir import (
    PROTO_NUMBERS,
    Backend,
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
    TcpStack,
    acl_rule,
)
from vpcsim.ir.nodes import Limits, filter_rule
from vpcsim.model import (
    Action,
    Firewall,
    LoadBalancer,
    NetworkAcl,
    NextHopKind,
    Protocol,
    Rule,
    SecurityGroup,
    Settings,
    Topology,
    TunnelState,
)
from vpcsim.model import (
    RouteTable as ModelRouteTable,
)
from vpcsim.model.capacity import DEFAULT_QUEUE_PACKETS, GatewayCapacity, LinkSettings
from vpcsim.model.routing import KIND_NOUNS, RANK
from vpcsim.model.security import ALL_PORTS
from vpcsim.model.settings import LINUX_EPHEMERAL_PORTS
from vpcsim.trace import AclMatch, GatewayHit, InvalidRoute, RouteHit, RuleMatch, Step, StepAction, StepKind

IDC_HOST = "host"
PEERING = "peering connection"


@dataclass(frozen=True, slots=True)
class Nouns:
    """What a cloud calls the objects traces name."""

    instance: str
    endpoint: str
    load_balancer: str


def compiled(topo: Topology, states: tuple[ForwardingState, ...]) -> CompiledNetwork:
    """The compiled network of lowered ``states``, with every address a probe may name."""
    addresses: dict[str, int] = {}
    for iid, inst in topo.instances.items():
        addresses[iid] = int(inst.ip)
    for hid, host in topo.idc_hosts.items():
        addresses[hid] = int(host.ip)
    for eid, ep in topo.endpoints.items():
        addresses[eid] = int(ep.ip)
    for lid, lb in topo.load_balancers.items():
        addresses[lid] = int(lb.vip)
    for sid, cs in topo.cloud_services.items():
        addresses[sid] = int(cs.ip)
    d = topo.settings.delays
    t = topo.settings.tcp
    return CompiledNetwork(
        source=topo.source,
        states=states,
        delays=Delays(same_zone=d.same_zone, cross_zone=d.cross_zone, regions=dict(d.regions)),
        syn_retries=topo.settings.tcp.syn_retries,
        initial_rto=topo.settings.tcp.initial_rto,
        seed=topo.settings.seed,
        addresses=addresses,
        snat_ports=topo.settings.snat_ports,
        ephemeral_ports=LINUX_EPHEMERAL_PORTS,
        tcp=TcpStack(**{f.name: getattr(t, f.name) for f in fields(TcpStack) if hasattr(t, f.name)}),
    )


class Filters:
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


def network_nodes(
    topo: Topology,
    cs: ControlState,
    filters: Filters,
    nouns: Nouns,
) -> dict[str, Node]:
    """Instances, data centres with their hosts, peering connections and gateways."""
    nodes: dict[str, Node] = {}
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
            forwards=inst.id in relays and not inst.source_dest_check,
            source_checked=inst.source_dest_check,
            aliases=frozenset(int(a) for a in inst.virtual_ips),
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
        nodes[idc.id] = Router(
            id=idc.id,
            label=idc.id,
            noun="data centre",
            region=premises(idc.id),
            connected=tuple((int(c.network_address), int(c.netmask), str(c)) for c in idc.cidrs),
            owners={int(h.ip): Owner(h.id, IDC_HOST) for h in idc.hosts},
            table=None,
            via=None,
            tables={h.id: _idc_table(idc.id, topo) for h in idc.hosts},
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
            limits=gateway_limits(topo.settings, GATEWAY_LINKS[gw.kind]),
        )
    return nodes


def vpc_routers(
    topo: Topology,
    cs: ControlState,
    nouns: Nouns,
    subnet_filters: Mapping[str, Mapping[str, SubnetFilter]],
    closed: Mapping[str, Mapping[str, tuple[frozenset[str], str]]],
    learned: Mapping[str, tuple[RouteTable, str]] | None = None,
    ways_in: Mapping[str, Mapping[str, StaticTable]] | None = None,
    lonely: str = "",
) -> dict[str, Router]:
    """Each VPC's router: its range delivered to owners, each placed object's packets routed by
    its subnet's table. ``learned``: VPC → (the routing domain's table, the domain) it learns from;
    ``ways_in``: VPC → neighbour → a table for packets entering from outside its subnets;
    ``lonely``: why a VPC that learns nothing has no route (``{vpc}`` names it)."""
    static = {tid: lower_route_table(topo, t) for tid, t in cs.route_tables.items()}
    owned = owners(topo, nouns)
    where = placements(topo)
    bound, default = subnet_tables(topo)
    out: dict[str, Router] = {}
    for vpc in topo.vpcs.values():
        domain = (learned or {}).get(vpc.id)
        tables = {node: static[(bound.get((vpc.id, subnet)) or default[vpc.id]).id] for node, subnet in where[vpc.id]}
        tables.update((ways_in or {}).get(vpc.id, {}))
        out[vpc.id] = Router(
            id=vpc.id,
            label=vpc.id,
            noun="VPC",
            region=vpc.region,
            connected=((int(vpc.cidr.network_address), int(vpc.cidr.netmask), str(vpc.cidr)),),
            owners=owned.get(vpc.id, {}),
            table=domain[0] if domain is not None else None,
            via=domain[1] if domain is not None else None,
            note="" if domain is not None else lonely.format(vpc=vpc.id),
            subnet_filters=subnet_filters.get(vpc.id, {}),
            tables=tables,
            transit=False,
            closed=closed.get(vpc.id, {}),
        )
    return out


def link_capacity(settings: Settings, kind: str, own: LinkSettings | None = None) -> dict[str, Any]:
    """A link's capacity fields (for :class:`Link`) from the settings of its kind, overridden by the
    object's own: nothing set leaves the link uncapped."""
    base = settings.links.get(kind)
    ls = own.over(base) if own is not None else base
    if ls is None:
        return {"queue": DEFAULT_QUEUE_PACKETS}
    return {
        "bandwidth_bps": ls.bandwidth_bps or 0.0,
        "queue": DEFAULT_QUEUE_PACKETS if ls.queue is None else ls.queue,
        "overhead": ls.overhead or 0,
        "mtu": ls.mtu or 0,
        "latency": ls.delay or 0.0,
    }


def trunk_capacity(settings: Settings, kind: str) -> dict[str, Any]:
    """A link between regions: its bandwidth is its object's; the kind's settings add the rest."""
    fields = link_capacity(settings, kind)
    fields.pop("bandwidth_bps", None)
    return fields


def gateway_limits(settings: Settings, kind: str, own: GatewayCapacity | None = None, **preset: Any) -> Limits | None:
    """A gateway's limits from its kind's settings and its own (its own win), over a cloud's
    ``preset`` values: None when nothing is limited."""
    base = settings.capacity.get(kind)
    cap = own.over(base) if own is not None else base
    values = {
        "service_time": 0.0,
        "queue": 0,
        "max_sessions": 0,
        "new_per_second": 0.0,
        "idle_timeout": 0.0,
        **preset,
    }
    if cap is not None:
        values.update({k: v for k, v in asdict(cap).items() if v is not None})
    limits = Limits(**values)
    return None if limits == Limits() else limits


def network_links(
    topo: Topology, nodes: Mapping[str, Node], pairs: list[tuple[str, str, str]]
) -> dict[tuple[str, str], Link]:
    """Every edge of the shared objects, both ways, and of the cloud's own ``pairs`` (a, b, link
    kind): an instance, endpoint or load balancer with its VPC's router, a data-centre host with its
    data centre, a gateway with its VPC. A peering connection's links carry the region pair's delay
    and its bandwidth; a gateway's, its line's own delay and its bandwidth, per direction. Everything
    else is the zones' business, and the capacity its kind's settings give it."""
    settings = topo.settings
    links: dict[tuple[str, str], Link] = {}
    for i in topo.instances.values():
        cap = link_capacity(settings, "host", i.link)
        for here, there in ((i.id, i.vpc), (i.vpc, i.id)):
            node = nodes[there]
            links[(here, there)] = Link(zone=node.zone, region=node.region, **cap)
    shared = [(ep.id, ep.vpc, "endpoint") for ep in topo.endpoints.values()]
    shared += [(lb.id, lb.vpc, "load_balancer") for lb in topo.load_balancers.values()]
    shared += [(h.id, h.idc, "host") for h in topo.idc_hosts.values()]
    for a, b, kind in shared + pairs:
        cap = link_capacity(settings, kind)
        for here, there in ((a, b), (b, a)):
            node = nodes[there]
            links[(here, there)] = Link(zone=node.zone, region=node.region, **cap)
    peering = trunk_capacity(settings, "peering")
    for p in topo.peerings.values():
        for vid in p.vpcs:
            region = topo.vpcs[vid].region
            links[(vid, p.id)] = Link(zone="", region=region)
            links[(p.id, vid)] = Link(
                zone="", region=region, inter_region=True, bandwidth_bps=p.bandwidth_bps, shared=p.id, **peering
            )
    for gw in topo.gateways.values():
        # Crossing the tunnel or line costs its own delay, either way; the gateway sits in its region.
        near = gw.vpc or str(gw.ccn)
        if gw.vpc is not None:  # into the gateway from its VPC: the crossing below carries the line's costs
            links[(gw.vpc, gw.id)] = Link(zone="", region=gw.region)
        line = trunk_capacity(settings, GATEWAY_LINKS[gw.kind])
        links[(gw.id, near)] = Link(
            zone="",
            region=gw.region,
            inter_region=True,
            bandwidth_bps=gw.bandwidth_bps,
            delay=gw.delay,
            shared=gw.id,
            **line,
        )
        for idc in gw.idcs:
            links[(idc, gw.id)] = Link(zone="", region=gw.region)
            links[(gw.id, idc)] = Link(
                zone="",
                region=premises(idc),
                inter_region=True,
                bandwidth_bps=gw.bandwidth_bps,
                delay=gw.delay,
                shared=gw.id,
                **line,
            )
    return links


GATEWAY_LINKS = {"vpn": "vpn", "dc": "direct_connect"}
"""A gateway's kind → the kind of its links and capacity settings."""


def lower_listeners(topo: Topology, cs: ControlState, lb: LoadBalancer) -> dict[tuple[int, int], Listener]:
    """A load balancer's listeners by (protocol number, port), each backend with its health now."""
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
    return listeners


def endpoints_closed_to_peers(topo: Topology, vpc: str, why: str) -> dict[str, tuple[frozenset[str], str]]:
    """A VPC's endpoints are not reached over its peering connections (docs/decisions.md Q35)."""
    peerings = frozenset(p.id for p in topo.peerings.values() if vpc in p.vpcs)
    if not peerings:
        return {}
    return {e.id: (peerings, why) for e in topo.endpoints.values() if e.vpc == vpc}


def subnet_tables(topo: Topology) -> tuple[dict[tuple[str, str], ModelRouteTable], dict[str, ModelRouteTable]]:
    """(VPC, subnet) → the table it is bound to, and VPC → its default table: what
    :meth:`Topology.table_of` answers, indexed once instead of a scan of every table per object."""
    bound: dict[tuple[str, str], ModelRouteTable] = {}
    default: dict[str, ModelRouteTable] = {}
    for t in topo.route_tables.values():
        for subnet in t.subnets:
            bound.setdefault((t.vpc, subnet), t)
        if t.default:
            default[t.vpc] = t
    return bound, default


def placements(topo: Topology) -> dict[str, list[tuple[str, str]]]:
    """Per VPC: (node, subnet) of everything its subnets hold, instances, then endpoints, then load
    balancers. One pass over each kind, not one per VPC: 10,000 VPCs hold 100,000 instances."""
    out: dict[str, list[tuple[str, str]]] = {vpc: [] for vpc in topo.vpcs}
    for i in topo.instances.values():
        out.setdefault(i.vpc, []).append((i.id, i.subnet))
    for e in topo.endpoints.values():
        out.setdefault(e.vpc, []).append((e.id, e.subnet))
    for lb in topo.load_balancers.values():
        out.setdefault(lb.vpc, []).append((lb.id, lb.subnet))
    return out


def owners(topo: Topology, nouns: Nouns) -> dict[str, dict[int, Owner]]:
    """Per VPC: address → the object that owns it (the Local route's destinations)."""
    out: dict[str, dict[int, Owner]] = {}
    for inst in topo.instances.values():
        out.setdefault(inst.vpc, {})[int(inst.ip)] = Owner(inst.id, nouns.instance)
        for vip in inst.virtual_ips:
            out[inst.vpc][int(vip)] = Owner(inst.id, nouns.instance)
    for ep in topo.endpoints.values():
        out.setdefault(ep.vpc, {})[int(ep.ip)] = Owner(ep.id, nouns.endpoint)
    for lb in topo.load_balancers.values():
        out.setdefault(lb.vpc, {})[int(lb.vip)] = Owner(lb.id, nouns.load_balancer)
    return out


def subnet_filters(topo: Topology) -> dict[str, dict[str, SubnetFilter]]:
    """Per VPC: each instance, endpoint and load balancer in a subnet with a network ACL → that
    subnet's filter (docs/decisions.md Q28: the ACL binds every address of the subnet)."""
    made: dict[tuple[str, str], SubnetFilter] = {}
    out: dict[str, dict[str, SubnetFilter]] = {}
    where = placements(topo)
    for vpc in topo.vpcs:
        for node, subnet in where[vpc]:
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
                    stateful=acl.stateful,
                )
            out.setdefault(vpc, {})[node] = made[key]
    return out


def lower_acl(acl: NetworkAcl, direction: str, subnet: str) -> Filter:
    """An ACL's rules for one direction, in order, then the cloud's default rules (numbered -2, -3,
    ... in traces: no rule of the document), then the immutable deny-all (-1) [ACL2][HWACL1]."""
    rules = []
    own = acl.rules(direction)
    for i, r in enumerate((*own, *acl.default_rules(direction))):
        match = AclMatch(
            acl.id,
            direction,
            i if i < len(own) else len(own) - i - 2,  # the cloud's own rules: -2, -3, ...
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


def lower_route_table(
    topo: Topology, table: ModelRouteTable, kinds: frozenset[NextHopKind] | None = None
) -> StaticTable:
    """A route table's enabled routes by destination: the best-ranked type forwards (several routes
    of it are ECMP); disabled and outranked routes are kept to explain a drop [RT1]. ``kinds``
    keeps only the routes of those types."""
    by_dest: dict[IPv4Network, list[tuple[int, int]]] = {}
    invalid: list[tuple[int, int, InvalidRoute]] = []
    for i, r in enumerate(table.routes):
        if kinds is not None and r.kind not in kinds:
            continue
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


def lower_filter(direction: str, bound: tuple[str, ...], groups: Mapping[str, SecurityGroup]) -> Filter:
    return lower_rules(direction, tuple((gid, groups[gid].rules(direction)) for gid in bound))


def lower_rules(direction: str, lists: tuple[tuple[str, tuple[Rule, ...]], ...], kind: str = "sg") -> Filter:
    """Named rule lists, concatenated in order: one first-match filter (``kind``: ``sg``,
    ``firewall``, ``allowlist``)."""
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
