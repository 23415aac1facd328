"""Hypothesis strategies shared by the property tests, and the settings that make them reproducible.

Every property test runs under :data:`DETERMINISTIC` (derandomized, no example database, no
deadline): the same examples on every machine and every run, so a failure in CI reproduces locally
with a plain ``pytest`` call.

The scenario strategies start from the bundled scenario (``scenarios/chengdu_chongqing.yaml``) as plain
data and vary one concern each: security-group rules and bindings (:func:`sg_scenarios`), the
load balancer and endpoints behind a connected probe (:func:`nat_cases`), VPCs with overlapping
CIDRs on a CCN (:func:`ccn_scenarios`), route sets for longest-prefix match (:func:`prefix_sets`) and
the insertion order of every mapping in a document (:func:`shuffled_maps`).
"""

from __future__ import annotations

import copy
from functools import cache
from ipaddress import IPv4Network
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.conftest import SEED, read_data

Doc = dict[str, Any]
Probe = tuple[str, str, int]
"""(source instance, host as an IP or object id, port)."""

DETERMINISTIC = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=100,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
"""Reproducible settings for every property test: derandomized examples, nothing remembered
between runs. Tests narrow ``max_examples`` with ``@settings(DETERMINISTIC, max_examples=N)``."""


@cache
def _seed() -> Doc:
    return read_data(SEED)


def seed_document() -> Doc:
    """A fresh, freely editable copy of the bundled scenario's data."""
    return copy.deepcopy(_seed())


# -- security groups ---------------------------------------------------------------------------

SG_GROUPS = ("sg-client", "sg-backend", "sg-edge")
"""The bundled scenario's two groups plus one that the generator may bind to the endpoint and the load balancer."""

SG_PEERS = (
    "0.0.0.0/0",
    "11.163.0.0/16",
    "11.163.0.0/17",
    "11.163.0.1/32",
    "172.16.2.0/24",
    "192.168.1.0/24",
    "172.16.0.0/16",
    "192.168.0.0/16",
    "10.0.0.0/16",
    "10.0.2.0/24",
    "10.0.2.11/32",
    "10.0.1.100/32",
    "172.16.2.16/32",
)
"""Peers that matter in the bundled scenario: Private Link's SNAT range, everything, the client subnets and
VPCs, the backends, the load-balancer VIP and the endpoint VIP."""

SG_PORTS: tuple[int | str, ...] = ("all", 22, 1044, 1045, 8080, "1-1044", "1045-65535", "8000-8080", "1000-2000")

CLIENTS = ("cvm-vpc1", "cvm-vpc3")
BACKENDS = ("cvm-backend1", "cvm-backend2")
PROBES: tuple[Probe, ...] = (
    *((c, host, port) for c in CLIENTS for host in ("vpce-vpc1", "172.16.2.16") for port in (1044, 1045, 8080)),
    ("cvm-vpc1", "cvm-vpc3", 22),
    ("cvm-vpc3", "cvm-vpc1", 22),
    ("cvm-vpc1", "lb-service", 1044),
    ("cvm-vpc3", "cvm-backend1", 8080),
    *((b, "lb-service", 1044) for b in BACKENDS),
    *((b, "10.0.1.100", 1045) for b in BACKENDS),
    ("cvm-backend1", "cvm-backend2", 8080),
    ("cvm-backend2", "cvm-backend1", 8080),
    ("cvm-backend2", "cvm-backend1", 22),
    ("cvm-backend1", "vpce-vpc1", 1044),
)
"""Checks between the instances: the clients against the endpoint VIP (by id and address, on the
VPORT and beside it) and each other, the backends against the load-balancer VIP and each other,
and paths that no route serves."""

_PEER_KEY = {"ingress": "source", "egress": "destination"}


BROAD_PEERS = (None, "0.0.0.0/0", "11.163.0.0/16", "172.16.2.0/24", "192.168.1.0/24", "10.0.0.0/16", "10.0.2.0/24")
BROAD_PORTS: tuple[int | str | None, ...] = (None, "all", 22, 1044, 8080)


