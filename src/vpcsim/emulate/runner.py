"""The simulator against the kernel: simulate every check (every branch), build the kernel plan of
the control state it ran in, connect for real, and compare the verdicts and where packets stopped.

This is the one module of :mod:`vpcsim.emulate` that asks the simulator (:mod:`vpcsim.probes`): the
plans come from the model alone (:mod:`vpcsim.emulate.plan`, :mod:`vpcsim.emulate.plan_control`), so
a bug in the control plane, the lowering or the engine makes the two sides disagree. Besides the
verdicts, the runner compares the drop point the simulator blames with the one the kernel logged,
and the backends each load balancer may choose with the ones the oracle allows.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network

from vpcsim.emulate.kernel import CLIENT_PORTS, Fabric, Job, Outcome, neighbour_budget
from vpcsim.emulate.plan import DropPoint, NetPlan, Pin, PlanError, RoutePin, choose_pool, plan_state
from vpcsim.emulate.plan_control import Oracle, OracleState, snat_address
from vpcsim.model import Check, Topology
from vpcsim.probes import Network, ProbeResult
from vpcsim.report.progress import NO_PROGRESS, Progress
from vpcsim.trace import AclDenied, Denied, RuleMatch, Verdict

SCHEMA = 3
"""The version of ``vpcsim emulate --json``'s shape (``schemas/emulate.schema.json``): 2 has a row per
branch of each check, 3 where each side says the packet stopped."""

LOCATED = frozenset(
    {
        "sg_ingress_denied",
        "sg_egress_denied",
        "acl_ingress_denied",
        "acl_egress_denied",
        "firewall_ingress_denied",
        "firewall_egress_denied",
        "tunnel_down",
        "endpoint_not_active",
        "no_listener",
        "no_backend",
        "no_route",
        "no_host",
        "not_forwarded",
        "lb_loopback",
        "port_closed",
        "no_port_mapping",
        "source_not_allowed",
        "source_dest_check",
    }
)
"""The reasons whose place the kernel build logs (a drop point, or the host that refused)."""

DEFAULT_DEADLINE = 2.0
"""Seconds a real connect may take before it counts as timed out. The clouds drop silently and
the namespaces answer in well under a millisecond, so this only needs to exceed scheduling noise;
it stays below Linux's first SYN retransmission (1 s) times two."""

