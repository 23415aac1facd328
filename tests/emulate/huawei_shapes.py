"""A seeded generator of Huawei Cloud scenarios for the differential suite.

:func:`huawei_shaped` builds variant ``n`` in one of two shapes:

- ``huawei-services``: two or three VPCs of up to three accounts; ECSs with random security
  groups (rules that name VPC Endpoint's range 198.19.128.0/17, the shared ELB range
  100.125.0.0/16, VPCs, subnets, hosts); shared and dedicated ELBs; endpoint services backed by an
  ELB, an ECS or its virtual IP, with port mappings (TCP and UDP), approval on or off and every
  kind of whitelist; endpoints with and without access control; accepts and rejects on the
  timeline; stateful network ACLs on some subnets;
- ``huawei-cloud``: OBS and DNS reached through gateway and interface endpoints from subnets on
  different route tables, a data centre over VPN or Direct Connect whose tunnel may go down, and
  an ECS that is a route's next hop, with or without its source/destination check.

Like :mod:`tests.emulate.shapes`, every variant is meant to be emulable: addresses are unique
across the whole scenario, checks run where no control-state change falls inside their window
(changes happen between 140 s and 180 s; checks run before 10 s or after the last change), and
the namespaces stay few.
"""

from __future__ import annotations

import random
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from vpcsim.control import control_timeline
from vpcsim.frontends import from_data

Data = dict[str, Any]

HUAWEI_SHAPES = ("huawei-services", "huawei-cloud")
REGION = "cn-north-4"
ZONES = ("cn-north-4a", "cn-north-4b")
ACCOUNTS = ("domain-a", "domain-b", "domain-c")
VPCEP = "198.19.128.0/17"
ELB_RANGE = "100.125.0.0/16"
CIDRS = ("10.0.0.0/16", "10.1.0.0/16", "172.16.0.0/16", "192.168.0.0/16")
TCP_PORTS = (22, 80, 443, 3306, 8080)
UDP_PORTS = (53, 123)
CHANGES = 140.0
"""Where the timeline's changes start: a check before 10 s is over by then."""


