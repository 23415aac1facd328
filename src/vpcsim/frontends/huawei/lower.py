"""Lower Huawei Cloud's nouns to the cloud-neutral IR, one control-plane snapshot at a time.

What every cloud shares is lowered by :mod:`vpcsim.frontends.common.lower` (an ECS is a host, a
VPC a router, ...); here are Huawei's own products:

- a VPCEP interface endpoint becomes a translator: DNAT to its service's backend (an ELB, an ECS
  or its virtual IP, a cloud service) with the service's port mappings, SNAT into the VPCEP range
  198.19.128.0/17, forwarding only while accepted; its access control is the translator's filter;
  at most ``endpoint_sessions`` connections;
- a VPCEP gateway endpoint becomes a translator reached by the routes it adds: it keeps the
  destination (the cloud service) and translates the source the same way (*inferred*, Q37);
- a shared ELB translates the source to its 100.125.0.0/16 address unless it passes the client's;
  a dedicated ELB passes the client's address;
- a region's cloud services (OBS, DNS) become hosts behind one router for the cloud-service range.

Traffic that arrives from a VPN or Direct Connect gateway may take a gateway endpoint's route in the
VPC's default route table (docs/decisions.md Q36), and nothing else it did not come for.
Every word a trace shows (``ECS``, ``ELB``, ``VPC endpoint``, ``VPCEP NAT``) is set here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from ipaddress import IPv4Network

from vpcsim.control import ControlState, control_timeline
from vpcsim.frontends.common.lower import (
    Filters,
    Nouns,
    compiled,
    endpoints_closed_to_peers,
    gateway_limits,
    lower_listeners,
    lower_route_table,
    lower_rules,
    network_links,
    network_nodes,
    vpc_routers,
)
from vpcsim.frontends.common.lower import (
    subnet_filters as lower_subnet_filters,
)
from vpcsim.frontends.huawei.rules import SERVICE_NOUNS, SHARED_ELB_CIDR, endpoint_address
from vpcsim.ir import (
    PROTO_NUMBERS,
    Balancer,
    CompiledNetwork,
    ForwardingState,
    Host,
    Link,
    Node,
    Owner,
    Router,
    StaticTable,
    SubnetFilter,
    Translator,
)
from vpcsim.model import (
    Action,
    EndpointState,
    NextHopKind,
    Protocol,
    Rule,
    ServiceBackend,
    Topology,
)
from vpcsim.model.privatelink import state_name
from vpcsim.model.security import ALL_PORTS
from vpcsim.trace import Reason

ENDPOINT = "VPC endpoint"
GATEWAY_ENDPOINT = "gateway endpoint"
ELB = "ELB"
NOUNS = Nouns(instance="ECS", endpoint=ENDPOINT, load_balancer=ELB)
TRANSLATION = "VPCEP NAT"
CLOSED_TO_PEERS = "a VPC endpoint is reached from its own VPC and over VPN or Direct Connect, not over peering"


def compile_network(topo: Topology, states: list[ControlState] | None = None) -> CompiledNetwork:
    """Compile every control-plane snapshot of ``topo`` (computed if not given)."""
    snapshots = control_timeline(topo) if states is None else states
    filters = lower_subnet_filters(topo)
    return compiled(topo, tuple(lower_state(topo, cs, filters) for cs in snapshots))


def cloud_router(region: str) -> str:
    """The id of a region's cloud-service network (ids have no colon: it cannot clash)."""
    return f"cloud:{region}"


