"""Tencent Cloud's rules that decide a scenario's shape and addresses (not its packets).

- Private Link source-NATs consumer traffic into **11.163.0.0/16**, which backend security groups
  must admit [PL1][PL11]; each endpoint takes one address of the pool (docs/decisions.md Q5).
- An endpoint's state at creation follows from the accounts, the whitelist and auto-accept [PL6][PL4].
- CCN bandwidth: a postpaid CCN caps traffic between two regions at 1 Gbps unless set; a prepaid one
  carries 10 Kbps between two regions with no bandwidth bought [CCN9].
"""

from __future__ import annotations

from ipaddress import IPv4Network

from vpcsim.model import EndpointService, EndpointState, Topology

SNAT_CIDR = IPv4Network("11.163.0.0/16")
"""Private Link's source-NAT range [PL1][PL11]."""

POSTPAID_DEFAULT_CAP_BPS = 1e9
"""A postpaid CCN's default cap between two regions [CCN9]."""
PREPAID_UNBOUGHT_BPS = 10e3
"""What a prepaid CCN carries between two regions with no bandwidth bought [CCN9]."""


def snat_address(topo: Topology, endpoint_id: str) -> int:
    """A deterministic SNAT address per endpoint in its service's pool (docs/decisions.md Q5):
    the n-th endpoint of a service, by sorted id, takes the pool's (n+1)-th address."""
    ep = topo.endpoints[endpoint_id]
    svc = topo.endpoint_services[ep.service]
    peers = sorted(e.id for e in topo.endpoints.values() if e.service == svc.id)
    return int(svc.snat_cidr.network_address) + 1 + peers.index(endpoint_id)


def admission(consumer_account: str, provider_account: str, svc: EndpointService) -> tuple[EndpointState, str]:
    """The state an endpoint is created in, and why [PL6][PL4] (docs/tencent.md)."""
    if consumer_account == provider_account:
        return EndpointState.ACTIVE, "same account: accepted automatically"
    if consumer_account not in svc.whitelist and "*" not in svc.whitelist:
        return (
            EndpointState.FAILED,
            f"account {consumer_account} is not in the whitelist of {svc.id} (owner {provider_account})",
        )
    if svc.auto_accept:
        return EndpointState.ACTIVE, f"account {consumer_account} is whitelisted and {svc.id} auto-accepts"
    return EndpointState.PENDING, f"{svc.id} does not auto-accept: waiting for the provider to accept"
