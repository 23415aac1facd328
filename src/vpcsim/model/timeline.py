"""Control-plane events at simulated times."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vpcsim.model.routing import RouteEntry
from vpcsim.model.security import Rule


class EventKind(StrEnum):
    ACCEPT_ENDPOINT = "accept_endpoint"
    REJECT_ENDPOINT = "reject_endpoint"
    ATTACH_VPC = "attach_vpc"
    DETACH_VPC = "detach_vpc"
    ADD_RULE = "add_rule"
    REMOVE_RULE = "remove_rule"
    STOP_LISTENER = "stop_listener"
    START_LISTENER = "start_listener"
    ADD_ROUTE = "add_route"
    DELETE_ROUTE = "delete_route"
    ENABLE_ROUTE = "enable_route"
    DISABLE_ROUTE = "disable_route"
    TUNNEL_DOWN = "tunnel_down"
    TUNNEL_UP = "tunnel_up"


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One control-plane change. Only the fields its kind needs are set.

    ``order`` is the event's position in the file: events at the same time apply in file order.
    """

    at: float
    kind: EventKind
    order: int
    endpoint: str | None = None
    ccn: str | None = None
    vpc: str | None = None
    security_group: str | None = None
    direction: str | None = None
    index: int | None = None
    rule: Rule | None = None
    instance: str | None = None
    port: int | None = None
    protocol: str = "tcp"
    """A listener event's protocol."""
    route_table: str | None = None
    route: str | None = None
    """A route entry's id."""
    entry: RouteEntry | None = None
    """The route an ``add_route`` adds."""
    gateway: str | None = None
    tunnel: str | None = None

    def describe(self) -> str:
        k = self.kind
        if k in (EventKind.ACCEPT_ENDPOINT, EventKind.REJECT_ENDPOINT):
            return f"{k.value.split('_')[0]} endpoint {self.endpoint}"
        if k in (EventKind.ATTACH_VPC, EventKind.DETACH_VPC):
            return f"{k.value.split('_')[0]} {self.vpc} {'to' if k is EventKind.ATTACH_VPC else 'from'} {self.ccn}"
        if k is EventKind.ADD_RULE:
            assert self.rule is not None
            return f"add {self.security_group} {self.direction} rule #{self.index}: {self.rule.summary()}"
        if k is EventKind.REMOVE_RULE:
            return f"remove {self.security_group} {self.direction} rule #{self.index}"
        if k is EventKind.ADD_ROUTE:
            assert self.entry is not None
            return f"add route {self.route} to {self.route_table}: {self.entry.summary()}"
        if k in (EventKind.DELETE_ROUTE, EventKind.ENABLE_ROUTE, EventKind.DISABLE_ROUTE):
            return f"{k.value.split('_')[0]} route {self.route} of {self.route_table}"
        if k in (EventKind.TUNNEL_DOWN, EventKind.TUNNEL_UP):
            return f"tunnel {self.tunnel} of {self.gateway} goes {k.value.split('_')[1]}"
        verb = "stop" if k is EventKind.STOP_LISTENER else "start"
        udp = "udp/" if self.protocol == "udp" else ""
        return f"{verb} listener {self.instance}:{udp}{self.port}"
