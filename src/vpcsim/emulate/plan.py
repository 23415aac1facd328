"""From the validated model at one time to a kernel build plan: pure data, no side effects.

The plan is derived from the model and :mod:`vpcsim.emulate.plan_control` only, never from the
simulator's compiled forwarding state, so a bug in the control plane or the lowering cannot be
built into both sides. Every object becomes a network namespace (instances, VPC routers, CCNs,
endpoints, load balancers, peering connections, gateways, data centres and their hosts); every
path a packet can take becomes a veth pair:

- instance, endpoint and load balancer <-> the router of their VPC (the owner's side carries the
  scenario's own address as a /32, the router's side a link address from a private pool);
- data-centre host <-> its data centre's router, the same way;
- VPC router and CCN-type gateway <-> CCN, for each member attached at that time;
- VPC router <-> each peering connection it is in, and each VPC-type gateway in it;
- gateway <-> each data centre it reaches;
- endpoint <-> the load balancer of its service.

Routing is the kernel's own longest-prefix match over what the model says: a table consulted first
for the VPC CIDR (the Local route: owners as /32, the rest to a sink device), then, for a packet
from one of the VPC's subnets, the table of that subnet's route table (its forwarding routes and
the enabled CCN routes of the other members), then a sink. Security groups are iptables chains:
conntrack first, then every bound group's rules in bound order, first match, then drop.

Every place the cloud drops a packet is a **drop point**: the rule that drops also logs the
packet (NFLOG, prefix ``d<N>``, N the point's index in its namespace's ``drops``), so the kernel
tells not only whether a check failed but where. Hosts also log the RST or port unreachable they
answer a closed port with (``port_closed``). Kinds are the simulator's reason codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from vpcsim.emulate.plan_control import ACTIVE, OracleState, snat_address
from vpcsim.model import Action, NetworkAcl, NextHopKind, Protocol, Rule, ServiceBackend, Topology

LINK_POOLS = (
    IPv4Network("169.254.0.0/16"),
    IPv4Network("100.64.0.0/10"),
    IPv4Network("198.18.0.0/15"),
)
"""Candidate pools for link addresses, taken in order: the first that no scenario address,
prefix or check destination touches is used."""

PIN_CHAIN = "VPCSIM-PIN"
SG_CHAIN = "VPCSIM-SG"
LOCAL_TABLE = 200
FROM_FAR = 250
"""A gateway's table for what its data centres send."""
NFLOG_GROUP = 1
SINK = "sink"
_ESTABLISHED = "-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"


class PlanError(Exception):
    """The state has something the kernel build cannot express faithfully."""


@dataclass(frozen=True, slots=True)
class DropPoint:
    """Where and why the kernel build drops (or refuses) a packet, in the simulator's terms."""

    node: str
    kind: str
    """A reason code: ``sg_ingress_denied``, ``sg_egress_denied``, ``acl_ingress_denied``,
    ``acl_egress_denied``, ``firewall_ingress_denied``, ``firewall_egress_denied``, ``tunnel_down``,
    ``endpoint_not_active``,
    ``no_listener``, ``no_backend``, ``no_route``, ``no_host``, ``not_forwarded``, ``lb_loopback``
    or ``port_closed``."""
    group: str = ""
    """Security-group drops: the group whose rule dropped ("" when no rule matched); network ACL
    drops: the ACL."""
    rule: int = -1
    """The rule's index in its group or ACL (-1 when no rule matched: the default deny, or the ACL's
    immutable deny-all)."""

    def describe(self) -> str:
        if self.kind.startswith(("sg_", "firewall_")):
            which = f"{self.group} rule #{self.rule}" if self.group else "no rule matched"
            return f"{self.kind} at {self.node} ({which})"
        if self.kind.startswith("acl_"):
            which = f"rule #{self.rule}" if self.rule >= 0 else "deny-all"
            return f"{self.kind} at {self.node} ({self.group} {which})"
        return f"{self.kind} at {self.node}"


@dataclass(frozen=True, slots=True)
class Iface:
    name: str
    address: str
    """``a.b.c.d/len``."""


@dataclass(frozen=True, slots=True)
class Link:
    """A veth pair: interface ``a_if`` in namespace ``a`` and ``b_if`` in ``b`` (namespace keys)."""

    a: str
    a_if: str
    b: str
    b_if: str


@dataclass(frozen=True, slots=True)
class Pin:
    """The load balancer in namespace ``lb`` sends new connections to ``vip:port`` to one backend."""

    lb: str
    vip: str
    port: int
    backend: str
    backend_port: int
    protocol: str = "tcp"


@dataclass(frozen=True, slots=True)
class RoutePin:
    """The router in namespace ``router`` sends ``prefix`` of kernel table ``table`` to one next hop."""

    router: str
    table: int
    prefix: str
    via: str
    dev: str


@dataclass(frozen=True, slots=True)
class EcmpGroup:
    """Equal-cost routes of one route table to one prefix: the kernel table holds one of them at a
    time (the first by default), a branch's pin swaps in another."""

    point: str
    """``ROUTE_TABLE PREFIX``: the branch point as the model names it."""
    table: int
    prefix: str
    hops: tuple[tuple[str, str, str], ...]
    """(next hop id, via, dev) of each route, in the table's order."""


@dataclass(frozen=True, slots=True)
class NsPlan:
    key: str
    """``TAG/NODE``: unique across every plan of a build."""
    kind: str
    node: str
    ifaces: tuple[Iface, ...]
    ip_lines: tuple[str, ...]
    """``ip -batch`` lines (sink devices, routes, rules) applied after addresses are set and links
    are up."""
    forwarding: bool
    iptables: str
    """An ``iptables-restore`` document."""
    listen: tuple[int, ...] = ()
    """TCP ports with a listening socket (instances)."""
    default_pins: tuple[Pin, ...] = ()
    """Load balancers: for each listener with a backend that takes connections, the pin used when
    no check asks for a particular backend."""
    listen_udp: tuple[int, ...] = ()
    """UDP ports with an echoing socket (instances)."""
    drops: tuple[DropPoint, ...] = ()
    """The drop points whose rules log with prefix ``d<index>``."""
    ecmp: tuple[EcmpGroup, ...] = ()
    """Routers: the equal-cost groups of their route tables."""
    resolver: str = ""
    """The address a DNS resolver (dnsmasq) answers on, UDP and TCP port 53 ("" for none)."""


@dataclass(frozen=True, slots=True)
class NetPlan:
    tag: str
    time: float
    namespaces: tuple[NsPlan, ...]
    links: tuple[Link, ...]
    pool: IPv4Network

    def key(self, node: str) -> str:
        return f"{self.tag}/{node}"


def choose_pool(used: list[IPv4Network]) -> IPv4Network | None:
    """The first link pool that overlaps none of ``used`` (scenario prefixes and addresses)."""
    for pool in LINK_POOLS:
        if not any(pool.overlaps(n) for n in used):
            return pool
    return None