@st.composite
def sg_rules(draw: st.DrawFn, direction: str, action: str | None = None, *, broad: bool = False) -> Doc:
    """One security-group rule as scenario data (``action`` fixed, or drawn). ``broad`` rules
    match the probes' traffic more often: tcp or all, wide peers, the ports in use."""
    rule: Doc = {"action": action or draw(st.sampled_from(("accept", "drop")))}
    protocol = draw(st.sampled_from(("tcp", "all") if broad else ("tcp", "tcp", "all", "udp", "icmp")))
    rule["protocol"] = protocol
    if protocol in ("tcp", "udp"):
        port = draw(st.sampled_from(BROAD_PORTS if broad else (None, *SG_PORTS)))
        if port is not None:
            rule["port"] = port
    peer = draw(st.sampled_from(BROAD_PEERS if broad else (None, *SG_PEERS)))
    if peer is not None:
        rule[_PEER_KEY[direction]] = peer
    return rule


@st.composite
def sg_rule_lists(draw: st.DrawFn, direction: str) -> list[Doc]:
    """A few random rules, often ending in a blanket accept or drop (as real groups do), so that
    both connected and blocked probes are common."""
    rules = draw(st.lists(sg_rules(direction), max_size=4))
    tail = draw(st.sampled_from(("accept", "accept", "drop", None)))
    if tail is not None:
        rules.append({"action": tail, "protocol": "all"})
    return rules


def _bindings(group: str) -> st.SearchStrategy[list[str]]:
    """``group`` alone (most often), or with ``sg-edge`` bound before or after it."""
    return st.sampled_from(([group], [group], [group, "sg-edge"], ["sg-edge", group])).map(list)


@st.composite
def sg_scenarios(draw: st.DrawFn) -> Doc:
    """The bundled scenario with random rule lists in three groups and random group bindings on every object.

    Listeners never change (the clients listen on tcp/22, the backends on 8080 as in the bundled scenario), so
    every backend's health is the same in every scenario this draws.
    """
    doc = seed_document()
    doc["security_groups"] = {
        gid: {"ingress": draw(sg_rule_lists("ingress")), "egress": draw(sg_rule_lists("egress"))} for gid in SG_GROUPS
    }
    for iid in ("cvm-vpc1", "cvm-vpc3"):
        doc["instances"][iid]["listen"] = [22]
        doc["instances"][iid]["security_groups"] = draw(_bindings("sg-client"))
    for iid in ("cvm-backend1", "cvm-backend2"):
        doc["instances"][iid]["security_groups"] = draw(_bindings("sg-backend"))
    edge = st.sampled_from(([], [], ["sg-edge"], ["sg-edge", "sg-client"], ["sg-backend", "sg-edge"]))
    doc["endpoints"]["vpce-vpc1"]["security_groups"] = list(draw(edge))
    doc["load_balancers"]["lb-service"]["security_groups"] = list(draw(edge))
    doc["checks"] = []
    return doc


def listeners_of(doc: Doc) -> dict[str, list[int]]:
    """What every instance listens on: health checks depend on nothing else."""
    return {iid: sorted(inst.get("listen", [])) for iid, inst in doc["instances"].items()}


@st.composite
def rule_insertions(draw: st.DrawFn, doc: Doc, action: str) -> tuple[Doc, str]:
    """``doc`` with one more ``action`` rule, anywhere in any group's list, and where it went."""
    gid = draw(st.sampled_from(SG_GROUPS))
    direction = draw(st.sampled_from(("ingress", "egress")))
    rules = doc["security_groups"][gid][direction]
    index = draw(st.integers(0, len(rules)))
    rule = draw(sg_rules(direction, action, broad=draw(st.booleans())))
    changed = copy.deepcopy(doc)
    changed["security_groups"][gid][direction].insert(index, rule)
    return changed, f"insert {rule} at {gid} {direction} #{index}"


def accept_rule_positions(doc: Doc) -> list[tuple[str, str, int]]:
    return [
        (gid, direction, i)
        for gid, group in sorted(doc["security_groups"].items())
        for direction in ("ingress", "egress")
        for i, rule in enumerate(group.get(direction, []))
        if rule["action"] == "accept"
    ]


@st.composite
def rule_removals(draw: st.DrawFn, doc: Doc) -> tuple[Doc, Doc, str]:
    """(with, without, what): ``doc`` (given one accept rule if it has none) and the same without
    one of its accept rules."""
    positions = accept_rule_positions(doc)
    if not positions:
        doc, _ = draw(rule_insertions(doc, "accept"))
        positions = accept_rule_positions(doc)
    gid, direction, index = draw(st.sampled_from(positions))
    without = copy.deepcopy(doc)
    removed = without["security_groups"][gid][direction].pop(index)
    return doc, without, f"remove {removed} from {gid} {direction} #{index}"


# -- NAT -----------------------------------------------------------------------------------------


