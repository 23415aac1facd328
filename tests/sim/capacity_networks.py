"""Small networks for the time-and-capacity tests: two servers in one subnet, and the seed."""

from __future__ import annotations

from typing import Any

MSS = 1460
SYN_BYTES = 52
"""A SYN or SYN-ACK of a connection that carries data: IP and TCP headers; MSS, SACK-permitted and window-scale options."""
ETHERNET = 38
"""The frame overhead these networks set: Ethernet header 14, FCS 4, preamble 8, gap 12."""


def pair(
    *,
    bandwidth: str = "10Mbps",
    queue: int = 100,
    delay: str = "1ms",
    congestion: str = "cubic",
    tcp: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``client`` and ``server`` (listening on 5001) in one zone, joined by host links of
    ``bandwidth`` with ``queue`` packets and Ethernet framing; ``delay`` one way between them."""
    return {
        "version": 1,
        "settings": {
            "seed": 7,
            "delays": {"same_zone": delay},
            "tcp": {"congestion_control": congestion, **(tcp or {})},
            "links": {"host": {"bandwidth": bandwidth, "queue": queue, "overhead": ETHERNET}},
        },
        "vpcs": {
            "vpc-a": {
                "region": "ap-chengdu",
                "account": "1",
                "cidr": "10.9.0.0/16",
                "subnets": {"sn-a": {"cidr": "10.9.1.0/24", "zone": "ap-chengdu-1"}},
            }
        },
        "security_groups": {
            "sg-open": {
                "ingress": [{"action": "accept", "protocol": "all", "source": "0.0.0.0/0"}],
                "egress": [{"action": "accept", "protocol": "all", "destination": "0.0.0.0/0"}],
            }
        },
        "instances": {
            "client": {"vpc": "vpc-a", "subnet": "sn-a", "ip": "10.9.1.10", "security_groups": ["sg-open"]},
            "server": {
                "vpc": "vpc-a",
                "subnet": "sn-a",
                "ip": "10.9.1.20",
                "security_groups": ["sg-open"],
                "listen": [5001],
            },
        },
    }


def seconds_on_wire(ip_bytes: int, bps: float) -> float:
    """How long a packet of ``ip_bytes`` takes to serialise on a link of these networks."""
    return (ip_bytes + ETHERNET) * 8 / bps
