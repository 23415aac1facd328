"""From one compiled forwarding state to a kernel build plan: pure data, no side effects.

Every node of the IR becomes a network namespace (hosts, network routers, routing domains,
translators, load balancers); every edge the simulator's walk can take becomes a veth pair:

- instance, endpoint and load balancer <-> the router of their VPC (the owner's side carries the
  scenario's own address as a /32, the router's side a link address from a private pool);
- VPC router <-> CCN, for each VPC attached in this state;
- endpoint <-> the load balancer of its service (both sides link addresses).

Routes come from the compiled tables (Local owners as /32, CCN routes as compiled, a blackhole for
the VPC CIDR so unowned addresses drop silently, and a blackhole default). Filters are iptables
rulesets (conntrack first, then the security-group rules in order, then drop). The plan is a value:
``vpcsim.emulate.kernel`` applies it, tests read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from vpcsim.ir import Balancer, Filter, ForwardingState, Host, Router, Translator

LINK_POOLS = (
    IPv4Network("169.254.0.0/16"),
    IPv4Network("100.64.0.0/10"),
    IPv4Network("198.18.0.0/15"),
)
"""Candidate pools for link addresses, taken in order: the first that no scenario address,
prefix or check destination touches is used."""

PIN_CHAIN = "VPCSIM-PIN"
LOCAL_TABLE = 200
SG_CHAIN = "VPCSIM-SG"
_PROTO_NAMES = {6: "tcp", 17: "udp", 1: "icmp"}


class PlanError(Exception):
    """The state has something the kernel build cannot express faithfully."""


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
class NsPlan:
    key: str
    """``TAG/NODE``: unique across every plan of a build."""
    kind: str
    node: str
    ifaces: tuple[Iface, ...]
    ip_lines: tuple[str, ...]
    """``ip -batch`` lines (routes, rules) applied after addresses are set and links are up."""
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


def _ip(value: int) -> str:
    return str(IPv4Address(value))


def _rule_lines(f: Filter, chain: str) -> list[str]:
    """The security-group rules of ``f`` as iptables rules in ``chain``, in order, then drop."""
    lines: list[str] = []
    peer_flag = "-s" if f.direction == "ingress" else "-d"
    for r in f.rules:
        net = IPv4Network((r.net, bin(r.mask).count("1")))
        parts = [f"-A {chain}"]
        if net.prefixlen:
            parts.append(f"{peer_flag} {net}")
        if r.proto == 0:
            if (r.low, r.high) != (1, 65535):
                raise PlanError(
                    f"{r.match.group} {f.direction} rule #{r.match.number}: protocol 'all' with a port range"
                )
        elif r.proto in (6, 17):
            name = _PROTO_NAMES[r.proto]
            parts.append(f"-p {name} -m {name} --dport {r.low}:{r.high}")
        elif r.proto in _PROTO_NAMES:
            parts.append(f"-p {_PROTO_NAMES[r.proto]}")
        else:
            parts.append(f"-p {r.proto}")
        parts.append("-j ACCEPT" if r.accept else "-j DROP")
        lines.append(" ".join(parts))
    lines.append(f"-A {chain} -j DROP")
    return lines


_ESTABLISHED = "-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"


def _filter_table(policies: dict[str, str], rules: list[str], chains: tuple[str, ...] = ()) -> str:
    head = ["*filter"] + [f":{c} {p} [0:0]" for c, p in policies.items()] + [f":{c} - [0:0]" for c in chains]
    return "\n".join([*head, *rules, "COMMIT"]) + "\n"


class _Links:
    """Allocates /30 link subnets from the pool and records the veth pairs."""

    def __init__(self, pool: IPv4Network) -> None:
        self.base = int(pool.network_address)
        self.size = pool.num_addresses
        self.n = 0
        self.links: list[Link] = []

    def subnet(self) -> tuple[str, str]:
        """(first, second) host addresses of the next /30."""
        off = 4 * self.n
        if off + 4 > self.size:
            raise PlanError("too many links for the link address pool")
        self.n += 1
        return _ip(self.base + off + 1), _ip(self.base + off + 2)

    def add(self, a: str, a_if: str, b: str, b_if: str) -> None:
        self.links.append(Link(a, a_if, b, b_if))


def plan_state(tag: str, state: ForwardingState, pool: IPv4Network) -> NetPlan:
    """The kernel build of ``state``; namespace keys are ``TAG/NODE``."""
    nodes = state.nodes

    def key(node: str) -> str:
        return f"{tag}/{node}"

    links = _Links(pool)
    ifaces: dict[str, list[Iface]] = {nid: [] for nid in nodes}
    ip_lines: dict[str, list[str]] = {nid: [] for nid in nodes}
    routers = {nid: n for nid, n in sorted(nodes.items()) if isinstance(n, Router) and n.connected is not None}
    router_lb_marks: dict[str, list[tuple[str, str, int]]] = {nid: [] for nid in routers}
    router_if_count: dict[str, int] = dict.fromkeys(routers, 0)
    # Where each owner's link toward its router lives: node -> (router side address).
    gateway: dict[str, str] = {}

    def router_iface(rid: str) -> str:
        router_if_count[rid] += 1
        return f"r{router_if_count[rid] - 1}"

    # Owners (instances, endpoints, load balancers) hang off their VPC router.
    for rid, router in routers.items():
        for addr in sorted(router.owners):
            owner = router.owners[addr].node
            node = nodes[owner]
            if not isinstance(node, Host | Translator | Balancer) or node.gateway != rid:
                raise PlanError(f"{rid}'s Local route to {_ip(addr)} leads to {owner}, which is not in {rid}")
            rside, _ = links.subnet()
            rif = router_iface(rid)
            oif = "eth0" if isinstance(node, Host) else "r"
            links.add(key(rid), rif, key(owner), oif)
            ifaces[rid].append(Iface(rif, f"{rside}/30"))
            ifaces[owner].append(Iface(oif, f"{_ip(addr)}/32"))
            ip_lines[rid].append(f"route add {_ip(addr)}/32 dev {rif} table {LOCAL_TABLE}")
            ip_lines[owner].append(f"route add default via {rside} dev {oif} onlink")
            gateway[owner] = rside
            if isinstance(node, Balancer):
                mark = len(router_lb_marks[rid]) + 1
                router_lb_marks[rid].append((rif, _ip(addr), mark))
                ip_lines[rid].append(f"route add default via {_ip(addr)} dev {rif} onlink table {100 + mark}")
                ip_lines[rid].append(f"rule add fwmark {mark} table {100 + mark} priority {100 + mark}")
    # Routers <-> CCNs.
    ccn_side: dict[tuple[str, str], tuple[str, str]] = {}
    for rid, router in routers.items():
        if router.via is None or router.table is None:
            continue
        domain = nodes.get(router.via)
        if not isinstance(domain, Router) or domain.connected is not None:
            raise PlanError(f"{rid} learns routes from {router.via}, which is not a routing domain in this state")
        rside, cside = links.subnet()
        cif = f"v{len(ifaces[router.via])}"
        links.add(key(rid), "c", key(router.via), cif)
        ifaces[rid].append(Iface("c", f"{rside}/30"))
        ifaces[router.via].append(Iface(cif, f"{cside}/30"))
        ccn_side[(router.via, rid)] = (cif, rside)
        for prefix, entry in router.table.routes.routes():
            if entry.next_hop != rid:  # its own subnets: the Local route decides first
                ip_lines[rid].append(f"route add {prefix} via {cside} dev c onlink")
    for rid, router in routers.items():
        # The Local route wins for every address inside the VPC CIDR, whatever the CCN learned:
        # a table of its own, consulted first, holding the owners and a blackhole for the rest.
        # Replies of load-balancer connections are steered before it (priority 101+).
        assert router.connected is not None
        cidr = router.connected[2]
        ip_lines[rid].append(f"route add blackhole {cidr} table {LOCAL_TABLE}")
        ip_lines[rid].append(f"rule add to {cidr} table {LOCAL_TABLE} priority 1000")
        ip_lines[rid].append("route add blackhole default")
    for cid, ccn in sorted(nodes.items()):
        if not isinstance(ccn, Router) or ccn.connected is not None or ccn.table is None:
            continue
        for prefix, entry in ccn.table.routes.routes():
            side = ccn_side.get((cid, entry.next_hop))
            if side is None:
                raise PlanError(f"{cid} routes {prefix} to {entry.next_hop}, which is not attached to it")
            ip_lines[cid].append(f"route add {prefix} via {side[1]} dev {side[0]} onlink")
        ip_lines[cid].append("route add blackhole default")
    # Endpoints <-> the load balancer of their service.
    lb_endpoint_ifs: dict[str, list[tuple[str, str]]] = {}
    for eid, ep in sorted(nodes.items()):
        if not isinstance(ep, Translator):
            continue
        lb = nodes.get(ep.target)
        if not isinstance(lb, Balancer):
            raise PlanError(f"endpoint {eid}'s load balancer {ep.target} is not in this state")
        eside, lside = links.subnet()
        lif = f"e{len(lb_endpoint_ifs.setdefault(ep.target, []))}"
        links.add(key(eid), "l", key(ep.target), lif)
        ifaces[eid].append(Iface("l", f"{eside}/30"))
        ifaces[ep.target].append(Iface(lif, f"{lside}/30"))
        ip_lines[eid].append(f"route add {_ip(ep.target_address)}/32 via {lside} dev l onlink")
        lb_endpoint_ifs[ep.target].append((lif, eside))

    plans: list[NsPlan] = []
    for nid, node in sorted(nodes.items()):
        k = key(nid)
        if isinstance(node, Host):
            if nid not in gateway:
                raise PlanError(f"instance {nid} is not reachable from its router {node.gateway}")
            rules = [
                f"-A INPUT {_ESTABLISHED}",
                "-A INPUT -j VPCSIM-IN",
                f"-A OUTPUT {_ESTABLISHED}",
                "-A OUTPUT -j VPCSIM-OUT",
            ]
            rules += _rule_lines(node.ingress, "VPCSIM-IN") + _rule_lines(node.egress, "VPCSIM-OUT")
            ipt = _filter_table(
                {"INPUT": "DROP", "FORWARD": "DROP", "OUTPUT": "DROP"}, rules, ("VPCSIM-IN", "VPCSIM-OUT")
            )
            plans.append(
                NsPlan(
                    k,
                    "instance",
                    nid,
                    tuple(ifaces[nid]),
                    tuple(ip_lines[nid]),
                    False,
                    ipt,
                    tuple(sorted(port for proto, port in node.listening if proto == 6)),
                    listen_udp=tuple(sorted(port for proto, port in node.listening if proto == 17)),
                )
            )
        elif isinstance(node, Router) and node.connected is not None:
            ipt = _filter_table({"INPUT": "DROP", "FORWARD": "ACCEPT", "OUTPUT": "DROP"}, [])
            marks = router_lb_marks[nid]
            if marks:
                mangle = ["*mangle", "-A PREROUTING -m conntrack --ctdir REPLY -j CONNMARK --restore-mark"]
                mangle += [
                    f"-A PREROUTING -i {rif} -m conntrack --ctstate NEW -j CONNMARK --set-mark {mark}"
                    for rif, _vip, mark in marks
                ]
                ipt += "\n".join([*mangle, "COMMIT"]) + "\n"
            plans.append(NsPlan(k, "router", nid, tuple(ifaces[nid]), tuple(ip_lines[nid]), True, ipt))
        elif isinstance(node, Router):
            rules = [f"-A FORWARD -i {i.name} -o {i.name} -j DROP" for i in ifaces[nid]]
            ipt = _filter_table({"INPUT": "DROP", "FORWARD": "ACCEPT", "OUTPUT": "DROP"}, rules)
            plans.append(NsPlan(k, "ccn", nid, tuple(ifaces[nid]), tuple(ip_lines[nid]), True, ipt))
        elif isinstance(node, Translator):
            plans.append(_endpoint_plan(k, node, ifaces[nid], ip_lines[nid]))
        else:
            plans.append(_lb_plan(k, node, ifaces[nid], ip_lines[nid], gateway[nid], lb_endpoint_ifs.get(nid, [])))
    return NetPlan(tag=tag, time=state.time, namespaces=tuple(plans), links=tuple(links.links), pool=pool)


def _endpoint_plan(k: str, ep: Translator, ifaces: list[Iface], ip_lines: list[str]) -> NsPlan:
    policies = {"INPUT": "DROP", "FORWARD": "DROP", "OUTPUT": "DROP"}
    if not ep.active:
        # Only ACTIVE endpoints forward: no translation, everything drops silently.
        ipt = _filter_table(policies, [])
        return NsPlan(k, "endpoint", ep.id, tuple(ifaces), tuple(ip_lines), True, ipt)
    vip, lb_vip, snat = _ip(ep.address), _ip(ep.target_address), _ip(ep.snat_address)
    # TCP and UDP only: no echo request through, and no ICMP error back (RELATED would pass it).
    rules = ["-A FORWARD -p icmp -j DROP", f"-A FORWARD {_ESTABLISHED}"]
    chains: tuple[str, ...] = ()
    if ep.filter is not None:
        # The endpoint's security groups see the client's real source: FORWARD runs before SNAT.
        rules.append(f"-A FORWARD -i r -o l -j {SG_CHAIN}")
        rules += _rule_lines(ep.filter, SG_CHAIN)
        chains = (SG_CHAIN,)
    else:
        rules.append("-A FORWARD -i r -o l -j ACCEPT")
    ipt = _filter_table(policies, rules, chains)
    ipt += (
        "*nat\n"
        f"-A PREROUTING -i r -d {vip}/32 -p tcp -j DNAT --to-destination {lb_vip}\n"
        f"-A PREROUTING -i r -d {vip}/32 -p udp -j DNAT --to-destination {lb_vip}\n"
        f"-A POSTROUTING -o l -j SNAT --to-source {snat}\n"
        "COMMIT\n"
    )
    return NsPlan(k, "endpoint", ep.id, tuple(ifaces), tuple(ip_lines), True, ipt)


def _lb_plan(
    k: str,
    lb: Balancer,
    ifaces: list[Iface],
    ip_lines: list[str],
    router_gw: str,
    endpoint_ifs: list[tuple[str, str]],
) -> NsPlan:
    vip = _ip(lb.address)
    lines = list(ip_lines)
    # Replies leave by the interface their connection came in on (the simulator's return_to).
    ways = [("r", router_gw), *endpoint_ifs]
    mangle = ["*mangle", "-A PREROUTING -m conntrack --ctdir REPLY -j CONNMARK --restore-mark"]
    for i, (ifname, peer) in enumerate(ways, start=1):
        lines.append(f"route add default via {peer} dev {ifname} onlink table {100 + i}")
        lines.append(f"rule add fwmark {i} table {100 + i}")
        mangle.append(f"-A PREROUTING -i {ifname} -m conntrack --ctstate NEW -j CONNMARK --set-mark {i}")
    mangle.append(f"-A PREROUTING {_ESTABLISHED}")
    chains = ""
    if lb.filter is not None:
        # Evaluated before DNAT: the rule ports are the listener's port, as the simulator checks them.
        mangle.append(f"-A PREROUTING -d {vip}/32 -j {SG_CHAIN}")
        mangle += _rule_lines(lb.filter, SG_CHAIN)
        chains = f":{SG_CHAIN} - [0:0]\n"
    mangle_text = mangle[0] + "\n" + chains + "\n".join(mangle[1:]) + "\nCOMMIT\n"
    filt = _filter_table(
        {"INPUT": "DROP", "FORWARD": "DROP", "OUTPUT": "DROP"},
        [
            "-A FORWARD -p icmp -j DROP",
            f"-A FORWARD {_ESTABLISHED}",
            "-A FORWARD -m conntrack --ctstate DNAT -j ACCEPT",
        ],
    )
    nat = f"*nat\n:{PIN_CHAIN} - [0:0]\n-A PREROUTING -j {PIN_CHAIN}\nCOMMIT\n"
    pins: list[Pin] = []
    for (proto, port), listener in sorted(lb.listeners.items()):
        if listener.pool:  # no pin where the simulator's load balancer schedules nobody
            b = listener.pool[0]
            pins.append(Pin(k, vip, port, _ip(b.address), b.port, _PROTO_NAMES[proto]))
    return NsPlan(
        k, "load_balancer", lb.id, tuple(ifaces), tuple(lines), True, filt + mangle_text + nat, (), tuple(pins)
    )


def pin_document(lb_vip_pins: list[Pin]) -> str:
    """The ``iptables-restore --noflush`` document that replaces a load balancer's pins."""
    lines = ["*nat", f"-F {PIN_CHAIN}"]
    lines += [
        f"-A {PIN_CHAIN} -d {p.vip}/32 -p {p.protocol} -m {p.protocol} --dport {p.port} "
        f"-j DNAT --to-destination {p.backend}:{p.backend_port}"
        for p in lb_vip_pins
    ]
    return "\n".join([*lines, "COMMIT"]) + "\n"