class _Builder:
    def __init__(self, rng: random.Random, shape: str) -> None:
        self.rng = rng
        self.shape = shape
        self.vpcs: Data = {}
        self.subnets: dict[str, list[tuple[str, IPv4Network]]] = {}
        self.used: set[str] = set()
        self.instances: Data = {}
        self.listen: dict[str, tuple[list[int], list[int]]] = {}
        self.lbs: Data = {}
        self.services: Data = {}
        self.endpoints: Data = {}
        self.targets: list[tuple[str, list[int], list[int]]] = []
        """(host or address, TCP ports, UDP ports) worth a check."""
        self.sources: list[str] = []
        self.timeline: list[Data] = []
        self.extra: Data = {}
        self.settings: Data = {"seed": rng.randint(0, 9999)}
        if rng.random() < 0.2:
            self.settings["vpcep_cidr"] = "198.19.128.0/20"
        if rng.random() < 0.2:
            self.settings["endpoint_connections"] = rng.choice([0, 1, 100])

    # -- objects ---------------------------------------------------------------------------
    def vpc(self, account: str) -> str:
        vid = f"vpc-{chr(ord('a') + len(self.vpcs))}"
        cidr = IPv4Network(CIDRS[len(self.vpcs)])
        base = int(cidr.network_address)
        subs = [(f"sn-{vid[4:]}{i + 1}", IPv4Network(f"{IPv4Address(base + (i + 1) * 256)}/24")) for i in range(2)]
        self.subnets[vid] = subs
        self.vpcs[vid] = {
            "region": REGION,
            "account": account,
            "cidr": str(cidr),
            "subnets": {sid: {"cidr": str(net), "zone": ZONES[i % 2]} for i, (sid, net) in enumerate(subs)},
        }
        return vid

    def address(self, vid: str, sid: str) -> str:
        net = dict(self.subnets[vid])[sid]
        free = [str(net.network_address + k) for k in range(10, 250) if str(net.network_address + k) not in self.used]
        ip = self.rng.choice(free)
        self.used.add(ip)
        return ip

    def ecs(self, vid: str, sid: str | None = None, *, server: bool = True) -> str:
        rng = self.rng
        sid = sid or rng.choice([s for s, _ in self.subnets[vid]])
        iid = f"ecs-{vid[4:]}{sum(1 for d in self.instances.values() if d['vpc'] == vid) + 1}"
        tcp = sorted(rng.sample(TCP_PORTS, rng.randint(1, 2))) if server else []
        udp = sorted(rng.sample(UDP_PORTS, 1)) if server and rng.random() < 0.5 else []
        groups = ["sg-open"] if rng.random() < 0.6 else []
        groups += rng.sample(["sg-rule1", "sg-rule2"], rng.randint(0 if groups else 1, 1))
        rng.shuffle(groups)
        doc: Data = {"vpc": vid, "subnet": sid, "ip": self.address(vid, sid), "security_groups": groups}
        if tcp or udp:
            doc["listen"] = [*tcp, *(f"udp/{p}" for p in udp)]
        self.instances[iid] = doc
        self.listen[iid] = (tcp, udp)
        self.targets.append((iid, tcp, udp))
        self.sources.append(iid)
        return iid

    def elb(self, vid: str, pool: list[str]) -> str:
        rng = self.rng
        lid = f"elb-{len(self.lbs) + 1}"
        sid = rng.choice([s for s, _ in self.subnets[vid]])
        kind = rng.choice(["shared", "dedicated"])
        listeners: Data = {}
        tcp_ports = sorted(rng.sample((80, 443, 8000), rng.randint(1, 2)))
        udp_ports = [53] if rng.random() < 0.4 else []
        for proto, ports in (("tcp", tcp_ports), ("udp", udp_ports)):
            for port in ports:
                backends = []
                for iid in rng.sample(pool, min(len(pool), rng.randint(1, 2))):
                    own = self.listen[iid][0 if proto == "tcp" else 1]
                    backends.append({"instance": iid, "port": rng.choice(own) if own and rng.random() < 0.85 else 7000})
                listeners[f"{proto}-{port}"] = {
                    "protocol": proto,
                    "port": port,
                    "backends": backends,
                    "health_check": {"enabled": rng.random() < 0.7},
                }
        doc: Data = {"vpc": vid, "subnet": sid, "vip": self.address(vid, sid), "type": kind, "listeners": listeners}
        if kind == "shared" and rng.random() < 0.3:
            doc["transfer_client_ip"] = True
        self.lbs[lid] = doc
        self.targets.append((lid, tcp_ports, udp_ports))
        return lid

    def service(
        self, vid: str, kind: str, backend: str, listening: tuple[list[int], list[int]]
    ) -> tuple[str, list[int], list[int]]:
        """An endpoint service and the client ports it maps (TCP, UDP)."""
        rng = self.rng
        sid = f"svc-{len(self.services) + 1}"
        tcp, udp = listening
        ports = []
        client_tcp, client_udp = [], []
        for proto, own in (("TCP", tcp), ("UDP", udp)):
            for server in own[:2]:
                client = rng.choice([server, 80, 8443, 5353]) if proto == "TCP" else rng.choice([server, 5353])
                if client in (client_tcp if proto == "TCP" else client_udp):
                    continue
                ports.append({"client_port": client, "server_port": server, "protocol": proto})
                (client_tcp if proto == "TCP" else client_udp).append(client)
        if not ports:
            ports = [{"client_port": 80, "server_port": 80, "protocol": "TCP"}]
            client_tcp = [80]
        doc: Data = {"vpc": vid, "server_type": kind, "port_id": backend, "ports": ports}
        if kind == "VIP":
            doc["vip"] = self.instances[backend]["virtual_ips"][0]
        approval = rng.choice([None, True, False])
        if approval is not None:
            doc["approval_enabled"] = approval
        whitelist = rng.choices(
            [None, [], ["iam:domain::domain-b"], ["*"], ["iam:domain::domain-c"]], weights=[2, 1, 3, 2, 1]
        )[0]
        if whitelist is not None:
            doc["whitelist"] = whitelist
        self.services[sid] = doc
        return sid, client_tcp, client_udp

    def endpoint(self, vid: str, service: str, tcp: list[int], udp: list[int]) -> str:
        rng = self.rng
        eid = f"vpce-{len(self.endpoints) + 1}"
        sid = rng.choice([s for s, _ in self.subnets[vid]])
        doc: Data = {"vpc": vid, "subnet": sid, "ip": self.address(vid, sid), "service": service}
        if rng.random() < 0.3:
            doc["enable_whitelist"] = True
            nets = [self.vpcs[vid]["cidr"], str(self.subnets[vid][0][1]), "10.88.0.0/16"]
            doc["whitelist"] = rng.sample(nets, rng.randint(1, 2))
        self.endpoints[eid] = doc
        spare = [p for p in (22, 9999) if p not in tcp]
        self.targets.append((eid, [*tcp, *spare[:1]], udp))
        return eid

    def event(self, offset: float, **keys: Any) -> None:
        self.timeline.append({"at": CHANGES + offset, **keys})

    # -- rules -----------------------------------------------------------------------------
    def peers(self) -> list[str]:
        out = ["0.0.0.0/0", VPCEP, VPCEP, ELB_RANGE, "10.88.0.0/16"]
        for vid, subs in self.subnets.items():
            out.append(self.vpcs[vid]["cidr"])
            out += [str(net) for _, net in subs]
        out += [f"{d['ip']}/32" for d in self.instances.values()]
        return out

    def rule(self, direction: str) -> Data:
        rng = self.rng
        proto = rng.choices(["tcp", "udp", "icmp", "all"], weights=[5, 3, 2, 2])[0]
        action = rng.choices(["accept", "drop"], weights=[4, 2 if direction == "ingress" else 1])[0]
        r: Data = {"action": action, "protocol": proto}
        if proto in ("tcp", "udp"):
            ports = sorted({p for t, u in self.listen.values() for p in (t if proto == "tcp" else u)}) or [80]
            if rng.random() < 0.7:
                r["port"] = rng.choice(ports)
        r["source" if direction == "ingress" else "destination"] = rng.choice(self.peers())
        return r

    def security_groups(self) -> Data:
        rng = self.rng
        open_in = [{"action": "accept", "source": "0.0.0.0/0"}]
        if rng.random() < 0.4:
            open_in = [
                {"action": "accept", "source": n} for n in (VPCEP, ELB_RANGE, *CIDRS[: len(self.vpcs)], "10.88.0.0/16")
            ]
        out: Data = {"sg-open": {"ingress": open_in, "egress": [{"action": "accept"}]}}
        for gid in ("sg-rule1", "sg-rule2"):
            out[gid] = {
                "ingress": [self.rule("ingress") for _ in range(rng.randint(1, 4))],
                "egress": [self.rule("egress") for _ in range(rng.choice([0, 1]))] + [{"action": "accept"}],
            }
        return out

    def network_acls(self) -> Data:
        rng = self.rng
        out: Data = {}
        for vid, subs in sorted(self.subnets.items()):
            if rng.random() < 0.4:
                sid = rng.choice([s for s, _ in subs])
                out[f"acl-{len(out) + 1}"] = {
                    "vpc": vid,
                    "subnets": [sid],
                    "ingress": [self.rule("ingress") for _ in range(rng.randint(0, 4))],
                    "egress": [self.rule("egress") for _ in range(rng.randint(0, 2))]
                    + ([{"action": "accept"}] if rng.random() < 0.7 else []),
                }
        return out

    # -- finishing -------------------------------------------------------------------------
    def document(self, checks: list[Data]) -> Data:
        d: Data = {"version": 1, "cloud": "huawei", "settings": self.settings}
        d["vpcs"] = self.vpcs
        d["security_groups"] = self.sg
        if self.acls:
            d["network_acls"] = self.acls
        d["instances"] = self.instances
        for key, section in (
            ("load_balancers", self.lbs),
            ("endpoint_services", self.services),
            ("endpoints", self.endpoints),
        ):
            if section:
                d[key] = section
        d.update(self.extra)
        if self.timeline:
            d["timeline"] = sorted(self.timeline, key=lambda e: float(e["at"]))
        d["checks"] = checks
        return d

    def checks(self, times: list[float]) -> list[Data]:
        rng = self.rng
        last = max(times, default=0.0)
        out: list[Data] = []
        for _ in range(rng.randint(12, 24)):
            host, tcp, udp = rng.choice(self.targets)
            proto = rng.choices(["tcp", "udp", "icmp"], weights=[5, 3, 1])[0]
            others = [s for s in self.sources if s != host]
            # Mostly a source in the target's own VPC: what decides is then more than a missing route.
            near = [s for s in others if self.home(s) is not None and self.home(s) == self.home(host)]
            src = rng.choice(near if near and rng.random() < 0.6 else others)
            c: Data = {"from": src}
            if proto == "icmp":
                c.update(to=host, protocol="icmp", expect="answered")
            else:
                own = tcp if proto == "tcp" else udp
                port = rng.choice(own) if own and rng.random() < 0.8 else rng.choice((*TCP_PORTS, *UDP_PORTS))
                c.update(to=f"{host}:{port}", expect="connected" if proto == "tcp" else "answered")
                if proto == "udp":
                    c["protocol"] = "udp"
            if self.timeline:
                at = rng.choice([0, 3, 8]) if rng.random() < 0.4 else last + rng.randint(10, 40)
                if at:
                    c["at"] = at
            out.append(c)
        return out

    def home(self, name: str) -> str | None:
        """The VPC an object (or an address of one) is in; None for what is in none."""
        for section in (self.instances, self.lbs, self.endpoints):
            if name in section:
                return str(section[name]["vpc"])
        for doc in self.instances.values():
            if name in doc.get("virtual_ips", ()):
                return str(doc["vpc"])
        return None

    def rule_events(self) -> None:
        """add_rule / remove_rule on the groups, so health probes and connections see them change."""
        rng = self.rng
        counts = {(gid, d): len(g[d]) for gid, g in self.sg.items() for d in ("ingress", "egress")}
        for offset in sorted(rng.sample(range(0, 31, 3), rng.randint(1, 3))):
            gid = rng.choice(sorted(self.sg))
            n = counts[(gid, "ingress")]
            if n and rng.random() < 0.4:
                self.event(
                    offset, action="remove_rule", security_group=gid, direction="ingress", index=rng.randrange(n)
                )
                counts[(gid, "ingress")] = n - 1
            else:
                rule = self.rule("ingress")
                self.event(offset, action="add_rule", security_group=gid, direction="ingress", index=0, rule=rule)
                counts[(gid, "ingress")] = n + 1

    def finish(self) -> Data:
        self.sg = self.security_groups()
        if self.rng.random() < 0.3:
            self.rule_events()
        self.acls = self.network_acls()
        probe = self.document([])
        times = [s.time for s in control_timeline(from_data(probe, source=f"shape-{self.shape}"))]
        return self.document(self.checks(times))


