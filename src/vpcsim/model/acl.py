"""Network ACLs: ordered, first match, bound to subnets (Tencent 网络ACL [ACL1][ACL2], stateless;
Huawei [HWACL1], stateful with default rules)."""

from __future__ import annotations

from dataclasses import dataclass

from vpcsim.model.security import Rule


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkAcl:
    """An ACL of one VPC, bound to some of its subnets (a subnet has at most one).

    Rules are checked top to bottom, first match wins, and an immutable deny-all ends each list.
    Unless ``stateful``, a reply is checked like any packet, so return traffic (the client's
    ephemeral ports) needs rules of its own. It does not apply between addresses of one bound subnet. A rule's
    ``peer`` is the source of an ingress rule and the destination of an egress rule; its ports are
    the packet's destination port.
    """

    id: str
    vpc: str
    subnets: tuple[str, ...]
    ingress: tuple[Rule, ...]
    egress: tuple[Rule, ...]
    description: str = ""
    stateful: bool = False
    """Whether it tracks connections (Huawei): a reply of a connection it admitted passes."""
    defaults: tuple[tuple[Rule, ...], tuple[Rule, ...]] = ((), ())
    """(ingress, egress) rules the cloud adds after the user's and before the deny-all."""

    def rules(self, direction: str) -> tuple[Rule, ...]:
        return self.ingress if direction == "ingress" else self.egress

    def default_rules(self, direction: str) -> tuple[Rule, ...]:
        return self.defaults[0] if direction == "ingress" else self.defaults[1]