@st.composite
def nat_cases(draw: st.DrawFn) -> tuple[Doc, Probe, int]:
    """A variant of the bundled scenario whose probe goes through the endpoint and the load balancer (or the load
    balancer alone, from inside VPC2), with permissive security groups: (scenario, probe, seed).

    Varies the VPORT, the backends (which, their ports, weights), the scheduler, security groups on
    the endpoint and the load balancer, a second endpoint of the same service (which moves the SNAT
    address), the client, how the host is named, and the random seed (ephemeral and SNAT ports).
    """
    doc = seed_document()
    vport = draw(st.sampled_from((1044, 1, 80, 443, 3306, 8080, 65535)))
    backends = draw(st.lists(st.sampled_from(("cvm-backend1", "cvm-backend2")), min_size=1, max_size=2, unique=True))
    bound = []
    listen: dict[str, set[int]] = {"cvm-backend1": set(), "cvm-backend2": set()}
    for iid in backends:
        port = draw(st.sampled_from((8080, 80, 1044, 65535)))
        listen[iid].add(port)
        bound.append({"instance": iid, "port": port, "weight": draw(st.integers(1, 100))})
    for iid, ports in listen.items():
        doc["instances"][iid]["listen"] = sorted(ports)
    listener = doc["load_balancers"]["lb-service"]["listeners"]["lbl-1044"]
    listener.update(port=vport, backends=bound, scheduler=draw(st.sampled_from(("wrr", "least_conn"))))
    doc["security_groups"]["sg-backend"]["ingress"] = [
        {"action": "accept", "protocol": "tcp", "source": "11.163.0.0/16"},
        {"action": "accept", "protocol": "tcp", "source": "10.0.0.0/16"},
    ]
    admitted = ("11.163.0.0/16", "172.16.2.0/24", "192.168.1.0/24", "10.0.0.0/16")
    doc["security_groups"]["sg-edge"] = {
        "ingress": [
            {"action": "drop", "protocol": "udp"},
            *(
                {"action": "accept", "protocol": "tcp", "port": vport, "source": peer}
                for peer in draw(st.permutations(admitted))
            ),
        ],
        "egress": [],
    }
    if draw(st.booleans()):
        doc["endpoints"]["vpce-vpc1"]["security_groups"] = ["sg-edge"]
    if draw(st.booleans()):
        doc["load_balancers"]["lb-service"]["security_groups"] = ["sg-edge"]
    endpoints = ["vpce-vpc1"]
    extra = draw(st.sampled_from((None, "vpce-a", "vpce-z")))
    if extra is not None:
        doc["endpoints"][extra] = {"vpc": "vpc1", "subnet": "subnet-consumer", "service": "vpcsvc-service"}
        endpoints.append(extra)
    doc["checks"] = []
    via = draw(st.sampled_from(("endpoint", "endpoint", "endpoint", "load_balancer")))
    # A bound backend dialling its own VIP may be scheduled to itself (lb_loopback): only an
    # unbound instance of VPC2 is a client whose every connection must come back through NAT.
    unbound = [iid for iid in ("cvm-backend1", "cvm-backend2") if iid not in backends]
    if via == "endpoint" or not unbound:
        source = draw(st.sampled_from(("cvm-vpc1", "cvm-vpc3")))
        host = draw(st.sampled_from((*endpoints, "172.16.2.16")))
    else:
        source = unbound[0]
        host = draw(st.sampled_from(("lb-service", "10.0.1.100")))
    return doc, (source, host, vport), draw(st.integers(0, 2**63 - 1))


# -- prefixes and CCN routing --------------------------------------------------------------------


def _net(address: int, plen: int) -> IPv4Network:
    return IPv4Network((address, plen), strict=False)


@st.composite
def prefix_sets(draw: st.DrawFn, max_size: int = 40) -> list[IPv4Network]:
    """Distinct IPv4 prefixes, many nested in one another (a new prefix is often cut from, or
    widened around, one already drawn), lengths 0 to 32."""
    prefixes: list[IPv4Network] = []
    for _ in range(draw(st.integers(0, max_size))):
        plen = draw(st.integers(0, 32))
        if prefixes and draw(st.booleans()):
            parent = draw(st.sampled_from(prefixes))
            hostbits = int(parent.hostmask)
            address = int(parent.network_address) | (draw(st.integers(0, 2**32 - 1)) & hostbits)
        else:
            address = draw(st.integers(0, 2**32 - 1))
        net = _net(address, plen)
        if net not in prefixes:
            prefixes.append(net)
    return prefixes


