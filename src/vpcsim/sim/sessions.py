"""Per-simulation state that outlives a packet: connection tracking, NAT and LB sessions,
scheduler counters. A fresh :class:`Sessions` per check keeps checks independent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from vpcsim.trace import Step

FlowKey = tuple[int, int, int, int]
"""(src, sport, dst, dport)."""


class NatSession(NamedTuple):
    """An endpoint translation: client flow ↔ translated flow toward the load balancer.

    The two transform steps are built once per session (every packet of a flow is rewritten
    the same way), which is also why sessions are NamedTuples: they are made per flow.
    """

    endpoint: str
    client: FlowKey
    translated: FlowKey
    forward_step: Step
    reverse_step: Step


class LbSession(NamedTuple):
    """A load-balancer connection: the flow to the VIP, its backend, and where replies return."""

    load_balancer: str
    listener: str
    incoming: FlowKey
    backend: str
    backend_ip: int
    backend_port: int
    return_to: str
    forward_step: Step
    reverse_step: Step


@dataclass(slots=True)
class Sessions:
    conntrack: dict[str, dict[FlowKey, bool]] = field(default_factory=dict)
    """Per host: flows its security groups admitted, keyed as first seen, and whether a reply has
    been seen (ESTABLISHED) or not yet (NEW)."""
    nat_forward: dict[FlowKey, NatSession] = field(default_factory=dict)
    nat_reverse: dict[FlowKey, NatSession] = field(default_factory=dict)
    """Keyed by the reply as it arrives at the endpoint: (lb vip, vport, snat ip, snat port)."""
    lb_forward: dict[FlowKey, LbSession] = field(default_factory=dict)
    lb_reverse: dict[FlowKey, LbSession] = field(default_factory=dict)
    """Keyed by the backend's reply: (backend ip, backend port, client ip, client port)."""
    next_snat_port: dict[int, int] = field(default_factory=dict)
    wrr_current: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    active: dict[tuple[tuple[str, str], str], int] = field(default_factory=dict)
    """Connections opened per ((load balancer, listener), backend key), for least-connections."""

    def snat_port(self, snat_ip: int, first: int) -> int:
        """Ports are allocated per flow, in order from a seeded start (PAT, docs/decisions.md Q5)."""
        port = self.next_snat_port.get(snat_ip, first)
        self.next_snat_port[snat_ip] = 1024 + (port - 1024 + 1) % (65536 - 1024)
        return port
