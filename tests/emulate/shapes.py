"""A seeded generator of whole scenarios of varied topology shape, for the differential suite.

``generator.variant`` perturbs the bundled three-VPC scenario: every variant has its shape, so
anything the simulator and the kernel decide only in other shapes (CCN route conflicts between
overlapping VPCs, two CCNs side by side, several services and endpoints, health flips) goes
untested there. :func:`shaped` builds a whole scenario for variant ``n`` instead, cycling through
named shapes (:data:`SHAPES`), each with its own random VPCs, subnets, addresses, security groups,
load balancers, Private Link objects, CCNs, timeline and checks. About a third of the variants of
the shapes in :data:`ACL_SHAPES` also bind network ACLs to some subnets (:meth:`_Builder.network_acls`),
drawn from a random stream of their own: without its ACLs such a variant is the one the same number
gave before ACLs existed.

Every variant is meant to be emulable, so the generator keeps to what the kernel build can
express: no check to the source's own address or to special addresses; no instance address that
is also a load-balancer or endpoint address anywhere (the build would hold both in one place);
checks placed where no control-state change falls inside their window (a TCP timeout lasts 127 s),
which it finds by running the simulator's own control plane over the generated timeline; at most
:data:`MAX_OBJECTS` instances, VPCs, CCNs, endpoints and load balancers (each becomes a namespace).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from vpcsim.control import control_timeline
from vpcsim.frontends import from_data

Data = dict[str, Any]

SHAPES = ("single-vpc", "seed-like", "ccn-hub", "two-ccns", "service-mesh", "lb-health", "peered", "premises")
"""The shapes, in the order variants cycle through them (variant ``n`` has shape ``n % 8``)."""

ZONES: dict[str, tuple[str, ...]] = {
    "ap-chengdu": ("ap-chengdu-1", "ap-chengdu-2"),
    "ap-chongqing": ("ap-chongqing-1",),
}
"""Regions with a default CCN delay between them, so a two-region CCN needs no settings."""

CONSUMER, PROVIDER, THIRD = "100012345678", "100087654321", "100055550000"
SNAT = "11.163.0.0/16"
CIDRS = (
    "10.0.0.0/16",
    "10.1.0.0/16",
    "10.2.0.0/16",
    "172.16.0.0/16",
    "172.17.0.0/16",
    "172.20.0.0/16",
    "192.168.0.0/16",
)
"""VPC CIDRs. Kept clear of the kernel build's link pools (169.254/16, 100.64/10, 198.18/15)."""
TCP_PORTS = (22, 80, 443, 3306, 8080, 9090)
UDP_PORTS = (53, 123, 5353)
LB_TCP_PORTS = (80, 443, 1044, 8000)
LB_UDP_PORTS = (53, 5353)
OUTSIDE = ("8.8.8.8", "1.1.1.1", "203.0.113.9", "9.9.9.9")
"""Addresses outside every VPC (and outside the link pools and special ranges)."""
MAX_OBJECTS = 40
"""Instances + VPCs + CCNs + endpoints + load balancers + peerings + data centres, their hosts and
gateways: each is a namespace in the kernel build."""
IDC_CIDRS = ("10.88.0.0/16", "10.99.0.0/16", "172.30.0.0/16")
"""Data-centre ranges: clear of every VPC CIDR above."""
AUTO_HOSTS = 10
"""Hosts below this offset in a subnet are left to auto-assigned endpoint addresses, so the
generator can tell where the loader will put them (the lowest free address from .2)."""
SPLIT_START = 140.0
"""Where the timeline starts when some checks run before it: a check at t <= 10 may last 127 s."""
ACL_SHAPES = ("single-vpc", "seed-like", "ccn-hub", "service-mesh", "peered", "premises")
"""Shapes some of whose variants bind network ACLs."""
ACL_SHARE = 1 / 3
"""The share of those variants that do."""
MAX_ACL_RULES = 20
"""Rules per direction of a network ACL (Tencent's limit; the loader refuses more)."""
EPHEMERAL = "1024-65535"
"""The return-traffic range of a stateless ACL: every client's port (Linux's 32768-60999) and every
Private Link SNAT port."""
LINUX_EPHEMERAL = (32768, 60999)
"""Where the kernel's (and the simulator's) clients take their ports. No generated rule covers part
of it: a reply's port differs between the two, so a rule must hold for all of it or none."""
SNAT_PORTS = "32768-60999"
"""Private Link SNAT ports of a variant with ACLs. The kernel build's SNAT keeps the client's port,
the simulator draws from ``settings.snat_ports``; in Linux's range both fall in the same rules."""


@dataclass
class _Vpc:
    id: str
    region: str
    account: str
    cidr: IPv4Network
    subnets: dict[str, IPv4Network]
    used: set[int] = field(default_factory=set)
    """Addresses taken in this VPC (the loader's owners are per VPC)."""


@dataclass
class _Host:
    id: str
    vpc: str
    ip: str
    tcp: list[int]
    udp: list[int]


@dataclass
class _Balancer:
    id: str
    vpc: str
    vip: str
    tcp: list[int]
    """Listener ports."""
    udp: list[int]


@dataclass
class _Endpoint:
    id: str
    vpc: str
    subnet: str
    service: str
    explicit: bool
    groups: list[str]
    ip: str = ""


