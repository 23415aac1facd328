"""The vendor-neutral forwarding IR: nodes, filters, route tables, translations' parameters.

Cloud nouns are lowered into these by :mod:`vpcsim.compile.lower`; the engine reads only these.
Addresses are ints on purpose: the per-packet path compares and hashes ints, never ``ipaddress``
objects. Steps that do not depend on the packet are built here, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from vpcsim.compile.lpm import LpmTable
from vpcsim.trace import Step

PROTO_NUMBERS = {"tcp": 6, "udp": 17, "icmp": 1, "all": 0}


@dataclass(frozen=True, slots=True)
class FilterRule:
    group: str
    index: int
    net: int
    mask: int
    proto: int
    """0 matches every protocol."""
    low: int
    high: int
    accept: bool
    step: Step
    """The step recorded when this rule is the first match."""


@dataclass(frozen=True, slots=True)
class Filter:
    """Security groups bound to one object, in bound order, for one direction: one rule list,
    first match wins, and an implicit deny ends it (docs/decisions.md Q18)."""

    owner: str
    direction: str
    groups: tuple[str, ...]
    rules: tuple[FilterRule, ...]

    def first_match(self, proto: int, peer: int, port: int) -> FilterRule | None:
        for r in self.rules:
            if (
                (peer & r.mask) == r.net
                and (r.proto == 0 or r.proto == proto)
                and (proto not in (6, 17) or r.low <= port <= r.high)
            ):
                return r
        return None

    @property
    def ref(self) -> str:
        return ", ".join(self.groups) if self.groups else f"{self.owner} (no security group)"


class Link(NamedTuple):
    """The two steps recorded at a node for one neighbour: received from it, sent to it."""

    arrive: Step
    leave: Step


@dataclass(frozen=True, slots=True)
class HostNode:
    """An instance: one interface, security groups, listening TCP ports."""

    id: str
    ip: int
    zone: str
    region: str
    router: str
    ingress: Filter
    egress: Filter
    listening: frozenset[int]
    links: dict[str, Link] = field(default_factory=dict, compare=False)
    """Neighbour id → the prebuilt steps of entering from it and leaving toward it."""


@dataclass(frozen=True, slots=True)
class RouteEntry:
    next_hop: str
    step: Step


@dataclass(frozen=True, slots=True)
class RouterNode:
    """A VPC's router: the Local route always wins, then longest-prefix match on CCN routes."""

    id: str
    region: str
    net: int
    mask: int
    cidr: str
    local: dict[int, RouteEntry]
    """Address → the node that owns it (instance, endpoint VIP, load-balancer VIP)."""
    ccn: str | None
    ccn_routes: LpmTable[RouteEntry]
    invalid_routes: tuple[tuple[int, int, str], ...]
    """(net, mask, note) of CCN routes that exist but are invalid, to explain a missing route."""
    links: dict[str, Link] = field(default_factory=dict, compare=False)
    """Neighbour id → the prebuilt steps of entering from it and leaving toward it."""


@dataclass(frozen=True, slots=True)
class CcnNode:
    """A CCN as one routing instance over its members' enabled subnet routes."""

    id: str
    routes: LpmTable[RouteEntry]
    bandwidth_bps: float
    member_regions: dict[str, str]
    invalid_routes: tuple[tuple[int, int, str], ...]
    links: dict[str, Link] = field(default_factory=dict, compare=False)
    """Neighbour id → the prebuilt steps of entering from it and leaving toward it."""


@dataclass(frozen=True, slots=True)
class EndpointNode:
    """A Private Link endpoint: DNAT VIP → load-balancer VIP (port unchanged) and SNAT into the
    service's 11.163.0.0/16 pool, only while ACTIVE."""

    id: str
    ip: int
    zone: str
    region: str
    router: str
    state: str
    state_note: str
    filter: Filter | None
    service: str
    load_balancer: str
    lb_vip: int
    snat_ip: int
    links: dict[str, Link] = field(default_factory=dict, compare=False)
    """Neighbour id → the prebuilt steps of entering from it and leaving toward it."""


@dataclass(frozen=True, slots=True)
class BackendIR:
    instance: str
    ip: int
    port: int
    weight: int
    healthy: bool
    key: str
    """``instance:port``, the backend's name in traces and scheduler state."""


@dataclass(frozen=True, slots=True)
class ListenerIR:
    id: str
    port: int
    scheduler: str
    backends: tuple[BackendIR, ...]
    health_checked: bool
    takers: tuple[BackendIR, ...]
    """Backends that take new connections (weight > 0), in bound order."""
    healthy_takers: tuple[BackendIR, ...]
    any_healthy: bool
    """Whether any bound backend, whatever its weight, passes its health checks."""

    @property
    def schedules(self) -> bool:
        """Whether a new connection gets a backend: healthy takers, or (all-dead-all-alive) any
        taker when every backend fails its checks, or any taker when checks are off."""
        if not self.takers:
            return False
        return not self.health_checked or bool(self.healthy_takers) or not self.any_healthy


@dataclass(frozen=True, slots=True)
class LoadBalancerNode:
    """A layer-4 CLB: listener filter, optional security groups, scheduler, DNAT to a backend."""

    id: str
    vip: int
    zone: str
    region: str
    router: str
    filter: Filter | None
    listeners: dict[int, ListenerIR]
    links: dict[str, Link] = field(default_factory=dict, compare=False)
    """Neighbour id → the prebuilt steps of entering from it and leaving toward it."""


Node = HostNode | RouterNode | CcnNode | EndpointNode | LoadBalancerNode


@dataclass(frozen=True, slots=True)
class ForwardingState:
    """Every node as the control plane configures it from ``time`` on."""

    time: float
    nodes: dict[str, Node]
    changes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CompiledNetwork:
    """What the engine needs: forwarding states over time, delays, TCP timers, names.

    ``step_cache`` memoises packet-independent steps the engine builds lazily (ingress from a
    given neighbour, for instance); it changes no result, only saves their construction.
    """

    source: str
    states: tuple[ForwardingState, ...]
    times: tuple[float, ...]
    same_zone: float
    cross_zone: float
    privatelink: float
    region_delays: dict[frozenset[str], float]
    syn_retries: int
    initial_rto: float
    seed: int
    addresses: dict[str, int]
    """Object id → address, for instances, endpoints and load balancers."""
    kinds: dict[str, str]
    """Object id → 'instance' | 'endpoint' | 'load_balancer' | 'vpc' | 'ccn'."""
    step_cache: dict[tuple[object, ...], Step] = field(default_factory=dict, compare=False)
    delay_cache: dict[tuple[str, str, str, str], float] = field(default_factory=dict, compare=False)
    """Memoised one-way delays between (zone, region) pairs; like ``step_cache``, only saves work."""

    def state_at(self, t: float) -> ForwardingState:
        states, times = self.states, self.times
        if len(times) == 1 or t < times[1]:
            return states[0]
        lo, hi = 1, len(times)
        while lo < hi:
            mid = (lo + hi) // 2
            if times[mid] <= t:
                lo = mid + 1
            else:
                hi = mid
        return states[lo - 1]