_ZERO_NET = IPv4Network("0.0.0.0/8")
_BROADCAST = IPv4Address("255.255.255.255")


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckEmulation:
    """One branch of one check, in the simulator and in the kernel."""

    index: int
    check: int
    """The check's index in the scenario."""
    branch: int
    """The branch's index among the check's (0: the scheduler's first pick)."""
    branches: int
    """How many branches the check has."""
    name: str
    source: str
    host: str
    address: str
    port: int
    protocol: str
    at: float
    simulator: str
    simulator_reason: str
    backend: str | None
    """``ip:port`` of the backends this branch takes (the kernel's pins), comma-separated past
    several load balancers; None when it meets none."""
    kernel: str | None
    """connected | refused | timeout | error; None when not emulable."""
    kernel_detail: str
    kernel_seconds: float | None
    status: str
    """agree | disagree | not_emulable"""
    note: str
    """Why the check is not emulable, or what disagrees."""
    state_time: float | None
    simulator_at: str = ""
    """Where the simulator says the deciding packet stopped (or which host refused); "" when it
    went through or the place is not one the kernel build logs."""
    kernel_at: tuple[str, ...] = ()
    """The drop points the kernel logged for this branch's packets (refusals: the host)."""
    location: str = "not_compared"
    """same | different | not_compared"""

    def to_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "check": self.check,
            "branch": self.branch,
            "branches": self.branches,
            "name": self.name,
            "from": self.source,
            "to": self.host if self.protocol == "icmp" else f"{self.host}:{self.port}",
            "protocol": self.protocol,
            "address": self.address,
            "at": self.at,
            "status": self.status,
            "simulator": {"verdict": self.simulator, "reason": self.simulator_reason, "backend": self.backend},
            "kernel": None
            if self.kernel is None
            else {
                "verdict": self.kernel,
                "detail": self.kernel_detail,
                "seconds": None if self.kernel_seconds is None else round(self.kernel_seconds, 6),
                "state_time": self.state_time,
            },
            "location": {"status": self.location, "simulator": self.simulator_at, "kernel": list(self.kernel_at)},
            "note": self.note,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildInfo:
    state_times: tuple[float, ...]
    scenarios: int
    namespaces: int
    links: int
    checks: int
    build_seconds: float
    run_seconds: float

    def to_dict(self) -> dict[str, object]:
        return {
            "state_times": list(self.state_times),
            "scenarios": self.scenarios,
            "namespaces": self.namespaces,
            "links": self.links,
            "checks": self.checks,
            "build_seconds": round(self.build_seconds, 4),
            "run_seconds": round(self.run_seconds, 4),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class EmulationReport:
    scenario: str
    checks: tuple[CheckEmulation, ...]
    builds: tuple[BuildInfo, ...]
    deadline: float
    warnings: tuple[str, ...] = ()

    @property
    def disagreements(self) -> tuple[CheckEmulation, ...]:
        return tuple(c for c in self.checks if c.status == "disagree")

    @property
    def agree(self) -> bool:
        return not self.disagreements

    def counts(self) -> dict[str, int]:
        """``branches`` counts every row (a check per branch it may take), ``checks`` the checks."""
        out = {
            "checks": len({c.check for c in self.checks}),
            "branches": len(self.checks),
            "agree": 0,
            "disagree": 0,
            "not_emulable": 0,
        }
        for c in self.checks:
            out[c.status] += 1
        out["located"] = sum(c.location != "not_compared" for c in self.checks)
        return out

    def to_dict(self) -> dict[str, object]:
        return {
            "schema": SCHEMA,
            "scenario": self.scenario,
            "agree": self.agree,
            "counts": self.counts(),
            "deadline_seconds": self.deadline,
            "builds": [b.to_dict() for b in self.builds],
            "warnings": list(self.warnings),
            "checks": [c.to_dict() for c in self.checks],
        }


@dataclass(slots=True)
class _Entry:
    check: Check
    check_index: int
    branch: int
    branches: int
    result: ProbeResult
    state_index: int | None
    backends: tuple[tuple[str, int], ...]
    not_emulable: str = ""
    oracle_note: str = ""
    """What the oracle's control plane says against the simulator's choice of backends."""
    job: Job | None = None
    outcome: Outcome | None = None


@dataclass(slots=True, eq=False)
class Prepared:
    """One scenario, simulated and planned, waiting for the kernel."""

    tag: str
    topology: Topology
    network: Network
    oracle: Oracle
    change_times: list[float]
    split_ports: str = ""
    """Why no check of the scenario is emulable for its ports (see :func:`_split_port_range`)."""
    plans: dict[int, NetPlan] = field(default_factory=dict)
    entries: list[_Entry] = field(default_factory=list)
    builds: list[BuildInfo] = field(default_factory=list)


def _pins(topo: Topology, branch: ProbeResult) -> list[tuple[str, str, int, str, int, str]]:
    """(load balancer, its VIP, listener port, backend address, backend port, protocol) of each
    choice the branch took, in the model's terms."""
    out = []
    for c in branch.choices:
        if c.kind != "backend":  # a router's equal-cost next hop: see _route_pins
            continue
        lb = topo.load_balancers[c.balancer]
        listener = next(x for x in lb.listeners if x.id == c.listener)
        address = str(topo.instances[c.instance].ip)
        out.append((c.balancer, str(lb.vip), listener.port, address, c.port, listener.protocol))
    return out


def _route_pins(plan: NetPlan, branch: ProbeResult) -> tuple[tuple[RoutePin, ...], str]:
    """The kernel routes the branch's equal-cost choices take, and where the simulator's next hops
    differ from the ones the model's table offers ("" when they agree)."""
    pins: list[RoutePin] = []
    for c in branch.choices:
        if c.kind != "next_hop":
            continue
        nsp = next((n for n in plan.namespaces if n.key == plan.key(c.balancer)), None)
        group = next((g for g in nsp.ecmp if g.point == c.listener), None) if nsp is not None else None
        offered = [h[0] for h in group.hops] if group is not None else []
        if group is None or set(offered) != set(c.candidates):
            return (), (
                f"{c.balancer} chose among {', '.join(c.candidates)} for {c.listener}; the model's table offers "
                f"{', '.join(offered) or 'no equal-cost routes there'}"
            )
        _, via, dev = next(h for h in group.hops if h[0] == c.backend)
        pins.append(RoutePin(plan.key(c.balancer), group.table, group.prefix, via, dev))
    return tuple(pins), ""


def _oracle_note(state: OracleState, branch: ProbeResult) -> str:
    """Where the simulator's load balancers chose among other backends than the oracle allows."""
    for c in branch.choices:
        if c.kind != "backend":
            continue
        allowed = [f"{b.instance}:{b.port}" for b in state.candidates[(c.balancer, c.listener)]]
        if set(c.candidates) != set(allowed):
            return (
                f"{c.balancer} listener {c.listener} chose among {', '.join(c.candidates) or 'nobody'}; "
                f"the model allows {', '.join(allowed) or 'nobody'}"
            )
    return ""


def _special(addr: IPv4Address) -> str:
    if addr.is_loopback:
        return "a loopback address"
    if addr.is_multicast:
        return "a multicast address"
    if addr in _ZERO_NET or addr == _BROADCAST:
        return "an address Linux never routes (0.0.0.0/8 or the limited broadcast)"
    if addr.is_reserved:
        return "a reserved (240.0.0.0/4) address"
    return ""


def _used_prefixes(topo: Topology) -> list[IPv4Network]:
    used: list[IPv4Network] = []
    for vpc in topo.vpcs.values():
        used.append(vpc.cidr)
        used.extend(s.cidr for s in vpc.subnets)
    used.extend(svc.snat_cidr for svc in topo.endpoint_services.values())
    used.extend(c for idc in topo.idcs.values() for c in idc.cidrs)
    used.extend(cs.cidr for cs in topo.cloud_services.values())
    used.extend(IPv4Network(a) for lb in topo.load_balancers.values() for a in (lb.source_ip, lb.probe_ip) if a)
    for c in topo.checks:
        try:
            ip, _ = topo.resolve_host(c.host)
        except ValueError:
            continue
        used.append(IPv4Network(ip))
    return used


def prepare(topo: Topology, tag: str = "s", *, progress: Progress = NO_PROGRESS) -> Prepared:
    """Simulate every check of ``topo`` and plan the kernel builds it needs."""
    oracle = Oracle(topo)
    prep = Prepared(
        tag=tag,
        topology=topo,
        network=Network(topo),
        oracle=oracle,
        change_times=oracle.change_times(),
        split_ports=_split_port_range(topo),
    )
    pool = choose_pool(_used_prefixes(topo))
    plan_errors: dict[int, str] = {}
    states: dict[int, OracleState] = {}
    """State index → what the control plane says then (constant between two change times)."""
    progress.stage("simulating and planning checks", total=len(topo.checks))
    for number, check in enumerate(topo.checks):
        progress.advance()
        first = prep.network.run_check(check).result
        # The control plane is constant between two change times: one build per interval.
        index = bisect.bisect_right(prep.change_times, check.at)
        state = states.get(index)
        if state is None:
            state = states[index] = oracle.at(check.at)
        for b, result in enumerate(first.branches):
            chosen = _pins(topo, result)
            entry = _Entry(
                check=check,
                check_index=number,
                branch=b,
                branches=len(first.branches),
                result=result,
                state_index=index,
                backends=tuple((address, port) for _, _, _, address, port, _ in chosen),
            )
            prep.entries.append(entry)
            why = _why_not_emulable(prep, check, result, pool)
            if not why and index not in prep.plans and index not in plan_errors:
                assert pool is not None
                try:
                    prep.plans[index] = plan_state(f"{tag}.{index}", topo, state, pool)
                except PlanError as exc:
                    plan_errors[index] = f"the kernel build of this state is not faithful: {exc}"
            if not why and index in plan_errors:
                why = plan_errors[index]
            if why:
                entry.not_emulable = why
                continue
            plan = prep.plans[index]
            routes, note = _route_pins(plan, result)
            entry.oracle_note = _oracle_note(state, result) or note
            pins = tuple(
                Pin(plan.key(lb), vip, port, address, bport, proto) for lb, vip, port, address, bport, proto in chosen
            )
            dst, _ = topo.resolve_host(check.host)
            entry.job = Job(plan.key(check.source), str(dst), check.port, pins, check.protocol, routes)
    return prep


def _split_port_range(topo: Topology) -> str:
    """Why a stateless rule makes the kernel's client ports matter, if one does.

    The kernel's clients take their ports from Linux's ephemeral range in build order and its SNAT
    keeps them, while the simulator draws client ports from the same range by a seeded hash and SNAT
    ports from ``settings.snat_ports``. A network ACL sees those ports on replies: a rule that covers
    part of either range could then judge the two sides' replies differently.
    """
    ranges = [("the clients' ephemeral ports", CLIENT_PORTS)]
    if topo.endpoints:
        ranges.append(("the endpoints' SNAT ports (settings.snat_ports)", topo.settings.snat_ports))
    for acl in topo.network_acls.values():
        if acl.stateful:
            continue  # replies pass as tracked: no rule ever judges a client's or a SNAT port
        for direction in ("ingress", "egress"):
            for i, rule in enumerate(acl.rules(direction)):
                if rule.protocol.value == "icmp":
                    continue
                low, high = rule.ports.low, rule.ports.high
                for name, (a, b) in ranges:
                    if low <= b and high >= a and not (low <= a and high >= b):
                        return (
                            f"network ACL {acl.id} {direction} rule #{i} (ports {rule.ports}) covers part of "
                            f"{name}, {a}-{b}: the kernel's ports differ from the simulator's there"
                        )
    return ""


def _why_not_emulable(prep: Prepared, check: Check, result: ProbeResult, pool: IPv4Network | None) -> str:
    if pool is None:
        return "the scenario uses every private link-address pool vpcsim could number its veth links from"
    if prep.split_ports:
        return prep.split_ports
    # The kernel holds one control state; the simulator's connect must have been decided in it.
    end = check.at + result.connect_time
    events = [t for t in prep.change_times if check.at < t <= end]
    if events:
        return (
            f"a control-state change at {events[0]:g}s falls inside this connect's window "
            f"({check.at:g}s to {end:g}s): the kernel build holds one state"
        )
    topo = prep.topology
    dst, _ = topo.resolve_host(check.host)
    special = _special(dst)
    if special:
        return f"{dst} is {special}: the kernel answers it locally instead of sending it to the VPC"
    source, _ = topo.resolve_host(check.source)
    if dst == source:
        return "the destination is the source's own address: the kernel connects over loopback, not through the VPC"
    owned = {ep.ip: eid for eid, ep in topo.endpoints.items()}
    owned |= {IPv4Address(snat_address(topo, eid)): eid for eid in [*topo.endpoints, *topo.gateway_endpoints]}
    owned |= {lb.vip: lid for lid, lb in topo.load_balancers.items()}
    owned |= {lb.source_ip: lid for lid, lb in topo.load_balancers.items() if lb.source_ip is not None}
    owned |= {vip: iid for iid, inst in topo.instances.items() for vip in inst.virtual_ips}
    if source in owned:
        return f"the source address {source} is also an address of {owned[source]} in the kernel build"
    return ""


def execute(
    preps: Sequence[Prepared],
    *,
    deadline: float = DEFAULT_DEADLINE,
    max_namespaces: int = 600,
    progress: Progress = NO_PROGRESS,
) -> None:
    """Build the needed states (many scenarios per build, up to ``max_namespaces`` and as many veth
    pairs as the kernel's neighbour table has room for), run every job."""
    batch: list[tuple[Prepared, NetPlan]] = []
    size = links = 0
    max_links = neighbour_budget() // 2  # each end of a veth pair may resolve the other
    # One step per build: a build and its connects are one kernel run, of one or more states.
    progress.stage("building namespaces and connecting", total=sum(len(p.plans) for p in preps))
    for prep in preps:
        for index in sorted(prep.plans):
            plan = prep.plans[index]
            if batch and (size + len(plan.namespaces) > max_namespaces or links + len(plan.links) > max_links):
                _run_batch(batch, deadline)
                progress.advance(len(batch))
                batch, size, links = [], 0, 0
            batch.append((prep, plan))
            size += len(plan.namespaces)
            links += len(plan.links)
    if batch:
        _run_batch(batch, deadline)
        progress.advance(len(batch))


def _run_batch(batch: Sequence[tuple[Prepared, NetPlan]], deadline: float) -> None:
    tags = {plan.tag for _, plan in batch}
    entries = [
        e
        for prep in dict.fromkeys(p for p, _ in batch)
        for e in prep.entries
        if e.job is not None and f"{prep.tag}.{e.state_index}" in tags
    ]
    with Fabric([plan for _, plan in batch]) as fabric:
        t0 = time.perf_counter()
        outcomes = fabric.run([e.job for e in entries if e.job is not None], deadline=deadline)
        run_seconds = time.perf_counter() - t0
    for e, o in zip(entries, outcomes, strict=True):
        e.outcome = o
    info = BuildInfo(
        state_times=tuple(plan.time for _, plan in batch),
        scenarios=len({id(p) for p, _ in batch}),
        namespaces=sum(len(plan.namespaces) for _, plan in batch),
        links=sum(len(plan.links) for _, plan in batch),
        checks=len(entries),
        build_seconds=fabric.build_seconds,
        run_seconds=run_seconds,
    )
    for prep in dict.fromkeys(p for p, _ in batch):
        prep.builds.append(info)


def simulator_location(r: ProbeResult) -> DropPoint | None:
    """Where the simulator says the deciding packet stopped, as a drop point of the kernel build;
    None when it went through or stopped somewhere the build does not log."""
    if r.verdict in (Verdict.CONNECTED, Verdict.ANSWERED) or r.reason.value not in LOCATED or r.blocked_at is None:
        return None
    group, rule = "", -1
    if r.reason.value.startswith(("sg_", "acl_", "firewall_")) and r.packets:
        data = r.packets[r.decisive].hops[-1].steps[-1].data
        if isinstance(data, Denied) and isinstance(data.match, RuleMatch):
            group, rule = data.match.group, data.match.number
        elif isinstance(data, AclDenied):
            group, rule = data.match.acl, data.match.number
    return DropPoint(r.blocked_at, r.reason.value, group, rule)


def kernel_location(outcome: Outcome) -> tuple[DropPoint, ...]:
    """The drop points the kernel logged for a job: the refusing host for a refused one (the
    answer travels toward the client), else every drop."""
    if outcome.verdict == "refused":
        return tuple(p for p, toward_client in outcome.drops if p.kind == "port_closed" and toward_client)
    return tuple(p for p, _ in outcome.drops if p.kind != "port_closed")


def _compare(e: _Entry) -> tuple[str, str, str, str, tuple[str, ...]]:
    """(status, note, location status, simulator's place, kernel's places) of one emulated branch."""
    r, o = e.result, e.outcome
    assert o is not None
    sim_at = simulator_location(r)
    kernel_at = kernel_location(o)
    places = tuple(p.describe() for p in kernel_at)
    sim_text = "" if sim_at is None else sim_at.describe()
    if o.verdict != r.verdict.value:
        note = f"simulator says {r.verdict.value} ({r.reason.value}: {r.detail}); kernel says {o.verdict} ({o.detail})"
        if places:
            note += f", stopped at {'; '.join(places)}"
        return "disagree", note, "not_compared", sim_text, places
    if e.oracle_note:
        return "disagree", f"backends: {e.oracle_note}", "not_compared", sim_text, places
    if sim_at is None:
        return "agree", "", "not_compared", sim_text, places
    if kernel_at == (sim_at,):
        return "agree", "", "same", sim_text, places
    note = (
        f"both say {o.verdict}, but the simulator stops it at {sim_text} ({r.detail}) and the kernel at "
        f"{'; '.join(places) or 'no logged drop point'}"
    )
    return "disagree", note, "different", sim_text, places


def report(prep: Prepared, deadline: float = DEFAULT_DEADLINE) -> EmulationReport:
    checks: list[CheckEmulation] = []
    times = [0.0, *prep.change_times]
    for i, e in enumerate(prep.entries):
        r = e.result
        backend = ", ".join(f"{address}:{port}" for address, port in e.backends) or None
        sim_text, location = "", "not_compared"
        places: tuple[str, ...] = ()
        if e.not_emulable or e.outcome is None:
            status, note = "not_emulable", e.not_emulable or "not run"
            kernel, kdetail, ksec = None, "", None
        else:
            kernel, kdetail, ksec = e.outcome.verdict, e.outcome.detail, e.outcome.seconds
            status, note, location, sim_text, places = _compare(e)
        checks.append(
            CheckEmulation(
                index=i,
                check=e.check_index,
                branch=e.branch,
                branches=e.branches,
                name=e.check.name,
                source=e.check.source,
                host=e.check.host,
                address=r.address,
                port=e.check.port,
                protocol=e.check.protocol,
                at=e.check.at,
                simulator=r.verdict.value,
                simulator_reason=r.reason.value,
                backend=backend,
                kernel=kernel,
                kernel_detail=kdetail,
                kernel_seconds=ksec,
                status=status,
                note=note,
                state_time=None if e.state_index is None else times[e.state_index],
                simulator_at=sim_text,
                kernel_at=places,
                location=location,
            )
        )
    return EmulationReport(
        scenario=prep.topology.source,
        checks=tuple(checks),
        builds=tuple(prep.builds),
        deadline=deadline,
        warnings=prep.topology.warnings,
    )


def emulate(topo: Topology, *, deadline: float = DEFAULT_DEADLINE, progress: Progress = NO_PROGRESS) -> EmulationReport:
    """Simulate and emulate every check of ``topo``; the caller checks :func:`preflight` first."""
    prep = prepare(topo, progress=progress)
    execute([prep], deadline=deadline, progress=progress)
    return report(prep, deadline)