class _Drops:
    """The drop points of one namespace and the iptables rules that log them."""

    def __init__(self, node: str) -> None:
        self.node = node
        self.points: list[DropPoint] = []

    def log(self, kind: str, group: str = "", rule: int = -1) -> str:
        """The NFLOG target for a drop point (registered once)."""
        point = DropPoint(self.node, kind, group, rule)
        if point not in self.points:
            self.points.append(point)
        return f"-j NFLOG --nflog-group {NFLOG_GROUP} --nflog-prefix d{self.points.index(point)}"

    def drop(self, chain: str, match: str, kind: str, group: str = "", rule: int = -1) -> list[str]:
        """Log, then drop: two rules with the same match (NFLOG does not end the chain)."""
        m = f" {match}" if match else ""
        return [f"-A {chain}{m} {self.log(kind, group, rule)}", f"-A {chain}{m} -j DROP"]


def _matches(rule: Rule, direction: str) -> list[str]:
    """The iptables matches of one security-group rule. Ports apply to TCP and UDP only, so a rule
    for every protocol over some ports is three matches (at most one of which a packet meets)."""
    peer = ""
    if rule.peer.prefixlen:
        peer = f"{'-s' if direction == 'ingress' else '-d'} {rule.peer} "
    ports = f"--dport {rule.ports.low}:{rule.ports.high}"
    if rule.protocol in (Protocol.TCP, Protocol.UDP):
        p = rule.protocol.value
        return [f"{peer}-p {p} -m {p} {ports}"]
    if rule.protocol is Protocol.ICMP:
        return [f"{peer}-p icmp"]
    if rule.ports.is_all:
        return [peer.strip()]
    return [f"{peer}-p tcp -m tcp {ports}", f"{peer}-p udp -m udp {ports}", f"{peer}-p icmp"]


def _group_rules(
    state: OracleState, bound: tuple[str, ...], direction: str, chain: str, drops: _Drops, accept: str = "ACCEPT"
) -> list[str]:
    """Every bound group's rules in bound order into ``chain``, first match wins, then drop."""
    lists = [(gid, state.groups[gid].ingress if direction == "ingress" else state.groups[gid].egress) for gid in bound]
    return _rule_chain(lists, direction, chain, drops, f"sg_{direction}_denied", accept)


def _rule_chain(
    lists: list[tuple[str, tuple[Rule, ...]]], direction: str, chain: str, drops: _Drops, kind: str, accept: str
) -> list[str]:
    """Named rule lists in order into ``chain``: first match wins (an accept jumps to ``accept``, a
    drop logs ``kind`` with the list's name and the rule's index), then drop."""
    lines: list[str] = []
    for name, rules in lists:
        for i, rule in enumerate(rules):
            for match in _matches(rule, direction):
                if rule.action is Action.ACCEPT:
                    lines.append(f"-A {chain} {match} -j {accept}".replace("  ", " "))
                else:
                    lines += drops.drop(chain, match, kind, name, i)
    lines += drops.drop(chain, "", kind)
    return lines


def _table(policies: dict[str, str], rules: list[str], chains: tuple[str, ...] = ()) -> str:
    head = ["*filter"] + [f":{c} {p} [0:0]" for c, p in policies.items()] + [f":{c} - [0:0]" for c in chains]
    return "\n".join([*head, *rules, "COMMIT"]) + "\n"


_CLOSED = "-A OUTPUT -p tcp -m tcp --tcp-flags RST RST", "-A OUTPUT -p icmp -m icmp --icmp-type port-unreachable"
_DROP_ALL = {"INPUT": "DROP", "FORWARD": "DROP", "OUTPUT": "DROP"}
_ROUTER = {"INPUT": "DROP", "FORWARD": "ACCEPT", "OUTPUT": "DROP"}


class _Builder:
    def __init__(self, tag: str, topo: Topology, state: OracleState, pool: IPv4Network) -> None:
        self.tag, self.topo, self.state = tag, topo, state
        self.base, self.size, self.n = int(pool.network_address), pool.num_addresses, 0
        self.links: list[Link] = []
        self.owner_if: dict[str, tuple[str, str]] = {}
        """Owner (instance, endpoint, load balancer) → (its VPC's router, the router's interface to it)."""
        self.ifaces: dict[str, list[Iface]] = {}
        self.out_if: dict[str, str] = {}
        """Endpoint → its interface toward what its service forwards to."""
        self.lines: dict[str, list[str]] = {}

    def key(self, node: str) -> str:
        return f"{self.tag}/{node}"

    def subnet(self) -> tuple[str, str]:
        """(first, second) host addresses of the next /30 of the pool."""
        off = 4 * self.n
        if off + 4 > self.size:
            raise PlanError("too many links for the link address pool")
        self.n += 1
        return str(IPv4Address(self.base + off + 1)), str(IPv4Address(self.base + off + 2))

    def iface(self, node: str, name: str, address: str) -> None:
        self.ifaces.setdefault(node, []).append(Iface(name, address))

    def line(self, node: str, text: str) -> None:
        self.lines.setdefault(node, []).append(text)

    def ns(self, kind: str, node: str, forwarding: bool, iptables: str, drops: _Drops, **kw: object) -> NsPlan:
        return NsPlan(
            key=self.key(node),
            kind=kind,
            node=node,
            ifaces=tuple(self.ifaces.get(node, ())),
            ip_lines=tuple(self.lines.get(node, ())),
            forwarding=forwarding,
            iptables=iptables,
            drops=tuple(drops.points),
            **kw,  # type: ignore[arg-type]
        )


def _sink() -> list[str]:
    """A device to route into what the cloud drops, so the drop passes FORWARD and is logged there
    (a blackhole route drops before any rule sees the packet). A veth pair with both ends in the
    namespace: every kernel with namespaces has veth, not every one has the dummy driver."""
    return [f"link add {SINK} type veth peer name {SINK}.p", f"link set {SINK} up", f"link set {SINK}.p up"]


