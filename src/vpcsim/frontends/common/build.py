"""The loading every cloud shares: a shape-valid document's common sections → the model.

A cloud's builder adds its own sections and rules (endpoint admission, its products). The
timeline is checked by running the control plane itself (an event the state at its time cannot
take is an error at that event's key path), never by a replay of it here.

Every problem is raised as a :class:`ScenarioError` naming the key path of the value to change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address, IPv4Network

from vpcsim.control import TimelineError, control_timeline
from vpcsim.errors import ScenarioError, ScenarioWarning, WarningCode
from vpcsim.frontends.common import schema as s
from vpcsim.frontends.common.build_network import NetworkSections
from vpcsim.frontends.common.words import known as _known
from vpcsim.model import (
    Action,
    Backend,
    BranchMode,
    Ccn,
    Check,
    Delays,
    Endpoint,
    Event,
    EventKind,
    Expectation,
    Gateway,
    HealthCheck,
    Instance,
    Listener,
    NetworkAcl,
    Protocol,
    RouteTable,
    Rule,
    Scheduler,
    SecurityGroup,
    Settings,
    Subnet,
    TcpSettings,
    Topology,
    Vpc,
)
from vpcsim.model.capacity import GatewayCapacity, LinkSettings
from vpcsim.model.checks import DEFAULT_WAIT, EXPECTATIONS
from vpcsim.model.security import ALL_PORTS
from vpcsim.model.settings import DEFAULT_REGION_DELAYS
from vpcsim.scenario.locate import Locator
from vpcsim.scenario.values import shown
from vpcsim.scenario.yamlsafe import Path
from vpcsim.trace.verdict import Reason

_ANY = IPv4Network("0.0.0.0/0")


class Builder(NetworkSections):
    """The loader's methods for the sections every cloud shares; a cloud's builder adds its own and
    its ``build``."""

    cloud_name = "Tencent Cloud"
    reserved_tail = 1
    """Addresses a subnet reserves at its end, its broadcast address included."""

    def __init__(self, doc: s.ScenarioBase, loc: Locator) -> None:
        self.doc = doc
        self.loc = loc
        self.warnings: list[ScenarioWarning] = []

    def err(self, path: Path, problem: str) -> ScenarioError:
        return self.loc.error(path, problem)

    # -- ids -------------------------------------------------------------------------------
    def _unique_ids(self) -> None:
        """Object ids name hosts and trace nodes, so they share one namespace."""
        seen: dict[str, str] = {}
        for section, ids in self._sections():
            for oid in ids:
                if oid in seen:
                    raise self.err((section, oid), f"id {oid!r} is already used in {seen[oid]}; ids must be unique")
                seen[oid] = section
        for idc_id, idc in self.doc.idcs.items():
            for hid in idc.hosts:
                if hid in seen:
                    raise self.err(
                        ("idcs", idc_id, "hosts", hid), f"id {hid!r} is already used in {seen[hid]}; ids must be unique"
                    )
                seen[hid] = f"idcs.{idc_id}.hosts"

    def _sections(self) -> list[tuple[str, Iterable[str]]]:
        """Every section of object ids, in the order a duplicate is reported (a cloud adds its own)."""
        return [
            ("vpcs", self.doc.vpcs),
            ("security_groups", self.doc.security_groups),
            ("network_acls", self.doc.network_acls),
            ("instances", self.doc.instances),
            ("route_tables", self.doc.route_tables),
            ("peerings", self.doc.peerings),
            ("idcs", self.doc.idcs),
            ("vpn_gateways", self.doc.vpn_gateways),
            ("dc_gateways", self.doc.dc_gateways),
        ]

    # -- settings --------------------------------------------------------------------------
    def _settings(self) -> Settings:
        d = self.doc.settings
        regions = dict(DEFAULT_REGION_DELAYS)
        given: dict[frozenset[str], str] = {}
        for key, delay in d.delays.regions.items():
            parts = key.split("/")
            if len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
                raise self.err(
                    ("settings", "delays", "regions", key),
                    "key must name two different regions: 'REGION_A/REGION_B'",
                )
            if delay > 10:
                raise self.err(("settings", "delays", "regions", key), "a one-way delay over 10 s is not plausible")
            pair = frozenset(parts)
            if pair in given:
                # A delay is one value per unordered pair: 'A/B' and 'B/A' together would let key order decide.
                raise self.err(
                    ("settings", "delays", "regions", key),
                    f"the delay between {parts[0]} and {parts[1]} is already given as {given[pair]!r}: give it once",
                )
            given[pair] = key
            regions[pair] = delay
        base = Delays()
        for name in ("same_zone", "cross_zone", "privatelink"):
            v = getattr(d.delays, name)
            if v is not None and v > 10:
                raise self.err(("settings", "delays", name), "a one-way delay over 10 s is not plausible")
        delays = Delays(
            same_zone=base.same_zone if d.delays.same_zone is None else d.delays.same_zone,
            cross_zone=base.cross_zone if d.delays.cross_zone is None else d.delays.cross_zone,
            privatelink=base.privatelink if d.delays.privatelink is None else d.delays.privatelink,
            regions=regions,
        )
        for kind, cap in d.capacity:
            if kind in ("vpn", "direct_connect") and cap is not None:
                for key in ("max_sessions", "new_per_second", "idle_timeout"):
                    if getattr(cap, key) is not None:
                        raise self.err(
                            ("settings", "capacity", kind, key),
                            f"a {CROSSINGS[kind]} keeps no connections: only service_time and queue apply",
                        )
        for kind, link in d.links:
            if kind in CROSSINGS and link is not None and link.bandwidth is not None:
                raise self.err(
                    ("settings", "links", kind, "bandwidth"),
                    f"a {CROSSINGS[kind]}'s bandwidth is its own: set 'bandwidth' on each {CROSSINGS[kind]}",
                )
        t = d.tcp
        if t.min_rto > t.max_rto:
            raise self.err(("settings", "tcp", "min_rto"), f"min_rto {t.min_rto:g} s is above max_rto {t.max_rto:g} s")
        return Settings(
            seed=d.seed,
            delays=delays,
            tcp=TcpSettings(**t.model_dump()),  # the file's keys are the model's fields
            endpoint_accept_delay=d.endpoint_accept_delay,
            snat_ports=(1024, 65535) if d.snat_ports is None else (d.snat_ports.low, d.snat_ports.high),
            links={k: link for k, v in d.links if (link := link_settings(v)) is not None},
            capacity={k: cap for k, v in d.capacity if (cap := gateway_capacity(v)) is not None},
        )

    # -- networks --------------------------------------------------------------------------
    def _vpcs(self) -> dict[str, Vpc]:
        out: dict[str, Vpc] = {}
        for vid, v in sorted(self.doc.vpcs.items()):
            subnets: list[Subnet] = []
            for sid, sd in sorted(v.subnets.items()):
                path: Path = ("vpcs", vid, "subnets", sid)
                if not sd.cidr.subnet_of(v.cidr):
                    raise self.err((*path, "cidr"), f"subnet {sd.cidr} is not inside the VPC CIDR {v.cidr}")
                if sd.cidr.prefixlen > 29:
                    raise self.err((*path, "cidr"), f"subnet {sd.cidr} is smaller than a /29, the smallest subnet")
                if not sd.zone.startswith(v.region):
                    raise self.err((*path, "zone"), f"zone {sd.zone!r} is not in the VPC's region {v.region!r}")
                for other in subnets:
                    if other.cidr.overlaps(sd.cidr):
                        raise self.err(
                            (*path, "cidr"),
                            f"subnet {sd.cidr} overlaps subnet {other.id!r} ({other.cidr}) in {vid}",
                        )
                subnets.append(Subnet(id=sid, vpc=vid, cidr=sd.cidr, zone=sd.zone))
            out[vid] = Vpc(id=vid, region=v.region, account=v.account, cidr=v.cidr, subnets=tuple(subnets))
        return out

    def _rule(self, rd: s.RuleDoc, direction: str, path: Path) -> Rule:
        wrong, right = ("destination", "source") if direction == "ingress" else ("source", "destination")
        if getattr(rd, wrong) is not None:
            raise self.err((*path, wrong), f"an {direction} rule matches on '{right}', not '{wrong}'")
        peer = getattr(rd, right)
        proto = Protocol(rd.protocol)
        if rd.port is not None and proto in (Protocol.ICMP, Protocol.ALL) and not rd.port.is_all:
            raise self.err((*path, "port"), f"protocol {rd.protocol} has no ports; remove 'port' or use tcp/udp")
        return Rule(
            action=Action(rd.action),
            protocol=proto,
            ports=rd.port or ALL_PORTS,
            peer=_ANY if peer is None else peer,
            description=rd.description,
        )

    def _group(self, gid: str, g: s.SecurityGroupDoc) -> SecurityGroup:
        base: Path = ("security_groups", gid)
        return SecurityGroup(
            id=gid,
            ingress=tuple(self._rule(r, "ingress", (*base, "ingress", i)) for i, r in enumerate(g.ingress)),
            egress=tuple(self._rule(r, "egress", (*base, "egress", i)) for i, r in enumerate(g.egress)),
            description=g.description,
        )

    def _acls(self, vpcs: Mapping[str, Vpc]) -> dict[str, NetworkAcl]:
        """Each ACL belongs to one VPC and binds some of its subnets; a subnet takes at most one [ACL1]."""
        out: dict[str, NetworkAcl] = {}
        bound: dict[tuple[str, str], str] = {}
        for aid, d in sorted(self.doc.network_acls.items()):
            path: Path = ("network_acls", aid)
            if d.vpc not in vpcs:
                raise self.err((*path, "vpc"), f"unknown VPC {d.vpc!r}" + _known(vpcs))
            for i, sid in enumerate(d.subnets):
                if vpcs[d.vpc].subnet(sid) is None:
                    known = {x.id: x for x in vpcs[d.vpc].subnets}
                    raise self.err((*path, "subnets", i), f"unknown subnet {sid!r} in VPC {d.vpc}" + _known(known))
                other = bound.get((d.vpc, sid))
                if other == aid:
                    raise self.err((*path, "subnets", i), f"subnet {sid} is listed twice")
                if other is not None:
                    raise self.err(
                        (*path, "subnets", i), f"subnet {sid} is already bound to network ACL {other}: one per subnet"
                    )
                bound[(d.vpc, sid)] = aid
            out[aid] = NetworkAcl(
                id=aid,
                vpc=d.vpc,
                subnets=tuple(d.subnets),
                ingress=tuple(self._rule(r, "ingress", (*path, "ingress", i)) for i, r in enumerate(d.ingress)),
                egress=tuple(self._rule(r, "egress", (*path, "egress", i)) for i, r in enumerate(d.egress)),
                description=d.description,
            )
        return out

    def _placement(
        self, path: Path, vpc: str, subnet: str, ip: IPv4Address | None, vpcs: Mapping[str, Vpc], ip_key: str | int
    ) -> Subnet:
        if vpc not in vpcs:
            raise self.err((*path, "vpc"), f"unknown VPC {vpc!r}" + _known(vpcs))
        sn = vpcs[vpc].subnet(subnet)
        if sn is None:
            raise self.err(
                (*path, "subnet"),
                f"unknown subnet {subnet!r} in VPC {vpc}" + _known({x.id: x for x in vpcs[vpc].subnets}),
            )
        if ip is not None:
            if ip not in sn.cidr:
                raise self.err((*path, ip_key), f"{ip} is outside its subnet {subnet} ({sn.cidr})")
            if ip in (sn.cidr.network_address, sn.cidr.broadcast_address):
                raise self.err((*path, ip_key), f"{ip} is the network or broadcast address of {sn.cidr}")
            last = sn.cidr.broadcast_address - self.reserved_tail
            if ip == sn.cidr.network_address + 1 or ip > last:
                # Tencent reserves each subnet's first two addresses and its last [VPC1] and takes a
                # chosen address only from .2 up [VPC2]; Huawei the first two and the last three
                # [HWVPC1]: the cloud would refuse this one (Q21).
                raise self.err(
                    (*path, ip_key),
                    f"{ip} is reserved in {sn.cidr}: {self.cloud_name} keeps each subnet's first two addresses "
                    f"and its last {self.reserved_tail if self.reserved_tail > 1 else ''}".rstrip()
                    + f"; use one from {sn.cidr.network_address + 2} to {last}",
                )
        return sn

    def _claim(
        self, owners: dict[tuple[str, IPv4Address], str], vpc: str, ip: IPv4Address, who: str, path: Path
    ) -> None:
        key = (vpc, ip)
        if key in owners:
            raise self.err(path, f"{ip} is already used by {owners[key]} in VPC {vpc}")
        owners[key] = who

    def _groups_exist(self, ids: list[str], groups: Mapping[str, SecurityGroup], path: Path) -> tuple[str, ...]:
        for i, gid in enumerate(ids):
            if gid not in groups:
                raise self.err((*path, i), f"unknown security group {gid!r}" + _known(groups))
            if ids.index(gid) != i:
                raise self.err((*path, i), f"security group {gid!r} is bound twice")
        return tuple(ids)

    def _instance(
        self,
        iid: str,
        d: s.InstanceDoc,
        vpcs: Mapping[str, Vpc],
        groups: Mapping[str, SecurityGroup],
        owners: dict[tuple[str, IPv4Address], str],
    ) -> Instance:
        path: Path = ("instances", iid)
        self._placement(path, d.vpc, d.subnet, d.ip, vpcs, "ip")
        self._claim(owners, d.vpc, d.ip, f"instance {iid}", (*path, "ip"))
        sgs = self._groups_exist(d.security_groups, groups, (*path, "security_groups"))
        if not sgs:
            self.warnings.append(
                self.loc.warning(
                    (*path, "security_groups"),
                    WarningCode.INSTANCE_WITHOUT_SECURITY_GROUP,
                    f"instance {iid} has no security group: all its traffic is denied",
                )
            )
        seen: set[tuple[str, int]] = set()
        for i, sock in enumerate(d.listen):
            if sock in seen:
                proto, port = sock
                raise self.err((*path, "listen", i), f"{proto}/{port} is listed twice")
            seen.add(sock)
        return Instance(
            id=iid,
            vpc=d.vpc,
            subnet=d.subnet,
            ip=d.ip,
            security_groups=sgs,
            listen=frozenset(p for proto, p in d.listen if proto == "tcp"),
            listen_udp=frozenset(p for proto, p in d.listen if proto == "udp"),
            link=link_settings(d.link),
        )

    def _listeners(
        self, path: Path, vpc: str, docs: Mapping[str, s.ListenerDoc], instances: Mapping[str, Instance]
    ) -> tuple[Listener, ...]:
        """A load balancer's listeners: ports unique per protocol, backends in its VPC, bound once."""
        d_vpc = vpc
        listeners: list[Listener] = []
        ports: dict[tuple[str, int], str] = {}
        for lname, ld in sorted(docs.items()):
            lpath: Path = (*path, "listeners", lname)
            used = ports.get((ld.protocol, ld.port))
            if used is not None:
                raise self.err((*lpath, "port"), f"{ld.protocol} port {ld.port} is already used by listener {used!r}")
            ports[(ld.protocol, ld.port)] = lname
            backends: list[Backend] = []
            seen: set[tuple[str, int]] = set()
            for i, bd in enumerate(ld.backends):
                bpath: Path = (*lpath, "backends", i)
                inst = instances.get(bd.instance)
                if inst is None:
                    raise self.err((*bpath, "instance"), f"unknown instance {bd.instance!r}" + _known(instances))
                if inst.vpc != d_vpc:
                    raise self.err(
                        (*bpath, "instance"),
                        f"backend {bd.instance} is in VPC {inst.vpc}, not in the load balancer's VPC {d_vpc}",
                    )
                if (bd.instance, bd.port) in seen:
                    raise self.err(bpath, f"backend {bd.instance}:{bd.port} is bound twice")
                seen.add((bd.instance, bd.port))
                backends.append(Backend(instance=bd.instance, port=bd.port, weight=bd.weight))
            hc = ld.health_check
            if hc.timeout > hc.interval:
                raise self.err((*lpath, "health_check", "timeout"), "the health-check timeout exceeds its interval")
            listeners.append(
                Listener(
                    id=lname,
                    port=ld.port,
                    protocol=ld.protocol,
                    scheduler=Scheduler(ld.scheduler),
                    backends=tuple(backends),
                    health_check=HealthCheck(
                        enabled=hc.enabled,
                        port=hc.port,
                        interval=hc.interval,
                        timeout=hc.timeout,
                        healthy_threshold=hc.healthy_threshold,
                        unhealthy_threshold=hc.unhealthy_threshold,
                    ),
                )
            )
        return tuple(listeners)

    # -- timeline --------------------------------------------------------------------------
    def _timeline(
        self,
        endpoints: Mapping[str, Endpoint],
        ccns: Mapping[str, Ccn],
        vpcs: Mapping[str, Vpc],
        groups: Mapping[str, SecurityGroup],
        hosts: Mapping[str, object],
        tables: Mapping[str, RouteTable],
        gateways: Mapping[str, Gateway],
    ) -> tuple[Event, ...]:
        """Each event's keys and ids, in time order (file order among equal times). Whether the state
        at its time can take it is the control plane's question: :meth:`_run_timeline`."""
        order = sorted(range(len(self.doc.timeline)), key=lambda i: (self.doc.timeline[i].at, i))
        events: list[Event] = []
        for i in order:
            e = self.doc.timeline[i]
            path: Path = ("timeline", i)
            kind = EventKind(e.action)
            allowed = _EVENT_FIELDS[kind]
            names = (
                "endpoint",
                "ccn",
                "vpc",
                "security_group",
                "direction",
                "index",
                "rule",
                "instance",
                "port",
                "route_table",
                "route",
                "destination",
                "next_hop",
                "vpn_gateway",
                "tunnel",
            )
            for name in (*names, "protocol"):
                value = getattr(e, name)
                optional = (name == "index" and kind is EventKind.ADD_RULE) or name == "protocol"
                if name in allowed and value is None and not optional:
                    raise self.err(path, f"missing required key {name!r} for action {e.action}")
                if name not in allowed and value is not None:
                    raise self.err((*path, name), f"action {e.action} takes no {name!r}")
            rule = None
            entry = None
            if kind in (EventKind.ADD_ROUTE, EventKind.DELETE_ROUTE, EventKind.ENABLE_ROUTE, EventKind.DISABLE_ROUTE):
                table = tables.get(str(e.route_table))
                if table is None or table.implicit:
                    declared = {t: x for t, x in tables.items() if not x.implicit}
                    hint = "" if table is None else " (declare the VPC's default table with default: true to change it)"
                    raise self.err(
                        (*path, "route_table"), f"unknown route table {e.route_table!r}" + _known(declared) + hint
                    )
                if kind is EventKind.ADD_ROUTE:
                    entry = self._entry(str(e.route), e, path)
            elif kind in (EventKind.TUNNEL_DOWN, EventKind.TUNNEL_UP):
                gw = gateways.get(str(e.vpn_gateway))
                if gw is None or gw.kind != "vpn":
                    vpns = {g: x for g, x in gateways.items() if x.kind == "vpn"}
                    raise self.err((*path, "vpn_gateway"), f"unknown VPN gateway {e.vpn_gateway!r}" + _known(vpns))
                if all(t.id != e.tunnel for t in gw.tunnels):
                    raise self.err(
                        (*path, "tunnel"),
                        f"unknown tunnel {e.tunnel!r} of {gw.id}" + _known({t.id: t for t in gw.tunnels}),
                    )
            elif kind in (EventKind.ACCEPT_ENDPOINT, EventKind.REJECT_ENDPOINT):
                if e.endpoint not in endpoints:
                    raise self.err((*path, "endpoint"), f"unknown endpoint {e.endpoint!r}" + _known(endpoints))
            elif kind in (EventKind.ATTACH_VPC, EventKind.DETACH_VPC):
                if e.ccn not in ccns:
                    raise self.err((*path, "ccn"), f"unknown CCN {e.ccn!r}" + _known(ccns))
                if e.vpc not in vpcs:
                    raise self.err((*path, "vpc"), f"unknown VPC {e.vpc!r}" + _known(vpcs))
            elif kind in (EventKind.ADD_RULE, EventKind.REMOVE_RULE):
                if e.security_group not in groups:
                    raise self.err(
                        (*path, "security_group"),
                        f"unknown security group {e.security_group!r}" + _known(groups),
                    )
                if kind is EventKind.ADD_RULE:
                    assert e.rule is not None and e.direction is not None
                    rule = self._rule(e.rule, e.direction, (*path, "rule"))
            elif e.instance not in hosts:
                raise self.err(
                    (*path, "instance"), f"unknown instance or data-centre host {e.instance!r}" + _known(hosts)
                )
            events.append(
                Event(
                    at=e.at,
                    kind=kind,
                    order=i,
                    endpoint=e.endpoint,
                    ccn=e.ccn,
                    vpc=e.vpc,
                    security_group=e.security_group,
                    direction=e.direction,
                    index=e.index,
                    rule=rule,
                    instance=e.instance,
                    port=e.port,
                    protocol=e.protocol or "tcp",
                    route_table=e.route_table,
                    route=e.route,
                    entry=entry,
                    gateway=e.vpn_gateway,
                    tunnel=e.tunnel,
                )
            )
        return tuple(events)

    def _run_timeline(self, topo: Topology) -> None:
        """Run the control plane once: an event the state at its time cannot take (detach a VPC that
        is not attached, remove a rule past the end of its group) is an error at that event's key."""
        try:
            control_timeline(topo)
        except TimelineError as exc:
            path: Path = ("timeline", exc.order, exc.key) if exc.key else ("timeline", exc.order)
            raise self.err(path, exc.problem) from None

    # -- checks ----------------------------------------------------------------------------
    def _checks(self, topo: Topology) -> tuple[Check, ...]:
        out: list[Check] = []
        reasons = {r.value for r in Reason}
        for i, c in enumerate(self.doc.checks):
            path: Path = ("checks", i)
            if c.from_ not in topo.instances and c.from_ not in topo.idc_hosts:
                hosts = {**topo.instances, **topo.idc_hosts}
                raise self.err((*path, "from"), f"unknown instance or data-centre host {c.from_!r}" + _known(hosts))
            host, given_port = c.to
            proto = c.protocol
            if proto == "icmp" and given_port is not None:
                raise self.err((*path, "to"), f"a ping names a host, not a port: write {shown(host)}")
            if proto != "icmp" and given_port is None:
                raise self.err((*path, "to"), f"expected 'HOST:PORT' for a {proto} check, got {shown(host)}")
            port = given_port or 0
            if c.expect not in EXPECTATIONS[proto]:
                allowed = ", ".join(sorted(EXPECTATIONS[proto]))
                raise self.err((*path, "expect"), f"a {proto} check ends {allowed}, not {c.expect!r}")
            if c.wait is not None and proto == "tcp":
                raise self.err((*path, "wait"), "a tcp check waits as connect() does (its SYN retries): no 'wait'")
            try:
                address, named = topo.resolve_host(host)
            except ValueError:
                raise self.err(
                    (*path, "to"),
                    f"{host!r} is neither an IPv4 address nor the id of an instance, data-centre host, endpoint "
                    "or load balancer",
                ) from None
            if c.reason is not None and c.reason not in reasons:
                raise self.err((*path, "reason"), f"unknown reason {c.reason!r}; one of: {', '.join(sorted(reasons))}")
            # An id's address is shown too: an endpoint's may be assigned here, not written anywhere.
            target = host if named is None else f"{host} ({address})"
            where = f"ping {target}" if proto == "icmp" else f"{target}:{port}" + (" (udp)" if proto == "udp" else "")
            name = c.name or f"{c.from_} -> {where}" + (f" at {c.at:g}s" if c.at else "")
            out.append(
                Check(
                    name=name,
                    source=c.from_,
                    host=host,
                    port=port,
                    at=c.at,
                    expect=Expectation(c.expect),
                    expect_reason=c.reason,
                    branches=BranchMode(c.branches),
                    protocol=proto,
                    wait=0.0 if proto == "tcp" else (c.wait or DEFAULT_WAIT[proto]),
                )
            )
        return tuple(out)


