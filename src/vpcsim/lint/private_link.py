"""Security groups that drop Private Link's translated sources.

An endpoint rewrites each client's source into its service's SNAT range, 11.163.0.0/16, and the
load balancer passes that source on, so the backends' groups must admit the range on the backend
port [PL1][PL11]; so must the load balancer's own groups, on the listener port (Q6). Tencent's
practice names the first requirement as a prerequisite; forgetting it makes every connection
through the endpoint time out although everything else is right.

Each bound list is walked as the data plane walks it (first match wins across the groups in bound
order; no match denies): a drop rule that decides any part of the range is reported, and so is a
part no rule matches. Rules are read as declared (t=0); timeline rule changes are not considered.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Network

from vpcsim.errors import ScenarioWarning, WarningCode
from vpcsim.lint.context import Context, listing
from vpcsim.lint.rulespace import Admission, cidrs_text, first_match
from vpcsim.model import EndpointService, LoadBalancer, ServiceBackend
from vpcsim.scenario.yamlsafe import Path


@dataclass
class _Finding:
    """Everything blocked at one place (one drop rule, or one list's end), to report once."""

    path: Path
    cause: str
    """What blocks, with ``{range}`` where the blocked addresses go."""
    fix: str
    targets: list[str] = field(default_factory=list)
    ranges: set[str] = field(default_factory=set)

    def sentence(self, snat: IPv4Network, whom: str, noun: str = "Private Link's SNAT range") -> str:
        blocked = next(iter(self.ranges)) if len(self.ranges) == 1 else str(snat)
        if blocked == str(snat):
            what, effect = f"{noun} {snat}", "connections through the service's endpoints time out"
        else:
            what = f"{blocked} of {noun} {snat}"
            effect = "connections through endpoints translated into that part time out"
        # replace(), not format(): the rule summaries in the cause are user text.
        return f"{self.cause.replace('{range}', what)}, the source {whom}: {effect}; {self.fix}"


def check(ctx: Context) -> Iterator[ScenarioWarning]:
    topo = ctx.topology
    for svc in sorted(topo.endpoint_services.values(), key=lambda s: s.id):
        if svc.backend_kind is ServiceBackend.LOAD_BALANCER:
            lb = topo.load_balancers[svc.backend]
            yield from _load_balancer_groups(ctx, svc, lb)
            if lb.source_ip is None:  # a balancer that translates shows its own address instead
                yield from _backend_groups(ctx, svc, lb)
        elif svc.backend_kind in (ServiceBackend.INSTANCE, ServiceBackend.VIRTUAL_IP):
            yield from _server_groups(ctx, svc)


def _range_noun(ctx: Context) -> str:
    return "VPC Endpoint's source range" if ctx.topology.cloud == "huawei" else "Private Link's SNAT range"


def _accept(port: int, snat: IPv4Network) -> str:
    return f"{{action: accept, protocol: tcp, port: {port}, source: {snat}}}"


def _collect(
    findings: dict[tuple[Path, int], _Finding],
    adm: Admission,
    groups: tuple[str, ...],
    port: int,
    target: str,
    snat: IPv4Network,
    owner_path: Path,
) -> None:
    """File what ``adm`` denies under the place a user would change."""
    for br, hit in adm.dropped:
        cause = f"{br.label()} drops {{range}} on tcp/{port}"
        fix = f"add {_accept(port, snat)} to {br.group} ingress above rule #{br.index}"
        f = findings.setdefault((br.path, port), _Finding(path=br.path, cause=cause, fix=fix))
        f.targets.append(target)
        f.ranges.add(cidrs_text(hit))
    if adm.unmatched:
        if groups:
            path: Path = ("security_groups", groups[0], "ingress")
            cause = f"no ingress rule of {listing(list(groups))} matches {{range}} on tcp/{port} (no match denies)"
            fix = f"add {_accept(port, snat)} to {groups[0]} ingress"
        else:
            path = (*owner_path, "security_groups")
            cause = f"{owner_path[-1]} has no security group, so nothing admits {{range}} on tcp/{port}"
            fix = f"bind a group whose ingress holds {_accept(port, snat)}"
        f = findings.setdefault((path, port), _Finding(path=path, cause=cause, fix=fix))
        f.targets.append(target)
        f.ranges.add(cidrs_text(adm.unmatched))


def _backend_groups(ctx: Context, svc: EndpointService, lb: LoadBalancer) -> Iterator[ScenarioWarning]:
    topo = ctx.topology
    findings: dict[tuple[Path, int], _Finding] = {}
    seen: set[tuple[str, int]] = set()
    for lst in lb.listeners:
        for b in lst.backends:
            if (b.instance, b.port) in seen:
                continue  # a backend behind two listeners is blocked (or not) once
            seen.add((b.instance, b.port))
            inst = topo.instances[b.instance]
            adm = first_match(ctx.bound(inst.security_groups, "ingress"), "tcp", b.port, svc.snat_cidr)
            if adm.denied:
                target = f"{b.instance}:{b.port}"
                _collect(findings, adm, inst.security_groups, b.port, target, svc.snat_cidr, ("instances", b.instance))
    for f in findings.values():
        backends = f"backend{'s' if len(f.targets) > 1 else ''} {listing(f.targets)}"
        whom = f"{backends} of {lb.id} {'see' if len(f.targets) > 1 else 'sees'} behind endpoint service {svc.id}"
        yield ctx.warn(
            f.path, WarningCode.BACKEND_SG_BLOCKS_PRIVATE_LINK, f.sentence(svc.snat_cidr, whom, _range_noun(ctx))
        )


def _load_balancer_groups(ctx: Context, svc: EndpointService, lb: LoadBalancer) -> Iterator[ScenarioWarning]:
    if not lb.security_groups:
        return  # a load balancer without groups admits everything to its listeners [CLB11]
    findings: dict[tuple[Path, int], _Finding] = {}
    rules = ctx.bound(lb.security_groups, "ingress")
    for lst in lb.listeners:
        adm = first_match(rules, "tcp", lst.port, svc.snat_cidr)
        if adm.denied:
            owner: Path = ("load_balancers", lb.id)
            _collect(findings, adm, lb.security_groups, lst.port, f"listener {lst.id}", svc.snat_cidr, owner)
    for f in findings.values():
        whom = f"{lb.id}'s own groups see for endpoint service {svc.id} ({listing(f.targets)})"
        yield ctx.warn(
            f.path, WarningCode.LOAD_BALANCER_SG_BLOCKS_PRIVATE_LINK, f.sentence(svc.snat_cidr, whom, _range_noun(ctx))
        )


def _server_groups(ctx: Context, svc: EndpointService) -> Iterator[ScenarioWarning]:
    """An ECS published directly sees the endpoint's translated source on each mapped server port."""
    inst = ctx.topology.instances[svc.backend]
    findings: dict[tuple[Path, int], _Finding] = {}
    for m in svc.ports:
        adm = first_match(ctx.bound(inst.security_groups, "ingress"), m.protocol, m.server_port, svc.snat_cidr)
        if adm.denied:
            target = f"{inst.id}:{m.server_port}"
            _collect(findings, adm, inst.security_groups, m.server_port, target, svc.snat_cidr, ("instances", inst.id))
    for f in findings.values():
        whom = f"{listing(f.targets)} sees behind endpoint service {svc.id}"
        yield ctx.warn(
            f.path, WarningCode.BACKEND_SG_BLOCKS_PRIVATE_LINK, f.sentence(svc.snat_cidr, whom, _range_noun(ctx))
        )
