"""A compiled network: forwarding states over time, the delay model and the TCP timers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vpcsim.ir.nodes import Link, Node

DEFAULT_EPHEMERAL_PORTS = (32768, 60999)
"""Linux's ``net.ipv4.ip_local_port_range`` (front-ends pass their model's own)."""


@dataclass(frozen=True, slots=True)
class ForwardingState:
    """Every node as the control plane configures it from ``time`` on."""

    time: float
    nodes: Mapping[str, Node]
    links: Mapping[tuple[str, str], Link]
    """(from, to) → the link a packet crosses between two neighbours."""
    changes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Delays:
    """One-way delays. Between two zoned nodes (hosts, translators, load balancers): ``same_zone``
    or ``cross_zone``; a routing domain that crosses regions adds the region pair's delay."""

    same_zone: float
    cross_zone: float
    regions: Mapping[frozenset[str], float]


@dataclass(frozen=True, slots=True)
class TcpStack:
    """Every host's TCP beyond ``connect()`` (transfers and held connections), as Linux sets it."""

    congestion_control: str = "cubic"
    sack: bool = True
    initial_window: int = 10
    min_rto: float = 0.2
    max_rto: float = 120.0
    retries: int = 15
    synack_retries: int = 5
    delayed_ack: float = 0.04
    receive_window: int = 3 << 20
    window_scale: int = 7
    timestamps: bool = False
    """Every segment carries the 12-byte timestamps option (its values are not modelled)."""
    mss_option: bool = True
    """A SYN announces the MSS; without it each side sends segments of its own MSS."""
    time_wait: float = 60.0
    fin_timeout: float = 60.0
    """Linux's ``tcp_fin_timeout``: how long a closed socket waits in FIN_WAIT_2 for the peer's FIN."""
    mtu: int = 1500


@dataclass(frozen=True, slots=True)
class CompiledNetwork:
    """What the engine needs: forwarding states over time, delays, TCP timers, addresses."""

    source: str
    states: tuple[ForwardingState, ...]
    delays: Delays
    syn_retries: int
    initial_rto: float
    seed: int
    addresses: Mapping[str, int]
    """Object id → address, for every object a probe may name."""
    snat_ports: tuple[int, int] = (1024, 65535)
    """The ports a translator allocates to flows on its pool address."""
    ephemeral_ports: tuple[int, int] = DEFAULT_EPHEMERAL_PORTS
    tcp: TcpStack = field(default_factory=TcpStack)
    times: tuple[float, ...] = field(init=False)
    delay_cache: dict[tuple[str, str, str, str], float] = field(default_factory=dict, compare=False)
    """Memoised one-way delays between (zone, region) pairs; bounded by the zones that exist."""
    engine_cache: dict[Any, Any] = field(default_factory=dict, compare=False)
    """The engine's memo of what doesn't change between checks (crossing an edge, a route's step);
    it saves work and changes no result, and the engine bounds its size."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "times", tuple(s.time for s in self.states))

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

    def zone_delay(self, zone_a: str, region_a: str, zone_b: str, region_b: str) -> float:
        key = (zone_a, region_a, zone_b, region_b)
        d = self.delay_cache.get(key)
        if d is None:
            if zone_a == zone_b and zone_a:
                d = self.delays.same_zone
            elif region_a == region_b:
                d = self.delays.cross_zone
            else:
                d = self.region_delay(region_a, region_b)
            self.delay_cache[key] = d
        return d

    def region_delay(self, region_a: str, region_b: str) -> float:
        found = self.delays.regions.get(frozenset({region_a, region_b}))
        if found is None:  # validation guarantees a delay for every connected pair
            raise RuntimeError(f"no delay between {region_a} and {region_b}")
        return found
