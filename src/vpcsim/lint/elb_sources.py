"""Backends whose security groups drop what their load balancer sends them.

A load balancer that translates the source (Huawei's shared ELB: its own address of
100.125.0.0/16 [HWELB1], docs/decisions.md Q37) shows its backends that address, for connections
and health checks alike, and Huawei's groups filter both: a group that does not admit it makes every
connection through the ELB time out and the backend unhealthy. A load balancer that probes from an
address of its own (a dedicated ELB's backend subnet) needs that address admitted for its health
checks. Rules are read as declared (t=0).
"""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Network

from vpcsim.errors import ScenarioWarning, WarningCode
from vpcsim.lint.context import Context, listing
from vpcsim.lint.rulespace import first_match


def check(ctx: Context) -> Iterator[ScenarioWarning]:
    topo = ctx.topology
    for lb in sorted(topo.load_balancers.values(), key=lambda x: x.id):
        source = lb.source_ip or lb.probe_ip
        if source is None:
            continue
        what = "the source it forwards and probes from" if lb.source_ip else "the address it probes from"
        blocked: dict[str, list[str]] = {}
        for lst in lb.listeners:
            for b in lst.backends:
                groups = topo.instances[b.instance].security_groups
                port = lst.health_check.port or b.port if lb.source_ip is None else b.port
                adm = first_match(ctx.bound(groups, "ingress"), lst.protocol, port, IPv4Network(source))
                if adm.denied:
                    blocked.setdefault(b.instance, []).append(f"{lst.protocol}/{port}")
        for iid, ports in sorted(blocked.items()):
            groups = topo.instances[iid].security_groups
            where = f"its groups ({listing(list(groups))})" if groups else "it has no security group, and"
            yield ctx.warn(
                ("instances", iid, "security_groups"),
                WarningCode.BACKEND_SG_BLOCKS_LOAD_BALANCER,
                f"backend {iid} of {lb.id}: {where} admit no {', '.join(sorted(set(ports)))} from {source}, "
                f"{what} ({lb.kind} load balancer): its connections time out and its health checks fail; "
                f"admit {'100.125.0.0/16' if lb.kind == 'shared' else source} on those ports",
            )
