"""What a verdict's explanation knows beyond the deciding step: typed facts, rendered by ``report``.

A step records what one node decided. Explaining a verdict to a user sometimes needs facts about
the rest of the network: what the address a filter denied belongs to, which accept the filter
lacks, whether the control plane will make a node forward later. ``vpcsim.probes`` computes these
from the compiled network and the typed steps (never from text); ``vpcsim.report`` turns them
into words.
"""

from __future__ import annotations

from typing import NamedTuple


class Peer(NamedTuple):
    """The address a filter denied (the packet's source on the way in, its destination on the way
    out) and what owns it in the network."""

    address: str
    label: str
    """The owner as traces name it (``cvm-vpc3``, ``endpoint vpce-1``), or "" when nothing owns it."""
    pool_of: str = ""
    """When the address is a translator's pool (source NAT) address: that translator's id."""
    pool_label: str = ""
    """What the front-end calls such an address (``Private Link SNAT``)."""
    admit: str = ""
    """The CIDR an accept should name to admit this peer: the whole pool for a pool address (each
    translator of the pool has its own address, all of which the filter sees), else the address
    itself as a /32."""


class MissingAccept(NamedTuple):
    """A filter denied a packet by a catch-all drop rule or by its default deny: the accept that
    would have admitted it, and where it has to go."""

    group: str
    direction: str
    protocol: str
    port: int
    peer: str
    """The CIDR to accept (:attr:`Peer.admit`)."""
    before: int | None
    """The number of the drop rule the accept must precede, in ``group``; None for a default deny."""


class Activation(NamedTuple):
    """A node that did not forward when it dropped the packet, and the control-plane change after
    the probe's decision that makes it forward."""

    node: str
    changes_at: float
    """When the control plane starts the change (for an endpoint, the provider's accept)."""
    forwards_at: float
    """When the node is in its forwarding state; equal to ``changes_at`` when that is at once."""
