"""Huawei Cloud's rules that decide a scenario's shape, states and addresses (not its packets).

- An endpoint's state at creation follows from the accounts, the whitelist and approval [HW1][HW7].
- VPC Endpoint reaches backends from the VPCEP range (198.19.128.0/17 [HW1][HW10]): each endpoint
  takes one address of it (*inferred*: which one is not documented).
- A shared ELB reaches its backends from 100.125.0.0/16 unless it passes the client's address; a
  dedicated ELB from an address of its backend subnet [HWELB1][HWELB2] (docs/decisions.md Q37).
- Network ACLs track connections and admit some traffic by default [HWACL1].
- Cloud services answer on their protocol's ports: OBS over HTTP and HTTPS, DNS over UDP and TCP
  53 [HWOBS1] (*inferred* ports).
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Address, IPv4Network

from vpcsim.model import Action, EndpointService, EndpointState, LoadBalancer, Protocol, Rule, Topology
from vpcsim.model.security import ALL_PORTS, PortRange

VPCEP_RANGES = (IPv4Network("198.19.128.0/17"), IPv4Network("198.19.128.0/20"))
"""The ranges VPC Endpoint reaches backends from: today's, and older regions' [HW1][HW10][HW11]."""

SHARED_ELB_CIDR = IPv4Network("100.125.0.0/16")
"""Where a shared ELB's traffic and health checks come from [HWELB1]."""

SERVICE_PORTS: dict[str, tuple[frozenset[int], frozenset[int]]] = {
    "obs": (frozenset({80, 443}), frozenset()),
    "dns": (frozenset({53}), frozenset({53})),
}
"""Cloud service kind → (TCP ports, UDP ports) it answers on."""

GATEWAY_SERVICES = frozenset({"obs"})
"""Cloud services offered as gateway services (reached by routes); the rest are interface ones [HW2][HW20]."""

SERVICE_NOUNS = {"obs": "OBS", "dns": "DNS"}


def principal(entry: str) -> str:
    """The account a whitelist entry names (``iam:domain::ID`` → ``ID``), or ``*``."""
    return entry.rsplit("::", 1)[-1]


def admission(consumer_account: str, svc: EndpointService) -> tuple[EndpointState, str]:
    """The state an endpoint is created in, and why [HW1][HW7]: the owner's account is whitelisted
    by default; another account must be listed (or ``*``), or the endpoint cannot be created; with
    approval enabled every endpoint waits for the owner, the owner's own ones included."""
    if not svc.account:
        return EndpointState.ACTIVE, f"{svc.id} is a cloud service: accepted at creation"
    own = consumer_account == svc.account
    if not own and consumer_account not in svc.whitelist and "*" not in svc.whitelist:
        return (
            EndpointState.FAILED,
            f"account {consumer_account} is not in the whitelist of {svc.id} (owner {svc.account}): "
            "the endpoint cannot be created",
        )
    who = "the owner's account" if own else f"account {consumer_account} is whitelisted"
    if svc.auto_accept:
        return EndpointState.ACTIVE, f"{who} and {svc.id} does not require approval: accepted"
    return EndpointState.PENDING, f"{who}, and {svc.id} requires approval: pendingAcceptance until the owner accepts"


def endpoint_address(topo: Topology, endpoint_id: str) -> int:
    """The VPCEP-range address an endpoint reaches its backend from: endpoints numbered by (service,
    id), interface ones before gateway ones, the n-th taking the range's (n+1)-th address
    (*inferred*: which address is not documented; the same deterministic rule as Tencent's,
    docs/decisions.md Q5). The loader refuses more endpoints than the range holds."""
    return int(vpcep_range(topo).network_address) + 1 + numbered(topo).index(endpoint_id)


def numbered(topo: Topology) -> list[str]:
    """Every endpoint in the order it takes its VPCEP address."""
    interface = sorted((e.service, 0, e.id) for e in topo.endpoints.values())
    gateway = sorted((e.service, 1, e.id) for e in topo.gateway_endpoints.values())
    return [eid for _, _, eid in sorted(interface + gateway)]


def vpcep_range(topo: Topology) -> IPv4Network:
    return next(iter(topo.endpoint_services.values())).snat_cidr


def shared_elb_address(lbs: Mapping[str, LoadBalancer], elb_id: str) -> IPv4Address:
    """The 100.125.0.0/16 address a shared ELB forwards and probes from: one per ELB, by sorted id,
    from the range's upper half (the lower half holds the cloud services' addresses)."""
    shared = sorted(lid for lid, lb in lbs.items() if lb.kind == "shared")
    return SHARED_ELB_CIDR.network_address + 32768 + 1 + shared.index(elb_id)


def _allow(peer: str, protocol: Protocol = Protocol.ALL, ports: PortRange = ALL_PORTS) -> Rule:
    return Rule(action=Action.ACCEPT, protocol=protocol, ports=ports, peer=IPv4Network(peer))


ACL_DEFAULTS_INGRESS = (
    _allow("100.125.0.0/16"),
    _allow("255.255.255.255/32"),
    _allow("224.0.0.0/24"),
)
"""Inbound rules every Huawei ACL has before its deny-all (within the subnet passes anyway) [HWACL1]."""
ACL_DEFAULTS_EGRESS = (
    _allow("100.125.0.0/16"),
    _allow("255.255.255.255/32"),
    _allow("224.0.0.0/24"),
    _allow("169.254.169.254/32", Protocol.TCP, PortRange(low=80, high=80)),
)
"""Outbound ones (the metadata service too) [HWACL1]."""
