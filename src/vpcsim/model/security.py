"""Security groups: ordered rules, first match wins, default deny, stateful (Tencent SG [SG1][SG2])."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Network


class Action(StrEnum):
    ACCEPT = "accept"
    DROP = "drop"


class Protocol(StrEnum):
    TCP = "tcp"
    UDP = "udp"
    ICMP = "icmp"
    ALL = "all"


@dataclass(frozen=True, slots=True, kw_only=True)
class PortRange:
    """An inclusive port range; ``PortRange(low=1, high=65535)`` is "all"."""

    low: int
    high: int

    @property
    def is_all(self) -> bool:
        return self.low == 1 and self.high == 65535

    def __str__(self) -> str:
        if self.is_all:
            return "all"
        return str(self.low) if self.low == self.high else f"{self.low}-{self.high}"


ALL_PORTS = PortRange(low=1, high=65535)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One security-group rule. ``peer`` is the source of an ingress rule, the destination of an
    egress rule. ``ports`` is ignored for ICMP."""

    action: Action
    protocol: Protocol
    ports: PortRange
    peer: IPv4Network
    description: str = ""

    def summary(self) -> str:
        ports = "" if self.protocol in (Protocol.ICMP, Protocol.ALL) and self.ports.is_all else f"/{self.ports}"
        return f"{self.action.value} {self.protocol.value}{ports} {self.peer}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityGroup:
    """A security group. Rules are evaluated top to bottom, first match wins; no match denies.

    The rule index shown in traces is the position in the list, from 0, as Tencent's PolicyIndex.
    """

    id: str
    ingress: tuple[Rule, ...]
    egress: tuple[Rule, ...]
    description: str = ""

    def rules(self, direction: str) -> tuple[Rule, ...]:
        return self.ingress if direction == "ingress" else self.egress
