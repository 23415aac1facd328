"""Instances (Tencent CVM / Huawei ECS)."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address


@dataclass(frozen=True, slots=True, kw_only=True)
class Instance:
    """A server with one private IP in one subnet, its security groups in bound order and the
    TCP ports it listens on (at t=0; the timeline can stop and start listeners)."""

    id: str
    vpc: str
    subnet: str
    ip: IPv4Address
    security_groups: tuple[str, ...]
    listen: frozenset[int]