def _services(b: _Builder) -> None:
    rng = b.rng
    provider = b.vpc("domain-a")
    consumers = [b.vpc(rng.choice(ACCOUNTS)) for _ in range(rng.randint(1, 2))]
    pool = [b.ecs(provider) for _ in range(rng.randint(2, 3))]
    for vid in consumers:
        b.ecs(vid, server=rng.random() < 0.3)
    kinds = rng.sample(["LB", "VM", "VIP", "LB"], rng.randint(1, 3))
    for kind in kinds:
        if kind == "LB":
            backend = b.elb(provider, pool)
            lst = b.lbs[backend]["listeners"]
            listening = (
                [ld["port"] for ld in lst.values() if ld["protocol"] == "tcp"],
                [ld["port"] for ld in lst.values() if ld["protocol"] == "udp"],
            )
        else:
            backend = rng.choice(pool)
            listening = b.listen[backend]
            if kind == "VIP":
                doc = b.instances[backend]
                if "virtual_ips" not in doc:
                    vip = b.address(provider, doc["subnet"])
                    doc["virtual_ips"] = [vip]
                    b.targets.append((vip, *listening))
                    if rng.random() < 0.8:  # Huawei wants the check off for a virtual IP; now and then it is not
                        doc["source_dest_check"] = False
                if any(s["server_type"] == "VIP" and s["port_id"] == backend for s in b.services.values()):
                    continue
            if any(s["server_type"] == kind and s["port_id"] == backend for s in b.services.values()):
                continue
        svc, tcp, udp = b.service(provider, kind, backend, listening)
        for vid in rng.sample([*consumers, provider], rng.randint(1, 2)):
            eid = b.endpoint(vid, svc, tcp, udp)
            account = b.vpcs[vid]["account"]
            approval = b.services[svc].get("approval_enabled", True)
            listed = [w.rsplit("::", 1)[-1] for w in b.services[svc].get("whitelist", [])]
            failed = account != "domain-a" and account not in listed and "*" not in listed
            if not failed and rng.random() < 0.6:
                if approval:
                    b.event(rng.randint(0, 10), action="accept_endpoint", endpoint=eid)
                if rng.random() < 0.3:
                    b.event(rng.randint(12, 30), action="reject_endpoint", endpoint=eid)