class _Builder:
    """One variant under construction: objects first, then security-group rules (which name the
    addresses and ports the objects took), then the timeline's effects, then the checks."""

    def __init__(self, rng: random.Random, shape: str) -> None:
        self.rng = rng
        self.shape = shape
        self.vpcs: dict[str, _Vpc] = {}
        self.hosts: dict[str, _Host] = {}
        self.host_docs: dict[str, Data] = {}
        self.balancers: dict[str, _Balancer] = {}
        self.members: dict[str, set[str]] = {}
        """Load balancer → the instances bound to it."""
        self.lb_docs: dict[str, Data] = {}
        self.services: dict[str, Data] = {}
        self.service_lb: dict[str, str] = {}
        self.endpoints: dict[str, _Endpoint] = {}
        self.ccns: dict[str, Data] = {}
        self.timeline: list[Data] = []
        self.forced: list[tuple[str, str, str, int | None]] = []
        """Checks a shape insists on: (protocol, source, host, port)."""
        self.settings: Data = {"seed": rng.randint(0, 10_000)}
        self.split = rng.random() < 0.4
        """Whether the timeline starts late enough for checks to run before it too."""
        self.check_gap = (10, 40)
        self.instance_ips: set[str] = set()
        self.special_ips: set[str] = set()
        self.route_tables: dict[str, Data] = {}
        self.peerings: dict[str, Data] = {}
        self.idcs: dict[str, Data] = {}
        self.idc_hosts: dict[str, _Host] = {}
        self.vpn_gateways: dict[str, Data] = {}
        self.dc_gateways: dict[str, Data] = {}
        self.acl_rng: random.Random | None = None
        """Set (by :func:`shaped`) for a variant that binds network ACLs: their own random stream."""
        n_open = rng.randint(1, 2)
        n_rand = rng.randint(1, 3)
        self.open_groups = [f"sg-open{i + 1}" for i in range(n_open)]
        self.rand_groups = [f"sg-rule{i + 1}" for i in range(n_rand)]

    # -- objects ---------------------------------------------------------------------------
    def region(self) -> str:
        return self.rng.choice(sorted(ZONES))

    def vpc(self, cidr: str, region: str, account: str, subnets: list[str]) -> str:
        vid = f"vpc-{chr(ord('a') + len(self.vpcs))}"
        net = IPv4Network(cidr)
        subs = {f"sn-{vid[4:]}{i + 1}": IPv4Network(s) for i, s in enumerate(subnets)}
        for s in subs.values():
            assert s.subnet_of(net), (s, net)
        self.vpcs[vid] = _Vpc(vid, region, account, net, subs)
        return vid

    def subnet_cidrs(self, cidr: str, count: int) -> list[str]:
        """``count`` non-overlapping subnets of ``cidr``: /24s, sometimes a /26 inside one."""
        net = IPv4Network(cidr)
        base = int(net.network_address)
        thirds = self.rng.sample(range(1, 30), count)
        out = []
        for k in thirds:
            if self.rng.random() < 0.2:
                out.append(f"{IPv4Address(base + k * 256 + 64)}/26")
            else:
                out.append(f"{IPv4Address(base + k * 256)}/24")
        return out

    def _take(self, vid: str, sid: str, *, special: bool) -> str:
        """A free address of the subnet from :data:`AUTO_HOSTS` up: an instance's never equals a
        load balancer's or endpoint's anywhere (the kernel build would hold both)."""
        v = self.vpcs[vid]
        net = v.subnets[sid]
        base = int(net.network_address)
        clash = self.instance_ips if special else self.special_ips
        free = [
            base + k
            for k in range(AUTO_HOSTS, net.num_addresses - 1)
            if base + k not in v.used and str(IPv4Address(base + k)) not in clash
        ]
        ip = self.rng.choice(free)
        v.used.add(ip)
        text = str(IPv4Address(ip))
        (self.special_ips if special else self.instance_ips).add(text)
        return text

    def bind(self) -> list[str]:
        """1-3 groups in random order: usually one permissive group and some rule groups, so
        rules bite before (or after) the permissive ones."""
        groups = [self.rng.choice(self.open_groups)] if self.rng.random() < 0.97 else []
        extra = self.rng.sample(self.rand_groups, self.rng.randint(0 if groups else 1, min(2, len(self.rand_groups))))
        groups += extra
        self.rng.shuffle(groups)
        return groups

    def some_group(self) -> str:
        """A group for a load balancer or an endpoint: a permissive one more often than not."""
        return self.rng.choice(self.open_groups if self.rng.random() < 0.6 else self.rand_groups)

    def instance(
        self, vid: str, sid: str | None = None, *, tcp: list[int] | None = None, udp: list[int] | None = None
    ) -> str:
        rng = self.rng
        if sid is None:  # the emptiest subnet: at most 4 instances in each
            filled = {s: 0 for s in sorted(self.vpcs[vid].subnets)}
            for placed in self.host_docs.values():
                if placed["vpc"] == vid:
                    filled[placed["subnet"]] += 1
            sid = rng.choice([s for s, k in filled.items() if k == min(filled.values())])
        iid = f"cvm-{vid[4:]}{len([h for h in self.hosts.values() if h.vpc == vid]) + 1}"
        if tcp is None:
            tcp = sorted(rng.sample(TCP_PORTS, rng.choice([0, 1, 1, 2, 2, 3])))
        if udp is None:
            udp = sorted(rng.sample(UDP_PORTS, rng.choice([0, 1, 1, 2])))
        ip = self._take(vid, sid, special=False)
        self.hosts[iid] = _Host(iid, vid, ip, tcp, udp)
        doc: Data = {"vpc": vid, "subnet": sid, "ip": ip, "security_groups": self.bind()}
        listen: list[Any] = [*tcp, *(f"udp/{p}" for p in udp)]
        if listen:
            doc["listen"] = listen
        self.host_docs[iid] = doc
        return iid

    def populate(self, vid: str, per_subnet: tuple[int, int] = (1, 2)) -> list[str]:
        """Instances in every subnet of ``vid``."""
        return [
            self.instance(vid, sid)
            for sid in sorted(self.vpcs[vid].subnets)
            for _ in range(self.rng.randint(*per_subnet))
        ]

    def balancer(
        self,
        vid: str,
        pool: list[str],
        *,
        sid: str | None = None,
        listeners: tuple[int, int] = (1, 2),
        udp: float = 0.6,
        backends: tuple[int, int] = (1, 3),
        health: Callable[[], Data] | None = None,
    ) -> str:
        """A load balancer in ``vid`` with TCP (and maybe UDP) listeners over instances of ``pool``.

        Backends mostly use a port their instance listens on (a closed one makes an unhealthy or
        refusing backend); weights include 0."""
        rng = self.rng
        lid = f"lb-{len(self.balancers) + 1}"
        if sid is None:
            sid = rng.choice(sorted(self.vpcs[vid].subnets))
        vip = self._take(vid, sid, special=True)
        docs: Data = {}
        tcp_ports = sorted(rng.sample(LB_TCP_PORTS, rng.randint(*listeners)))
        udp_ports = sorted(rng.sample(LB_UDP_PORTS, 1)) if pool and rng.random() < udp else []
        for proto, ports in (("tcp", tcp_ports), ("udp", udp_ports)):
            for port in ports:
                chosen = rng.sample(pool, min(len(pool), rng.randint(*backends))) if pool else []
                bks: list[Data] = []
                for iid in chosen:
                    own = self.hosts[iid].tcp if proto == "tcp" else self.hosts[iid].udp
                    bport = rng.choice(own) if own and rng.random() < 0.85 else rng.choice([8081, 7000, 5354])
                    bk: Data = {"instance": iid, "port": bport}
                    if rng.random() < 0.8:
                        bk["weight"] = rng.choices([0, 5, 10, 50, 100], weights=[1, 2, 5, 2, 1])[0]
                    bks.append(bk)
                ld: Data = {"protocol": proto, "port": port, "backends": bks}
                if rng.random() < 0.4:
                    ld["scheduler"] = rng.choice(["wrr", "least_conn"])
                ld["health_check"] = health() if health else {"enabled": rng.random() < 0.6}
                docs[f"{proto}-{port}"] = ld
        doc: Data = {"vpc": vid, "subnet": sid, "vip": vip, "listeners": docs}
        if rng.random() < 0.2:
            doc["security_groups"] = [self.some_group()]
        self.lb_docs[lid] = doc
        self.balancers[lid] = _Balancer(lid, vid, vip, tcp_ports, udp_ports)
        self.members[lid] = {bk["instance"] for ld in docs.values() for bk in ld["backends"]}
        return lid

    def service(self, lid: str, *, auto_accept: bool | None = None, whitelist: list[str] | None = None) -> str:
        sid = f"svc-{len(self.services) + 1}"
        doc: Data = {"vpc": self.balancers[lid].vpc, "load_balancer": lid}
        if auto_accept is not None:
            doc["auto_accept"] = auto_accept
        if whitelist is not None:
            doc["whitelist"] = whitelist
        self.services[sid] = doc
        self.service_lb[sid] = lid
        return sid

    def admission(self, vid: str, svc: str) -> str:
        """The state an endpoint of ``vid`` on ``svc`` is created in (Tencent's admission)."""
        doc = self.services[svc]
        consumer, provider = self.vpcs[vid].account, self.vpcs[doc["vpc"]].account
        if consumer == provider:
            return "ACTIVE"
        whitelist = doc.get("whitelist", [])
        if consumer not in whitelist and "*" not in whitelist:
            return "FAILED"
        return "ACTIVE" if doc.get("auto_accept", False) else "PENDING"

    def endpoint(self, vid: str, svc: str, sid: str | None = None) -> str:
        eid = f"vpce-{len(self.endpoints) + 1}"
        if sid is None:
            sid = self.rng.choice(sorted(self.vpcs[vid].subnets))
        groups = [self.some_group()] if self.rng.random() < 0.2 else []
        self.endpoints[eid] = _Endpoint(eid, vid, sid, svc, self.rng.random() < 0.6, groups)
        return eid

    def ccn(self, attachments: list[str]) -> str:
        cid = f"ccn-{len(self.ccns) + 1}"
        doc: Data = {"attachments": attachments}
        if self.rng.random() < 0.3:
            doc["bandwidth"] = self.rng.choice(["1Gbps", 100, "500Mbps"])
        self.ccns[cid] = doc
        return cid

    def at(self, offset: float) -> float:
        """A timeline time ``offset`` seconds into the window of changes."""
        return (SPLIT_START if self.split else 1.0) + offset

    def event(self, offset: float, **keys: Any) -> None:
        self.timeline.append({"at": self.at(offset), **keys})

    # -- finishing -------------------------------------------------------------------------
    def _place_endpoints(self) -> None:
        """Chosen addresses first, then the auto-assigned ones in id order, as the loader does,
        so every endpoint's address is known for checks."""
        for ep in self.endpoints.values():
            if ep.explicit:
                ep.ip = self._take(ep.vpc, ep.subnet, special=True)
        for eid in sorted(self.endpoints):
            ep = self.endpoints[eid]
            if ep.explicit:
                continue
            v = self.vpcs[ep.vpc]
            net = v.subnets[ep.subnet]
            first = next(a for a in range(int(net.network_address) + 2, int(net.broadcast_address)) if a not in v.used)
            if first - int(net.network_address) >= AUTO_HOSTS or str(IPv4Address(first)) in self.instance_ips:
                ep.explicit = True
                ep.ip = self._take(ep.vpc, ep.subnet, special=True)
                continue
            v.used.add(first)
            ep.ip = str(IPv4Address(first))
            self.special_ips.add(ep.ip)

    def peers(self) -> list[str]:
        """What rules name: everything, the Private Link SNAT range, VPCs, subnets, real hosts
        (/32), an outside range."""
        out = ["0.0.0.0/0", "0.0.0.0/0", SNAT, "8.8.8.0/24"]
        for v in self.vpcs.values():
            out.append(str(v.cidr))
            out.extend(str(s) for s in v.subnets.values())
        out.extend(f"{h.ip}/32" for h in self.hosts.values())
        return out

    def rule(self, direction: str) -> Data:
        """A random rule. Egress drops are rarer: one that drops everything on the way out
        makes every check from that instance a timeout, which proves little."""
        rng = self.rng
        proto = rng.choices(["tcp", "udp", "icmp", "all"], weights=[5, 3, 2, 2])[0]
        drop = 2 if direction == "ingress" else 1
        r: Data = {"action": rng.choices(["accept", "drop"], weights=[5, drop])[0], "protocol": proto}
        if proto in ("tcp", "udp"):
            used = sorted({p for h in self.hosts.values() for p in (h.tcp if proto == "tcp" else h.udp)})
            used += [b for lb in self.balancers.values() for b in (lb.tcp if proto == "tcp" else lb.udp)]
            ports = used or list(TCP_PORTS if proto == "tcp" else UDP_PORTS)
            kind = rng.random()
            if kind < 0.55:
                r["port"] = rng.choice(ports)
            elif kind < 0.8:
                p = rng.choice(ports)
                r["port"] = f"{max(1, p - rng.randint(0, 100))}-{min(65535, p + rng.randint(0, 100))}"
        r["source" if direction == "ingress" else "destination"] = rng.choice(self.peers())
        if rng.random() < 0.05:
            r["description"] = "generated rule"
        return r

    def open_rules(self) -> list[Data]:
        """A permissive ingress list (sometimes with one random rule mixed in)."""
        rng = self.rng
        style = rng.randrange(3)
        if style == 0:
            rules = [{"action": "accept", "protocol": "all", "source": "0.0.0.0/0"}]
        elif style == 1:
            rules = [{"action": "accept", "protocol": p, "source": "0.0.0.0/0"} for p in ("tcp", "udp", "icmp")]
            rng.shuffle(rules)
        else:
            nets = [*sorted({str(v.cidr) for v in self.vpcs.values()}), SNAT]
            rules = [{"action": "accept", "protocol": "all", "source": n} for n in nets]
        if rng.random() < 0.3:
            rules.insert(rng.randint(0, len(rules)), self.rule("ingress"))
        return rules

    def groups(self) -> dict[str, Data]:
        out: dict[str, Data] = {}
        rng = self.rng
        for gid in self.open_groups:
            egress = [{"action": "accept", "protocol": "all", "destination": "0.0.0.0/0"}]
            if rng.random() < 0.15:
                egress.insert(0, self.rule("egress"))
            g: Data = {"ingress": self.open_rules(), "egress": egress}
            if rng.random() < 0.2:
                g["description"] = "mostly open"
            out[gid] = g
        for gid in self.rand_groups:
            out[gid] = {
                "ingress": [self.rule("ingress") for _ in range(rng.randint(1, 5))],
                "egress": [self.rule("egress") for _ in range(rng.choice([0, 0, 1, 2]))],
            }
        return out

    def rule_events(self, groups: dict[str, Data]) -> None:
        """add_rule / remove_rule events, counting each group's rules in time order so every
        index is valid when its event applies."""
        rng = self.rng
        counts = {(gid, d): len(g[d]) for gid, g in groups.items() for d in ("ingress", "egress")}
        for offset in sorted(rng.sample(range(0, 31, 3), rng.randint(1, 3))):
            gid = rng.choice(sorted(groups))
            direction = rng.choices(["ingress", "egress"], weights=[4, 1])[0]
            n = counts[(gid, direction)]
            if n and rng.random() < 0.4:
                self.event(
                    offset,
                    action="remove_rule",
                    security_group=gid,
                    direction=direction,
                    index=rng.randrange(n),
                )
                counts[(gid, direction)] = n - 1
            else:
                ev: Data = {"action": "add_rule", "security_group": gid, "direction": direction}
                if rng.random() < 0.7:
                    ev["index"] = rng.randint(0, n)
                ev["rule"] = self.rule(direction)
                self.event(offset, **ev)
                counts[(gid, direction)] = n + 1

    def document(self, groups: dict[str, Data], checks: list[Data], acls: dict[str, Data] | None = None) -> Data:
        d: Data = {"version": 1, "settings": self.settings}
        d["vpcs"] = {
            vid: {
                "region": v.region,
                "account": v.account,
                "cidr": str(v.cidr),
                "subnets": {
                    sid: {"cidr": str(net), "zone": self.zone(v.region, sid)} for sid, net in v.subnets.items()
                },
            }
            for vid, v in self.vpcs.items()
        }
        d["security_groups"] = groups
        if acls:
            d["network_acls"] = acls
        d["instances"] = self.host_docs
        if self.lb_docs:
            d["load_balancers"] = self.lb_docs
        if self.services:
            d["endpoint_services"] = self.services
        if self.endpoints:
            eps: Data = {}
            for eid, ep in self.endpoints.items():
                doc: Data = {"vpc": ep.vpc, "subnet": ep.subnet}
                if ep.explicit:
                    doc["ip"] = ep.ip
                doc["service"] = ep.service
                if ep.groups:
                    doc["security_groups"] = ep.groups
                eps[eid] = doc
            d["endpoints"] = eps
        if self.ccns:
            d["ccns"] = self.ccns
        for key, section in (
            ("route_tables", self.route_tables),
            ("peerings", self.peerings),
            ("idcs", self.idcs),
            ("vpn_gateways", self.vpn_gateways),
            ("dc_gateways", self.dc_gateways),
        ):
            if section:
                d[key] = section
        if self.timeline:
            d["timeline"] = sorted(self.timeline, key=lambda e: float(e["at"]))
        d["checks"] = checks
        return d

    def zone(self, region: str, sid: str) -> str:
        zones = ZONES[region]
        return zones[int(sid[-1]) % len(zones)]

    def reach(self, vid: str) -> set[str]:
        """VPCs whose addresses ``vid`` may route to: itself and the members of its CCN (ever),
        except those overlapping it (its Local route keeps their addresses at home)."""
        out = set()
        for c in self.ccns.values():
            if vid in c["attachments"]:
                out.update(c["attachments"])
        for ev in self.timeline:
            if ev["action"] == "attach_vpc" and (vid in self.ccns[ev["ccn"]]["attachments"] or ev["vpc"] == vid):
                out.update(self.ccns[ev["ccn"]]["attachments"])
                out.add(ev["vpc"])
        mine = self.vpcs[vid].cidr
        return {v for v in out if not self.vpcs[v].cidr.overlaps(mine)} | {vid}

    def unowned(self, vid: str) -> str:
        v = self.vpcs[vid]
        net = v.subnets[self.rng.choice(sorted(v.subnets))]
        base = int(net.network_address)
        free = [base + k for k in range(AUTO_HOSTS, net.num_addresses - 1) if base + k not in v.used]
        return str(IPv4Address(self.rng.choice(free)))

    def spec(self, proto: str) -> tuple[str, str, str, int | None] | None:
        """One check: (protocol, source, host, port). The destination first, then a source that
        can route to it more often than not (and is not a backend of the load balancer it asks:
        that is CLB loopback, a timeout that says little), so most checks reach what decides."""
        rng = self.rng
        lbs = sorted(self.balancers.values(), key=lambda x: x.id)
        eps = sorted(self.endpoints.values(), key=lambda x: x.id)
        if proto == "udp":  # a UDP check through a load balancer without UDP listeners is dull
            lbs = [lb for lb in lbs if lb.udp]
            eps = [ep for ep in eps if self.balancers[self.service_lb[ep.service]].udp]
        if proto == "tcp":
            kinds = {"open": 24, "closed": 24, "lb": 50 if lbs else 0, "ep": 40 if eps else 0, "none": 3, "out": 2}
        elif proto == "udp":
            kinds = {"open": 30, "closed": 40, "lb": 30 if lbs else 0, "ep": 24 if eps else 0, "none": 2, "out": 2}
        else:
            kinds = {"open": 80, "lb": 4 if lbs else 0, "ep": 4 if eps else 0, "none": 4, "out": 4}
        kind = rng.choices(list(kinds), weights=list(kinds.values()))[0]
        named = rng.random() < 0.5
        avoid: set[str] = set()
        port: int | None = None
        dst_vpc: str | None
        if kind in ("open", "closed"):
            h = self.hosts[rng.choice(sorted(self.hosts))]
            host, address, dst_vpc = (h.id if named else h.ip), h.ip, h.vpc
            own = h.tcp if proto == "tcp" else h.udp
            if proto != "icmp":
                if kind == "open" and own:
                    port = rng.choice(own)
                else:
                    pool = [p for p in (TCP_PORTS if proto == "tcp" else UDP_PORTS) if p not in own]
                    port = rng.choice([*pool, 7000])
        elif kind in ("lb", "ep"):
            if kind == "lb":
                lb = rng.choice(lbs)
                oid, address = lb.id, lb.vip
            else:
                ep = rng.choice(eps)
                lb = self.balancers[self.service_lb[ep.service]]
                oid, address = ep.id, ep.ip
            host, dst_vpc = (oid if named else address), self.lb_vpc_of(kind, oid)
            avoid = self.members[lb.id]
            own = lb.tcp if proto == "tcp" else lb.udp
            if proto != "icmp":
                port = rng.choice(own) if own and rng.random() < 0.9 else rng.choice([*LB_TCP_PORTS, *LB_UDP_PORTS, 81])
        elif kind == "none":
            dst_vpc = rng.choice(sorted(self.vpcs))
            host = address = self.unowned(dst_vpc)
        else:
            dst_vpc = None
            host = address = rng.choice(OUTSIDE)
        if kind in ("none", "out") and proto != "icmp":
            port = rng.choice([*TCP_PORTS, *UDP_PORTS])
        sources = [h for h in self.hosts.values() if h.ip != address]
        near = [h for h in sources if dst_vpc in self.reach(h.vpc) and h.id not in avoid]
        if not sources:
            return None
        src = rng.choice(near if near and rng.random() < 0.9 else sources)
        return proto, src.id, host, port

    def lb_vpc_of(self, kind: str, oid: str) -> str:
        return self.balancers[oid].vpc if kind == "lb" else self.endpoints[oid].vpc

    def checks(self, times: list[float]) -> list[Data]:
        """12-30 checks of the three protocols, at times no control change comes near."""
        rng = self.rng
        last = max(times, default=0.0)
        timed = bool(self.timeline)
        first_change = min((t for t in times if t > 0), default=None)
        out: list[Data] = []
        wanted = rng.randint(12, 30)
        specs: list[tuple[str, str, str, int | None]] = list(self.forced)
        while len(specs) < wanted:
            spec = self.spec(rng.choices(["tcp", "udp", "icmp"], weights=[42, 30, 28])[0])
            if spec is not None:
                specs.append(spec)
        for proto, src_id, host, port in specs[:30]:
            c: Data = {"from": src_id, "to": host if port is None else f"{host}:{port}"}
            if proto != "tcp":
                c["protocol"] = proto
            c["expect"] = "connected" if proto == "tcp" else "answered"
            if timed:
                if self.split and first_change is not None and first_change >= SPLIT_START and rng.random() < 0.4:
                    at = float(rng.choice([0, 3, 8]))
                else:
                    at = last + rng.randint(*self.check_gap)
                if at:
                    c["at"] = at
            elif rng.random() < 0.1:
                c["at"] = rng.choice([1, 5, "30s"])
            out.append(c)
        return out

    def finish(self) -> Data:
        self._place_endpoints()
        groups = self.groups()
        if self.rng.random() < 0.3:
            self.rule_events(groups)
        if not self.timeline:
            self.split = False
        count = len(self.hosts) + len(self.vpcs) + len(self.ccns) + len(self.endpoints) + len(self.balancers)
        count += len(self.peerings) + len(self.idcs) + len(self.idc_hosts) + len(self.vpn_gateways)
        count += len(self.dc_gateways)
        assert count <= MAX_OBJECTS, f"{self.shape}: {count} objects"
        acls = self.network_acls() if self.acl_rng is not None else {}
        probe = self.document(groups, [], acls)
        times = [s.time for s in control_timeline(from_data(probe, source=f"shape-{self.shape}"))]
        return self.document(groups, self.checks(times), acls)

    # -- network ACLs ------------------------------------------------------------------------
    def network_acls(self) -> dict[str, Data]:
        """ACLs on some subnets of each VPC (at least one subnet in all): one ACL per subnet, or one
        shared by several; now and then one bound to nothing. Rules are written the way people
        write them (services, then the return traffic, which is sometimes forgotten), or mostly
        open with a drop on top, or empty (the deny-all alone), or random."""
        assert self.acl_rng is not None
        rng = self.acl_rng
        out: dict[str, Data] = {}
        bound: list[tuple[str, list[str]]] = []
        for vid in sorted(self.vpcs):
            chosen = [sid for sid in sorted(self.vpcs[vid].subnets) if rng.random() < 0.5]
            if len(chosen) > 1 and rng.random() < 0.4:
                bound.append((vid, chosen))
            else:
                bound.extend((vid, [sid]) for sid in chosen)
        if not bound:
            vid = rng.choice(sorted(self.vpcs))
            bound.append((vid, [rng.choice(sorted(self.vpcs[vid].subnets))]))
        if rng.random() < 0.1:
            bound.append((rng.choice(sorted(self.vpcs)), []))
        for vid, sids in bound:
            doc: Data = {"vpc": vid}
            if sids:
                doc["subnets"] = sids
            for direction in ("ingress", "egress"):
                rules = self.acl_rules(direction, vid)
                if rules or rng.random() < 0.5:  # an empty list written out, or left to its default
                    doc[direction] = rules
            if rng.random() < 0.1:
                doc["description"] = "generated network ACL"
            out[f"acl-{len(out) + 1}"] = doc
        if self.endpoints:
            self.settings["snat_ports"] = SNAT_PORTS
        return out

    def acl_peers(self, accept: bool) -> list[str]:
        """What ACL rules name: everything, the Private Link SNAT range, VPC and subnet CIDRs.
        Accepts lean to the broad ones, drops to the narrow ones."""
        vpcs = [str(v.cidr) for v in self.vpcs.values()]
        subnets = [str(s) for v in self.vpcs.values() for s in v.subnets.values()]
        if accept:
            return ["0.0.0.0/0"] * 3 + [SNAT] * 2 + vpcs * 2 + subnets
        return ["0.0.0.0/0", SNAT, *vpcs, *subnets, *subnets]

    def service_ports(self, proto: str) -> list[int]:
        """The ports requests go to: what instances listen on, listener ports, backend ports."""
        used = {p for h in self.hosts.values() for p in (h.tcp if proto == "tcp" else h.udp)}
        used |= {p for lb in self.balancers.values() for p in (lb.tcp if proto == "tcp" else lb.udp)}
        for doc in self.lb_docs.values():
            for ld in doc["listeners"].values():
                if ld["protocol"] == proto:
                    used |= {bk["port"] for bk in ld["backends"]}
        return sorted(used) or list(TCP_PORTS if proto == "tcp" else UDP_PORTS)

    def acl_rule(self, direction: str, *, action: str | None = None) -> Data:
        """One rule: tcp/udp on a service port, a range around one, the ephemeral range or every
        port; icmp; all."""
        rng = self.acl_rng
        assert rng is not None
        proto = rng.choices(["tcp", "udp", "icmp", "all"], weights=[5, 3, 2, 2])[0]
        if action is None:
            action = rng.choices(["accept", "drop"], weights=[3, 1])[0]
        r: Data = {"action": action, "protocol": proto}
        if proto in ("tcp", "udp"):
            kind = rng.random()
            if kind < 0.5:
                r["port"] = rng.choice(self.service_ports(proto))
            elif kind < 0.7:
                p = rng.choice(self.service_ports(proto))
                r["port"] = f"{max(1, p - rng.randint(0, 100))}-{p + rng.randint(0, 100)}"
            elif kind < 0.9:
                r["port"] = EPHEMERAL
            elif kind < 0.95:
                r["port"] = "1-65535"
        r["source" if direction == "ingress" else "destination"] = rng.choice(self.acl_peers(action == "accept"))
        return r

    def acl_rules(self, direction: str, vid: str) -> list[Data]:
        """One direction's list for an ACL of ``vid``. Egress lists are more often open than ingress
        ones, as people write them; every style but the empty one may get a drop or two on top (or
        among them). A services list names one scope (everything, its own VPC or the Private Link
        SNAT range), now and then another peer for one rule."""
        rng = self.acl_rng
        assert rng is not None
        weights = [9, 5, 1, 2] if direction == "ingress" else [5, 9, 1, 2]
        style = rng.choices(["services", "open", "empty", "random"], weights=weights)[0]
        key = _peer_key(direction)
        rules: list[Data] = []
        if style == "services":  # the services' ports, the return traffic (maybe), ping (maybe)
            scope = rng.choices(["0.0.0.0/0", str(self.vpcs[vid].cidr), SNAT], weights=[5, 3, 1])[0]

            def peer() -> str:
                return self.acl_peer() if rng.random() < 0.15 else scope

            for proto in ("tcp", "udp"):
                ports = self.service_ports(proto)
                if rng.random() < 0.4:
                    ports = sorted(rng.sample(ports, (len(ports) + 1) // 2))
                rules.extend({"action": "accept", "protocol": proto, "port": p, key: peer()} for p in ports[:7])
                if rng.random() < 0.75:  # the return traffic, not always remembered
                    rules.append({"action": "accept", "protocol": proto, "port": EPHEMERAL, key: peer()})
            if rng.random() < 0.6:
                rules.append({"action": "accept", "protocol": "icmp", key: peer()})
            rng.shuffle(rules)
        elif style == "open":
            rules = [{"action": "accept", "protocol": "all", key: "0.0.0.0/0"}]
            if rng.random() < 0.3:  # open to the VPCs and the SNAT range only
                nets = [*sorted({str(v.cidr) for v in self.vpcs.values()}), SNAT]
                rules = [{"action": "accept", "protocol": "all", key: net} for net in nets]
        elif style == "random":
            rules = [self.acl_rule(direction) for _ in range(rng.randint(1, 6))]
        if style != "empty":
            for _ in range(rng.choices([0, 1, 2], weights=[5, 3, 1])[0]):
                at = rng.randint(0, len(rules)) if rng.random() < 0.4 else 0
                rules.insert(at, self.acl_rule(direction, action="drop"))
        for r in rules:
            low, _, high = str(r.get("port", "1-65535")).partition("-")
            lo, hi = int(low), int(high or low)
            assert (lo <= LINUX_EPHEMERAL[0] and hi >= LINUX_EPHEMERAL[1]) or hi < LINUX_EPHEMERAL[0], r
        return rules[:MAX_ACL_RULES]

    def acl_peer(self) -> str:
        """A peer for an accept: everything, the SNAT range or a VPC most of the time."""
        assert self.acl_rng is not None
        return self.acl_rng.choice(self.acl_peers(True))


# -- the shapes ----------------------------------------------------------------------------------


def _peer_key(direction: str) -> str:
    return "source" if direction == "ingress" else "destination"


def _admission_terms(b: _Builder) -> tuple[bool | None, list[str] | None]:
    """auto_accept and whitelist of a service: every combination, the keys sometimes left out."""
    rng = b.rng
    auto = rng.choice([None, False, True])
    whitelist = rng.choices([None, [], [CONSUMER], ["*"], [THIRD], [CONSUMER, THIRD]], weights=[1, 1, 3, 2, 1, 2])[0]
    return auto, whitelist


def _endpoint_events(b: _Builder, eid: str, start: int = 0) -> None:
    """Accept a PENDING endpoint (and maybe reject it again), or reject an ACTIVE one; a FAILED
    endpoint takes no event (the loader refuses one)."""
    rng = b.rng
    ep = b.endpoints[eid]
    state = b.admission(ep.vpc, ep.service)
    first = start + rng.randint(0, 12)
    if state == "PENDING" and rng.random() < 0.75:
        b.event(first, action="accept_endpoint", endpoint=eid)
        if rng.random() < 0.25:
            b.event(first + rng.randint(6, 15), action="reject_endpoint", endpoint=eid)
    elif state == "PENDING" and rng.random() < 0.5:
        b.event(first, action="reject_endpoint", endpoint=eid)
        if rng.random() < 0.5:
            b.event(first + rng.randint(6, 15), action="accept_endpoint", endpoint=eid)
    elif state == "ACTIVE" and rng.random() < 0.3:
        b.event(first, action="reject_endpoint", endpoint=eid)
        if rng.random() < 0.4:
            b.event(first + rng.randint(6, 15), action="accept_endpoint", endpoint=eid)


def _single_vpc(b: _Builder) -> None:
    """One VPC: instances talking inside it, maybe through a load balancer or two."""
    rng = b.rng
    cidr = rng.choice(CIDRS)
    vid = b.vpc(cidr, b.region(), rng.choice([CONSUMER, PROVIDER]), b.subnet_cidrs(cidr, rng.randint(1, 3)))
    subnets = sorted(b.vpcs[vid].subnets)
    iids = [b.instance(vid) for _ in range(rng.randint(max(3, len(subnets)), min(6, 4 * len(subnets))))]
    for _ in range(rng.choices([0, 1, 2], weights=[2, 5, 3])[0]):
        b.balancer(vid, iids[1:], backends=(2, 4))


def _seed_like(b: _Builder) -> None:
    """The bundled practice: consumer VPC with an endpoint, provider VPC with a CLB behind an
    endpoint service, a third VPC over a CCN (same region or the other one)."""
    rng = b.rng
    c1, c2, c3 = rng.sample(CIDRS, 3)
    far = rng.random() < 0.5
    provider = rng.choice([CONSUMER, PROVIDER])
    v1 = b.vpc(c1, "ap-chengdu", CONSUMER, b.subnet_cidrs(c1, rng.randint(1, 2)))
    v2 = b.vpc(c2, "ap-chengdu", provider, b.subnet_cidrs(c2, 2))
    v3 = b.vpc(c3, "ap-chongqing" if far else "ap-chengdu", CONSUMER, b.subnet_cidrs(c3, 1))
    b.populate(v1, (1, 2))
    b.populate(v3, (1, 2))
    clb, app = sorted(b.vpcs[v2].subnets)
    backends = []
    for _ in range(rng.randint(2, 3)):
        tcp = sorted({8080, *rng.sample(TCP_PORTS, rng.randint(0, 1))}) if rng.random() < 0.85 else [9090]
        backends.append(b.instance(v2, app, tcp=tcp, udp=[5353] if rng.random() < 0.7 else []))
    if rng.random() < 0.6:
        b.instance(v2, clb)
    lb = b.balancer(v2, backends, sid=clb, listeners=(1, 2), backends=(2, 3))
    if provider == CONSUMER:
        svc = b.service(lb, auto_accept=rng.choice([None, False]))
    else:
        svc = b.service(lb, auto_accept=rng.choice([None, False, True]), whitelist=rng.choice([[], [CONSUMER], ["*"]]))
    eps = [b.endpoint(v1, svc)]
    if not far and rng.random() < 0.3:
        eps.append(b.endpoint(v3, svc))
    attach = [v1, v3]
    rng.shuffle(attach)
    if rng.random() < 0.3:
        attach.insert(rng.randint(0, 2), v2)
    b.ccn(attach)
    for eid in eps:
        _endpoint_events(b, eid)


def _overlapping_subnets(b: _Builder, other: _Vpc, cidr: str, count: int) -> list[str]:
    """Subnets for a VPC of ``cidr`` (which overlaps ``other``'s): the first equals or sits inside
    one of ``other``'s (a CCN route conflict), the rest conflict or not at random."""
    rng = b.rng
    net = IPv4Network(cidr)
    theirs = [s for s in sorted(other.subnets.values()) if s.subnet_of(net)]
    rng.shuffle(theirs)
    third = {(int(s.network_address) >> 8) & 0xFF for s in other.subnets.values()}
    out: list[str] = []
    mine: set[int] = set()
    for i in range(count):
        if i < len(theirs) and (i == 0 or rng.random() < 0.6):
            s = theirs[i]
            if rng.random() < 0.35:
                s = next(s.subnets())  # inside theirs: contained, still a conflict
            out.append(str(s))
            mine.add((int(s.network_address) >> 8) & 0xFF)
        else:
            k = rng.choice([x for x in range(1, 30) if x not in third and x not in mine])
            mine.add(k)
            out.append(f"{IPv4Address(int(net.network_address) + k * 256)}/24")
    return out


def _ccn_hub(b: _Builder) -> None:
    """3-6 VPCs on one CCN, some overlapping: later-attached conflicting subnets are shadowed, and
    checks from a VPC with a CIDR of its own cross the conflicting prefixes."""
    rng = b.rng
    regions = ["ap-chengdu"] if rng.random() < 0.5 else ["ap-chengdu", "ap-chongqing"]
    base = rng.choice(["10.0.0.0/16", "10.1.0.0/16", "172.16.0.0/16"])
    free = [c for c in CIDRS if not IPv4Network(c).overlaps(IPv4Network(base))]
    rng.shuffle(free)

    def account() -> str:
        return rng.choice([CONSUMER, CONSUMER, PROVIDER])

    a = b.vpc(base, rng.choice(regions), account(), b.subnet_cidrs(base, rng.randint(1, 2)))
    overlapping = [a]
    unique: list[str] = []
    for i in range(1, rng.randint(3, 6)):
        if i == 2 or (i > 2 and rng.random() < 0.5) or not free:
            cidr = free.pop()
            unique.append(b.vpc(cidr, rng.choice(regions), account(), b.subnet_cidrs(cidr, rng.randint(1, 2))))
        else:
            cidr = base
            if base.startswith("10.") and rng.random() < 0.3:
                cidr = "10.0.0.0/12"  # a supernet of the base: overlaps without being equal
            other = b.vpcs[rng.choice(overlapping)]
            subnets = _overlapping_subnets(b, other, cidr, rng.randint(1, 2))
            overlapping.append(b.vpc(cidr, rng.choice(regions), account(), subnets))
    for vid in b.vpcs:
        b.populate(vid, (1, 2))
    if rng.random() < 0.9:
        vid = max(sorted(b.vpcs), key=lambda v: (len([h for h in b.hosts.values() if h.vpc == v]), rng.random()))
        b.balancer(vid, [h.id for h in b.hosts.values() if h.vpc == vid], backends=(2, 3))
    order = list(b.vpcs)
    rng.shuffle(order)
    late = order.pop() if rng.random() < 0.3 else None
    cid = b.ccn(order)
    if late is not None:
        b.event(rng.randint(0, 15), action="attach_vpc", ccn=cid, vpc=late)
    if rng.random() < 0.3:
        b.event(rng.randint(16, 30), action="detach_vpc", ccn=cid, vpc=rng.choice(order))
    # Checks across the conflicts: from a VPC with its own CIDR to hosts of the overlapping ones.
    sources = [h for h in b.hosts.values() if h.vpc in unique]
    shadowed = [h for h in b.hosts.values() if h.vpc in overlapping]
    for h in rng.sample(shadowed, min(len(shadowed), rng.randint(3, 6))):
        src = rng.choice(sources)
        proto = rng.choice(["tcp", "udp", "icmp"])
        if proto == "icmp":
            b.forced.append(("icmp", src.id, h.ip, None))
        else:
            own = h.tcp if proto == "tcp" else h.udp
            ports = own if own and rng.random() < 0.6 else list(TCP_PORTS if proto == "tcp" else UDP_PORTS)
            b.forced.append((proto, src.id, h.ip, rng.choice(ports)))


def _two_ccns(b: _Builder) -> None:
    """Two CCNs side by side and a VPC in neither: routes stay inside each CCN."""
    rng = b.rng
    regions = ["ap-chengdu"] if rng.random() < 0.4 else ["ap-chengdu", "ap-chongqing"]
    sizes = rng.choice([[2, 1], [2, 2], [3, 1]])
    cidrs = rng.sample(CIDRS, sum(sizes) + 1)
    if rng.random() < 0.3:
        cidrs[-1] = cidrs[0]  # the loner overlaps a member: harmless, no CCN joins them
    vids = [
        b.vpc(c, rng.choice(regions), rng.choice([CONSUMER, PROVIDER]), b.subnet_cidrs(c, rng.randint(1, 2)))
        for c in cidrs
    ]
    for vid in vids:
        b.populate(vid, (1, 2))
    first, second, loner = vids[: sizes[0]], vids[sizes[0] : -1], vids[-1]
    c1, c2 = b.ccn(first), b.ccn(second)
    if rng.random() < 0.9:
        vid = rng.choice(first + second)
        if len([h for h in b.hosts.values() if h.vpc == vid]) < 3:
            b.instance(vid)
        lb = b.balancer(vid, [h.id for h in b.hosts.values() if h.vpc == vid], backends=(2, 3))
        if rng.random() < 0.6:
            svc = b.service(lb, auto_accept=True, whitelist=["*"])
            same = [v for v in vids if v != vid and b.vpcs[v].region == b.vpcs[vid].region]
            if same:
                b.endpoint(rng.choice(same), svc)
    if rng.random() < 0.3:
        b.event(rng.randint(0, 20), action="attach_vpc", ccn=rng.choice([c1, c2]), vpc=loner)
    elif rng.random() < 0.2:
        b.event(rng.randint(0, 20), action="detach_vpc", ccn=c1, vpc=rng.choice(first))
    groups = [first, second, [loner]]
    for _ in range(rng.randint(3, 5)):
        g1, g2 = rng.sample(groups, 2) if rng.random() < 0.6 else [rng.choice(groups[:2])] * 2
        src = rng.choice([h for h in b.hosts.values() if h.vpc in g1])
        dst = [h for h in b.hosts.values() if h.vpc in g2 and h.ip != src.ip]
        if not dst:
            continue
        h = rng.choice(dst)
        if h.tcp and rng.random() < 0.5:
            b.forced.append(("tcp", src.id, rng.choice([h.id, h.ip]), rng.choice(h.tcp)))
        else:
            b.forced.append(("icmp", src.id, rng.choice([h.id, h.ip]), None))


def _service_mesh(b: _Builder) -> None:
    """Several endpoint services (each its own load balancer) in one or two provider VPCs, and
    endpoints in consumer VPCs admitted in every way, accepted and rejected over time."""
    rng = b.rng
    b.split = rng.random() < 0.7
    if rng.random() < 0.3:
        b.settings["endpoint_accept_delay"] = rng.choice([1, "500ms", 5])
    two = rng.random() < 0.4
    regions = ["ap-chengdu", "ap-chongqing"] if two else [b.region()]
    cidrs = rng.sample(CIDRS, 4)
    providers = [
        b.vpc(cidrs[i], regions[i % len(regions)], acct, b.subnet_cidrs(cidrs[i], rng.randint(1, 2)))
        for i, acct in enumerate([PROVIDER, rng.choice([THIRD, CONSUMER])][: rng.randint(1 + two, 2)])
    ]
    consumers = [
        b.vpc(cidrs[2 + i], regions[i % len(regions)], CONSUMER, b.subnet_cidrs(cidrs[2 + i], rng.randint(1, 2)))
        for i in range(rng.randint(1 + two, 2))
    ]
    for vid in providers:
        for _ in range(rng.randint(2, 3)):
            b.instance(vid, tcp=sorted({8080, *rng.sample(TCP_PORTS, rng.randint(0, 2))}), udp=[53])
    servers = {h.id for h in b.hosts.values()}
    for vid in consumers:
        b.populate(vid, (1, 2))
    svcs = []
    for i in range(rng.randint(2, 3)):
        vid = providers[i % len(providers)]
        lb = b.balancer(vid, sorted(h for h in servers if b.hosts[h].vpc == vid), listeners=(1, 1), backends=(2, 2))
        auto, whitelist = _admission_terms(b)
        svcs.append(b.service(lb, auto_accept=auto, whitelist=whitelist))
    pairs = [(c, s) for c in consumers for s in svcs if b.vpcs[c].region == b.vpcs[b.services[s]["vpc"]].region]
    for c, s in rng.sample(pairs, min(len(pairs), rng.randint(2, 3))):
        _endpoint_events(b, b.endpoint(c, s), start=rng.choice([0, 0, 10]))
    if len(consumers) == 2 and rng.random() < 0.6:
        b.ccn(consumers)
    for vid in providers:
        if rng.random() < 0.7:
            b.instance(vid)  # a client beside the services, reaching their load balancers directly


def _lb_health(b: _Builder) -> None:
    """Load balancers whose backends' health flips: weights (0 too), health checks on and off,
    backends that listen or not, listeners stopped and started on the timeline."""
    rng = b.rng
    b.check_gap = (30, 60)
    cidr = rng.choice(CIDRS)
    region = b.region()
    a = b.vpc(cidr, region, CONSUMER, b.subnet_cidrs(cidr, 2))
    far = None
    if rng.random() < 0.5:
        other = rng.choice([c for c in CIDRS if c != cidr])
        far = b.vpc(other, b.region(), CONSUMER, b.subnet_cidrs(other, 1))
    pool = [b.instance(a) for _ in range(rng.randint(3, 5))]
    b.instance(a)
    if far is not None:
        b.populate(far, (1, 2))
        b.ccn([a, far])

    def health() -> Data:
        hc: Data = {"enabled": rng.random() < 0.75}
        if rng.random() < 0.7:
            hc.update(
                interval=rng.choice([2, 3, "5s"]),
                timeout=2,
                healthy_threshold=rng.choice([2, 3]),
                unhealthy_threshold=rng.choice([2, 3]),
            )
        return hc

    for _ in range(rng.randint(1, 3)):
        b.balancer(a, pool, listeners=(1, 2), udp=0.5, backends=(2, 4), health=health)
    sockets = sorted(
        {
            (bk["instance"], ld["protocol"], bk["port"])
            for lb in b.lb_docs.values()
            for ld in lb["listeners"].values()
            for bk in ld["backends"]
        }
    )
    listening = {s: (s[2] in (b.hosts[s[0]].tcp if s[1] == "tcp" else b.hosts[s[0]].udp)) for s in sockets}
    for offset in sorted(rng.sample(range(0, 31, 2), rng.randint(1, 4))):
        iid, proto, port = rng.choice(sockets)
        ev: Data = {"action": "stop_listener" if listening[(iid, proto, port)] else "start_listener"}
        ev.update(instance=iid, port=port)
        if proto == "udp" or rng.random() < 0.2:
            ev["protocol"] = proto
        listening[(iid, proto, port)] = not listening[(iid, proto, port)]
        b.event(offset, **ev)


def _route(b: _Builder, table: str, destination: str, kind: str, target: str, *, ecmp: bool = False) -> str | None:
    """A route in ``table``, sometimes written disabled; None when the table has one to that
    destination already (two would be a load error), unless ``ecmp`` asks for an equal-cost one."""
    routes = b.route_tables[table].setdefault("routes", {})
    same = [r for r in routes.values() if r["destination"] == destination]
    if same and not (ecmp and all(r["next_hop"]["type"] == kind and r["next_hop"]["id"] != target for r in same)):
        return None
    rid = f"r{len(routes) + 1}"
    doc: Data = {"destination": destination, "next_hop": {"type": kind, "id": target}}
    if b.rng.random() < 0.08:
        doc["enabled"] = False
    routes[rid] = doc
    return rid


def _tables(b: _Builder, vid: str) -> list[str]:
    """0-2 declared route tables of ``vid``: maybe its default one, maybe one bound to some subnets."""
    rng = b.rng
    out = []
    subnets = sorted(b.vpcs[vid].subnets)
    if rng.random() < 0.8:
        tid = f"rtb-{vid[4:]}main"
        b.route_tables[tid] = {"vpc": vid, "default": True}
        out.append(tid)
    if len(subnets) > 1 and rng.random() < 0.6:
        tid = f"rtb-{vid[4:]}{len(out) + 1}"
        b.route_tables[tid] = {"vpc": vid, "subnets": rng.sample(subnets, rng.randint(1, len(subnets) - 1))}
        out.append(tid)
    return out


def _route_events(b: _Builder, candidates: list[tuple[str, str, str, str]]) -> None:
    """Routes added later, and routes deleted, disabled or enabled on the timeline (each valid in
    the state its time leaves: the tables are followed event by event)."""
    rng = b.rng
    state = {
        t: {rid: (r["destination"], r.get("enabled", True)) for rid, r in doc.get("routes", {}).items()}
        for t, doc in b.route_tables.items()
    }
    for offset in sorted(rng.sample(range(0, 31, 5), rng.randint(1, 2))):
        present = [(t, rid) for t, rows in state.items() for rid in rows]
        if candidates and (not present or rng.random() < 0.5):
            table, dest, kind, target = rng.choice(candidates)
            candidates.remove((table, dest, kind, target))
            if any(d == dest for d, _ in state[table].values()):
                continue
            rid = f"t{offset}"
            b.event(
                offset,
                action="add_route",
                route_table=table,
                route=rid,
                destination=dest,
                next_hop={"type": kind, "id": target},
            )
            state[table][rid] = (dest, True)
        elif present:
            table, rid = rng.choice(present)
            dest, enabled = state[table][rid]
            action = rng.choice(["delete_route", "disable_route"]) if enabled else "enable_route"
            if action == "enable_route" and any(d == dest and on for d, on in state[table].values()):
                continue
            b.event(offset, action=action, route_table=table, route=rid)
            if action == "delete_route":
                del state[table][rid]
            else:
                state[table][rid] = (dest, action == "enable_route")


def _peered(b: _Builder) -> None:
    """2-4 VPCs, some peered, with route tables that route through the peerings (on both sides, one
    side or none), through an instance that forwards, toward VPCs a peering does not join (no
    transit), sometimes over a CCN; a service with an endpoint that peers try to reach."""
    rng = b.rng
    n = rng.randint(2, 4)
    cidrs = rng.sample(CIDRS, n)
    region = b.region()
    vids = []
    for c in cidrs:
        r = region if rng.random() < 0.8 else b.region()
        vids.append(b.vpc(c, r, rng.choice([CONSUMER, PROVIDER]), b.subnet_cidrs(c, rng.randint(1, 2))))
    for vid in vids:
        b.populate(vid, (1, 2))
    pairs = [(x, y) for i, x in enumerate(vids) for y in vids[i + 1 :] if b.vpcs[x].region == b.vpcs[y].region]
    rng.shuffle(pairs)
    peered = pairs[: rng.randint(1, max(1, len(pairs) - 1))] if pairs else []
    tables = {vid: _tables(b, vid) for vid in vids}
    later: list[tuple[str, str, str, str]] = []
    for x, y in peered:
        pid = f"pcx-{len(b.peerings) + 1}"
        b.peerings[pid] = {"vpcs": [x, y]}
        for here, there in ((x, y), (y, x)):
            for tid in tables[here]:
                roll = rng.random()
                dest = str(b.vpcs[there].cidr)
                if roll < 0.65:
                    _route(b, tid, dest, "peering", pid)
                elif roll < 0.8:
                    later.append((tid, dest, "peering", pid))
        # Toward a third VPC through this peering: the peering joins two ranges only.
        others = [v for v in vids if v not in (x, y)]
        if others and tables[x] and rng.random() < 0.4:
            _route(b, rng.choice(tables[x]), str(b.vpcs[rng.choice(others)].cidr), "peering", pid)
    for vid in vids:  # an instance that forwards, as a route's next hop; now and then two (ECMP)
        relays = [h for h in b.hosts.values() if h.vpc == vid]
        if tables[vid] and relays and rng.random() < 0.35:
            others = [v for v in vids if v != vid]
            tid, dest = rng.choice(tables[vid]), str(b.vpcs[rng.choice(others)].cidr)
            chosen = rng.sample(relays, 2) if len(relays) > 1 and rng.random() < 0.4 else [rng.choice(relays)]
            for relay in chosen:
                _route(b, tid, dest, "instance", relay.id, ecmp=True)
    if len(vids) >= 3 and rng.random() < 0.4:
        b.ccn(rng.sample(vids, 2))
    if rng.random() < 0.4:
        vid = rng.choice(vids)
        pool = [h.id for h in b.hosts.values() if h.vpc == vid]
        lb = b.balancer(vid, pool, listeners=(1, 1), backends=(1, 2), udp=0.3)
        svc = b.service(lb, auto_accept=True, whitelist=["*"])
        peer = next((y if x == vid else x for x, y in peered if vid in (x, y)), None)
        consumer = peer if peer is not None and b.vpcs[peer].region == b.vpcs[vid].region else vid
        eid = b.endpoint(consumer, svc)
        across = [x if y == consumer else y for x, y in peered if consumer in (x, y)]
        for src in [h for h in b.hosts.values() if h.vpc in across][:2]:
            b.forced.append(("tcp", src.id, eid, b.balancers[lb].tcp[0]))
    if (later or any(doc.get("routes") for doc in b.route_tables.values())) and rng.random() < 0.4:
        _route_events(b, later)
    for x, y in peered:  # checks across each peering, both ways
        for src_vpc, dst_vpc in ((x, y), (y, x)):
            srcs = [h for h in b.hosts.values() if h.vpc == src_vpc]
            dsts = [h for h in b.hosts.values() if h.vpc == dst_vpc]
            src, dst = rng.choice(srcs), rng.choice(dsts)
            if dst.tcp and rng.random() < 0.6:
                b.forced.append(("tcp", src.id, rng.choice([dst.id, dst.ip]), rng.choice(dst.tcp)))
            else:
                b.forced.append(("icmp", src.id, dst.ip, None))


def _premises(b: _Builder) -> None:
    """A data centre or two joined to a VPC by VPN (tunnels up and down over time) or Direct
    Connect, VPC-type or CCN-type; routes on both sides (static or propagated, sometimes missing);
    host firewalls; checks from the data centres to instances, load balancers and endpoints, and
    back."""
    rng = b.rng
    cidrs = rng.sample(CIDRS, 2)
    region = b.region()
    v1 = b.vpc(cidrs[0], region, CONSUMER, b.subnet_cidrs(cidrs[0], rng.randint(1, 2)))
    vids = [v1]
    if rng.random() < 0.5:
        vids.append(b.vpc(cidrs[1], b.region(), CONSUMER, b.subnet_cidrs(cidrs[1], 1)))
    for vid in vids:
        b.populate(vid, (1, 2))
    ccn = b.ccn(vids) if len(vids) > 1 or rng.random() < 0.3 else None
    tables = {vid: _tables(b, vid) for vid in vids}
    idc_cidrs = rng.sample(IDC_CIDRS, rng.randint(1, 2))
    for k, cidr in enumerate(idc_cidrs):
        iid = f"idc-{k + 1}"
        net = IPv4Network(cidr)
        hosts: Data = {}
        for j in range(rng.randint(1, 2)):
            hid = f"{iid}-h{j + 1}"
            ip = str(IPv4Address(int(net.network_address) + 256 * rng.randint(1, 9) + rng.randint(10, 200)))
            tcp = sorted(rng.sample(TCP_PORTS, rng.choice([0, 1, 2])))
            udp = sorted(rng.sample(UDP_PORTS, rng.choice([0, 1])))
            doc: Data = {"ip": ip}
            if tcp or udp:
                doc["listen"] = [*tcp, *(f"udp/{p}" for p in udp)]
            firewall: Data = {}
            for direction in ("ingress", "egress"):
                if rng.random() < 0.4:
                    firewall[direction] = [b.rule(direction) for _ in range(rng.randint(0, 3))]
                    if rng.random() < 0.6:
                        peer = "source" if direction == "ingress" else "destination"
                        firewall[direction].insert(0, {"action": "accept", "protocol": "all", peer: "0.0.0.0/0"})
            if firewall:
                doc["firewall"] = firewall
            hosts[hid] = doc
            b.idc_hosts[hid] = _Host(hid, iid, ip, tcp, udp)
        b.idcs[iid] = {"cidrs": [cidr], "hosts": hosts}
        vpn = rng.random() < 0.6
        ccn_type = ccn is not None and rng.random() < 0.4
        gid = f"{'vpngw' if vpn else 'dcg'}-{k + 1}"
        gw: Data = {"ccn": ccn, "region": region} if ccn_type else {"vpc": v1}
        if vpn:
            states = rng.choices(["up", "down"], weights=[4, 1], k=rng.randint(1, 2))
            gw["tunnels"] = {f"tun{i + 1}": {"idc": iid, "state": st} for i, st in enumerate(states)}
        else:
            gw["idc"] = iid
        gw["delay"] = rng.choice(["1ms", "4ms", 0.002])
        if not ccn_type and tables[v1] and rng.random() < 0.5:
            gw["route_tables"] = rng.sample(tables[v1], rng.randint(1, len(tables[v1])))
        elif not ccn_type:
            for tid in tables[v1]:
                if rng.random() < 0.75:
                    _route(b, tid, cidr, "vpn_gateway" if vpn else "dc_gateway", gid)
        (b.vpn_gateways if vpn else b.dc_gateways)[gid] = gw
        # Toward every VPC, mostly: through a VPC-type gateway the second one is beyond reach (no
        # transit), through a CCN-type one it is a member like the first.
        routes: Data = {}
        for vid in [v for v in vids if rng.random() < 0.85 or v == v1]:
            routes[f"to-{vid}"] = {"destination": str(b.vpcs[vid].cidr), "gateway": gid}
        if rng.random() < 0.2 and not ccn_type and len(vids) > 1:  # the same, written again
            routes[f"to-{vids[1]}"] = {"destination": str(b.vpcs[vids[1]].cidr), "gateway": gid}
        b.idcs[iid]["routes"] = routes
        if vpn and rng.random() < 0.5:
            tun = rng.choice(sorted(gw["tunnels"]))
            state = gw["tunnels"][tun]["state"]
            first = rng.randint(0, 15)
            b.event(first, action="tunnel_down" if state == "up" else "tunnel_up", vpn_gateway=gid, tunnel=tun)
            if rng.random() < 0.5:
                b.event(
                    first + rng.randint(5, 15),
                    action="tunnel_up" if state == "up" else "tunnel_down",
                    vpn_gateway=gid,
                    tunnel=tun,
                )
    if len(b.idcs) > 1 and "vpngw-1" in b.vpn_gateways and rng.random() < 0.4:
        # One gateway reaches both data centres, and each routes to the other through it: a gateway
        # joins each data centre to its own network, never the two to each other.
        gw1 = b.vpn_gateways["vpngw-1"]
        gw1["tunnels"]["tun9"] = {"idc": "idc-2", "state": "up"}
        for here, there in (("idc-1", "idc-2"), ("idc-2", "idc-1")):
            b.idcs[here]["routes"][f"to-{there}"] = {"destination": b.idcs[there]["cidrs"][0], "gateway": "vpngw-1"}
            src = rng.choice([h for h in b.idc_hosts.values() if h.vpc == here])
            dst = rng.choice([h for h in b.idc_hosts.values() if h.vpc == there])
            b.forced.append(("icmp", src.id, dst.ip, None))
    if rng.random() < 0.5:
        pool = [h.id for h in b.hosts.values() if h.vpc == v1]
        lb = b.balancer(v1, pool, listeners=(1, 1), backends=(1, 2), udp=0.3)
        if rng.random() < 0.6 and len(vids) > 1:
            svc = b.service(lb, auto_accept=True, whitelist=["*"])
            b.endpoint(vids[1] if b.vpcs[vids[1]].region == region else v1, svc)
    idc_hosts = sorted(b.idc_hosts.values(), key=lambda h: h.id)
    targets: list[tuple[str, str, int | None]] = []
    for h in b.hosts.values():
        if h.tcp:
            targets.append(("tcp", rng.choice([h.id, h.ip]), rng.choice(h.tcp)))
        targets.append(("icmp", h.ip, None))
    targets += [("tcp", lb.id, lb.tcp[0]) for lb in b.balancers.values()]
    targets += [("tcp", ep.id, b.balancers[b.service_lb[ep.service]].tcp[0]) for ep in b.endpoints.values()]
    for src in idc_hosts:
        for proto, host, port in rng.sample(targets, min(len(targets), rng.randint(2, 4))):
            b.forced.append((proto, src.id, host, port))
    for h in idc_hosts:  # and back, to the data centres
        src = rng.choice(list(b.hosts.values()))
        if h.tcp and rng.random() < 0.6:
            b.forced.append(("tcp", src.id, rng.choice([h.id, h.ip]), rng.choice([*h.tcp, 7000])))
        elif h.udp and rng.random() < 0.5:
            b.forced.append(("udp", src.id, h.ip, rng.choice(h.udp)))
        else:
            b.forced.append(("icmp", src.id, h.ip, None))


BUILDERS: dict[str, Callable[[_Builder], None]] = {
    "single-vpc": _single_vpc,
    "seed-like": _seed_like,
    "ccn-hub": _ccn_hub,
    "two-ccns": _two_ccns,
    "service-mesh": _service_mesh,
    "lb-health": _lb_health,
    "peered": _peered,
    "premises": _premises,
}


def shaped(n: int, seed: int = 20261130) -> tuple[str, Data]:
    """Variant number ``n``: its shape's name and the scenario (deterministic for ``seed``)."""
    name = SHAPES[n % len(SHAPES)]
    b = _Builder(random.Random(f"vpcsim-shapes:{seed}:{n}"), name)
    BUILDERS[name](b)
    acl_rng = random.Random(f"vpcsim-shapes-acl:{seed}:{n}")
    if name in ACL_SHAPES and acl_rng.random() < ACL_SHARE:
        b.acl_rng = acl_rng
    return name, b.finish()