def plan_state(tag: str, topo: Topology, state: OracleState, pool: IPv4Network) -> NetPlan:
    """The kernel build of ``topo`` at ``state.time``; namespace keys are ``TAG/NODE``."""
    b = _Builder(tag, topo, state, pool)
    # Owners (instances, endpoints, load balancers) hang off their VPC's router.
    owners: dict[str, list[tuple[str, str, str]]] = {v: [] for v in topo.vpcs}
    for inst in topo.instances.values():
        owners[inst.vpc].append((str(inst.ip), inst.id, "instance"))
    for ep in topo.endpoints.values():
        owners[ep.vpc].append((str(ep.ip), ep.id, "endpoint"))
    for lb in topo.load_balancers.values():
        owners[lb.vpc].append((str(lb.vip), lb.id, "load_balancer"))
    gateway: dict[str, str] = {}
    lb_marks: dict[str, list[tuple[str, int]]] = {v: [] for v in topo.vpcs}
    for vid in sorted(topo.vpcs):
        b.lines.setdefault(vid, []).extend(_sink())
        for n, (address, owner, kind) in enumerate(sorted(owners[vid], key=lambda o: IPv4Address(o[0]))):
            rside, _ = b.subnet()
            rif, oif = f"r{n}", "eth0" if kind == "instance" else "r"
            b.links.append(Link(b.key(vid), rif, b.key(owner), oif))
            b.iface(vid, rif, f"{rside}/30")
            b.iface(owner, oif, f"{address}/32")
            b.line(vid, f"route add {address}/32 dev {rif} table {LOCAL_TABLE}")
            b.line(owner, f"route add default via {rside} dev {oif} onlink")
            gateway[owner] = rside
            b.owner_if[owner] = (vid, rif)
            for vip in topo.instances[owner].virtual_ips if kind == "instance" else ():
                b.iface(owner, oif, f"{vip}/32")
                b.line(vid, f"route add {vip}/32 dev {rif} table {LOCAL_TABLE}")
            source = topo.load_balancers[owner].source_ip if kind == "load_balancer" else None
            if source is not None:
                # Backends answer the address the load balancer translated their flows to.
                b.line(vid, f"route add {source}/32 via {address} dev {rif} onlink table {LOCAL_TABLE}")
                b.line(vid, f"rule add to {source}/32 table {LOCAL_TABLE} priority 1000")
            if kind == "load_balancer":
                # Replies of the load balancer's connections return through it (it does not SNAT).
                mark = len(lb_marks[vid]) + 1
                lb_marks[vid].append((rif, mark))
                b.line(vid, f"route add default via {address} dev {rif} onlink table {100 + mark}")
                b.line(vid, f"rule add fwmark {mark} table {100 + mark} priority {100 + mark}")
    # Data centres: a router per data centre, its hosts hanging off it as instances off a VPC's.
    for iid in sorted(topo.idcs):
        idc = topo.idcs[iid]
        b.lines.setdefault(iid, []).extend(_sink())
        for n, host in enumerate(sorted(idc.hosts, key=lambda h: h.ip)):
            rside, _ = b.subnet()
            rif = f"h{n}"
            b.links.append(Link(b.key(iid), rif, b.key(host.id), "eth0"))
            b.iface(iid, rif, f"{rside}/30")
            b.iface(host.id, "eth0", f"{host.ip}/32")
            b.line(iid, f"route add {host.ip}/32 dev {rif} table {LOCAL_TABLE}")
            b.line(host.id, f"route add default via {rside} dev eth0 onlink")
            b.owner_if[host.id] = (iid, rif)
        for cidr in idc.cidrs:
            b.line(iid, f"route add {cidr} dev {SINK} table {LOCAL_TABLE}")
            b.line(iid, f"rule add to {cidr} table {LOCAL_TABLE} priority 1000")
        b.line(iid, f"route add default dev {SINK}")
    # CCN members (VPC routers, CCN-type gateways) <-> their CCN, with the CCN's enabled routes.
    ccn_side: dict[tuple[str, str], tuple[str, str]] = {}
    ccn_address: dict[tuple[str, str], str] = {}
    """(CCN, member) → the CCN's address on the link to the member."""
    near: dict[str, tuple[str, str]] = {}
    """Gateway → (its near side's address, the interface toward it)."""
    for cid in sorted(topo.ccns):
        members = state.attached[cid]
        if not members:
            continue
        b.lines.setdefault(cid, []).extend(_sink())
        for i, member in enumerate(members):
            mside, cside = b.subnet()
            mif = "c" if member in topo.vpcs else "n"
            b.links.append(Link(b.key(member), mif, b.key(cid), f"v{i}"))
            b.iface(member, mif, f"{mside}/30")
            b.iface(cid, f"v{i}", f"{cside}/30")
            ccn_side[(cid, member)] = (f"v{i}", mside)
            ccn_address[(cid, member)] = cside
            if member not in topo.vpcs:
                near[member] = (cside, "n")
        for r in state.enabled_routes(cid):
            dev, via = ccn_side[(cid, r.vpc)]
            b.line(cid, f"route add {r.prefix} via {via} dev {dev} onlink")
        b.line(cid, f"route add default dev {SINK}")
    # Peering connections and VPC-type gateways hang off their VPCs' routers.
    hop: dict[tuple[str, str], tuple[str, str]] = {}
    """(VPC, peering or gateway) → (its address seen from the VPC, the VPC's interface to it)."""
    vpc_ifs: dict[str, int] = {}
    for pid in sorted(topo.peerings):
        b.lines.setdefault(pid, []).extend(_sink())
        for side, vid in zip(("a", "b"), topo.peerings[pid].vpcs, strict=True):
            vside, pside = b.subnet()
            vif = f"p{vpc_ifs.setdefault(vid, 0)}"
            vpc_ifs[vid] += 1
            b.links.append(Link(b.key(vid), vif, b.key(pid), side))
            b.iface(vid, vif, f"{vside}/30")
            b.iface(pid, side, f"{pside}/30")
            hop[(vid, pid)] = (pside, vif)
            b.line(pid, f"route add {topo.vpcs[vid].cidr} via {vside} dev {side} onlink")
        b.line(pid, f"route add default dev {SINK}")
    far: dict[tuple[str, str], tuple[str, str]] = {}
    """(data centre, gateway) → (the gateway's address seen from it, the data centre's interface)."""
    idc_ifs: dict[str, int] = {}
    for gid in sorted(topo.gateways):
        gw = topo.gateways[gid]
        b.lines.setdefault(gid, []).extend(_sink())
        if gw.vpc is not None:
            vside, gside = b.subnet()
            vif = f"g{vpc_ifs.setdefault(gw.vpc, 0)}"
            vpc_ifs[gw.vpc] += 1
            b.links.append(Link(b.key(gw.vpc), vif, b.key(gid), "n"))
            b.iface(gw.vpc, vif, f"{vside}/30")
            b.iface(gid, "n", f"{gside}/30")
            hop[(gw.vpc, gid)] = (gside, vif)
            near[gid] = (vside, "n")
        if gid in near:
            b.line(gid, f"route add default via {near[gid][0]} dev n onlink")
            # What comes from a data centre goes to the near side, whatever the destination: a
            # gateway joins each data centre to its network, never one data centre to another.
            b.line(gid, f"route add default via {near[gid][0]} dev n onlink table {FROM_FAR}")
        idcs = list(dict.fromkeys(t.idc for t in gw.tunnels))
        for j, iid in enumerate(idcs):
            gside, dside = b.subnet()
            dif = f"g{idc_ifs.setdefault(iid, 0)}"
            idc_ifs[iid] += 1
            b.links.append(Link(b.key(gid), f"i{j}", b.key(iid), dif))
            b.iface(gid, f"i{j}", f"{gside}/30")
            b.iface(iid, dif, f"{dside}/30")
            far[(iid, gid)] = (gside, dif)
            b.line(gid, f"rule add iif i{j} table {FROM_FAR} priority 1000")
            up = any(state.tunnels_up[(gid, t.id)] for t in gw.tunnels if t.idc == iid)
            for cidr in topo.idcs[iid].cidrs:
                b.line(gid, f"route add {cidr} via {dside} dev i{j} onlink" if up else f"route add {cidr} dev {SINK}")
    # Cloud services: per region a router for their range, each service a namespace off it.
    clouds: dict[str, list[tuple[str, str, str]]] = {}
    """Cloud router → (its interface, the endpoint behind it, that endpoint's service) per way in."""
    for n, sid in enumerate(sorted(topo.cloud_services)):
        cs = topo.cloud_services[sid]
        router = cloud_router(cs.region)
        if router not in clouds:
            clouds[router] = []
            b.lines.setdefault(router, []).extend(_sink())
        rside, _ = b.subnet()
        b.links.append(Link(b.key(router), f"s{n}", b.key(sid), "eth0"))
        b.iface(router, f"s{n}", f"{rside}/30")
        b.iface(sid, "eth0", f"{cs.ip}/32")
        b.line(router, f"route add {cs.ip}/32 dev s{n}")
        b.line(sid, f"route add default via {rside} dev eth0 onlink")
    for router in clouds:
        region = router.split(":", 1)[1]
        for cidr in sorted({cs.cidr for cs in topo.cloud_services.values() if cs.region == region}):
            b.line(router, f"route add {cidr} dev {SINK}")
        b.line(router, f"route add default dev {SINK}")

    def cloud_way(router: str, node: str, service: str) -> tuple[str, str]:
        """A link from ``node`` (an endpoint) to a cloud router: (the router's side, the node's side)."""
        near_side, far_side = b.subnet()
        ifname = f"e{len(clouds[router])}"
        clouds[router].append((ifname, node, service))
        b.links.append(Link(b.key(node), "c", b.key(router), ifname))
        b.iface(node, "c", f"{near_side}/30")
        b.iface(router, ifname, f"{far_side}/30")
        b.line(router, f"route add {snat_address(topo, node)}/32 via {near_side} dev {ifname} onlink")
        return far_side, near_side

    # Gateway endpoints: the VPC's route tables send their service's range to them; they pass it on
    # to the cloud router, translated, and bring the replies back.
    gep_ifs: dict[str, tuple[str, str]] = {}
    """Gateway endpoint → (its VPC, the VPC router's interface to it)."""
    for gid in sorted(topo.gateway_endpoints):
        gep = topo.gateway_endpoints[gid]
        cs = topo.cloud_services[topo.endpoint_services[gep.service].backend]
        vside, gside = b.subnet()
        vif = f"g{vpc_ifs.setdefault(gep.vpc, 0)}"
        vpc_ifs[gep.vpc] += 1
        b.links.append(Link(b.key(gep.vpc), vif, b.key(gid), "n"))
        b.iface(gep.vpc, vif, f"{vside}/30")
        b.iface(gid, "n", f"{gside}/30")
        hop[(gep.vpc, gid)] = (gside, vif)
        gep_ifs[gid] = (gep.vpc, vif)
        router_side, _ = cloud_way(cloud_router(cs.region), gid, cs.id)
        b.line(gid, f"route add {cs.cidr} via {router_side} dev c onlink")
        b.line(gid, f"route add default via {vside} dev n onlink")
    # A data centre's own routes, for what its hosts send; anything else entering it goes nowhere.
    for iid in sorted(topo.idcs):
        idc = topo.idcs[iid]
        table = LOCAL_TABLE + 100
        for out in idc.routes:
            via, dev = far[(iid, out.gateway)]
            b.line(iid, f"route add {out.destination} via {via} dev {dev} onlink table {table}")
        b.line(iid, f"route add default dev {SINK} table {table}")
        for host in idc.hosts:
            b.line(iid, f"rule add iif {b.owner_if[host.id][1]} table {table} priority 2000")
    # Each route table of a VPC: its forwarding routes and the CCN's, for the subnets bound to it.
    relays: set[str] = set()
    ecmp: dict[str, list[EcmpGroup]] = {}
    number = LOCAL_TABLE + 100
    for vid, vpc in sorted(topo.vpcs.items()):
        ccn = state.ccn_of(vid)
        learned = [r for r in state.enabled_routes(ccn) if r.vpc != vid] if ccn is not None else []
        kernel_table: dict[str, int] = {}
        for tid in sorted(t for t, rt in topo.route_tables.items() if rt.vpc == vid):
            number += 1
            kernel_table[tid] = number
            taken = {r.prefix for r in learned}
            for dest, routes in sorted(state.forwarding(tid).items()):
                if dest in taken:  # a CCN route to the same prefix wins
                    continue
                hops = []
                for route in routes:
                    if route.kind is NextHopKind.INSTANCE:
                        relays.add(route.target)
                        address, dev = str(topo.instances[route.target].ip), b.owner_if[route.target][1]
                    else:
                        address, dev = hop[(vid, route.target)]
                    hops.append((route.target, address, dev))
                _, address, dev = hops[0]  # equal-cost paths: the first, unless a branch pins another
                b.line(vid, f"route add {dest} via {address} dev {dev} onlink table {number}")
                if len(hops) > 1:
                    ecmp.setdefault(vid, []).append(EcmpGroup(f"{tid} {dest}", number, str(dest), tuple(hops)))
            if ccn is not None:
                for r in learned:
                    b.line(vid, f"route add {r.prefix} via {ccn_address[(ccn, vid)]} dev c onlink table {number}")
            b.line(vid, f"route add default dev {SINK} table {number}")
        for owner, (router, rif) in sorted(b.owner_if.items()):
            if router == vid:
                ovpc, osubnet = _subnet_of(topo, owner)
                table_id = topo.table_of(ovpc, osubnet).id
                b.line(vid, f"rule add iif {rif} table {kernel_table[table_id]} priority 2000")
        default = next(t for t, rt in topo.route_tables.items() if rt.vpc == vid and rt.default)
        for gvpc, vif in sorted(gep_ifs.values()):
            if gvpc == vid:  # a gateway endpoint's replies go back by the default table (to a data centre too)
                b.line(vid, f"rule add iif {vif} table {kernel_table[default]} priority 2000")
        best = state.forwarding(default)
        gateways_here = sorted(g for g, gw in topo.gateways.items() if gw.vpc == vid)
        if any(rs[0].kind is NextHopKind.ENDPOINT for rs in best.values()) and gateways_here:
            # From a data centre, the default table decides, and only its gateway endpoints' routes
            # lead on (Q36): a destination whose best route goes elsewhere ends in the sink.
            number += 1
            for dest, routes in sorted(best.items()):
                if routes[0].kind is NextHopKind.ENDPOINT:
                    address, dev = hop[(vid, routes[0].target)]
                    b.line(vid, f"route add {dest} via {address} dev {dev} onlink table {number}")
                else:
                    b.line(vid, f"route add {dest} dev {SINK} table {number}")
            b.line(vid, f"route add default dev {SINK} table {number}")
            for g in gateways_here:
                b.line(vid, f"rule add iif {hop[(vid, g)][1]} table {number} priority 2000")
        # The Local route wins inside the VPC CIDR, whatever else a table holds: a table consulted
        # first. Replies steered to a load balancer are decided before it (priority 101+). What
        # enters from outside the subnets meets only the Local route and the sink (no transit).
        b.line(vid, f"route add {vpc.cidr} dev {SINK} table {LOCAL_TABLE}")
        b.line(vid, f"rule add to {vpc.cidr} table {LOCAL_TABLE} priority 1000")
        b.line(vid, f"route add default dev {SINK}")
    # Endpoints <-> what their service forwards to: its load balancer, directly; an instance (or its
    # virtual IP) through that instance's VPC router; a cloud service through its region's router.
    lb_ways: dict[str, list[tuple[str, str]]] = {}
    for eid, ep in sorted(topo.endpoints.items()):
        svc = topo.endpoint_services[ep.service]
        target = _target_address(topo, eid)
        if svc.backend_kind is ServiceBackend.LOAD_BALANCER:
            lid = svc.backend
            eside, lside = b.subnet()
            lif = f"e{len(lb_ways.setdefault(lid, []))}"
            b.links.append(Link(b.key(eid), "l", b.key(lid), lif))
            b.iface(eid, "l", f"{eside}/30")
            b.iface(lid, lif, f"{lside}/30")
            b.line(eid, f"route add {target}/32 via {lside} dev l onlink")
            lb_ways[lid].append((lif, eside))
            b.out_if[eid] = "l"
        elif svc.backend_kind is ServiceBackend.CLOUD_SERVICE:
            cs = topo.cloud_services[svc.backend]
            router_side, _ = cloud_way(cloud_router(cs.region), eid, cs.id)
            b.line(eid, f"route add {target}/32 via {router_side} dev c onlink")
            b.out_if[eid] = "c"
        else:
            vid = topo.instances[svc.backend].vpc
            snat = snat_address(topo, eid)
            if vid == ep.vpc:  # its own VPC's router: the way it already has
                b.line(vid, f"route add {snat}/32 via {ep.ip} dev {b.owner_if[eid][1]} onlink table {LOCAL_TABLE}")
                b.out_if[eid] = "r"
            else:
                vside, eside = b.subnet()
                xif = f"x{vpc_ifs.setdefault(vid, 0)}"
                vpc_ifs[vid] += 1
                b.links.append(Link(b.key(eid), "t", b.key(vid), xif))
                b.iface(eid, "t", f"{eside}/30")
                b.iface(vid, xif, f"{vside}/30")
                b.line(eid, f"route add {target}/32 via {vside} dev t onlink")
                b.line(vid, f"route add {snat}/32 via {eside} dev {xif} onlink table {LOCAL_TABLE}")
                b.out_if[eid] = "t"
            b.line(vid, f"rule add to {snat}/32 table {LOCAL_TABLE} priority 1000")

    plans = [_instance(b, iid, iid in relays) for iid in sorted(topo.instances)]
    plans += [_router(b, vid, lb_marks[vid], hop, tuple(ecmp.get(vid, ()))) for vid in sorted(topo.vpcs)]
    plans += [_ccn(b, cid) for cid in sorted(topo.ccns) if state.attached[cid]]
    plans += [_endpoint(b, eid) for eid in sorted(topo.endpoints)]
    plans += [_gateway_endpoint(b, gid) for gid in sorted(topo.gateway_endpoints)]
    plans += [_cloud_router(b, router, ways) for router, ways in sorted(clouds.items())]
    plans += [_cloud_service(b, sid) for sid in sorted(topo.cloud_services)]
    plans += [_load_balancer(b, lid, gateway[lid], lb_ways.get(lid, [])) for lid in sorted(topo.load_balancers)]
    plans += [_peering(b, pid) for pid in sorted(topo.peerings)]
    plans += [_gateway(b, gid) for gid in sorted(topo.gateways)]
    plans += [_idc_router(b, iid) for iid in sorted(topo.idcs)]
    plans += [_idc_host(b, h.id) for idc in sorted(topo.idcs) for h in topo.idcs[idc].hosts]
    return NetPlan(tag=tag, time=state.time, namespaces=tuple(plans), links=tuple(b.links), pool=pool)