def lower_state(
    topo: Topology, cs: ControlState, subnet_filters: Mapping[str, Mapping[str, SubnetFilter]] | None = None
) -> ForwardingState:
    filters = Filters(cs.security_groups)
    if subnet_filters is None:
        subnet_filters = lower_subnet_filters(topo)
    nodes: dict[str, Node] = network_nodes(topo, cs, filters, NOUNS)
    closed = {vid: endpoints_closed_to_peers(topo, vid, CLOSED_TO_PEERS) for vid in topo.vpcs}
    nodes.update(vpc_routers(topo, cs, NOUNS, subnet_filters, closed, ways_in=_ways_in(topo, cs)))
    _cloud_services(topo, nodes)
    sessions = topo.settings.endpoint_sessions
    for ep in topo.endpoints.values():
        svc = topo.endpoint_services[ep.service]
        state = cs.endpoint_states[ep.id]
        target, address, steer = _backend(topo, svc.id)
        if svc.backend_kind is ServiceBackend.CLOUD_SERVICE:
            service = topo.cloud_services[svc.backend]
            shown = f"{SERVICE_NOUNS[service.kind]} {service.id}"
        elif svc.backend_kind is ServiceBackend.LOAD_BALANCER:
            shown = ""
        else:
            shown = f"{NOUNS.instance} {svc.backend}" + (f" ({svc.address})" if svc.address is not None else "")
        allowed = None
        if ep.allowed is not None:
            rules = tuple(
                Rule(action=Action.ACCEPT, protocol=Protocol.ALL, ports=ALL_PORTS, peer=net) for net in ep.allowed
            )
            allowed = lower_rules("ingress", ((f"{ep.id} access control", rules),), "allowlist")
        nodes[ep.id] = Translator(
            id=ep.id,
            label=f"{ENDPOINT} {ep.id}",
            noun=ENDPOINT,
            address=int(ep.ip),
            gateway=ep.vpc,
            zone=topo.zone_of(ep.vpc, ep.subnet),
            region=topo.vpcs[ep.vpc].region,
            active=state is EndpointState.ACTIVE,
            state=state_name(topo.cloud, state),
            state_note=cs.endpoint_notes[ep.id],
            forwarding_state=state_name(topo.cloud, EndpointState.ACTIVE),
            inactive_reason=Reason.ENDPOINT_NOT_ACTIVE,
            filter=allowed,
            target=target,
            target_address=address,
            snat_address=endpoint_address(topo, ep.id),
            service=svc.id,
            translation=TRANSLATION,
            processing_delay=topo.settings.delays.privatelink,
            snat_pool=str(svc.snat_cidr),
            snat_label="VPCEP source",
            ports={(PROTO_NUMBERS[m.protocol], m.client_port): m.server_port for m in svc.ports}
            if svc.ports or svc.backend_kind is not ServiceBackend.CLOUD_SERVICE
            else None,
            steer=steer,
            limits=gateway_limits(topo.settings, "endpoint", ep.capacity, max_sessions=sessions),
            target_label=shown,
        )
    for gep in topo.gateway_endpoints.values():
        svc = topo.endpoint_services[gep.service]
        service = topo.cloud_services[svc.backend]
        nodes[gep.id] = Translator(
            id=gep.id,
            label=f"{GATEWAY_ENDPOINT} {gep.id}",
            noun=GATEWAY_ENDPOINT,
            address=0,
            gateway=gep.vpc,
            zone="",
            region=topo.vpcs[gep.vpc].region,
            active=True,
            state=state_name(topo.cloud, EndpointState.ACTIVE),
            state_note=f"{svc.id} is a cloud service: accepted at creation",
            forwarding_state=state_name(topo.cloud, EndpointState.ACTIVE),
            inactive_reason=Reason.ENDPOINT_NOT_ACTIVE,
            filter=None,
            target=cloud_router(service.region),
            target_address=0,
            snat_address=endpoint_address(topo, gep.id),
            service=svc.id,
            translation=TRANSLATION,
            processing_delay=topo.settings.delays.privatelink,
            snat_pool=str(svc.snat_cidr),
            snat_label="VPCEP source",
            keep_destination=True,
            steer=True,
            target_label=f"{SERVICE_NOUNS[service.kind]} {service.id}",
            limits=gateway_limits(topo.settings, "endpoint", None, max_sessions=sessions),
        )
    for lb in topo.load_balancers.values():
        listeners = lower_listeners(topo, cs, lb)
        nodes[lb.id] = Balancer(
            id=lb.id,
            label=f"{lb.kind} {ELB} {lb.id}",
            noun=f"{lb.kind} {ELB}",
            address=int(lb.vip),
            gateway=lb.vpc,
            zone=topo.zone_of(lb.vpc, lb.subnet),
            region=topo.vpcs[lb.vpc].region,
            filter=None,
            listeners=listeners,
            subnet_filter=subnet_filters.get(lb.vpc, {}).get(lb.id),
            snat_address=int(lb.source_ip) if lb.source_ip is not None else 0,
            snat_pool=str(SHARED_ELB_CIDR) if lb.source_ip is not None else "",
            snat_label=f"{lb.kind} ELB source" if lb.source_ip is not None else "",
            limits=gateway_limits(topo.settings, "load_balancer", lb.capacity),
        )
    return ForwardingState(time=cs.time, nodes=nodes, links=_links(topo, nodes), changes=cs.changes)


def _backend(topo: Topology, service_id: str) -> tuple[str, int, bool]:
    """Where a service's endpoints send their flows: (next node, address, whether the next node is
    a router that must steer the replies back). An ELB is reached directly; an ECS, its virtual IP
    or a cloud service through its network's router."""
    svc = topo.endpoint_services[service_id]
    if svc.backend_kind is ServiceBackend.LOAD_BALANCER:
        return svc.backend, int(topo.load_balancers[svc.backend].vip), False
    if svc.backend_kind is ServiceBackend.CLOUD_SERVICE:
        service = topo.cloud_services[svc.backend]
        return cloud_router(service.region), int(service.ip), True
    inst = topo.instances[svc.backend]
    address = svc.address if svc.address is not None else inst.ip
    return inst.vpc, int(address), True


