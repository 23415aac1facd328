"""A shape-valid Huawei Cloud document → :class:`Topology`: cross-references and Huawei's rules.

Huawei's rules live here and in :mod:`~vpcsim.frontends.huawei.rules`: endpoint admission
(whitelist, approval), the VPCEP range no VPC or route may overlap, port mappings, shared and
dedicated ELBs, cloud services and their gateway endpoints' routes, same-region peering, an ECS's
source/destination check, stateful network ACLs with their default rules.

Every problem is raised as a :class:`ScenarioError` naming the key path of the value to change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network

from vpcsim.errors import WarningCode
from vpcsim.frontends.common.build import Builder, first_free, gateway_capacity
from vpcsim.frontends.common.words import known as _known
from vpcsim.frontends.huawei import rules
from vpcsim.frontends.huawei import schema as hs
from vpcsim.model import (
    CloudService,
    Endpoint,
    EndpointService,
    EndpointState,
    GatewayEndpoint,
    Instance,
    LoadBalancer,
    NetworkAcl,
    NextHopKind,
    PortMapping,
    RouteEntry,
    RouteTable,
    SecurityGroup,
    ServiceBackend,
    Topology,
    Vpc,
)
from vpcsim.scenario.locate import Locator
from vpcsim.scenario.yamlsafe import Path

SERVER_TYPES = {"LB": ServiceBackend.LOAD_BALANCER, "VM": ServiceBackend.INSTANCE, "VIP": ServiceBackend.VIRTUAL_IP}


def build_topology(doc: hs.ScenarioDoc, loc: Locator) -> Topology:
    return _Builder(doc, loc).build()


class _Builder(Builder):
    doc: hs.ScenarioDoc
    cloud_name = "Huawei Cloud"
    reserved_tail = 3  # the last three: two for the system, then broadcast [HWVPC1]
    same_region_peering = True

    def build(self) -> Topology:
        self._unique_ids()
        settings = self._settings()
        vpcs = self._vpcs()
        self._outside_vpcep_range(vpcs)
        groups = {gid: self._group(gid, g) for gid, g in sorted(self.doc.security_groups.items())}
        acls = {aid: self._stateful(acl) for aid, acl in self._acls(vpcs).items()}
        owners: dict[tuple[str, IPv4Address], str] = {}
        instances = {iid: self._ecs(iid, d, vpcs, groups, owners) for iid, d in sorted(self.doc.instances.items())}
        lbs = {lid: self._elb(lid, d, vpcs, instances, owners) for lid, d in sorted(self.doc.load_balancers.items())}
        lbs = self._elb_addresses(lbs, vpcs, owners)
        cloud = self._cloud_services(lbs)
        services = self._services(vpcs, lbs, instances, cloud)
        endpoints, gateway_endpoints = self._endpoints(vpcs, services, owners)
        peerings = self._peerings(vpcs, settings)
        idcs = self._idcs(vpcs)
        gateways = self._gateways(vpcs, {}, idcs, settings)
        draft = Topology(
            source=self.loc.source,
            settings=replace(settings, endpoint_sessions=self.doc.settings.endpoint_connections),
            vpcs=vpcs,
            security_groups=groups,
            instances=instances,
            load_balancers=lbs,
            endpoint_services=services,
            endpoints=endpoints,
            ccns={},
            timeline=(),
            checks=(),
            network_acls=acls,
            peerings=peerings,
            idcs=idcs,
            gateways=gateways,
            cloud_services=cloud,
            gateway_endpoints=gateway_endpoints,
            cloud="huawei",
        )
        tables, gateway_endpoints = self._endpoint_routes(self._route_tables(draft), gateway_endpoints, cloud, services)
        self._routes_outside_vpcep_range(tables, idcs)
        idcs = self._idc_routes(idcs, gateways)
        hosts = {**instances, **{h.id: h for i in idcs.values() for h in i.hosts}}
        self._owned_connections(gateway_endpoints, services)
        timeline = self._timeline(endpoints, {}, vpcs, groups, hosts, tables, gateways)
        topo = replace(draft, idcs=idcs, route_tables=tables, timeline=timeline, gateway_endpoints=gateway_endpoints)
        checks = self._checks(topo)
        self._run_timeline(topo)
        return replace(topo, checks=checks, coded_warnings=tuple(self.warnings))

    def _owned_connections(
        self, gateway: Mapping[str, GatewayEndpoint], services: Mapping[str, EndpointService]
    ) -> None:
        """Only a service's owner accepts or rejects its endpoints: a cloud service's are Huawei's."""
        for i, e in enumerate(self.doc.timeline):
            if e.action not in ("accept_endpoint", "reject_endpoint") or e.endpoint is None:
                continue
            d = self.doc.endpoints.get(e.endpoint)
            svc = services.get(d.service) if d is not None else None
            if e.endpoint in gateway or (svc is not None and not svc.vpc):
                raise self.err(
                    ("timeline", i, "endpoint"),
                    f"{e.endpoint} connects to a cloud service ({d.service if d else ''}): Huawei Cloud accepts it "
                    "at creation and it has no owner to accept or reject it",
                )

    def _sections(self) -> list[tuple[str, Iterable[str]]]:
        return [
            *super()._sections(),
            ("load_balancers", self.doc.load_balancers),
            ("endpoint_services", self.doc.endpoint_services),
            ("endpoints", self.doc.endpoints),
            ("cloud_services", self.doc.cloud_services),
        ]

    # -- addresses -------------------------------------------------------------------------
    def _vpcep_range(self) -> IPv4Network:
        return self.doc.settings.vpcep_cidr

    def _outside_vpcep_range(self, vpcs: Mapping[str, Vpc]) -> None:
        """No VPC may overlap the range VPC Endpoint reaches backends from [HW1][HW10], nor the
        cloud services' range; the two ranges are Huawei's own and apart."""
        reserved = self._vpcep_range()
        if reserved not in rules.VPCEP_RANGES:
            known = " or ".join(str(r) for r in rules.VPCEP_RANGES)
            raise self.err(
                ("settings", "vpcep_cidr"), f"VPC Endpoint reaches backends from {known} (the latter in older regions)"
            )
        cloud = self.doc.settings.cloud_service_cidr
        if cloud.overlaps(reserved):
            raise self.err(("settings", "cloud_service_cidr"), f"{cloud} overlaps VPC Endpoint's range {reserved}")
        for vid, v in vpcs.items():
            if v.cidr.overlaps(cloud):
                raise self.err(
                    ("vpcs", vid, "cidr"),
                    f"{v.cidr} overlaps {cloud}, where Huawei Cloud's services have their addresses "
                    "(settings.cloud_service_cidr)",
                )
            if v.cidr.overlaps(reserved):
                raise self.err(
                    ("vpcs", vid, "cidr"),
                    f"{v.cidr} overlaps {reserved}, the range VPC Endpoint reaches backends from: "
                    "Huawei Cloud reserves it (settings.vpcep_cidr)",
                )

    def _routes_outside_vpcep_range(self, tables: Mapping[str, RouteTable], idcs: Mapping[str, object]) -> None:
        reserved = self._vpcep_range()
        endpoint_routes = {(tid, r.id) for tid, t in tables.items() for r in t.routes if r.kind is NextHopKind.ENDPOINT}
        for i, e in enumerate(self.doc.timeline):
            if e.action == "add_route" and e.destination is not None and e.destination.overlaps(reserved):
                raise self.err(
                    ("timeline", i, "destination"),
                    f"{e.destination} overlaps {reserved}, the range VPC Endpoint reaches backends from: "
                    "no route may overlap it [HW10]",
                )
            if e.action in ("delete_route", "disable_route") and (e.route_table, e.route) in endpoint_routes:
                raise self.err(
                    ("timeline", i, "route"),
                    f"route {e.route} is gateway endpoint {e.route}'s: it goes with the endpoint and cannot be "
                    "changed or deleted [HWRT1]",
                )
        for tid, t in self.doc.route_tables.items():
            for rid, r in t.routes.items():
                if r.destination.overlaps(reserved):
                    raise self.err(
                        ("route_tables", tid, "routes", rid, "destination"),
                        f"{r.destination} overlaps {reserved}, the range VPC Endpoint reaches backends from: "
                        "no route may overlap it [HW10]",
                    )
        for iid, d in self.doc.idcs.items():
            for i, c in enumerate(d.cidrs):
                if c.overlaps(reserved):
                    raise self.err(
                        ("idcs", iid, "cidrs", i),
                        f"{c} overlaps {reserved}, the range VPC Endpoint reaches backends from: a data centre's "
                        "range becomes routes in its VPC, and no route may overlap it [HW10]",
                    )

    # -- ECS -------------------------------------------------------------------------------
    def _ecs(
        self,
        iid: str,
        d: hs.HuaweiInstanceDoc,
        vpcs: Mapping[str, Vpc],
        groups: Mapping[str, SecurityGroup],
        owners: dict[tuple[str, IPv4Address], str],
    ) -> Instance:
        inst = self._instance(iid, d, vpcs, groups, owners)
        path: Path = ("instances", iid)
        for i, vip in enumerate(d.virtual_ips):
            self._placement((*path, "virtual_ips"), d.vpc, d.subnet, vip, vpcs, i)  # the same subnet's rules
            self._claim(owners, d.vpc, vip, f"virtual IP of ECS {iid}", (*path, "virtual_ips", i))
        return replace(inst, source_dest_check=d.source_dest_check, virtual_ips=tuple(d.virtual_ips))

    def _stateful(self, acl: NetworkAcl) -> NetworkAcl:
        """Huawei's ACLs track connections and admit some traffic before their deny-all [HWACL1]."""
        return replace(acl, stateful=True, defaults=(rules.ACL_DEFAULTS_INGRESS, rules.ACL_DEFAULTS_EGRESS))

    # -- ELB -------------------------------------------------------------------------------
    def _elb(
        self,
        lid: str,
        d: hs.ElbDoc,
        vpcs: Mapping[str, Vpc],
        instances: Mapping[str, Instance],
        owners: dict[tuple[str, IPv4Address], str],
    ) -> LoadBalancer:
        path: Path = ("load_balancers", lid)
        self._placement(path, d.vpc, d.subnet, d.vip, vpcs, "vip")
        self._claim(owners, d.vpc, d.vip, f"ELB {lid}", (*path, "vip"))
        listeners = self._listeners(path, d.vpc, d.listeners, instances)
        if d.type == "shared":
            for key in ("backend_subnet", "backend_ip"):
                if getattr(d, key) is not None:
                    raise self.err(
                        (*path, key), f"a shared ELB has no {key!r}: it reaches backends from 100.125.0.0/16"
                    )
            return LoadBalancer(
                id=lid,
                vpc=d.vpc,
                subnet=d.subnet,
                vip=d.vip,
                security_groups=(),
                listeners=listeners,
                kind="shared",
                capacity=gateway_capacity(d.capacity),
            )
        if d.transfer_client_ip is False:
            raise self.err(
                (*path, "transfer_client_ip"),
                "a dedicated ELB always passes the client's address on layer-4 listeners [HWELB5]",
            )
        backend_subnet = d.backend_subnet or d.subnet
        if vpcs[d.vpc].subnet(backend_subnet) is None:
            known = {x.id: x for x in vpcs[d.vpc].subnets}
            raise self.err(
                (*path, "backend_subnet"), f"unknown subnet {backend_subnet!r} in VPC {d.vpc}" + _known(known)
            )
        if d.backend_ip is not None:
            sn = vpcs[d.vpc].subnet(backend_subnet)
            assert sn is not None
            if d.backend_ip not in sn.cidr:
                raise self.err(
                    (*path, "backend_ip"), f"{d.backend_ip} is outside the backend subnet {sn.id} ({sn.cidr})"
                )
            self._placement(path, d.vpc, backend_subnet, d.backend_ip, vpcs, "backend_ip")
            self._claim(owners, d.vpc, d.backend_ip, f"ELB {lid} (backend side)", (*path, "backend_ip"))
        return LoadBalancer(
            id=lid,
            vpc=d.vpc,
            subnet=d.subnet,
            vip=d.vip,
            security_groups=(),
            listeners=listeners,
            kind="dedicated",
            probe_ip=d.backend_ip,
            backend_subnet=backend_subnet,
            capacity=gateway_capacity(d.capacity),
        )

    def _elb_addresses(
        self, lbs: dict[str, LoadBalancer], vpcs: Mapping[str, Vpc], owners: dict[tuple[str, IPv4Address], str]
    ) -> dict[str, LoadBalancer]:
        """Where each ELB forwards and probes from (docs/decisions.md Q37): a shared one from its own
        address of 100.125.0.0/16 (the client's own address passes when it transfers it); a
        dedicated one passes the client's address and probes from its backend-subnet address,
        assigned after every written address is claimed."""
        out: dict[str, LoadBalancer] = {}
        for lid, lb in lbs.items():
            d = self.doc.load_balancers[lid]
            if lb.kind == "shared":
                address = rules.shared_elb_address(lbs, lid)
                passes = bool(d.transfer_client_ip)
                out[lid] = replace(lb, source_ip=None if passes else address, probe_ip=address)
                continue
            probe = lb.probe_ip
            if probe is None:
                sn = vpcs[lb.vpc].subnet(lb.backend_subnet)
                assert sn is not None
                # Endpoints' written addresses are claimed later: never take one of them.
                written = {(d.vpc, d.ip): "" for d in self.doc.endpoints.values() if d.ip is not None}
                probe = first_free(sn.cidr, lb.vpc, {**owners, **written}, self.reserved_tail)
                if probe is None:
                    raise self.err(
                        ("load_balancers", lid, "backend_subnet"),
                        f"subnet {sn.id} ({sn.cidr}) has no free address left",
                    )
                owners[(lb.vpc, probe)] = f"ELB {lid} (backend side)"
            out[lid] = replace(lb, probe_ip=probe)
        return out

    # -- cloud services --------------------------------------------------------------------
    def _cloud_services(self, lbs: Mapping[str, LoadBalancer]) -> dict[str, CloudService]:
        """OBS and DNS in a region, at an address of the cloud-service range."""
        out: dict[str, CloudService] = {}
        prefix = self.doc.settings.cloud_service_cidr
        taken = {lb.probe_ip: lid for lid, lb in lbs.items() if lb.kind == "shared"}
        seen: dict[tuple[str, IPv4Address], str] = {}
        for sid, d in sorted(self.doc.cloud_services.items()):
            path: Path = ("cloud_services", sid)
            if d.ip not in prefix:
                raise self.err((*path, "ip"), f"{d.ip} is outside the cloud-service range {prefix} (settings)")
            if d.ip in taken:
                raise self.err((*path, "ip"), f"{d.ip} is where shared ELB {taken[d.ip]} reaches its backends from")
            if (d.region, d.ip) in seen:
                raise self.err(
                    (*path, "ip"),
                    f"{d.ip} is already the address of cloud service {seen[(d.region, d.ip)]} in {d.region}",
                )
            seen[(d.region, d.ip)] = sid
            tcp, udp = rules.SERVICE_PORTS[d.type]
            out[sid] = CloudService(
                id=sid,
                kind=d.type,
                region=d.region,
                ip=d.ip,
                cidr=prefix,
                gateway=d.type in rules.GATEWAY_SERVICES,
                listen=tcp,
                listen_udp=udp,
            )
        return out

    # -- VPC endpoint services -------------------------------------------------------------
    def _services(
        self,
        vpcs: Mapping[str, Vpc],
        lbs: Mapping[str, LoadBalancer],
        instances: Mapping[str, Instance],
        cloud: Mapping[str, CloudService],
    ) -> dict[str, EndpointService]:
        out: dict[str, EndpointService] = {}
        used: dict[tuple[str, str], str] = {}
        reserved = self._vpcep_range()
        for sid, d in sorted(self.doc.endpoint_services.items()):
            path: Path = ("endpoint_services", sid)
            if d.vpc not in vpcs:
                raise self.err((*path, "vpc"), f"unknown VPC {d.vpc!r}" + _known(vpcs))
            if d.service_type == "gateway":
                raise self.err(
                    (*path, "service_type"),
                    "gateway services are Huawei Cloud's own (OBS): declare the service under cloud_services "
                    "and name it in an endpoint's 'service'",
                )
            kind = SERVER_TYPES[d.server_type]
            address: IPv4Address | None = None
            if kind is ServiceBackend.LOAD_BALANCER:
                if d.port_id not in lbs:
                    raise self.err((*path, "port_id"), f"unknown ELB {d.port_id!r}" + _known(lbs))
                backend_vpc = lbs[d.port_id].vpc
            else:
                if d.port_id not in instances:
                    raise self.err((*path, "port_id"), f"unknown ECS {d.port_id!r}" + _known(instances))
                inst = instances[d.port_id]
                backend_vpc = inst.vpc
                if kind is ServiceBackend.VIRTUAL_IP:
                    if d.vip is None:
                        raise self.err(path, "a VIP service names its virtual IP in 'vip'")
                    if d.vip not in inst.virtual_ips:
                        raise self.err(
                            (*path, "vip"), f"{d.vip} is not a virtual IP of ECS {inst.id} (its virtual_ips)"
                        )
                    address = d.vip
            if kind is not ServiceBackend.VIRTUAL_IP and d.vip is not None:
                raise self.err((*path, "vip"), f"only a VIP service names a virtual IP, not a {d.server_type} one")
            if backend_vpc != d.vpc:
                raise self.err(
                    (*path, "port_id"), f"{d.port_id} is in VPC {backend_vpc}, not in the service's VPC {d.vpc}"
                )
            if (d.server_type, d.port_id) in used:
                raise self.err(
                    (*path, "port_id"), f"{d.port_id} already backs endpoint service {used[(d.server_type, d.port_id)]}"
                )
            used[(d.server_type, d.port_id)] = sid
            mappings: list[PortMapping] = []
            for i, m in enumerate(d.ports):
                protocol = m.protocol.lower()
                if any(x.protocol == protocol and x.client_port == m.client_port for x in mappings):
                    raise self.err(
                        (*path, "ports", i, "client_port"), f"{m.protocol} client port {m.client_port} is mapped twice"
                    )
                mappings.append(PortMapping(protocol=protocol, client_port=m.client_port, server_port=m.server_port))
            out[sid] = EndpointService(
                id=sid,
                vpc=d.vpc,
                backend=d.port_id,
                backend_kind=kind,
                address=address,
                auto_accept=not d.approval_enabled,
                whitelist=tuple(rules.principal(w) for w in d.whitelist),
                snat_cidr=reserved,
                ports=tuple(mappings),
                account=vpcs[d.vpc].account,
            )
        for cid, cs in cloud.items():
            out[cid] = EndpointService(
                id=cid,
                vpc="",
                backend=cid,
                backend_kind=ServiceBackend.CLOUD_SERVICE,
                auto_accept=True,
                whitelist=("*",),
                snat_cidr=reserved,
                gateway=cs.gateway,
            )
        return out

    # -- VPC endpoints ---------------------------------------------------------------------
    def _endpoints(
        self,
        vpcs: Mapping[str, Vpc],
        services: Mapping[str, EndpointService],
        owners: dict[tuple[str, IPv4Address], str],
    ) -> tuple[dict[str, Endpoint], dict[str, GatewayEndpoint]]:
        interface: dict[str, Endpoint] = {}
        gateway: dict[str, GatewayEndpoint] = {}
        auto: list[str] = []
        for eid, d in sorted(self.doc.endpoints.items()):
            path: Path = ("endpoints", eid)
            if d.vpc not in vpcs:
                raise self.err((*path, "vpc"), f"unknown VPC {d.vpc!r}" + _known(vpcs))
            svc = services.get(d.service)
            if svc is None:
                raise self.err(
                    (*path, "service"), f"unknown endpoint service or cloud service {d.service!r}" + _known(services)
                )
            region = self.doc.cloud_services[svc.id].region if not svc.vpc else vpcs[svc.vpc].region
            if vpcs[d.vpc].region != region:
                raise self.err(
                    (*path, "service"),
                    f"endpoint in {vpcs[d.vpc].region} cannot use {svc.id} in {region}: VPC Endpoint is "
                    "same-region only [HW15]",
                )
            if svc.gateway:
                for key in ("subnet", "ip"):
                    if getattr(d, key) is not None:
                        raise self.err(
                            (*path, key), f"a gateway endpoint ({svc.id}) has no {key!r}: it is reached by routes"
                        )
                if d.enable_whitelist or d.whitelist:
                    raise self.err(
                        (*path, "enable_whitelist" if d.enable_whitelist else "whitelist"),
                        "access control is for interface endpoints; a gateway endpoint carries a policy",
                    )
                tables = self._gateway_tables(eid, d, vpcs[d.vpc])
                gateway[eid] = GatewayEndpoint(
                    id=eid, vpc=d.vpc, service=svc.id, route_tables=tables, policy=self._policy(eid, d)
                )
                continue
            if d.routetables is not None:
                raise self.err((*path, "routetables"), f"an interface endpoint ({svc.id}) adds no routes")
            if d.policy_statement is not None:
                raise self.err((*path, "policy_statement"), "a policy is for gateway endpoints (OBS)")
            if d.subnet is None:
                raise self.err(path, f"an interface endpoint ({svc.id}) needs its 'subnet'")
            self._placement(path, d.vpc, d.subnet, d.ip, vpcs, "ip")
            if d.ip is not None:
                self._claim(owners, d.vpc, d.ip, f"VPC endpoint {eid}", (*path, "ip"))
            else:
                auto.append(eid)
            if d.whitelist and not d.enable_whitelist:
                raise self.err((*path, "whitelist"), "the whitelist applies only with enable_whitelist: true")
            state, why = rules.admission(vpcs[d.vpc].account, svc)
            if state is EndpointState.FAILED:
                self.warnings.append(
                    self.loc.warning(path, WarningCode.ENDPOINT_CREATION_FAILED, f"VPC endpoint {eid}: failed: {why}")
                )
            interface[eid] = Endpoint(
                id=eid,
                vpc=d.vpc,
                subnet=d.subnet,
                ip=d.ip or IPv4Address(0),
                ip_assigned=d.ip is None,
                service=svc.id,
                security_groups=(),
                initial_state=state,
                state_reason=why,
                allowed=tuple(d.whitelist) if d.enable_whitelist else None,
                capacity=gateway_capacity(d.capacity),
            )
        room = self._vpcep_range().num_addresses - 2
        if len(interface) + len(gateway) > room:
            last = max(self.doc.endpoints)
            raise self.err(
                ("endpoints", last),
                f"{len(interface) + len(gateway)} endpoints, but VPC Endpoint's range {self._vpcep_range()} "
                f"gives each its own source address and holds {room}",
            )
        # Written addresses are claimed first, so assignment never takes one.
        for eid in auto:
            ep = interface[eid]
            sn = vpcs[ep.vpc].subnet(ep.subnet)
            assert sn is not None
            ip = first_free(sn.cidr, ep.vpc, owners, self.reserved_tail)
            if ip is None:
                raise self.err(("endpoints", eid, "subnet"), f"subnet {sn.id} ({sn.cidr}) has no free address left")
            owners[(ep.vpc, ip)] = f"VPC endpoint {eid}"
            interface[eid] = replace(ep, ip=ip)
        return interface, gateway

    def _gateway_tables(self, eid: str, d: hs.EndpointDoc, vpc: Vpc) -> tuple[str, ...]:
        """The route tables a gateway endpoint adds its route to: those named, or its VPC's default
        table [HW23] (resolved once the tables are built)."""
        if d.routetables is None:
            return ()
        if not d.routetables:
            raise self.err(
                ("endpoints", eid, "routetables"),
                "names no route table: list some, or leave it out for the default one",
            )
        for i, tid in enumerate(d.routetables):
            t = self.doc.route_tables.get(tid)
            if t is None:
                raise self.err(
                    ("endpoints", eid, "routetables", i), f"unknown route table {tid!r}" + _known(self.doc.route_tables)
                )
            if t.vpc != vpc.id:
                raise self.err(
                    ("endpoints", eid, "routetables", i), f"route table {tid} belongs to {t.vpc}, not to {vpc.id}"
                )
            if d.routetables.index(tid) != i:
                raise self.err(("endpoints", eid, "routetables", i), f"route table {tid} is listed twice")
        return tuple(d.routetables)

    def _policy(self, eid: str, d: hs.EndpointDoc) -> str:
        """The policy as written, and a warning when it denies: it decides requests, never packets."""
        if d.policy_statement is None:
            return ""
        statements = [s.model_dump() for s in d.policy_statement]
        denies = [s for s in d.policy_statement if s.Effect == "Deny"]
        if denies or not any(s.Effect == "Allow" for s in d.policy_statement):
            actions = sorted({a for s in denies for a in s.Action}) or ["every request"]
            self.warnings.append(
                self.loc.warning(
                    ("endpoints", eid, "policy_statement"),
                    WarningCode.ENDPOINT_POLICY_DENIES,
                    f"VPC endpoint {eid}'s policy denies {', '.join(actions)}: connections still open, "
                    "the service refuses those requests (HTTP 403)",
                )
            )
        return json.dumps(statements, sort_keys=True)

    def _endpoint_routes(
        self,
        tables: dict[str, RouteTable],
        gateway: Mapping[str, GatewayEndpoint],
        cloud: Mapping[str, CloudService],
        services: Mapping[str, EndpointService],
    ) -> tuple[dict[str, RouteTable], dict[str, GatewayEndpoint]]:
        """Each gateway endpoint adds a route to its service's range, next hop the endpoint, to
        each table it names (its VPC's default table when it names none) [HW23][HWRT2]."""
        out = dict(tables)
        endpoints: dict[str, GatewayEndpoint] = {}
        for eid, ep in sorted(gateway.items()):
            named = ep.route_tables or (next(t.id for t in tables.values() if t.vpc == ep.vpc and t.default),)
            for i, tid in enumerate(named):
                t = out[tid]
                dest = cloud[services[ep.service].backend].cidr
                clash = next((r for r in t.routes if r.destination == dest), None)
                if clash is not None:
                    where: Path = ("endpoints", eid, "routetables", i) if ep.route_tables else ("endpoints", eid)
                    raise self.err(
                        where, f"route table {tid} already routes {dest} (route {clash.id}): one route per destination"
                    )
                entry = RouteEntry(id=eid, destination=dest, kind=NextHopKind.ENDPOINT, target=eid, propagated=eid)
                out[tid] = replace(t, routes=(*t.routes, entry))
            endpoints[eid] = replace(ep, route_tables=tuple(named))
        return out, endpoints