@st.composite
def addresses_near(draw: st.DrawFn, prefixes: list[IPv4Network], max_size: int = 30) -> list[int]:
    """Addresses at the edges of and inside ``prefixes`` (first, last, one before, one after,
    somewhere inside), plus a few anywhere."""
    out: list[int] = []
    for _ in range(draw(st.integers(1, max_size))):
        if prefixes and draw(st.integers(0, 4)):
            p = draw(st.sampled_from(prefixes))
            first, last = int(p.network_address), int(p.broadcast_address)
            pick = draw(st.sampled_from(("first", "last", "before", "after", "inside")))
            address = {
                "first": first,
                "last": last,
                "before": first - 1,
                "after": last + 1,
                "inside": draw(st.integers(first, last)),
            }[pick]
            out.append(address % 2**32)
        else:
            out.append(draw(st.integers(0, 2**32 - 1)))
    return out


VPC_CIDRS = (
    "10.0.0.0/8",
    "10.0.0.0/12",
    "10.0.0.0/16",
    "10.1.0.0/16",
    "10.1.2.0/24",
    "172.16.0.0/12",
    "172.16.0.0/16",
    "172.16.2.0/24",
    "192.168.0.0/16",
    "192.168.1.0/24",
)
"""VPC CIDRs that nest and collide with one another, so CCN route conflicts are common."""


@st.composite
def ccn_scenarios(draw: st.DrawFn) -> Doc:
    """Two to four VPCs in one region with overlapping CIDRs, one to three subnets each, some of
    them attached to one CCN in a random order; each VPC has one instance whose groups accept
    everything, and SYNs are sent once (no retries)."""
    doc: Doc = {
        "version": 1,
        "settings": {"tcp": {"syn_retries": 0}},
        "vpcs": {},
        "security_groups": {"sg-open": {"ingress": [{"action": "accept"}], "egress": [{"action": "accept"}]}},
        "instances": {},
    }
    count = draw(st.integers(2, 4))
    for n in range(count):
        vid = f"vpc{n}"
        cidr = IPv4Network(draw(st.sampled_from(VPC_CIDRS)))
        subnets: list[IPv4Network] = []
        for n in range(draw(st.integers(1, 3))):
            widest = n == 0 and draw(st.booleans())  # a subnet as wide as its VPC: containment is common
            plen = cidr.prefixlen if widest else draw(st.integers(cidr.prefixlen, min(cidr.prefixlen + 8, 29)))
            address = int(cidr.network_address) | (draw(st.integers(0, 2**32 - 1)) & int(cidr.hostmask))
            sn = _net(address, plen)
            if not any(sn.overlaps(o) for o in subnets):
                subnets.append(sn)
        doc["vpcs"][vid] = {
            "region": "ap-chengdu",
            "account": "100012345678",
            "cidr": str(cidr),
            "subnets": {f"{vid}-s{i}": {"cidr": str(sn), "zone": "ap-chengdu-1"} for i, sn in enumerate(subnets)},
        }
        doc["instances"][f"cvm-{vid}"] = {
            "vpc": vid,
            "subnet": f"{vid}-s0",
            "ip": str(subnets[0].network_address + 2),
            "security_groups": ["sg-open"],
        }
    vpcs = list(doc["vpcs"])
    attached = draw(st.lists(st.sampled_from(vpcs), min_size=1, max_size=count, unique=True))
    doc["ccns"] = {"ccn": {"attachments": attached}}
    return doc


# -- id-map order ------------------------------------------------------------------------------


@st.composite
def shuffled_maps(draw: st.DrawFn, value: Any) -> Any:
    """``value`` with the insertion order of every mapping in it permuted; lists keep their order."""
    if isinstance(value, dict):
        keys = draw(st.permutations(list(value)))
        return {k: draw(shuffled_maps(value[k])) for k in keys}
    if isinstance(value, list):
        return [draw(shuffled_maps(v)) for v in value]
    return value


def map_orders(value: Any, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], tuple[str, ...]]:
    """The key order of every mapping in ``value``, by key path (to see that a shuffle moved some)."""
    out: dict[tuple[str, ...], tuple[str, ...]] = {}
    if isinstance(value, dict):
        out[path] = tuple(value)
        for k, v in value.items():
            out.update(map_orders(v, (*path, str(k))))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.update(map_orders(v, (*path, str(i))))
    return out