def _cloud_services(topo: Topology, nodes: dict[str, Node]) -> None:
    """Each region's cloud services: a host per service, answering every source on its ports,
    behind a router that owns the cloud-service range and routes nothing else."""
    everyone = (Rule(action=Action.ACCEPT, protocol=Protocol.ALL, ports=ALL_PORTS, peer=IPv4Network("0.0.0.0/0")),)
    regions: dict[str, list[str]] = {}
    for service in topo.cloud_services.values():
        regions.setdefault(service.region, []).append(service.id)
        nodes[service.id] = Host(
            id=service.id,
            label=f"{SERVICE_NOUNS[service.kind]} {service.id}",
            address=int(service.ip),
            gateway=cloud_router(service.region),
            zone=cloud_router(service.region),
            region=service.region,
            ingress=lower_rules("ingress", ((f"{service.id} (a cloud service)", everyone),)),
            egress=lower_rules("egress", ((f"{service.id} (a cloud service)", everyone),)),
            listening=frozenset((PROTO_NUMBERS[proto], p) for proto, p in service.sockets),
        )
    reached: dict[str, set[str]] = {}
    for ep in topo.endpoints.values():
        reached.setdefault(topo.endpoint_services[ep.service].backend, set()).add(ep.id)
    for gep in topo.gateway_endpoints.values():
        reached.setdefault(topo.endpoint_services[gep.service].backend, set()).add(gep.id)
    for region, ids in regions.items():
        services = [topo.cloud_services[i] for i in ids]
        ways = {e for s in services for e in reached.get(s.id, ())}
        why = "a cloud service is reached only through the endpoints of its own service"
        closed = {s.id: (frozenset(ways - reached.get(s.id, set())), why) for s in services}
        prefixes = sorted({s.cidr for s in services}, key=lambda c: (int(c.network_address), c.prefixlen))
        nodes[cloud_router(region)] = Router(
            id=cloud_router(region),
            label=f"cloud services of {region}",
            noun="cloud-service network",
            region=region,
            connected=tuple((int(c.network_address), int(c.netmask), str(c)) for c in prefixes),
            owners={int(s.ip): Owner(s.id, SERVICE_NOUNS[s.kind]) for s in services},
            table=None,
            via=None,
            transit=False,
            note="a cloud service answers only flows that came through an endpoint",
            closed={sid: shut for sid, shut in closed.items() if shut[0]},
        )


def _ways_in(topo: Topology, cs: ControlState) -> dict[str, dict[str, StaticTable]]:
    """VPC → neighbour → its table, for neighbours outside the VPC's subnets: a VPN or Direct
    Connect gateway's packets take only the gateway endpoints' routes of the VPC's default table
    (docs/decisions.md Q36); a gateway endpoint's replies, the whole default table (the way back
    to a data centre)."""
    out: dict[str, dict[str, StaticTable]] = {}
    for gep in topo.gateway_endpoints.values():
        default = next(t for t in cs.route_tables.values() if t.vpc == gep.vpc and t.default)
        out.setdefault(gep.vpc, {})[gep.id] = lower_route_table(topo, default)
    for gw in topo.gateways.values():
        if gw.vpc is None:
            continue
        default = next(t for t in cs.route_tables.values() if t.vpc == gw.vpc and t.default)
        endpoints = frozenset(r.target for r in default.routes if r.kind is NextHopKind.ENDPOINT)
        if not endpoints:
            continue
        # The whole table decides (longest prefix, then rank); only a gateway endpoint leads on.
        table = replace(
            lower_route_table(topo, default),
            onward=endpoints,
            onward_note=f"{gw.vpc} carries traffic from a data centre on only to its gateway endpoints",
        )
        out.setdefault(gw.vpc, {})[gw.id] = table
    return out


def _links(topo: Topology, nodes: Mapping[str, Node]) -> dict[tuple[str, str], Link]:
    """The shared links; an endpoint with what it forwards to (an ELB, or the router of the ECS's
    VPC or of the cloud services), a gateway endpoint with its VPC and the cloud services' router,
    and each cloud service with its router."""
    pairs = [(ep.id, _backend(topo, ep.service)[0], "endpoint") for ep in topo.endpoints.values()]
    for gep in topo.gateway_endpoints.values():
        service = topo.cloud_services[topo.endpoint_services[gep.service].backend]
        pairs += [(gep.id, gep.vpc, "endpoint"), (gep.id, cloud_router(service.region), "endpoint")]
    pairs += [(s.id, cloud_router(s.region), "host") for s in topo.cloud_services.values()]
    return network_links(topo, nodes, pairs)