_EVENT_FIELDS: dict[EventKind, frozenset[str]] = {
    EventKind.ACCEPT_ENDPOINT: frozenset({"endpoint"}),
    EventKind.REJECT_ENDPOINT: frozenset({"endpoint"}),
    EventKind.ATTACH_VPC: frozenset({"ccn", "vpc"}),
    EventKind.DETACH_VPC: frozenset({"ccn", "vpc"}),
    EventKind.ADD_RULE: frozenset({"security_group", "direction", "index", "rule"}),
    EventKind.REMOVE_RULE: frozenset({"security_group", "direction", "index"}),
    EventKind.STOP_LISTENER: frozenset({"instance", "port", "protocol"}),
    EventKind.START_LISTENER: frozenset({"instance", "port", "protocol"}),
    EventKind.ADD_ROUTE: frozenset({"route_table", "route", "destination", "next_hop"}),
    EventKind.DELETE_ROUTE: frozenset({"route_table", "route"}),
    EventKind.ENABLE_ROUTE: frozenset({"route_table", "route"}),
    EventKind.DISABLE_ROUTE: frozenset({"route_table", "route"}),
    EventKind.TUNNEL_DOWN: frozenset({"vpn_gateway", "tunnel"}),
    EventKind.TUNNEL_UP: frozenset({"vpn_gateway", "tunnel"}),
}


