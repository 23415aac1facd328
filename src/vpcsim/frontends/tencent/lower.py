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
    CompiledNetwork,
    Delays,
    Filter,
    ForwardingState,
    Host,
    Link,
    Listener,
    LpmTable,
    Node,
    Owner,
    Router,
    RouteTable,
    SharedRoute,
    SubnetFilter,
    Translator,
    acl_rule,
)
from vpcsim.ir.nodes import filter_rule
from vpcsim.model import Action, EndpointState, NetworkAcl, Protocol, SecurityGroup, Topology
from vpcsim.trace import AclMatch, InvalidRoute, Reason, RuleMatch

ENDPOINT = "endpoint"
LOAD_BALANCER = "load balancer"
INSTANCE = "instance"


def compile_network(topo: Topology, states: list[ControlState] | None = None) -> CompiledNetwork:
    """Compile every control-plane snapshot of ``topo`` (computed if not given)."""
    snapshots = control_timeline(topo) if states is None else states
    # ACLs do not change over time: one set of subnet filters serves every snapshot.
    subnet_filters = _subnet_filters(topo)
    lowered = tuple(lower_state(topo, cs, subnet_filters) for cs in snapshots)
    addresses: dict[str, int] = {}
    for iid, inst in topo.instances.items():
        addresses[iid] = int(inst.ip)
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
        )
    tables = {cid: _ccn_table(cs, cid) for cid in cs.ccn_tables}
    member_of = {vid: cid for cid, t in cs.ccn_tables.items() for vid in t.attachments}
    owners = _owners(topo)
    if subnet_filters is None:
        subnet_filters = _subnet_filters(topo)
    for vpc in topo.vpcs.values():
        ccn = member_of.get(vpc.id)
        nodes[vpc.id] = Router(
            id=vpc.id,
            label=vpc.id,
            noun="VPC",
            region=vpc.region,
            connected=(int(vpc.cidr.network_address), int(vpc.cidr.netmask), str(vpc.cidr)),
            owners=owners.get(vpc.id, {}),
            table=tables[ccn] if ccn is not None else None,
            via=ccn,
            note="" if ccn is not None else f"{vpc.id} is not attached to any CCN",
            subnet_filters=subnet_filters.get(vpc.id, {}),
        )
    for cid in cs.ccn_tables:
        nodes[cid] = Router(
            id=cid,
            label=cid,
            noun="CCN",
            region="",
            connected=None,
            owners={},
            table=tables[cid],
            via=None,
            split_horizon=True,
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
    links: dict[tuple[str, str], Link] = {}
    for a, b in pairs:
        for here, there in ((a, b), (b, a)):
            node = nodes[there]
            links[(here, there)] = Link(zone=node.zone, region=node.region)
    for cid, table in cs.ccn_tables.items():
        bandwidth = topo.ccns[cid].bandwidth_bps
        for vid in table.attachments:
            links[(vid, cid)] = Link(zone="", region=topo.vpcs[vid].region)
            links[(cid, vid)] = Link(zone="", region=topo.vpcs[vid].region, inter_region=True, bandwidth_bps=bandwidth)
    return links


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
    return Filter(direction=direction, groups=(acl.id,), rules=tuple(rules))


def lower_filter(direction: str, bound: tuple[str, ...], groups: Mapping[str, SecurityGroup]) -> Filter:
    rules = []
    for gid in bound:
        for i, r in enumerate(groups[gid].rules(direction)):
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
            rules.append(filter_rule(int(r.peer.network_address), int(r.peer.netmask), match))
    return Filter(direction=direction, groups=bound, rules=tuple(rules))


def _ccn_table(cs: ControlState, ccn_id: str) -> RouteTable:
    """The CCN's routes, shared by the CCN and every member VPC's router.

    A member never needs to skip the routes it published itself: they lie inside its own CIDR,
    where the Local route decides first [RT1].
    """
    routes: list[tuple[IPv4Network, SharedRoute]] = []
    invalid: list[tuple[int, int, InvalidRoute]] = []
    for r in cs.ccn_tables[ccn_id].routes:
        if r.enabled:
            routes.append((r.prefix, SharedRoute(str(r.prefix), r.vpc, r.subnet)))
        else:
            invalid.append(
                (
                    int(r.prefix.network_address),
                    int(r.prefix.netmask),
                    InvalidRoute(str(r.prefix), r.vpc, ccn_id, "CCN", r.note),
                )
            )
    return RouteTable(domain=ccn_id, routes=LpmTable(routes), invalid=tuple(invalid))
