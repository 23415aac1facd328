"""Scenario-wide settings: delays, TCP timers, random seed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from vpcsim.model.capacity import GatewayCapacity, LinkSettings

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
    """Every host's TCP, as Linux sets it (docs/tcp.md names each value's source)."""

    syn_retries: int = 6
    """``net.ipv4.tcp_syn_retries``: connect() gives up after 127 s."""
    initial_rto: float = 1.0
    congestion_control: str = "cubic"
    """``cubic`` (Linux's default) or ``reno``."""
    sack: bool = True
    """Selective acknowledgements (RFC 2018, recovery by RFC 6675), as Linux's ``tcp_sack``; off:
    NewReno recovery (RFC 6582)."""
    initial_window: int = 10
    """Segments (RFC 6928)."""
    min_rto: float = 0.2
    max_rto: float = 120.0
    retries: int = 15
    """``net.ipv4.tcp_retries2``: retransmissions of one segment before the connection is dropped."""
    delayed_ack: float = 0.04
    receive_window: int = 3 << 20
    """Bytes a receiver advertises at most (its application reads at once)."""
    window_scale: int = 7
    timestamps: bool = False
    """The timestamps option (RFC 7323) on every segment: 12 bytes of each, so 1,448 bytes of
    data per full segment at MTU 1500. Linux sends it (``tcp_timestamps``); off here by default."""
    mss_option: bool = True
    """Whether a SYN announces its MSS (every real stack does; ns-3 does not)."""
    time_wait: float = 60.0
    mtu: int = 1500
    """Every host's interface MTU: a SYN offers MSS = MTU - 40."""


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
    links: Mapping[str, LinkSettings] = field(default_factory=dict)
    """Link kind (``host``, ``endpoint``, ``load_balancer``, ``peering``, ``vpn``, ``direct_connect``,
    a cloud's own) → its capacity."""
    capacity: Mapping[str, GatewayCapacity] = field(default_factory=dict)
    """Gateway kind (``endpoint``, ``load_balancer``, ``vpn``, ``direct_connect``) → its capacity."""