def first_free(
    net: IPv4Network, vpc: str, owners: Mapping[tuple[str, IPv4Address], str], reserved_tail: int = 1
) -> IPv4Address | None:
    """Lowest free address, skipping the network address, the gateway (.1) and the reserved tail."""
    first = int(net.network_address) + 2
    last = int(net.broadcast_address) - reserved_tail
    for n in range(first, last + 1):
        ip = IPv4Address(n)
        if (vpc, ip) not in owners:
            return ip
    return None


CROSSINGS = {
    "peering": "peering connection",
    "vpn": "VPN gateway",
    "direct_connect": "Direct Connect gateway",
    "ccn": "CCN",
}
"""Link kinds whose bandwidth belongs to their object (the kind's settings give the rest)."""


def link_settings(d: s.LinkDoc | None) -> LinkSettings | None:
    """A link section as the model keeps it (None: nothing set)."""
    if d is None:
        return None
    return LinkSettings(bandwidth_bps=d.bandwidth, queue=d.queue, overhead=d.overhead, mtu=d.mtu, delay=d.delay)


def gateway_capacity(d: s.CapacityDoc | None) -> GatewayCapacity | None:
    """A capacity section as the model keeps it (None: nothing set)."""
    if d is None:
        return None
    return GatewayCapacity(
        service_time=d.service_time,
        queue=d.queue,
        max_sessions=d.max_sessions,
        new_per_second=d.new_per_second,
        idle_timeout=d.idle_timeout,
    )