def _instance(b: _Builder, iid: str, relay: bool = False) -> NsPlan:
    """An instance; one that is a route's next hop also forwards, its groups checking what it
    forwards on the way in (the source as peer) and on the way out (the destination as peer)."""
    inst = b.topo.instances[iid]
    drops = _Drops(iid)
    rules = []
    if inst.source_dest_check:
        # Its NIC takes only what is addressed to its own address: not what comes to a virtual IP.
        rules += [line for vip in inst.virtual_ips for line in drops.drop("INPUT", f"-d {vip}/32", "source_dest_check")]
    rules += _host_rules(drops)
    rules += _group_rules(b.state, inst.security_groups, "ingress", "VPCSIM-IN", drops)
    rules += _group_rules(b.state, inst.security_groups, "egress", "VPCSIM-OUT", drops)
    chains: tuple[str, ...] = ("VPCSIM-IN", "VPCSIM-OUT")
    policies = _DROP_ALL
    if relay and inst.source_dest_check:
        # Its NIC drops what is not addressed to it (Huawei's source/destination check).
        rules += drops.drop("FORWARD", "", "source_dest_check")
    elif relay:
        # A forwarded packet whose TTL runs out is dropped silently, as the cloud's routers do: the
        # time exceeded the kernel would answer is RELATED, so it stops before conntrack's accept.
        rules.insert(0, "-A OUTPUT -p icmp -m icmp --icmp-type time-exceeded -j DROP")
        rules += [f"-A FORWARD {_ESTABLISHED}", "-A FORWARD -j FWD-IN", "-A FORWARD -j FWD-OUT"]
        rules += _group_rules(b.state, inst.security_groups, "ingress", "FWD-IN", drops, accept="RETURN")
        rules += _group_rules(b.state, inst.security_groups, "egress", "FWD-OUT", drops)
        chains += ("FWD-IN", "FWD-OUT")
    listening = b.state.listening[iid]
    return b.ns(
        "instance",
        iid,
        relay,
        _table(policies, rules, chains),
        drops,
        listen=tuple(sorted(p for proto, p in listening if proto == "tcp")),
        listen_udp=tuple(sorted(p for proto, p in listening if proto == "udp")),
    )


