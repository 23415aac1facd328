"""Private Link endpoint services and endpoints (Tencent 私有连接 [PL1]-[PL12]; Huawei VPCEP)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network

from vpcsim.model.capacity import GatewayCapacity


class EndpointState(StrEnum):
    """Connection state of one endpoint [API1]. Only ACTIVE forwards (docs/decisions.md Q3)."""

    ACTIVE = "ACTIVE"
    PENDING = "PENDING"
    ACCEPTING = "ACCEPTING"
    REJECTED = "REJECTED"
    FAILED = "FAILED"


class ServiceBackend(StrEnum):
    """What an endpoint service forwards to."""

    LOAD_BALANCER = "load_balancer"
    INSTANCE = "instance"
    VIRTUAL_IP = "virtual_ip"
    """An address bound to an instance (``EndpointService.address``)."""
    CLOUD_SERVICE = "cloud_service"


@dataclass(frozen=True, slots=True, kw_only=True)
class PortMapping:
    """An endpoint's ``client_port`` leads to the backend's ``server_port`` (Huawei [HW1])."""

    protocol: str
    client_port: int
    server_port: int


STATE_NAMES: dict[str, dict[EndpointState, str]] = {
    "huawei": {
        EndpointState.ACTIVE: "accepted",
        EndpointState.PENDING: "pendingAcceptance",
        EndpointState.ACCEPTING: "creating",
        EndpointState.REJECTED: "rejected",
        EndpointState.FAILED: "failed",
    },
}
"""A cloud's names of the states, where they are not the enum's own (Huawei [HW4][HW5])."""


def state_name(cloud: str, state: EndpointState) -> str:
    """What ``cloud`` calls an endpoint ``state``."""
    return STATE_NAMES.get(cloud, {}).get(state, state.value)


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointService:
    """An endpoint service publishing one backend (a load balancer on Tencent).

    Who is admitted is the cloud's rule (its front-end reads ``auto_accept`` and ``whitelist``).
    ``ports`` empty: a port passes unchanged (Tencent); otherwise only mapped ports pass.
    """

    id: str
    vpc: str
    """The provider's VPC ("" for a cloud service's)."""
    backend: str
    auto_accept: bool
    whitelist: tuple[str, ...]
    snat_cidr: IPv4Network
    backend_kind: ServiceBackend = ServiceBackend.LOAD_BALANCER
    address: IPv4Address | None = None
    """The backend's address when it is not the backend object's own (a virtual IP)."""
    ports: tuple[PortMapping, ...] = ()
    gateway: bool = False
    """A gateway service (reached by routes, not at an endpoint's address)."""
    account: str = ""
    """The owner's account ("" for the cloud's own services)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """An endpoint: a VIP in the consumer's subnet that leads to one endpoint service.

    ``ip`` is the VIP (given, or assigned deterministically at load). ``initial_state`` is what
    admission gives it at t=0, with ``state_reason`` saying why.
    """

    id: str
    vpc: str
    subnet: str
    ip: IPv4Address
    ip_assigned: bool
    service: str
    security_groups: tuple[str, ...]
    initial_state: EndpointState
    state_reason: str
    allowed: tuple[IPv4Network, ...] | None = None
    """The sources it admits (an endpoint's access control); None admits every source."""
    capacity: GatewayCapacity | None = None
    """Its own capacity, over the settings for endpoints."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayEndpoint:
    """An endpoint of a gateway service: no address of its own, but a route to the service's
    range in each of ``route_tables``. Gateway services are the cloud's own, so it is accepted."""

    id: str
    vpc: str
    service: str
    route_tables: tuple[str, ...]
    policy: str = ""
