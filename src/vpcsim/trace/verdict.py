"""Verdicts, dispositions and the closed set of reason codes (documented in README)."""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    """What a probe ends with, as a real stack sees it: a TCP connect is ``connected``, ``refused``
    or ``timeout``; a UDP exchange ``answered``, ``refused`` (an ICMP port unreachable came back) or
    ``timeout``; a ping ``answered`` or ``timeout``."""

    CONNECTED = "connected"
    ANSWERED = "answered"
    REFUSED = "refused"
    TIMEOUT = "timeout"


class Disposition(StrEnum):
    """How one packet's walk ended. Detail lives in the steps."""

    DELIVERED = "delivered"
    DENIED = "denied"
    NO_ROUTE = "no_route"
    DISCARDED = "discarded"

    @property
    def is_success(self) -> bool:
        return self is Disposition.DELIVERED


SUCCESS = frozenset({Disposition.DELIVERED})


class Reason(StrEnum):
    """Why a probe ended as it did. A closed set: scripts may match on these codes."""

    ESTABLISHED = "established"
    """The handshake completed."""
    ANSWERED = "answered"
    """The UDP datagram's answer, or the ping's echo reply, came back."""
    PORT_CLOSED = "port_closed"
    """The server answered RST (TCP) or ICMP port unreachable (UDP): nothing listens on the
    (translated) port."""
    NO_ROUTE = "no_route"
    """A router (a VPC's, a CCN, a peering connection, a data centre's) or a gateway had no route to
    the destination, or would not carry on a packet that entered its network from outside."""
    NO_HOST = "no_host"
    """The destination is inside a VPC but no instance, endpoint or load balancer owns it."""
    SG_INGRESS_DENIED = "sg_ingress_denied"
    """A security group dropped the packet on the way in (a rule, or the default deny)."""
    SG_EGRESS_DENIED = "sg_egress_denied"
    """A security group dropped the packet on the way out."""
    FIREWALL_INGRESS_DENIED = "firewall_ingress_denied"
    """A data-centre host's firewall dropped the packet on the way in (a rule, or its implicit deny)."""
    FIREWALL_EGRESS_DENIED = "firewall_egress_denied"
    """A data-centre host's firewall dropped the packet on the way out."""
    ACL_INGRESS_DENIED = "acl_ingress_denied"
    """A network ACL dropped the packet on its way into a bound subnet (a rule, or the deny-all)."""
    ACL_EGRESS_DENIED = "acl_egress_denied"
    """A network ACL dropped the packet on its way out of a bound subnet."""
    TUNNEL_DOWN = "tunnel_down"
    """A VPN gateway's tunnels toward the destination's data centre (or from the source's) are all
    DOWN."""
    SOURCE_NOT_ALLOWED = "source_not_allowed"
    """An endpoint's access control (its whitelist of source addresses) does not list the client."""
    SOURCE_DEST_CHECK = "source_dest_check"
    """A route led the packet to an instance whose source/destination check is on: it drops what is
    not addressed to it."""
    NO_PORT_MAPPING = "no_port_mapping"
    """The endpoint's service maps no server port to the port the client used."""
    SESSION_LIMIT = "session_limit"
    """The endpoint or load balancer already holds as many concurrent connections as it may."""
    RATE_LIMIT = "rate_limit"
    """The endpoint or load balancer already opened as many new connections this second as it may."""
    QUEUE_FULL = "queue_full"
    """A link's or a gateway's queue was full when the packet arrived (tail drop)."""
    ENDPOINT_NOT_ACTIVE = "endpoint_not_active"
    """The endpoint is PENDING, ACCEPTING, REJECTED or FAILED: only ACTIVE endpoints forward."""
    NO_LISTENER = "no_listener"
    """The load balancer has no listener on the destination port."""
    NO_BACKEND = "no_backend"
    """The listener has no backend that can take a new connection (none bound, or all weight 0)."""
    LB_LOOPBACK = "lb_loopback"
    """The load balancer sent a backend's own connection back to that backend: the reply
    would not return through the load balancer, so a CLB backend cannot use its own VIP."""
    SNAT_PORTS_EXHAUSTED = "snat_ports_exhausted"
    """A translator had no free source port left on its pool address for a new flow."""
    NO_SESSION = "no_session"
    """A reply reached a translating node (endpoint, load balancer) that holds no session for it."""
    NOT_FORWARDED = "not_forwarded"
    """An endpoint or load balancer forwards TCP and UDP only: it neither answers nor forwards an
    echo request to its address, nor carries an ICMP error back from behind it."""
    TTL_EXCEEDED = "ttl_exceeded"
    """A router received the packet with a TTL of 1 or less: it would expire on the next hop (VPC
    routers drop it silently, no ICMP time exceeded)."""
    LOOP = "loop"
    """The packet exceeded its hop limit."""
    NO_ANSWER_IN_TIME = "no_answer_in_time"
    """Nothing was dropped, but connect() gave up before the answer arrived (the round trip is
    longer than the SYN retries wait)."""

    @property
    def disposition(self) -> Disposition:
        return _DISPOSITION[self]


_DISPOSITION = {
    Reason.ESTABLISHED: Disposition.DELIVERED,
    Reason.ANSWERED: Disposition.DELIVERED,
    Reason.PORT_CLOSED: Disposition.DELIVERED,
    Reason.NO_ROUTE: Disposition.NO_ROUTE,
    Reason.NO_HOST: Disposition.NO_ROUTE,
    Reason.SG_INGRESS_DENIED: Disposition.DENIED,
    Reason.SG_EGRESS_DENIED: Disposition.DENIED,
    Reason.FIREWALL_INGRESS_DENIED: Disposition.DENIED,
    Reason.FIREWALL_EGRESS_DENIED: Disposition.DENIED,
    Reason.ACL_INGRESS_DENIED: Disposition.DENIED,
    Reason.ACL_EGRESS_DENIED: Disposition.DENIED,
    Reason.TUNNEL_DOWN: Disposition.DISCARDED,
    Reason.SOURCE_NOT_ALLOWED: Disposition.DENIED,
    Reason.SOURCE_DEST_CHECK: Disposition.DISCARDED,
    Reason.NO_PORT_MAPPING: Disposition.DISCARDED,
    Reason.SESSION_LIMIT: Disposition.DISCARDED,
    Reason.RATE_LIMIT: Disposition.DISCARDED,
    Reason.QUEUE_FULL: Disposition.DISCARDED,
    Reason.ENDPOINT_NOT_ACTIVE: Disposition.DISCARDED,
    Reason.NO_LISTENER: Disposition.DISCARDED,
    Reason.NO_BACKEND: Disposition.DISCARDED,
    Reason.LB_LOOPBACK: Disposition.DISCARDED,
    Reason.SNAT_PORTS_EXHAUSTED: Disposition.DISCARDED,
    Reason.NO_SESSION: Disposition.DISCARDED,
    Reason.NOT_FORWARDED: Disposition.DISCARDED,
    Reason.TTL_EXCEEDED: Disposition.DISCARDED,
    Reason.LOOP: Disposition.DISCARDED,
    Reason.NO_ANSWER_IN_TIME: Disposition.DELIVERED,
}