def _host_rules(drops: _Drops) -> list[str]:
    """A host's INPUT and OUTPUT: conntrack, then its filter chains; what it answers a closed port
    with is logged before conntrack lets it out."""
    closed = drops.log("port_closed")
    return [
        f"-A INPUT {_ESTABLISHED}",
        "-A INPUT -j VPCSIM-IN",
        *(f"{c} {closed}" for c in _CLOSED),
        f"-A OUTPUT {_ESTABLISHED}",
        "-A OUTPUT -j VPCSIM-OUT",
    ]


def _idc_host(b: _Builder, hid: str) -> NsPlan:
    """A data-centre host: its firewall is the host's filter (a direction not given lets all through)."""
    host = next(h for idc in b.topo.idcs.values() for h in idc.hosts if h.id == hid)
    drops = _Drops(hid)
    rules = _host_rules(drops)
    for direction, chain in (("ingress", "VPCSIM-IN"), ("egress", "VPCSIM-OUT")):
        given = host.firewall.rules(direction)
        if given is None:
            rules.append(f"-A {chain} -j ACCEPT")
        else:
            rules += _rule_chain(
                [(f"{hid} firewall", given)], direction, chain, drops, f"firewall_{direction}_denied", "ACCEPT"
            )
    listening = b.state.listening[hid]
    return b.ns(
        "host",
        hid,
        False,
        _table(_DROP_ALL, rules, ("VPCSIM-IN", "VPCSIM-OUT")),
        drops,
        listen=tuple(sorted(p for proto, p in listening if proto == "tcp")),
        listen_udp=tuple(sorted(p for proto, p in listening if proto == "udp")),
    )


