"""Scenario-wide settings: delays, TCP timers, random seed."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_REGION_DELAYS: dict[frozenset[str], float] = {
    frozenset({"ap-chengdu", "ap-chongqing"}): 0.00325,
}
"""One-way delays between regions that vpcsim knows by default (docs/decisions.md Q20)."""


LINUX_EPHEMERAL_PORTS = (32768, 60999)
"""Linux's ``net.ipv4.ip_local_port_range``: where a client's source port comes from."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Delays:
    """One-way delays in seconds."""

    same_zone: float = 0.0001
    cross_zone: float = 0.00075
    privatelink: float = 0.00005
    """Private Link gateway processing, added where the endpoint translates a packet."""
    regions: dict[frozenset[str], float] = field(default_factory=lambda: dict(DEFAULT_REGION_DELAYS))
    """Keyed by the unordered pair of region names."""

    def between_regions(self, a: str, b: str) -> float | None:
        return self.regions.get(frozenset({a, b}))


@dataclass(frozen=True, slots=True, kw_only=True)
class TcpSettings:
    """The client's TCP connect timers, as Linux (net.ipv4.tcp_syn_retries = 6)."""

    syn_retries: int = 6
    initial_rto: float = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    seed: int = 0
    delays: Delays = field(default_factory=Delays)
    tcp: TcpSettings = field(default_factory=TcpSettings)
    endpoint_accept_delay: float = 2.0
    """How long an accepted endpoint stays ACCEPTING before it is ACTIVE (timeline accepts only)."""
    endpoint_sessions: int = 0
    """Most concurrent connections one endpoint holds (0: no limit; Huawei: 3,000 [HW17])."""
    snat_ports: tuple[int, int] = (1024, 65535)
    """The source ports an endpoint hands out on its SNAT address, one per flow (docs/decisions.md Q5)."""
