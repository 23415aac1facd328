"""Instances whose groups hold no rule at all in a direction that is used.

No match denies, in both directions (Q7): groups without egress rules let the instance open no
connection, and a check that expects to reach an instance whose groups have no ingress rule can
only time out. A timeline ``add_rule`` into one of the groups in that direction means the author
planned for it, so it silences the warning. Instances without any group get
``instance-without-security-group`` from the loader instead.
"""

from __future__ import annotations

from collections.abc import Iterator

from vpcsim.errors import ScenarioWarning, WarningCode
from vpcsim.lint.context import Context, listing
from vpcsim.model import Expectation, Instance


def _has_rules(ctx: Context, inst: Instance, direction: str) -> bool:
    groups = ctx.topology.security_groups
    return any(groups[g].rules(direction) or (g, direction) in ctx.groups_given_rules for g in inst.security_groups)


def check(ctx: Context) -> Iterator[ScenarioWarning]:
    topo = ctx.topology
    for iid, inst in sorted(topo.instances.items()):
        if inst.security_groups and not _has_rules(ctx, inst, "egress"):
            yield ctx.warn(
                ("instances", iid, "security_groups"),
                WarningCode.INSTANCE_WITHOUT_EGRESS_RULE,
                f"instance {iid}: its groups ({listing(list(inst.security_groups))}) hold no egress rule, and no "
                "match denies, so it cannot open any connection; add an egress rule such as "
                f"{{action: accept, protocol: all, destination: 0.0.0.0/0}} to {inst.security_groups[0]}",
            )
    by_ip: dict[str, list[str]] = {}
    for iid, inst in topo.instances.items():
        by_ip.setdefault(str(inst.ip), []).append(iid)
    targeted: dict[str, list[str]] = {}
    for i, c in enumerate(topo.checks):
        if c.expect is Expectation.TIMEOUT:
            continue  # a check that expects no answer may well mean the missing rule
        owners = [c.host] if c.host in topo.instances else by_ip.get(c.host, [])
        # An address in several VPCs is ambiguous here: which one a check reaches is routing's business.
        target = owners[0] if len(owners) == 1 else None
        if target is None or target == c.source:
            continue  # an instance dialling itself uses loopback: no group applies
        targeted.setdefault(target, []).append(f"checks[{i}]")
    for iid, checks in sorted(targeted.items()):
        inst = topo.instances[iid]
        if inst.security_groups and not _has_rules(ctx, inst, "ingress"):
            yield ctx.warn(
                ("instances", iid, "security_groups"),
                WarningCode.CHECK_TARGET_WITHOUT_INGRESS_RULE,
                f"instance {iid} is the target of {listing(checks)}, which expect{'s' if len(checks) == 1 else ''} "
                f"an answer, but its groups "
                f"({listing(list(inst.security_groups))}) hold no ingress rule, and no match denies, so every "
                f"connection to it times out; add an ingress rule for the checked port to {inst.security_groups[0]}",
            )