def _subnet_of(topo: Topology, node: str) -> tuple[str, str]:
    for section in (topo.instances, topo.endpoints, topo.load_balancers):
        obj = section.get(node)
        if obj is not None:
            return obj.vpc, obj.subnet
    raise PlanError(f"{node} is in no subnet")


def _acl_chain(acl: NetworkAcl, direction: str, chain: str, drops: _Drops) -> list[str]:
    """One list of an ACL as a chain: an accept returns, a drop logs and drops, the deny-all last."""
    kind = f"acl_{direction}_denied"
    body: list[str] = []
    # The cloud's default rules follow the user's, numbered on after them (Huawei [HWACL1]).
    for i, rule in enumerate((*acl.rules(direction), *acl.default_rules(direction))):
        for match in _matches(rule, direction):
            if rule.action is Action.ACCEPT:
                body.append(f"-A {chain} {match} -j RETURN".replace("  ", " "))
            else:
                body += drops.drop(chain, match, kind, acl.id, i)
    return body + drops.drop(chain, "", kind, acl.id, -1)


def _acl_rules(b: _Builder, vid: str, drops: _Drops) -> tuple[list[str], tuple[str, ...]]:
    """Network ACLs at the subnet boundary, in the router: a packet from a bound subnet's address to
    outside it meets the egress list, one handed into the subnet from outside the ingress list. No
    conntrack: replies are checked like any packet. An accept returns to FORWARD (the sinks still
    decide what has no route), a drop logs, and each list ends in the immutable deny-all."""
    # Every egress check before any ingress one: a packet leaves its subnet before it enters another.
    rules: dict[str, list[str]] = {"egress": [], "ingress": []}
    chains: dict[tuple[str, str], str] = {}
    body: list[str] = []
    for owner, (router, rif) in sorted(b.owner_if.items()):
        if router != vid:
            continue
        ovpc, osubnet = _subnet_of(b.topo, owner)
        acl = b.topo.acl_of(ovpc, osubnet)
        if acl is None:
            continue
        cidr = b.topo.subnet(ovpc, osubnet).cidr
        for direction in ("egress", "ingress"):
            chain = chains.get((acl.id, direction))
            if chain is None:
                chain = chains[(acl.id, direction)] = f"ACL{len(chains)}-{'OUT' if direction == 'egress' else 'IN'}"
                body += _acl_chain(acl, direction, chain, drops)
            if direction == "egress":
                rules[direction].append(f"-A FORWARD -i {rif} ! -d {cidr} -j {chain}")
            else:
                rules[direction].append(f"-A FORWARD -o {rif} ! -s {cidr} -j {chain}")
    return [*rules["egress"], *rules["ingress"], *body], tuple(chains.values())


def _router(
    b: _Builder,
    vid: str,
    marks: list[tuple[str, int]],
    hop: dict[tuple[str, str], tuple[str, str]],
    ecmp: tuple[EcmpGroup, ...],
) -> NsPlan:
    drops = _Drops(vid)
    cidr = b.topo.vpcs[vid].cidr
    acls, chains = _acl_rules(b, vid, drops)
    # An endpoint is not reached over peering: what comes from a peering connection stops first.
    closed = [
        line
        for pid in sorted(p for p in b.topo.peerings if vid in b.topo.peerings[p].vpcs)
        for ep in sorted(e.ip for e in b.topo.endpoints.values() if e.vpc == vid)
        for line in drops.drop("FORWARD", f"-i {hop[(vid, pid)][1]} -d {ep}/32", "no_route")
    ]
    if any(a.stateful for a in b.topo.network_acls.values() if a.vpc == vid):
        # ACLs that track connections: a packet of a flow they admitted passes (ESTABLISHED only,
        # as an ICMP error is checked like any packet).
        acls = ["-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT", *acls]
    acls = [*closed, *acls]
    sinks = [
        # Inside the CIDR only the Local route decides: an address nobody owns.
        *drops.drop("FORWARD", f"-o {SINK} -d {cidr}", "no_host"),
        *drops.drop("FORWARD", f"-o {SINK}", "no_route"),
    ]
    ipt = _table(_ROUTER, [*acls, *sinks], chains)
    if marks:
        mangle = ["*mangle", "-A PREROUTING -m conntrack --ctdir REPLY -j CONNMARK --restore-mark"]
        mangle += [f"-A PREROUTING -i {rif} -m conntrack --ctstate NEW -j CONNMARK --set-mark {m}" for rif, m in marks]
        ipt += "\n".join([*mangle, "COMMIT"]) + "\n"
    return b.ns("router", vid, True, ipt, drops, ecmp=ecmp)


def _ccn(b: _Builder, cid: str) -> NsPlan:
    drops = _Drops(cid)
    # Split horizon: a route never sends a packet back to the member it came from.
    rules = [line for i in b.ifaces[cid] for line in drops.drop("FORWARD", f"-i {i.name} -o {i.name}", "no_route")]
    rules += drops.drop("FORWARD", f"-o {SINK}", "no_route")
    return b.ns("ccn", cid, True, _table(_ROUTER, rules), drops)


