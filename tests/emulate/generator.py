"""A seeded generator of scenario variants around the bundled scenario, for the differential suite.

Each variant toggles what the simulator decides on: security-group rules and their order (and
several groups per object), listener and backend ports, instance listeners, weights and health
checks, endpoint states (same account, cross account with or without whitelist and auto-accept,
a timeline reject at t=0 or an accept at t=0 with the checks at t=10), CCN attachments and their
order, subnets and addresses. The checks cover the paths through the endpoint, straight to the
load balancer, straight to the backends, across the CCN and to unowned addresses.
"""

from __future__ import annotations

import copy
import random
from typing import Any

CONSUMER = "100012345678"
PROVIDER = "100087654321"
PEERS = [
    "0.0.0.0/0",
    "11.163.0.0/16",
    "11.163.0.1/32",
    "172.16.0.0/16",
    "172.16.2.0/24",
    "192.168.1.0/24",
    "10.0.0.0/16",
    "10.0.2.0/24",
    "8.8.8.0/24",
]
LISTENER_PORTS = [1044, 1045, 2000]
BACKEND_PORTS = [8080, 9090]
UDP_LISTENER_PORT = 53
UDP_BACKEND_PORT = 5353


def _rule(rng: random.Random, direction: str, ports: list[int], peers: list[str]) -> dict[str, Any]:
    proto = rng.choices(["tcp", "all", "udp", "icmp"], weights=[6, 3, 1, 1])[0]
    rule: dict[str, Any] = {"action": rng.choices(["accept", "drop"], weights=[3, 1])[0], "protocol": proto}
    if proto in ("tcp", "udp"):
        kind = rng.random()
        if kind < 0.6:
            rule["port"] = rng.choice(ports)
        elif kind < 0.8:
            lo = rng.choice(ports)
            rule["port"] = f"{max(1, lo - rng.randint(0, 50))}-{lo + rng.randint(0, 50)}"
    rule["source" if direction == "ingress" else "destination"] = rng.choice(peers)
    return rule


