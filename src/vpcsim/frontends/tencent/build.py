"""A shape-valid Tencent Cloud document → :class:`Topology`: cross-references and Tencent's rules.

Tencent's rules live here and in :mod:`~vpcsim.frontends.tencent.rules`: endpoint admission, the
Private Link SNAT range, endpoints in their service's region only, one CCN per VPC, region delays
for every CCN. The timeline is checked by running the control plane itself (an event the state
at its time cannot take is an error at that event's key path), never by a replay of it here.

Every problem is raised as a :class:`ScenarioError` naming the key path of the value to change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network

from vpcsim.errors import WarningCode
from vpcsim.frontends.common.build import Builder, first_free, gateway_capacity
from vpcsim.frontends.common.words import known as _known
from vpcsim.frontends.tencent import rules
from vpcsim.frontends.tencent import schema as ts
from vpcsim.frontends.tencent.rules import SNAT_CIDR, admission
from vpcsim.model import (
    Ccn,
    Endpoint,
    EndpointService,
    EndpointState,
    Instance,
    LoadBalancer,
    SecurityGroup,
    Settings,
    Subnet,
    Topology,
    Vpc,
)
from vpcsim.scenario.locate import Locator
from vpcsim.scenario.yamlsafe import Path

_ANY = IPv4Network("0.0.0.0/0")


def build_topology(doc: ts.ScenarioDoc, loc: Locator) -> Topology:
    return _Builder(doc, loc).build()


class _Builder(Builder):
    doc: ts.ScenarioDoc

    def build(self) -> Topology:
        self._unique_ids()
        settings = self._settings()
        vpcs = self._vpcs()
        groups = {gid: self._group(gid, g) for gid, g in sorted(self.doc.security_groups.items())}
        acls = self._acls(vpcs)
        owners: dict[tuple[str, IPv4Address], str] = {}
        instances = {iid: self._instance(iid, d, vpcs, groups, owners) for iid, d in sorted(self.doc.instances.items())}
        lbs = {
            lid: self._load_balancer(lid, d, vpcs, groups, instances, owners)
            for lid, d in sorted(self.doc.load_balancers.items())
        }
        services = self._services(vpcs, lbs)
        endpoints = self._endpoints(vpcs, groups, services, owners)
        ccns = self._ccns(vpcs, settings)
        peerings = self._peerings(vpcs, settings)
        idcs = self._idcs(vpcs)
        gateways = self._gateways(vpcs, ccns, idcs, settings)
        draft = Topology(
            source=self.loc.source,
            settings=settings,
            vpcs=vpcs,
            security_groups=groups,
            instances=instances,
            load_balancers=lbs,
            endpoint_services=services,
            endpoints=endpoints,
            ccns=ccns,
            timeline=(),
            checks=(),
            network_acls=acls,
            peerings=peerings,
            idcs=idcs,
            gateways=gateways,
        )
        tables = self._route_tables(draft)
        idcs = self._idc_routes(idcs, gateways)
        hosts = {**instances, **{h.id: h for i in idcs.values() for h in i.hosts}}
        timeline = self._timeline(endpoints, ccns, vpcs, groups, hosts, tables, gateways)
        topo = replace(draft, idcs=idcs, route_tables=tables, timeline=timeline)
        checks = self._checks(topo)
        self._run_timeline(topo)
        return replace(topo, checks=checks, coded_warnings=tuple(self.warnings))

    def _sections(self) -> list[tuple[str, Iterable[str]]]:
        return [
            *super()._sections(),
            ("load_balancers", self.doc.load_balancers),
            ("endpoint_services", self.doc.endpoint_services),
            ("endpoints", self.doc.endpoints),
            ("ccns", self.doc.ccns),
        ]

    def _load_balancer(
        self,
        lid: str,
        d: ts.LoadBalancerDoc,
        vpcs: Mapping[str, Vpc],
        groups: Mapping[str, SecurityGroup],
        instances: Mapping[str, Instance],
        owners: dict[tuple[str, IPv4Address], str],
    ) -> LoadBalancer:
        path: Path = ("load_balancers", lid)
        self._placement(path, d.vpc, d.subnet, d.vip, vpcs, "vip")
        self._claim(owners, d.vpc, d.vip, f"load balancer {lid}", (*path, "vip"))
        sgs = self._groups_exist(d.security_groups, groups, (*path, "security_groups"))
        listeners = self._listeners(path, d.vpc, d.listeners, instances)
        return LoadBalancer(
            id=lid,
            vpc=d.vpc,
            subnet=d.subnet,
            vip=d.vip,
            security_groups=sgs,
            listeners=listeners,
            capacity=gateway_capacity(d.capacity),
        )

    # -- private link ----------------------------------------------------------------------
    def _services(self, vpcs: Mapping[str, Vpc], lbs: Mapping[str, LoadBalancer]) -> dict[str, EndpointService]:
        out: dict[str, EndpointService] = {}
        used: dict[str, str] = {}
        for sid, d in sorted(self.doc.endpoint_services.items()):
            path: Path = ("endpoint_services", sid)
            if d.vpc not in vpcs:
                raise self.err((*path, "vpc"), f"unknown VPC {d.vpc!r}" + _known(vpcs))
            lb = lbs.get(d.load_balancer)
            if lb is None:
                raise self.err((*path, "load_balancer"), f"unknown load balancer {d.load_balancer!r}" + _known(lbs))
            if lb.vpc != d.vpc:
                raise self.err(
                    (*path, "load_balancer"),
                    f"load balancer {lb.id} is in VPC {lb.vpc}, not in the service's VPC {d.vpc}",
                )
            if lb.id in used:
                raise self.err(
                    (*path, "load_balancer"),
                    f"load balancer {lb.id} already backs endpoint service {used[lb.id]}",
                )
            used[lb.id] = sid
            out[sid] = EndpointService(
                id=sid,
                vpc=d.vpc,
                backend=d.load_balancer,
                account=vpcs[d.vpc].account,
                auto_accept=d.auto_accept,
                whitelist=tuple(d.whitelist),
                snat_cidr=SNAT_CIDR,
            )
        return out

    def _endpoints(
        self,
        vpcs: Mapping[str, Vpc],
        groups: Mapping[str, SecurityGroup],
        services: Mapping[str, EndpointService],
        owners: dict[tuple[str, IPv4Address], str],
    ) -> dict[str, Endpoint]:
        out: dict[str, Endpoint] = {}
        pending_auto: list[tuple[str, ts.EndpointDoc, Subnet]] = []
        # Endpoints with a chosen IP claim it first, so auto-assignment never takes a chosen address.
        for eid, d in sorted(self.doc.endpoints.items()):
            path: Path = ("endpoints", eid)
            sn = self._placement(path, d.vpc, d.subnet, d.ip, vpcs, "ip")
            if d.ip is not None:
                self._claim(owners, d.vpc, d.ip, f"endpoint {eid}", (*path, "ip"))
            else:
                pending_auto.append((eid, d, sn))
        assigned: dict[str, IPv4Address] = {}
        for eid, d, sn in pending_auto:
            ip = first_free(sn.cidr, d.vpc, owners)
            if ip is None:
                raise self.err(("endpoints", eid, "subnet"), f"subnet {sn.id} ({sn.cidr}) has no free address left")
            owners[(d.vpc, ip)] = f"endpoint {eid}"
            assigned[eid] = ip
        for eid, d in sorted(self.doc.endpoints.items()):
            path = ("endpoints", eid)
            svc = services.get(d.service)
            if svc is None:
                raise self.err((*path, "service"), f"unknown endpoint service {d.service!r}" + _known(services))
            consumer, provider = vpcs[d.vpc], vpcs[svc.vpc]
            if consumer.region != provider.region:
                raise self.err(
                    (*path, "service"),
                    f"endpoint in {consumer.region} cannot use service {svc.id} in {provider.region}: "
                    "Private Link is same-region only; reach it from other regions through CCN",
                )
            sgs = self._groups_exist(d.security_groups, groups, (*path, "security_groups"))
            state, why = admission(consumer.account, provider.account, svc)
            if state is EndpointState.FAILED:
                self.warnings.append(
                    self.loc.warning(
                        path, WarningCode.ENDPOINT_CREATION_FAILED, f"endpoint {eid}: creation FAILED: {why}"
                    )
                )
            ip = d.ip if d.ip is not None else assigned[eid]
            out[eid] = Endpoint(
                id=eid,
                vpc=d.vpc,
                subnet=d.subnet,
                ip=ip,
                ip_assigned=d.ip is None,
                service=d.service,
                security_groups=sgs,
                initial_state=state,
                state_reason=why,
                capacity=gateway_capacity(d.capacity),
            )
        return out

    # -- ccn -------------------------------------------------------------------------------
    def _ccn(self, cid: str, d: ts.CcnDoc, vpcs: Mapping[str, Vpc]) -> Ccn:
        """A CCN with its bandwidths: one cap for every region pair when postpaid, the bandwidth bought
        per pair when prepaid (docs/tencent.md#capacity)."""
        path: Path = ("ccns", cid)
        regions = {vpcs[v].region for v in d.attachments}
        pairs: dict[frozenset[str], float] = {}
        for key, rate in d.region_bandwidths.items():
            parts = key.split("/")
            if len(parts) != 2 or not all(parts):
                raise self.err((*path, "region_bandwidths", key), "key must name two regions: 'REGION_A/REGION_B'")
            unknown = [r for r in parts if r not in regions]
            if unknown:
                raise self.err(
                    (*path, "region_bandwidths", key),
                    f"no VPC attached to {cid} is in {unknown[0]} (its regions: {', '.join(sorted(regions)) or 'none'})",
                )
            pair = frozenset(parts)
            if pair in pairs:
                raise self.err(
                    (*path, "region_bandwidths", key), f"the bandwidth of {key} is already given: give it once"
                )
            pairs[pair] = rate
        if d.billing == "prepaid":
            if d.bandwidth is not None:
                raise self.err(
                    (*path, "bandwidth"), "a prepaid CCN buys bandwidth per region pair: give region_bandwidths"
                )
            return Ccn(
                id=cid, attachments=tuple(d.attachments), bandwidth_bps=rules.PREPAID_UNBOUGHT_BPS, pair_bandwidth=pairs
            )
        cap = rules.POSTPAID_DEFAULT_CAP_BPS if d.bandwidth is None else d.bandwidth
        return Ccn(id=cid, attachments=tuple(d.attachments), bandwidth_bps=cap, pair_bandwidth=pairs)

    def _ccns(self, vpcs: Mapping[str, Vpc], settings: Settings) -> dict[str, Ccn]:
        out: dict[str, Ccn] = {}
        for cid, d in sorted(self.doc.ccns.items()):
            path: Path = ("ccns", cid)
            for i, vid in enumerate(d.attachments):
                if vid not in vpcs:
                    raise self.err((*path, "attachments", i), f"unknown VPC {vid!r}" + _known(vpcs))
                if d.attachments.index(vid) != i:
                    raise self.err((*path, "attachments", i), f"VPC {vid} is attached twice")
            out[cid] = self._ccn(cid, d, vpcs)
        # A VPC may sit in several CCNs in the model only if it never needs two next hops: keep one.
        member: dict[str, str] = {}
        for cid, c in out.items():
            for i, vid in enumerate(c.attachments):
                if vid in member:
                    raise self.err(("ccns", cid, "attachments", i), f"VPC {vid} is already attached to {member[vid]}")
                member[vid] = cid
        for cid, c in out.items():
            self._check_region_delays(c, vpcs, settings, ("ccns", cid, "attachments"))
        return out

    def _check_region_delays(self, ccn: Ccn, vpcs: Mapping[str, Vpc], settings: Settings, path: Path) -> None:
        regions = sorted({vpcs[v].region for v in ccn.attachments})
        for i, a in enumerate(regions):
            for b in regions[i + 1 :]:
                if settings.delays.between_regions(a, b) is None:
                    raise self.err(
                        path,
                        f"no delay known between {a} and {b}: add settings.delays.regions['{a}/{b}'] (one-way)",
                    )
