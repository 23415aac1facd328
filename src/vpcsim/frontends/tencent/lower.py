"""Lower Tencent Cloud's nouns to the cloud-neutral IR, one control-plane snapshot at a time.

What every cloud shares (instances, VPC routers, route tables, peering, data centres, gateways,
ACLs) is lowered by :mod:`vpcsim.frontends.common.lower`; here are Tencent's own products:

- a VPC learns the routes of its CCN, whose table it shares with the CCN and every other member;
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
from vpcsim.frontends.common.lower import (
    Filters,
    Nouns,
    compiled,
    endpoints_closed_to_peers,
    gateway_limits,
    lower_listeners,
    network_links,
    network_nodes,
    trunk_capacity,
    vpc_routers,
)
from vpcsim.frontends.common.lower import (
    subnet_filters as lower_subnet_filters,
)
from vpcsim.frontends.tencent.rules import snat_address
from vpcsim.ir import (
    Balancer,
    CompiledNetwork,
    ForwardingState,
    Link,
    LpmTable,
    Node,
    Router,
    RouteTable,
    SharedRoute,
    SubnetFilter,
    Translator,
)
from vpcsim.model import EndpointState, Topology
from vpcsim.trace import InvalidRoute, Reason

ENDPOINT = "endpoint"
LOAD_BALANCER = "load balancer"
NOUNS = Nouns(instance="instance", endpoint=ENDPOINT, load_balancer=LOAD_BALANCER)
CLOSED_TO_PEERS = (
    "a Private Link endpoint is reached from its own VPC and over CCN, Direct Connect or VPN, not over peering"
)


def compile_network(topo: Topology, states: list[ControlState] | None = None) -> CompiledNetwork:
    """Compile every control-plane snapshot of ``topo`` (computed if not given)."""
    snapshots = control_timeline(topo) if states is None else states
    # ACLs do not change over time: one set of subnet filters serves every snapshot.
    filters = lower_subnet_filters(topo)
    return compiled(topo, tuple(lower_state(topo, cs, filters) for cs in snapshots))


def lower_state(
    topo: Topology, cs: ControlState, subnet_filters: Mapping[str, Mapping[str, SubnetFilter]] | None = None
) -> ForwardingState:
    filters = Filters(cs.security_groups)
    if subnet_filters is None:
        subnet_filters = lower_subnet_filters(topo)
    nodes: dict[str, Node] = network_nodes(topo, cs, filters, NOUNS)
    tables = {cid: _ccn_table(cs, cid, topo.vpcs) for cid in cs.ccn_tables}
    learned = {vid: (tables[cid], cid) for cid, t in cs.ccn_tables.items() for vid in t.attachments}
    closed = {vid: endpoints_closed_to_peers(topo, vid, CLOSED_TO_PEERS) for vid in topo.vpcs}
    nodes.update(
        vpc_routers(topo, cs, NOUNS, subnet_filters, closed, learned, lonely="{vpc} is not attached to any CCN")
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
        lb = topo.load_balancers[svc.backend]
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
            limits=gateway_limits(topo.settings, "endpoint", ep.capacity),
        )
    for lb in topo.load_balancers.values():
        listeners = lower_listeners(topo, cs, lb)
        nodes[lb.id] = Balancer(
            id=lb.id,
            label=lb.id,
            noun=LOAD_BALANCER,
            address=int(lb.vip),
            gateway=lb.vpc,
            zone=topo.zone_of(lb.vpc, lb.subnet),
            region=topo.vpcs[lb.vpc].region,
            filter=filters.get(lb.security_groups, "ingress") if lb.security_groups else None,
            limits=gateway_limits(topo.settings, "load_balancer", lb.capacity),
            listeners=listeners,
            subnet_filter=subnet_filters.get(lb.vpc, {}).get(lb.id),
        )
    return ForwardingState(time=cs.time, nodes=nodes, links=_links(topo, cs, nodes), changes=cs.changes)


def _links(topo: Topology, cs: ControlState, nodes: Mapping[str, Node]) -> dict[tuple[str, str], Link]:
    """The shared links, an endpoint with its service's CLB, and a VPC with its CCN while attached
    (the region pair's delay and the CCN's bandwidth)."""
    pairs = [(ep.id, topo.endpoint_services[ep.service].backend, "endpoint") for ep in topo.endpoints.values()]
    links = network_links(topo, nodes, pairs)
    line = trunk_capacity(topo.settings, "ccn")
    for cid, table in cs.ccn_tables.items():
        ccn = topo.ccns[cid]
        for vid in table.attachments:
            region = nodes[vid].region
            # A CCN-type gateway's way into the CCN is its line, with the line's delay (set above).
            links.setdefault((vid, cid), Link(zone="", region=region))
            # Into a region: the rate of the pair the packet crosses (one queue per pair and direction).
            pairs_in = {
                (next(iter(pair - {region}), region)): rate
                for pair, rate in ccn.pair_bandwidth.items()
                if region in pair
            }
            links[(cid, vid)] = Link(
                zone="",
                region=region,
                inter_region=True,
                bandwidth_bps=ccn.bandwidth_bps,
                pair_bandwidth=pairs_in,
                shared=cid,
                **line,
            )
    return links


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