def _rules(
    rng: random.Random, direction: str, ports: list[int], peers: list[str], must: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    rules = [_rule(rng, direction, ports, peers) for _ in range(rng.randint(0, 3))]
    for m in must:
        rules.insert(0 if rng.random() < 0.5 else rng.randint(0, len(rules)), m)
    return rules


def variant(seed_data: dict[str, Any], n: int, seed: int = 20240) -> dict[str, Any]:
    """Variant number ``n`` (deterministic for a given ``seed``)."""
    rng = random.Random(f"vpcsim-differential:{seed}:{n}")
    d = copy.deepcopy(seed_data)
    d["settings"] = {"seed": rng.randint(0, 10_000)}
    all_ports = LISTENER_PORTS + BACKEND_PORTS + [22]

    # Addresses and subnets.
    hosts = rng.sample(range(2, 250), 4)
    d["instances"]["cvm-vpc1"]["ip"] = f"172.16.2.{hosts[0]}"
    d["endpoints"]["vpce-vpc1"]["ip"] = f"172.16.2.{hosts[1]}"
    if rng.random() < 0.3:
        d["vpcs"]["vpc1"]["subnets"]["subnet-b"] = {"cidr": "172.16.3.0/24", "zone": "ap-chengdu-2"}
        d["instances"]["cvm-vpc1"]["subnet"] = "subnet-b"
        d["instances"]["cvm-vpc1"]["ip"] = f"172.16.3.{hosts[0]}"
    b1, b2 = rng.sample(range(2, 250), 2)
    d["instances"]["cvm-backend1"]["ip"] = f"10.0.2.{b1}"
    d["instances"]["cvm-backend2"]["ip"] = f"10.0.2.{b2}"
    d["instances"]["cvm-vpc2"] = {
        "vpc": "vpc2",
        "subnet": "subnet-clb",
        "ip": f"10.0.1.{rng.randint(2, 99)}",
        "security_groups": ["sg-client"],
    }
    d["instances"]["cvm-vpc3"]["ip"] = f"192.168.1.{hosts[2]}"

    # Listeners on the instances.
    for iid in ("cvm-backend1", "cvm-backend2"):
        listen: list[Any] = sorted(p for p in BACKEND_PORTS if rng.random() < 0.7)
        if rng.random() < 0.7:
            listen.append(f"udp/{UDP_BACKEND_PORT}")
        d["instances"][iid]["listen"] = listen
    for iid in ("cvm-vpc1", "cvm-vpc3", "cvm-vpc2"):
        if rng.random() < 0.5:
            d["instances"][iid]["listen"] = [22]

    # Security groups.
    sgs = d["security_groups"]
    sgs["sg-client"]["egress"] = (
        [{"action": "accept", "protocol": "all", "destination": "0.0.0.0/0"}]
        if rng.random() < 0.9
        else _rules(
            rng, "egress", all_ports, PEERS, [{"action": "accept", "protocol": "tcp", "destination": rng.choice(PEERS)}]
        )
    )
    open_all = [{"action": "accept", "protocol": "tcp", "source": "0.0.0.0/0"}] if rng.random() < 0.6 else []
    if rng.random() < 0.85:
        peer = rng.choice(["0.0.0.0/0", "172.16.0.0/16", "192.168.1.0/24", "10.0.0.0/16", "8.8.8.0/24"])
        open_all.append({"action": "accept", "protocol": "icmp", "source": peer})
    if rng.random() < 0.7:
        open_all.append({"action": "accept", "protocol": "udp", "source": rng.choice(["10.0.0.0/16", "0.0.0.0/0"])})
    sgs["sg-client"]["ingress"] = _rules(rng, "ingress", [22, 23], PEERS, open_all)
    must = (
        [{"action": "accept", "protocol": "tcp", "port": "8080-9090", "source": "11.163.0.0/16"}]
        if rng.random() < 0.8
        else []
    )
    if rng.random() < 0.6:
        must.append({"action": "accept", "protocol": "udp", "port": UDP_BACKEND_PORT, "source": "11.163.0.0/16"})
    must += [
        {"action": "accept", "protocol": proto, "source": "10.0.0.0/16"}
        for proto in ("udp", "icmp")
        if rng.random() < 0.7
    ]
    if rng.random() < 0.6:
        must.append({"action": "accept", "protocol": "tcp", "source": "10.0.0.0/16"})
    if rng.random() < 0.4:
        must.append({"action": "accept", "protocol": "tcp", "source": "192.168.0.0/16"})
    sgs["sg-backend"]["ingress"] = _rules(rng, "ingress", BACKEND_PORTS, PEERS, must)
    if rng.random() < 0.5:
        sgs["sg-backend"]["ingress"].append({"action": "drop", "protocol": "all", "source": "0.0.0.0/0"})
    sgs["sg-backend"]["egress"] = (
        [{"action": "accept", "protocol": "all", "destination": "0.0.0.0/0"}]
        if rng.random() < 0.85
        else _rules(rng, "egress", all_ports, PEERS, [])
    )
    if rng.random() < 0.3:
        sgs["sg-backend-extra"] = {
            "ingress": _rules(rng, "ingress", BACKEND_PORTS, PEERS, []),
            "egress": [],
        }
        groups = ["sg-backend", "sg-backend-extra"]
        rng.shuffle(groups)
        d["instances"]["cvm-backend2"]["security_groups"] = groups

    # Load balancer: listeners, backends, weights, health checks.
    listeners: dict[str, Any] = {}
    for port in sorted(rng.sample(LISTENER_PORTS, rng.randint(1, 2))):
        backends = [
            {"instance": iid, "port": bport, "weight": rng.choice([0, 5, 10, 10, 10])}
            for iid in ("cvm-backend1", "cvm-backend2")
            for bport in BACKEND_PORTS
            if rng.random() < 0.5
        ]
        rng.shuffle(backends)
        listeners[f"lbl-{port}"] = {
            "protocol": "tcp",
            "port": port,
            "scheduler": rng.choice(["wrr", "least_conn"]),
            "backends": backends,
            "health_check": {"enabled": rng.random() < 0.6},
        }
    if rng.random() < 0.7:
        listeners["lbl-dns"] = {
            "protocol": "udp",
            "port": UDP_LISTENER_PORT,
            "backends": [
                {"instance": iid, "port": UDP_BACKEND_PORT, "weight": rng.choice([0, 10, 10])}
                for iid in ("cvm-backend1", "cvm-backend2")
                if rng.random() < 0.7
            ],
            "health_check": {"enabled": rng.random() < 0.6},
        }
    lb = d["load_balancers"]["lb-service"]
    lb["listeners"] = listeners
    if rng.random() < 0.25:
        sgs["sg-lb"] = {"ingress": _rules(rng, "ingress", LISTENER_PORTS, PEERS, []), "egress": []}
        lb["security_groups"] = ["sg-lb"]
    if rng.random() < 0.25:
        sgs["sg-ep"] = {"ingress": _rules(rng, "ingress", LISTENER_PORTS, PEERS, []), "egress": []}
        d["endpoints"]["vpce-vpc1"]["security_groups"] = ["sg-ep"]

    # Endpoint admission and state.
    at = 0.0
    timeline: list[dict[str, Any]] = []
    svc = d["endpoint_services"]["vpcsvc-service"]
    failed = False
    if rng.random() < 0.25:
        d["vpcs"]["vpc2"]["account"] = PROVIDER
        svc["whitelist"] = rng.choice([[], [CONSUMER], ["*"]])
        svc["auto_accept"] = rng.random() < 0.5
        failed = not svc["whitelist"]
    if not failed:
        mode = rng.choices(["none", "reject", "accept"], weights=[8, 1, 2])[0]
        if mode != "none":
            timeline.append({"at": 0, "action": f"{mode}_endpoint", "endpoint": "vpce-vpc1"})
            if mode == "accept":
                at = 10.0
    if timeline:
        d["timeline"] = timeline

    # CCN attachments.
    attach = rng.choices(
        [["vpc1", "vpc3"], ["vpc3", "vpc1"], ["vpc1", "vpc3", "vpc2"], ["vpc2", "vpc3", "vpc1"], ["vpc1"], []],
        weights=[3, 2, 4, 2, 1, 1],
    )[0]
    d["ccns"]["ccn-chengdu-chongqing"]["attachments"] = attach

    # Checks.
    ep = d["endpoints"]["vpce-vpc1"]["ip"]
    vip = lb["vip"]
    lports = [lst["port"] for lst in listeners.values() if lst["protocol"] == "tcp"]
    checks: list[dict[str, Any]] = [
        {"from": src, "to": f"{ep}:{rng.choice(lports)}"} for src in ("cvm-vpc1", "cvm-vpc3")
    ]
    checks.append({"from": rng.choice(["cvm-vpc1", "cvm-vpc3"]), "to": f"vpce-vpc1:{rng.choice(LISTENER_PORTS)}"})
    checks.append({"from": "cvm-vpc2", "to": f"{vip}:{rng.choice(lports)}"})
    checks.append(
        {"from": "cvm-vpc2", "to": f"{rng.choice(['cvm-backend1', 'cvm-backend2'])}:{rng.choice([*BACKEND_PORTS, 22])}"}
    )
    checks.append(
        {
            "from": "cvm-vpc3",
            "to": f"{rng.choice(['cvm-backend1', 'lb-service'])}:{rng.choice([*BACKEND_PORTS, *lports])}",
        }
    )
    checks.append({"from": rng.choice(["cvm-vpc1", "cvm-vpc2"]), "to": f"cvm-vpc3:{rng.choice([22, 23])}"})
    checks.append({"from": "cvm-backend1", "to": f"cvm-vpc2:{rng.choice([22, 23])}"})
    checks.append({"from": "cvm-vpc2", "to": f"cvm-backend2:{rng.choice([*BACKEND_PORTS, 22, 7000])}"})
    if rng.random() < 0.2:
        checks.append({"from": "cvm-vpc3", "to": f"172.16.2.{hosts[3]}:{rng.choice(lports)}"})
    if rng.random() < 0.2:  # a backend through its own load balancer: may be scheduled to itself
        checks.append({"from": "cvm-backend2", "to": f"lb-service:{rng.choice(lports)}"})
    for c in checks:
        c["expect"] = "connected"
    # UDP through the endpoint and straight to a backend (open or closed port), and pings.
    udp = [
        {"from": src, "to": f"{ep}:{rng.choice([UDP_LISTENER_PORT, UDP_LISTENER_PORT, 54])}"}
        for src in ("cvm-vpc1", "cvm-vpc3")
    ]
    udp.append({"from": "cvm-vpc2", "to": f"{rng.choice(['cvm-backend1', 'cvm-backend2'])}:{rng.choice([5353, 5354])}"})
    udp.append({"from": "cvm-backend1", "to": f"cvm-vpc2:{rng.choice([53, 54])}"})  # nothing listens: refused
    for c in udp:
        c.update(protocol="udp", expect="answered")
    pings = [
        {"from": "cvm-vpc1", "to": rng.choice(["cvm-vpc3", "cvm-backend1", ep])},
        {"from": rng.choice(["cvm-vpc2", "cvm-vpc3"]), "to": rng.choice(["cvm-backend2", "cvm-vpc1", "lb-service"])},
        {"from": "cvm-backend1", "to": rng.choice(["cvm-vpc2", "cvm-vpc3"])},
    ]
    for c in pings:
        c.update(protocol="icmp", expect="answered")
    checks += udp + pings
    for c in checks:
        if at:
            c["at"] = at
    d["checks"] = checks
    return d
