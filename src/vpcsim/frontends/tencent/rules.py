"""Tencent Cloud's rules that decide a scenario's shape and addresses (not its packets).

- Private Link source-NATs consumer traffic into **11.163.0.0/16**, which backend security groups
  must admit [PL1][PL11]; each endpoint takes one address of the pool (docs/decisions.md Q5).
"""

from __future__ import annotations

from ipaddress import IPv4Network

from vpcsim.model import Topology

SNAT_CIDR = IPv4Network("11.163.0.0/16")
"""Private Link's source-NAT range [PL1][PL11]."""


def snat_address(topo: Topology, endpoint_id: str) -> int:
    """A deterministic SNAT address per endpoint in its service's pool (docs/decisions.md Q5):
    the n-th endpoint of a service, by sorted id, takes the pool's (n+1)-th address."""
    ep = topo.endpoints[endpoint_id]
    svc = topo.endpoint_services[ep.service]
    peers = sorted(e.id for e in topo.endpoints.values() if e.service == svc.id)
    return int(svc.snat_cidr.network_address) + 1 + peers.index(endpoint_id)
