"""The network around the endpoints, in a scenario of either cloud: peering connections, data centres
and their hosts, VPN and Direct Connect gateways, route tables and their routes [RT1][RT2][PEER1]
[VPN1][DCG1]. What a route table may hold is checked by :mod:`vpcsim.control.route_tables`, the one
implementation the timeline's route events use too.
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING

from vpcsim.control.route_tables import RouteError, check_entry
from vpcsim.errors import ScenarioError
from vpcsim.frontends.common import schema as s
from vpcsim.frontends.common.words import known as _known
from vpcsim.model import (
    Ccn,
    Firewall,
    Gateway,
    Idc,
    IdcHost,
    IdcRoute,
    NextHopKind,
    Peering,
    RouteEntry,
    RouteTable,
    Rule,
    Settings,
    Topology,
    Tunnel,
    TunnelState,
    Vpc,
)
from vpcsim.model.routing import AUTOMATIC_KINDS, MAX_TABLES
from vpcsim.scenario.yamlsafe import Path


class NetworkSections:
    """The loader's methods for these sections (a part of the shared document builder)."""

    doc: s.ScenarioBase
    cloud_name: str
    same_region_peering = False
    """Whether peering joins VPCs of one region only (Huawei [HWPEER1])."""

    if TYPE_CHECKING:

        def err(self, path: Path, problem: str) -> ScenarioError: ...

        def _rule(self, rd: s.RuleDoc, direction: str, path: Path) -> Rule: ...

    def _peerings(self, vpcs: Mapping[str, Vpc], settings: Settings) -> dict[str, Peering]:
        """Two VPCs each, ranges not overlapping [PEER1], one connection per pair, a delay known
        between their regions."""
        out: dict[str, Peering] = {}
        pairs: dict[frozenset[str], str] = {}
        peers: dict[str, list[Vpc]] = {}
        for pid, d in sorted(self.doc.peerings.items()):
            path: Path = ("peerings", pid)
            for i, vid in enumerate(d.vpcs):
                if vid not in vpcs:
                    raise self.err((*path, "vpcs", i), f"unknown VPC {vid!r}" + _known(vpcs))
            a, b = vpcs[d.vpcs[0]], vpcs[d.vpcs[1]]
            if a.id == b.id:
                raise self.err((*path, "vpcs", 1), f"a peering connection joins two different VPCs, not {a.id} twice")
            if a.cidr.overlaps(b.cidr):
                raise self.err(
                    (*path, "vpcs", 1),
                    f"VPC {b.id} ({b.cidr}) overlaps VPC {a.id} ({a.cidr}): peering needs ranges that do not overlap",
                )
            pair = frozenset({a.id, b.id})
            if pair in pairs:
                raise self.err((*path, "vpcs"), f"{a.id} and {b.id} are already peered by {pairs[pair]}")
            # One VPC's peers may not overlap each other either [PEER2].
            for here, there, i in ((a, b, 1), (b, a, 0)):
                for other in peers.get(here.id, ()):
                    if other.cidr.overlaps(there.cidr):
                        raise self.err(
                            (*path, "vpcs", i),
                            f"VPC {there.id} ({there.cidr}) overlaps {other.id} ({other.cidr}), already peered "
                            f"with {here.id}: one VPC's peers may not overlap each other",
                        )
            peers.setdefault(a.id, []).append(b)
            peers.setdefault(b.id, []).append(a)
            pairs[pair] = pid
            if a.region != b.region and self.same_region_peering:
                raise self.err(
                    (*path, "vpcs", 1),
                    f"{b.id} is in {b.region}, {a.id} in {a.region}: {self.cloud_name} peers VPCs of one region only",
                )
            if a.region != b.region and settings.delays.between_regions(a.region, b.region) is None:
                raise self.err(
                    (*path, "vpcs"),
                    f"no delay known between {a.region} and {b.region}: add "
                    f"settings.delays.regions['{a.region}/{b.region}'] (one-way)",
                )
            out[pid] = Peering(id=pid, vpcs=(a.id, b.id), bandwidth_bps=d.bandwidth)
        return out

    def _firewall(self, d: s.FirewallDoc, path: Path) -> Firewall:
        def rules(direction: str) -> tuple[Rule, ...] | None:
            given = getattr(d, direction)
            if given is None:
                return None
            return tuple(self._rule(r, direction, (*path, direction, i)) for i, r in enumerate(given))

        return Firewall(ingress=rules("ingress"), egress=rules("egress"))

    def _idcs(self, vpcs: Mapping[str, Vpc]) -> dict[str, Idc]:
        """Ranges that overlap no VPC and no other data centre; hosts inside them (routes come later)."""
        out: dict[str, Idc] = {}
        taken: list[tuple[IPv4Network, str]] = [(v.cidr, f"VPC {v.id}") for v in vpcs.values()]
        for iid, d in sorted(self.doc.idcs.items()):
            path: Path = ("idcs", iid)
            for i, cidr in enumerate(d.cidrs):
                for other, who in taken:
                    if other.overlaps(cidr):
                        raise self.err((*path, "cidrs", i), f"{cidr} overlaps {who} ({other})")
                taken.append((cidr, f"data centre {iid}"))
            hosts: list[IdcHost] = []
            used: dict[IPv4Address, str] = {}
            for hid, hd in sorted(d.hosts.items()):
                hpath: Path = (*path, "hosts", hid)
                home = next((c for c in d.cidrs if hd.ip in c), None)
                if home is None:
                    ranges = ", ".join(str(c) for c in d.cidrs)
                    raise self.err((*hpath, "ip"), f"{hd.ip} is outside data centre {iid}'s ranges ({ranges})")
                if home.prefixlen < 31 and hd.ip in (home.network_address, home.broadcast_address):
                    raise self.err((*hpath, "ip"), f"{hd.ip} is the network or broadcast address of {home}")
                if hd.ip in used:
                    raise self.err((*hpath, "ip"), f"{hd.ip} is already used by {used[hd.ip]} in {iid}")
                used[hd.ip] = hid
                seen: set[tuple[str, int]] = set()
                for i, sock in enumerate(hd.listen):
                    if sock in seen:
                        raise self.err((*hpath, "listen", i), f"{sock[0]}/{sock[1]} is listed twice")
                    seen.add(sock)
                hosts.append(
                    IdcHost(
                        id=hid,
                        idc=iid,
                        ip=hd.ip,
                        firewall=self._firewall(hd.firewall, (*hpath, "firewall")),
                        listen=frozenset(p for proto, p in hd.listen if proto == "tcp"),
                        listen_udp=frozenset(p for proto, p in hd.listen if proto == "udp"),
                    )
                )
            out[iid] = Idc(id=iid, cidrs=tuple(d.cidrs), hosts=tuple(hosts), routes=())
        return out

    def _gateways(
        self, vpcs: Mapping[str, Vpc], ccns: Mapping[str, Ccn], idcs: Mapping[str, Idc], settings: Settings
    ) -> dict[str, Gateway]:
        """VPN and Direct Connect gateways: in a VPC or attached to a CCN, toward known data centres."""
        out: dict[str, Gateway] = {}
        docs: list[tuple[str, str, s.VpnGatewayDoc | s.DcGatewayDoc]] = [
            *(("vpn_gateways", gid, d) for gid, d in sorted(self.doc.vpn_gateways.items())),
            *(("dc_gateways", gid, d) for gid, d in sorted(self.doc.dc_gateways.items())),
        ]
        for section, gid, d in docs:
            path: Path = (section, gid)
            if (d.vpc is None) == (d.ccn is None):
                raise self.err(
                    path, "give the gateway's network: either 'vpc' (a VPC-type gateway) or 'ccn' (CCN-type)"
                )
            if d.vpc is not None:
                if d.vpc not in vpcs:
                    raise self.err((*path, "vpc"), f"unknown VPC {d.vpc!r}" + _known(vpcs))
                region = vpcs[d.vpc].region
                if d.region is not None and d.region != region:
                    raise self.err((*path, "region"), f"the gateway is in its VPC's region, {region}, not {d.region}")
            else:
                if d.ccn not in ccns:
                    raise self.err((*path, "ccn"), f"unknown CCN {d.ccn!r}" + _known(ccns))
                if d.region is None:
                    raise self.err(path, "a CCN-type gateway needs its 'region'")
                if d.route_tables:
                    raise self.err(
                        (*path, "route_tables"),
                        "a CCN-type gateway publishes its routes to its CCN, not to route tables",
                    )
                region = d.region
            if isinstance(d, s.VpnGatewayDoc):
                tunnels = []
                for tid, td in sorted(d.tunnels.items()):
                    if td.idc not in idcs:
                        raise self.err((*path, "tunnels", tid, "idc"), f"unknown data centre {td.idc!r}" + _known(idcs))
                    tunnels.append(Tunnel(id=tid, idc=td.idc, state=TunnelState(td.state)))
                kind = "vpn"
            else:
                if d.idc not in idcs:
                    raise self.err((*path, "idc"), f"unknown data centre {d.idc!r}" + _known(idcs))
                tunnels = [Tunnel(id=gid, idc=d.idc, state=TunnelState.UP)]
                kind = "dc"
            out[gid] = Gateway(
                id=gid,
                kind=kind,
                region=region,
                vpc=d.vpc,
                ccn=d.ccn,
                tunnels=tuple(tunnels),
                delay=d.delay,
                bandwidth_bps=d.bandwidth,
                route_tables=tuple(d.route_tables),
            )
        for cid, ccn in ccns.items():
            # The members' regions one gateway at a time: the first gateway whose region has no known
            # delay to a region already on the CCN is the one to blame (VPC pairs are checked already).
            regions = sorted({vpcs[v].region for v in ccn.attachments})
            for gw in sorted((g for g in out.values() if g.ccn == cid), key=lambda g: g.id):
                for other in regions:
                    if other != gw.region and settings.delays.between_regions(other, gw.region) is None:
                        section = "vpn_gateways" if gw.kind == "vpn" else "dc_gateways"
                        raise self.err(
                            (section, gw.id, "region"),
                            f"no delay known between {other} and {gw.region}: add "
                            f"settings.delays.regions['{other}/{gw.region}'] (one-way)",
                        )
                if gw.region not in regions:
                    regions.append(gw.region)
        return out

    def _entry(self, rid: str, d: s.RouteDoc | s.EventDoc, path: Path) -> RouteEntry:
        hop = d.next_hop
        assert hop is not None and d.destination is not None
        if hop.type in AUTOMATIC_KINDS:
            raise self.err(
                (*path, "next_hop", "type"),
                f"{hop.type} routes are automatic (the VPC's range; what a CCN teaches): a route names "
                "peering, vpn_gateway, dc_gateway or instance",
            )
        if hop.id is None:
            raise self.err((*path, "next_hop"), "missing required key 'id' (the next hop's id)")
        return RouteEntry(
            id=rid,
            destination=d.destination,
            kind=NextHopKind(hop.type),
            target=hop.id,
            enabled=getattr(d, "enabled", True),
            description=getattr(d, "description", ""),
        )

    def _route_tables(self, topo: Topology) -> dict[str, RouteTable]:
        """Each VPC's tables: at most one default (an empty one when none is declared), a subnet in at
        most one table, routes each checked against the routes before it [RT1][RT2]; then the routes
        VPC-type gateways propagate into the tables they list."""
        out: dict[str, RouteTable] = {}
        bound: dict[tuple[str, str], str] = {}
        defaults: dict[str, str] = {}
        per_vpc: dict[str, int] = {}
        for tid, d in sorted(self.doc.route_tables.items()):
            path: Path = ("route_tables", tid)
            if d.vpc not in topo.vpcs:
                raise self.err((*path, "vpc"), f"unknown VPC {d.vpc!r}" + _known(topo.vpcs))
            per_vpc[d.vpc] = per_vpc.get(d.vpc, 0) + 1
            if per_vpc[d.vpc] > MAX_TABLES:
                raise self.err(path, f"VPC {d.vpc} already has {MAX_TABLES} route tables, the most a VPC may have")
            if d.default:
                if d.vpc in defaults:
                    raise self.err((*path, "default"), f"VPC {d.vpc} already has a default table, {defaults[d.vpc]}")
                if d.subnets:
                    raise self.err(
                        (*path, "subnets"),
                        "the default table serves every subnet bound to no other table: it lists none",
                    )
                defaults[d.vpc] = tid
            for i, sid in enumerate(d.subnets):
                if topo.vpcs[d.vpc].subnet(sid) is None:
                    known = {x.id: x for x in topo.vpcs[d.vpc].subnets}
                    raise self.err((*path, "subnets", i), f"unknown subnet {sid!r} in VPC {d.vpc}" + _known(known))
                other = bound.get((d.vpc, sid))
                if other is not None:
                    again = "listed twice" if other == tid else f"already bound to route table {other}"
                    raise self.err((*path, "subnets", i), f"subnet {sid} is {again}: a subnet has one route table")
                bound[(d.vpc, sid)] = tid
            table = RouteTable(id=tid, vpc=d.vpc, subnets=tuple(d.subnets), default=d.default, routes=())
            routes: list[RouteEntry] = []
            for rid, rd in d.routes.items():
                rpath: Path = (*path, "routes", rid)
                entry = self._entry(rid, rd, rpath)
                try:
                    check_entry(topo, table, routes, entry)
                except RouteError as exc:
                    key = exc.key if exc.key in ("destination", "next_hop") else ""
                    raise self.err((*rpath, key) if key else rpath, exc.problem) from None
                routes.append(entry)
            out[tid] = RouteTable(id=tid, vpc=d.vpc, subnets=table.subnets, default=d.default, routes=tuple(routes))
        for vid in sorted(topo.vpcs):
            if vid not in defaults and per_vpc.get(vid, 0) >= MAX_TABLES:
                last = max(t for t, d in self.doc.route_tables.items() if d.vpc == vid)
                raise self.err(
                    ("route_tables", last),
                    f"VPC {vid} has {per_vpc[vid]} route tables besides its default one: at most {MAX_TABLES} "
                    "tables, the default one included",
                )
            if vid not in defaults:
                tid = f"{vid}:default"
                out[tid] = RouteTable(id=tid, vpc=vid, subnets=(), default=True, routes=(), implicit=True)
        for gw in topo.gateways.values():
            section = "vpn_gateways" if gw.kind == "vpn" else "dc_gateways"
            kind = NextHopKind.VPN_GATEWAY if gw.kind == "vpn" else NextHopKind.DC_GATEWAY
            for i, tid in enumerate(gw.route_tables):
                path = (section, gw.id, "route_tables", i)
                found = out.get(tid) if tid in self.doc.route_tables else None
                if found is None:
                    raise self.err(path, f"unknown route table {tid!r}" + _known(self.doc.route_tables))
                table = found
                if table.vpc != gw.vpc:
                    raise self.err(path, f"route table {tid} is in VPC {table.vpc}, not in the gateway's VPC {gw.vpc}")
                routes = list(table.routes)
                for idc in gw.idcs:
                    for cidr in topo.idcs[idc].cidrs:
                        entry = RouteEntry(
                            id=f"{gw.id}:{cidr}", destination=cidr, kind=kind, target=gw.id, propagated=gw.id
                        )
                        try:
                            check_entry(topo, table, routes, entry)
                        except RouteError as exc:
                            raise self.err(path, f"propagating {cidr}: {exc.problem}") from None
                        routes.append(entry)
                out[tid] = RouteTable(
                    id=tid, vpc=table.vpc, subnets=table.subnets, default=table.default, routes=tuple(routes)
                )
        return out

    def _idc_routes(self, idcs: Mapping[str, Idc], gateways: Mapping[str, Gateway]) -> dict[str, Idc]:
        """The data centre's side: each route leaves through a gateway that reaches this data centre."""
        out: dict[str, Idc] = {}
        for iid, idc in idcs.items():
            routes: list[IdcRoute] = []
            for rid, rd in self.doc.idcs[iid].routes.items():
                path: Path = ("idcs", iid, "routes", rid)
                gw = gateways.get(rd.gateway)
                if gw is None:
                    raise self.err((*path, "gateway"), f"unknown gateway {rd.gateway!r}" + _known(gateways))
                if iid not in gw.idcs:
                    raise self.err((*path, "gateway"), f"gateway {gw.id} has no connection to data centre {iid}")
                for cidr in idc.cidrs:
                    if cidr.overlaps(rd.destination):
                        raise self.err(
                            (*path, "destination"), f"{rd.destination} overlaps the data centre's own range {cidr}"
                        )
                if any(r.destination == rd.destination for r in routes):
                    raise self.err((*path, "destination"), f"{iid} already has a route to {rd.destination}")
                routes.append(IdcRoute(id=rid, destination=rd.destination, gateway=rd.gateway))
            out[iid] = Idc(id=iid, cidrs=idc.cidrs, hosts=idc.hosts, routes=tuple(routes))
        return out
