"""Per-simulation state that outlives a packet: connection tracking, translator and load-balancer
sessions, reply steering, scheduler counters. A fresh :class:`Sessions` per simulation keeps
simulations independent; flows inside one simulation share it, as they share a real network."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple

from vpcsim.sim.ports import FlowKey
from vpcsim.sim.queues import TokenBucket
from vpcsim.trace import Step


class NatSession(NamedTuple):
    """A translation: client flow ↔ translated flow toward the target.

    The two transform steps are built once per session (every packet of a flow is rewritten the
    same way), which is also why sessions are NamedTuples: they are made per flow.
    """

    node: str
    client: FlowKey
    translated: FlowKey
    forward_step: Step
    reverse_step: Step
    state: list[float]
    """[last packet's time, FINs seen (1: from the client, 2: toward it)]: what ends it."""
    steered_at: str = ""
    """The router that steers this session's replies back to it ("" when none does)."""


class LbSession(NamedTuple):
    """A load-balancer connection: the flow to the VIP, its backend, and where replies return."""

    balancer: str
    listener: str
    incoming: FlowKey
    backend: str
    backend_address: int
    backend_port: int
    source: int
    """The source the backend sees (the client's, or the balancer's translated address)."""
    source_port: int
    return_to: str
    forward_step: Step
    reverse_step: Step
    state: list[float]
    """[last packet's time, FINs seen (1: from the client, 2: toward it)]: what ends it."""
    gateway: str
    """The router of the backend's network (where its replies are steered back)."""


@dataclass(slots=True)
class Sessions:
    conntrack: dict[str, dict[FlowKey, bool]] = field(default_factory=dict)
    """Per host: flows its filters admitted, keyed as first seen, and whether a reply has been
    seen (ESTABLISHED) or not yet (NEW)."""
    nat_forward: dict[tuple[str, FlowKey], NatSession] = field(default_factory=dict)
    """Keyed by (translator, the client's flow)."""
    nat_reverse: dict[tuple[str, FlowKey], NatSession] = field(default_factory=dict)
    """Keyed by (translator, the reply as it arrives: target address, port, pool address, port)."""
    lb_forward: dict[tuple[str, FlowKey], LbSession] = field(default_factory=dict)
    lb_reverse: dict[tuple[str, FlowKey], LbSession] = field(default_factory=dict)
    """Keyed by (load balancer, the backend's reply: backend address, port, client address, port)."""
    steering: dict[tuple[str, FlowKey], str] = field(default_factory=dict)
    """(router, reply flow) → the load balancer or translator the reply returns to: a backend may see
    an address its router does not route back (the client's own, a translated one), so its router
    sends the replies of such a flow back to the node that sent it."""
    wrr_current: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    active: dict[tuple[tuple[str, str], str], int] = field(default_factory=dict)
    """Connections opened per ((load balancer, listener), backend key), for least-connections."""
    acl_flows: dict[tuple[str, int, int], set[FlowKey]] = field(default_factory=dict)
    """Per (network, subnet net, mask) of a filter that tracks connections: the flows it admitted."""
    live: dict[str, int] = field(default_factory=dict)
    """Sessions open now, per translator or load balancer (for its limit and occupancy)."""
    buckets: dict[str, TokenBucket] = field(default_factory=dict)
    """Per node with a new-connection rate limit: its tokens."""
    opened: dict[str, int] = field(default_factory=dict)
    """Sessions opened so far, per translator or load balancer."""
    closing: deque[tuple[float, NatSession | LbSession]] = field(default_factory=deque)
    """Sessions whose connection finished, with when their linger ends (in that order)."""
