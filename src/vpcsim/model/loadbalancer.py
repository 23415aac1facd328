"""Internal layer-4 load balancers (Tencent CLB [CLB1]-[CLB10]; Huawei shared and dedicated ELB)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address

from vpcsim.model.capacity import GatewayCapacity


class Scheduler(StrEnum):
    WRR = "wrr"
    LEAST_CONN = "least_conn"


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthCheck:
    """TCP health check (a SYN handshake) from 100.64.0.0/10 [CLB5][CLB10].

    ``port`` None checks each backend's own port. Times are seconds.
    """

    enabled: bool = True
    port: int | None = None
    interval: float = 5.0
    timeout: float = 2.0
    healthy_threshold: int = 3
    unhealthy_threshold: int = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Backend:
    """A backend binding: instance, port, weight 0-100 (0 takes no new connections) [CLB4]."""

    instance: str
    port: int
    weight: int = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class Listener:
    """A TCP or UDP listener on the load balancer's VIP."""

    id: str
    port: int
    protocol: str = "tcp"
    scheduler: Scheduler
    backends: tuple[Backend, ...]
    health_check: HealthCheck


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadBalancer:
    """A private layer-4 CLB: a VIP in a subnet, optional security groups, listeners."""

    id: str
    vpc: str
    subnet: str
    vip: IPv4Address
    security_groups: tuple[str, ...]
    listeners: tuple[Listener, ...]
    kind: str = "clb"
    """``clb`` (Tencent), ``shared`` or ``dedicated`` (Huawei ELB): what traces call it."""
    source_ip: IPv4Address | None = None
    """The address backends see instead of the client's (a load balancer that translates the
    source, with a port per connection); None passes the client's address through."""
    backend_subnet: str = ""
    """The subnet a dedicated ELB reaches its backends from ("": its own)."""
    probe_ip: IPv4Address | None = None
    """Where health checks come from, when the backend's security groups and subnet ACL must admit
    them; None: they are admitted without a rule (Tencent [CLB10])."""
    capacity: GatewayCapacity | None = None
    """Its own capacity, over the settings for load balancers."""

    def listener_on(self, port: int, protocol: str = "tcp") -> Listener | None:
        for listener in self.listeners:
            if listener.port == port and listener.protocol == protocol:
                return listener
        return None