def _peering(b: _Builder, pid: str) -> NsPlan:
    """A peering connection: each VPC's range toward it, nothing back where it came from."""
    drops = _Drops(pid)
    rules = [line for side in ("a", "b") for line in drops.drop("FORWARD", f"-i {side} -o {side}", "no_route")]
    rules += drops.drop("FORWARD", f"-o {SINK}", "no_route")
    return b.ns("peering", pid, True, _table(_ROUTER, rules), drops)


def _gateway(b: _Builder, gid: str) -> NsPlan:
    """A gateway: its data centres' ranges over their links while a tunnel to them is up, the rest
    back to the near side. A data centre whose tunnels are all down is cut off both ways."""
    gw = b.topo.gateways[gid]
    drops = _Drops(gid)
    rules: list[str] = []
    for j, iid in enumerate(dict.fromkeys(t.idc for t in gw.tunnels)):
        if not any(b.state.tunnels_up[(gid, t.id)] for t in gw.tunnels if t.idc == iid):
            rules += drops.drop("FORWARD", f"-i i{j}", "tunnel_down")
            for cidr in b.topo.idcs[iid].cidrs:
                rules += drops.drop("FORWARD", f"-o {SINK} -d {cidr}", "tunnel_down")
    # From the near side toward no data centre it reaches: the default route points back.
    rules += drops.drop("FORWARD", "-i n -o n", "no_route")
    rules += drops.drop("FORWARD", f"-o {SINK}", "no_route")
    return b.ns("gateway", gid, True, _table(_ROUTER, rules), drops)


def _idc_router(b: _Builder, iid: str) -> NsPlan:
    drops = _Drops(iid)
    rules = [line for c in b.topo.idcs[iid].cidrs for line in drops.drop("FORWARD", f"-o {SINK} -d {c}", "no_host")]
    rules += drops.drop("FORWARD", f"-o {SINK}", "no_route")
    return b.ns("router", iid, True, _table(_ROUTER, rules), drops)


def cloud_router(region: str) -> str:
    """The node of a region's cloud-service router (the oracle's own name: a plan key only)."""
    return f"cloud:{region}"


def _target_address(topo: Topology, eid: str) -> str:
    """Where an endpoint's service forwards: a load balancer's VIP, an instance's address or the
    virtual IP the service names, a cloud service's address."""
    svc = topo.endpoint_services[topo.endpoints[eid].service]
    if svc.backend_kind is ServiceBackend.LOAD_BALANCER:
        return str(topo.load_balancers[svc.backend].vip)
    if svc.backend_kind is ServiceBackend.CLOUD_SERVICE:
        return str(topo.cloud_services[svc.backend].ip)
    return str(svc.address if svc.address is not None else topo.instances[svc.backend].ip)


def _endpoint(b: _Builder, eid: str) -> NsPlan:
    ep = b.topo.endpoints[eid]
    drops = _Drops(eid)
    if b.state.endpoint_states[eid] != ACTIVE:
        # Only ACTIVE endpoints forward: everything stops here, both ways.
        rules = [*drops.drop("INPUT", "", "endpoint_not_active"), *drops.drop("FORWARD", "", "endpoint_not_active")]
        return b.ns("endpoint", eid, True, _table(_DROP_ALL, rules), drops)
    svc = b.topo.endpoint_services[ep.service]
    target, out = _target_address(b.topo, eid), b.out_if[eid]
    # TCP and UDP only: no echo request through or to it, and no ICMP error back (RELATED would pass).
    rules = [*drops.drop("INPUT", "-p icmp", "not_forwarded"), *drops.drop("FORWARD", "-p icmp", "not_forwarded")]
    if svc.ports:
        # A port no mapping names is not translated: it stops at the endpoint itself.
        rules += drops.drop("INPUT", f"-d {ep.ip}/32", "no_port_mapping")
    rules.append(f"-A FORWARD {_ESTABLISHED}")
    chains: tuple[str, ...] = ()
    if ep.security_groups:
        # The endpoint's groups see the client's real source: FORWARD runs before SNAT.
        rules.append(f"-A FORWARD -i r -o {out} -j {SG_CHAIN}")
        rules += _group_rules(b.state, ep.security_groups, "ingress", SG_CHAIN, drops)
        chains = (SG_CHAIN,)
    else:
        rules.append(f"-A FORWARD -i r -o {out} -j ACCEPT")
    ipt = _table(_DROP_ALL, rules, chains)
    if ep.allowed is not None:
        # Access control sees the client's real source, before any translation.
        allow = [f"-A PREROUTING -i r -d {ep.ip}/32 -p {p} -j ALLOW" for p in ("tcp", "udp")]
        allow += [f"-A ALLOW -s {net} -j RETURN" for net in ep.allowed]
        allow += drops.drop("ALLOW", "", "source_not_allowed")
        ipt += "*mangle\n:ALLOW - [0:0]\n" + "\n".join(allow) + "\nCOMMIT\n"
    if svc.ports:
        dnat = [
            f"-A PREROUTING -i r -d {ep.ip}/32 -p {m.protocol} -m {m.protocol} --dport {m.client_port} "
            f"-j DNAT --to-destination {target}:{m.server_port}"
            for m in svc.ports
        ]
    else:
        dnat = [f"-A PREROUTING -i r -d {ep.ip}/32 -p {p} -j DNAT --to-destination {target}" for p in ("tcp", "udp")]
    nat = [
        *dnat,
        f"-A POSTROUTING -o {out} -m conntrack --ctstate DNAT -j SNAT --to-source {snat_address(b.topo, eid)}",
    ]
    ipt += "*nat\n" + "\n".join(nat) + "\nCOMMIT\n"
    return b.ns("endpoint", eid, True, ipt, drops)


def _gateway_endpoint(b: _Builder, gid: str) -> NsPlan:
    """A gateway endpoint: what its VPC routes to it goes on to the cloud router, translated."""
    drops = _Drops(gid)
    rules = [*drops.drop("FORWARD", "-p icmp", "not_forwarded"), f"-A FORWARD {_ESTABLISHED}"]
    rules.append("-A FORWARD -i n -o c -j ACCEPT")
    ipt = _table(_DROP_ALL, rules)
    ipt += f"*nat\n-A POSTROUTING -o c -j SNAT --to-source {snat_address(b.topo, gid)}\nCOMMIT\n"
    return b.ns("endpoint", gid, True, ipt, drops)