def _cloud(b: _Builder) -> None:
    rng = b.rng
    vid = b.vpc("domain-a")
    other = b.vpc("domain-a")
    (sn1, _), (sn2, _) = b.subnets[vid]
    clients = [b.ecs(vid, sn1, server=rng.random() < 0.5), b.ecs(vid, sn2, server=rng.random() < 0.5)]
    server = b.ecs(other)
    b.extra["cloud_services"] = {
        "obs": {"type": "obs", "region": REGION, "ip": "100.125.4.25"},
        "dns": {"type": "dns", "region": REGION, "ip": "100.125.1.250"},
    }
    b.targets += [("obs", [80, 443, 21], []), ("dns", [53], [53])]
    tables: Data = {"rtb-main": {"vpc": vid, "default": True}}
    if rng.random() < 0.6:
        tables["rtb-side"] = {"vpc": vid, "subnets": [sn2]}
    named = rng.choice([None, ["rtb-main"], sorted(tables), sorted(tables)[-1:]])
    obs: Data = {"vpc": vid, "service": "obs"}
    if named is not None:
        obs["routetables"] = named
    b.endpoints["vpce-obs"] = obs
    b.endpoints["vpce-dns"] = {"vpc": vid, "subnet": sn1, "ip": b.address(vid, sn1), "service": "dns"}
    b.targets.append(("vpce-dns", [53], [53]))
    svc, tcp, udp = b.service(other, "VM", server, b.listen[server])
    b.services[svc]["approval_enabled"] = False
    b.endpoint(vid, svc, tcp, udp)
    # A data centre over VPN or Direct Connect, routed into the default table.
    kind = rng.choice(["vpn", "dc"])
    b.extra["idcs"] = {
        "office": {
            "cidrs": ["10.88.0.0/16"],
            "hosts": {"office-pc": {"ip": "10.88.1.20", "listen": [22]}},
            "routes": {
                "to-vpc": {"destination": b.vpcs[vid]["cidr"], "gateway": "gw-1"},
                "to-cloud": {"destination": ELB_RANGE, "gateway": "gw-1"},
            },
        }
    }
    b.sources.append("office-pc")
    b.targets.append(("office-pc", [22], []))
    if kind == "vpn":
        b.extra["vpn_gateways"] = {
            "gw-1": {
                "vpc": vid,
                "tunnels": {"tun-1": {"idc": "office"}},
                "delay": "2ms",
                "route_tables": sorted(tables),
            }
        }
        if rng.random() < 0.5:
            b.event(rng.randint(0, 10), action="tunnel_down", vpn_gateway="gw-1", tunnel="tun-1")
            if rng.random() < 0.5:
                b.event(rng.randint(12, 30), action="tunnel_up", vpn_gateway="gw-1", tunnel="tun-1")
    else:
        b.extra["dc_gateways"] = {"gw-1": {"vpc": vid, "idc": "office", "delay": "1ms", "route_tables": sorted(tables)}}
    # An ECS as a route's next hop toward the other VPC: its source/destination check decides.
    relay = clients[0]
    if rng.random() < 0.5:
        b.instances[relay]["source_dest_check"] = False
    tables["rtb-main"]["routes"] = {
        "via-relay": {"destination": b.vpcs[other]["cidr"], "next_hop": {"type": "instance", "id": relay}}
    }
    b.extra["route_tables"] = tables


BUILDERS = {"huawei-services": _services, "huawei-cloud": _cloud}


def huawei_shaped(n: int, seed: int = 20261130) -> tuple[str, Data]:
    """Variant number ``n``: its shape's name and the scenario (deterministic for ``seed``)."""
    name = HUAWEI_SHAPES[n % len(HUAWEI_SHAPES)]
    b = _Builder(random.Random(f"vpcsim-huawei:{seed}:{n}"), name)
    BUILDERS[name](b)
    return name, b.finish()