def _cloud_router(b: _Builder, router: str, ways: list[tuple[str, str, str]]) -> NsPlan:
    """A region's cloud-service router: each way in reaches only its own endpoint's service."""
    drops = _Drops(router)
    region = router.split(":", 1)[1]
    services = sorted((sid, cs) for sid, cs in b.topo.cloud_services.items() if cs.region == region)
    rules = [
        line
        for ifname, _, own in ways
        for sid, cs in services
        if sid != own
        for line in drops.drop("FORWARD", f"-i {ifname} -d {cs.ip}/32", "no_route")
    ]
    for cidr in sorted({cs.cidr for _, cs in services}):
        rules += drops.drop("FORWARD", f"-o {SINK} -d {cidr}", "no_host")
    rules += drops.drop("FORWARD", f"-o {SINK}", "no_route")
    return b.ns("router", router, True, _table(_ROUTER, rules), drops)


def _cloud_service(b: _Builder, sid: str) -> NsPlan:
    """A cloud service: it admits every source; DNS is a real resolver (dnsmasq) on port 53."""
    cs = b.topo.cloud_services[sid]
    drops = _Drops(sid)
    rules = [*_host_rules(drops), "-A VPCSIM-IN -j ACCEPT", "-A VPCSIM-OUT -j ACCEPT"]
    ipt = _table(_DROP_ALL, rules, ("VPCSIM-IN", "VPCSIM-OUT"))
    if cs.kind == "dns":
        return b.ns("host", sid, False, ipt, drops, resolver=str(cs.ip))
    return b.ns(
        "host", sid, False, ipt, drops, listen=tuple(sorted(cs.listen)), listen_udp=tuple(sorted(cs.listen_udp))
    )


def _load_balancer(b: _Builder, lid: str, router_gw: str, endpoint_ways: list[tuple[str, str]]) -> NsPlan:
    lb = b.topo.load_balancers[lid]
    drops = _Drops(lid)
    vip = str(lb.vip)
    key = b.key(lid)
    # Replies leave by the interface their connection came in on.
    ways = [("r", router_gw), *endpoint_ways]
    mangle = ["-A PREROUTING -m conntrack --ctdir REPLY -j CONNMARK --restore-mark"]
    for i, (ifname, peer) in enumerate(ways, start=1):
        b.line(lid, f"route add default via {peer} dev {ifname} onlink table {100 + i}")
        b.line(lid, f"rule add fwmark {i} table {100 + i}")
        mangle.append(f"-A PREROUTING -i {ifname} -m conntrack --ctstate NEW -j CONNMARK --set-mark {i}")
    # The order the cloud decides in: ICMP is not forwarded; a session's packets pass; a new one
    # needs a listener on its port, then the load balancer's groups (before DNAT: they see the
    # listener's port), then a backend that takes it.
    mangle += drops.drop("PREROUTING", "-p icmp", "not_forwarded")
    # The legs from and to endpoints reach no router: the subnet's ACL is checked here (stateless).
    acl = b.topo.acl_of(lb.vpc, lb.subnet)
    acl_in: list[str] = []
    acl_out: list[str] = []
    chains = ""
    if acl is not None and endpoint_ways:
        cidr = b.topo.subnet(lb.vpc, lb.subnet).cidr
        for ifname, _ in endpoint_ways:
            mangle.append(f"-A PREROUTING -i {ifname} ! -s {cidr} -j ACL-IN")
            acl_out.append(f"-A FORWARD -o {ifname} ! -d {cidr} -j ACL-OUT")
        acl_in = _acl_chain(acl, "ingress", "ACL-IN", drops)
        acl_out += _acl_chain(acl, "egress", "ACL-OUT", drops)
        if acl.stateful:  # a flow the ACL admitted passes it both ways
            tracked = "-m conntrack --ctstate ESTABLISHED -j ACCEPT"
            mangle.insert(len(mangle) - len(endpoint_ways), f"-A PREROUTING {tracked}")
            acl_out.insert(0, f"-A FORWARD {tracked}")
        chains = ":ACL-IN - [0:0]\n"
    mangle.append(f"-A PREROUTING {_ESTABLISHED}")
    listeners = sorted(lb.listeners, key=lambda x: (x.protocol, x.port))
    for lst in listeners:
        p = lst.protocol
        target = f"-j {SG_CHAIN}" if lb.security_groups else "-j ACCEPT"
        mangle.append(f"-A PREROUTING -d {vip}/32 -p {p} -m {p} --dport {lst.port} {target}")
    mangle += drops.drop("PREROUTING", f"-d {vip}/32", "no_listener")
    if lb.security_groups:
        mangle += _group_rules(b.state, lb.security_groups, "ingress", SG_CHAIN, drops)
        chains += f":{SG_CHAIN} - [0:0]\n"
    mangle_text = "*mangle\n" + chains + "\n".join([*mangle, *acl_in]) + "\nCOMMIT\n"
    # A listener nobody may be scheduled on DNATs nothing: its packets are for the VIP itself.
    inputs: list[str] = []
    pins: list[Pin] = []
    loopbacks: set[str] = set()
    for lst in listeners:
        pool = b.state.candidates[(lid, lst.id)]
        if pool:
            first = pool[0]
            pins.append(Pin(key, vip, lst.port, str(b.topo.instances[first.instance].ip), first.port, lst.protocol))
            if lb.source_ip is None:  # a balancer that translates the source answers through itself
                loopbacks |= {str(b.topo.instances[x.instance].ip) for x in pool}
        else:
            p = lst.protocol
            inputs += drops.drop("INPUT", f"-d {vip}/32 -p {p} -m {p} --dport {lst.port}", "no_backend")
    forward = [
        *acl_out,
        # A backend scheduled its own connection would answer itself, never through the load balancer.
        *(line for a in sorted(loopbacks) for line in drops.drop("FORWARD", f"-s {a}/32 -d {a}/32", "lb_loopback")),
        f"-A FORWARD {_ESTABLISHED}",
        "-A FORWARD -m conntrack --ctstate DNAT -j ACCEPT",
    ]
    filt = _table(_DROP_ALL, [*inputs, *forward], ("ACL-OUT",) if acl_out else ())
    snat = f"-A POSTROUTING -o r -m conntrack --ctstate DNAT -j SNAT --to-source {lb.source_ip}\n"
    nat = f"*nat\n:{PIN_CHAIN} - [0:0]\n-A PREROUTING -j {PIN_CHAIN}\n{snat if lb.source_ip else ''}COMMIT\n"
    return b.ns("load_balancer", lid, True, filt + mangle_text + nat, drops, default_pins=tuple(pins))


def pin_document(lb_vip_pins: list[Pin]) -> str:
    """The ``iptables-restore --noflush`` document that replaces a load balancer's pins."""
    lines = ["*nat", f"-F {PIN_CHAIN}"]
    lines += [
        f"-A {PIN_CHAIN} -d {p.vip}/32 -p {p.protocol} -m {p.protocol} --dport {p.port} "
        f"-j DNAT --to-destination {p.backend}:{p.backend_port}"
        for p in lb_vip_pins
    ]
    return "\n".join([*lines, "COMMIT"]) + "\n"
