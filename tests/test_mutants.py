"""Mutation tests: proof that the test suite can fail.

A test suite that cannot fail proves nothing. Each entry below plants one plausible bug (the kind
a refactor or a typo introduces) in a copy of ``src/vpcsim`` and requires one test module to go red
on it. The copy shadows the installed package through ``PYTHONPATH``; the working tree is never
touched. A mutant counts as caught only when pytest ran the module and its tests failed (exit code
1): a mutant that breaks import or collection (exit codes 2-5) proves nothing about the tests.

Every original snippet must occur exactly once in its file, so a mutant whose code has moved on
fails here loudly instead of silently mutating nothing: update its snippets to the new code.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "vpcsim"
PARTS = frozenset(
    {
        "model",
        "scenario",
        "control",
        "lint",
        "ir",
        "frontends",
        "sim",
        "trace",
        "report",
        "branches",
        "probes",
        "emulate",
        "cli",
    }
)
"""Every part of the package needs at least one mutant (``probes`` covers probes.py and testing.py)."""
TIMEOUT = 300.0
"""Seconds one mutated module may run: a hang guard, far above the few seconds each one takes."""


@dataclass(frozen=True, slots=True)
class Mutant:
    id: str
    """``PART-what-the-bug-does``: the parametrized test's id."""
    part: str
    path: str
    """The file to mutate, relative to ``src/vpcsim``."""
    original: str
    replacement: str
    module: str
    """The test module, relative to the repository, that must fail on the mutant."""
    bug: str
    """The bug in one sentence."""


MUTANTS = (
    Mutant(
        id="sim-gateway-ignores-tunnel-state",
        part="sim",
        path="sim/nodes.py",
        original="        if c.up:",
        replacement="        if True:",
        module="tests/scenarios/test_data_centres.py",
        bug="a VPN gateway carries packets over tunnels that are DOWN",
    ),
    Mutant(
        id="sim-static-route-beats-ccn-on-equal-prefix",
        part="sim",
        path="sim/nodes.py",
        original="group[0].plen > route.plen",
        replacement="group[0].plen >= route.plen",
        module="tests/scenarios/test_route_tables.py",
        bug="a static route wins over a CCN route to the same prefix",
    ),
    Mutant(
        id="control-disabled-routes-keep-forwarding",
        part="control",
        path="control/state.py",
        original="            routes[at] = replace(routes[at], enabled=enable)",
        replacement="            routes[at] = replace(routes[at], enabled=True)",
        module="tests/scenarios/test_route_tables.py",
        bug="disable_route on the timeline leaves the route enabled",
    ),
    Mutant(
        id="frontends-endpoint-reached-over-peering",
        part="frontends",
        path="frontends/tencent/lower.py",
        original="    closed = {vid: endpoints_closed_to_peers(topo, vid, CLOSED_TO_PEERS) for vid in topo.vpcs}",
        replacement="    closed = {vid: {} for vid in topo.vpcs}",
        module="tests/scenarios/test_peering.py",
        bug="a Private Link endpoint is reached over peering",
    ),
    Mutant(
        id="model-security-group-directions-swapped",
        part="model",
        path="model/security.py",
        original='        return self.ingress if direction == "ingress" else self.egress',
        replacement='        return self.egress if direction == "ingress" else self.ingress',
        module="tests/scenarios/test_security_group_placement.py",
        bug="SecurityGroup.rules() hands out the egress rules for ingress and the other way round",
    ),
    Mutant(
        id="frontends-auto-accept-inverted",
        part="frontends",
        path="frontends/tencent/rules.py",
        original="    if svc.auto_accept:",
        replacement="    if not svc.auto_accept:",
        module="tests/scenarios/test_cross_account_scenario.py",
        bug="admission activates a whitelisted endpoint when its service does not auto-accept, and the other way round",
    ),
    Mutant(
        id="control-ccn-contained-route-is-no-conflict",
        part="control",
        path="control/ccn_routes.py",
        original="        for k in range(length):  # enabled routes that contain it\n",
        replacement="        for k in range(0):  # enabled routes that contain it\n",
        module="tests/control/test_ccn_routes.py",
        bug="a new CCN route conflicts with the routes inside it, not with one containing it",
    ),
    Mutant(
        id="ir-lpm-shortest-prefix-wins",
        part="ir",
        path="ir/lpm.py",
        original="for plen in sorted(by_len, reverse=True)",
        replacement="for plen in sorted(by_len)",
        module="tests/ir/test_lpm.py",
        bug="the route table probes the shortest prefix first",
    ),
    Mutant(
        id="ir-security-group-first-match-becomes-last-match",
        part="ir",
        path="ir/nodes.py",
        original="        for r in self.rules:\n",
        replacement="        for r in reversed(self.rules):\n",
        module="tests/scenarios/test_security_group_placement.py",
        bug="security-group rules are evaluated bottom to top: the last matching rule wins",
    ),
    Mutant(
        id="ir-port-range-excludes-its-high-end",
        part="ir",
        path="ir/nodes.py",
        original="r.low <= port <= r.high",
        replacement="r.low <= port < r.high",
        module="tests/scenarios/test_seed.py",
        bug="a rule's port range is half-open, so a single-port rule never matches",
    ),
    Mutant(
        id="sim-listening-port-answers-rst",
        part="sim",
        path="sim/tcp.py",
        original="        if (h.proto, h.dport) in node.listening:",
        replacement="        if (h.proto, h.dport) not in node.listening:",
        module="tests/scenarios/test_seed.py",
        bug="the server answers RST on a listening port and SYN-ACK on a closed one",
    ),
    Mutant(
        id="sim-one-syn-retransmission-too-few",
        part="sim",
        path="sim/tcp.py",
        original="    for attempt in range(1, net.syn_retries + 2):",
        replacement="    for attempt in range(1, net.syn_retries + 1):",
        module="tests/scenarios/test_seed_failures.py",
        bug="connect() sends tcp_syn_retries SYNs in all instead of one SYN and that many retries",
    ),
    Mutant(
        id="sim-acl-checks-packets-from-inside-the-subnet",
        part="sim",
        path="sim/nodes.py",
        original="    if sf is not None and (h.src & sf.mask) != sf.net:\n",
        replacement="    if sf is not None:\n",
        module="tests/scenarios/test_network_acls.py",
        bug="a network ACL checks packets handed into its subnet from an address of the same subnet",
    ),
    Mutant(
        id="sim-wrr-ignores-weights",
        part="sim",
        path="sim/nodes.py",
        original=(
            "            w = cur.get(b.key, 0) + b.weight\n            cur[b.key] = w\n            total += b.weight\n"
        ),
        replacement=("            w = cur.get(b.key, 0) + 1\n            cur[b.key] = w\n            total += 1\n"),
        module="tests/scenarios/test_load_balancer_scheduling.py",
        bug="weighted round robin counts every backend as weight 1: plain round robin",
    ),
    Mutant(
        id="sim-ingress-rules-match-the-destination",
        part="sim",
        path="sim/nodes.py",
        original="stateful(sim, host, host.ingress, h.src, h, fl.steps)",
        replacement="stateful(sim, host, host.ingress, h.dst, h, fl.steps)",
        module="tests/scenarios/test_seed_failures.py",
        bug="an instance's ingress rules are matched against the packet's destination, not its source",
    ),
    Mutant(
        id="sim-ip-checksum-not-recomputed",
        part="sim",
        path="sim/packet.py",
        original='    raw[10:12] = b"\\0\\0"\n    struct.pack_into("!H", raw, 10, _checksum(bytes(raw[:ihl])))\n',
        replacement="",
        module="tests/sim/test_packet.py",
        bug="the IPv4 header checksum stays the template's after the addresses and TTL are patched in",
    ),
    Mutant(
        id="trace-arrival-is-the-first-hops-time",
        part="trace",
        path="trace/steps.py",
        original="        return self.hops[-1].time",
        replacement="        return self.hops[0].time",
        module="tests/trace/test_steps.py",
        bug="PacketTrace.arrived_at reads the first hop's time instead of the last",
    ),
    Mutant(
        id="report-telnet-says-refused-on-a-timeout",
        part="report",
        path="report/text.py",
        original='    elif r.verdict is Verdict.REFUSED:\n        lines.append("telnet:',
        replacement='    elif r.verdict is not Verdict.CONNECTED:\n        lines.append("telnet:',
        module="tests/test_testing.py",
        bug="the telnet text prints 'Connection refused' for every failure, timeouts included",
    ),
    Mutant(
        id="report-json-milliseconds-are-seconds",
        part="report",
        path="report/json.py",
        original="    return round(seconds * 1000, 6)",
        replacement="    return round(seconds, 6)",
        module="tests/test_cli.py",
        bug="the JSON *_ms fields carry seconds",
    ),
    Mutant(
        id="frontends-a-pending-endpoint-forwards",
        part="frontends",
        path="frontends/tencent/lower.py",
        original="            active=state is EndpointState.ACTIVE,",
        replacement="            active=state is not EndpointState.REJECTED,",
        module="tests/scenarios/test_cross_account_scenario.py",
        bug="the Tencent front-end lowers a PENDING endpoint as one that forwards",
    ),
    Mutant(
        id="probes-first-syn-explains-a-timeout",
        part="probes",
        path="probes.py",
        original="    last = max(i for i, o in enumerate(outs) if o.kind == request and o.attempt > 0)",
        replacement="    last = min(i for i, o in enumerate(outs) if o.kind == request and o.attempt > 0)",
        module="tests/scenarios/test_cross_account_scenario.py",
        bug="a timeout is explained by the first SYN's drop, not by the last attempt's",
    ),
    Mutant(
        id="emulate-oracle-ccn-routes-never-conflict",
        part="emulate",
        path="emulate/plan_control.py",
        original="        clash = any(r.enabled and _overlap(r.prefix, cidr) for r in routes)",
        replacement="        clash = False",
        module="tests/emulate/test_plan_control.py",
        bug="the oracle's CCN enables every route, overlapping or not",
    ),
    Mutant(
        id="emulate-iptables-peer-direction-swapped",
        part="emulate",
        path="emulate/plan.py",
        original="""        peer = f"{'-s' if direction == 'ingress' else '-d'} {rule.peer} \"""",
        replacement="""        peer = f"{'-d' if direction == 'ingress' else '-s'} {rule.peer} \"""",
        module="tests/emulate/test_plan.py",
        bug="the kernel plan matches ingress rules on the destination and egress rules on the source",
    ),
    Mutant(
        id="probes-a-check-passes-on-its-verdict-whatever-its-pinned-reason",
        part="probes",
        path="probes.py",
        original="        return c.expect_reason is None or branch.reason.value == c.expect_reason",
        replacement="        return True",
        module="tests/test_cli.py",
        bug="a check with the expected verdict passes even when its pinned reason is not the one the probe gave",
    ),
    Mutant(
        id="trace-egress-denial-is-discarded-not-denied",
        part="trace",
        path="trace/verdict.py",
        original="    Reason.SG_EGRESS_DENIED: Disposition.DENIED,",
        replacement="    Reason.SG_EGRESS_DENIED: Disposition.DISCARDED,",
        module="tests/trace/test_verdict.py",
        bug="a packet a security group drops on its way out is reported as discarded instead of denied",
    ),
    Mutant(
        id="trace-unowned-address-is-discarded-not-unrouted",
        part="trace",
        path="trace/verdict.py",
        original="    Reason.NO_HOST: Disposition.NO_ROUTE,",
        replacement="    Reason.NO_HOST: Disposition.DISCARDED,",
        module="tests/trace/test_verdict.py",
        bug="a packet to an address nothing in the VPC owns is reported as discarded instead of no_route",
    ),
    Mutant(
        id="report-nat-rewrites-shown-new-to-old",
        part="report",
        path="report/steps.py",
        original='f"{x.field} {x.old} -> {x.new}"',
        replacement='f"{x.field} {x.new} -> {x.old}"',
        module="tests/trace/test_steps.py",
        bug="the text trace shows every NAT rewrite backwards, from the new value to the old one",
    ),
    Mutant(
        id="report-pcap-frames-all-stamped-at-t0",
        part="report",
        path="report/pcap.py",
        original="            pkt.time = EPOCH + Decimal(repr(round(t, 9)))",
        replacement="            pkt.time = EPOCH",
        module="tests/report/test_pcap.py",
        bug="every frame of the pcapng carries simulated t=0 instead of the time it was sent or arrived",
    ),
    Mutant(
        id="model-a-port-range-from-1-counts-as-all-ports",
        part="model",
        path="model/security.py",
        original="        return self.low == 1 and self.high == 65535",
        replacement="        return self.low == 1 or self.high == 65535",
        module="tests/scenario/test_bad_input.py",
        bug="a range starting at 1 or ending at 65535 counts as all ports: shown as 'all', allowed on icmp rules",
    ),
    Mutant(
        id="scenario-microseconds-read-as-milliseconds",
        part="scenario",
        path="scenario/values.py",
        original='_UNITS = {"us": 1e-6, "µs": 1e-6,',
        replacement='_UNITS = {"us": 1e-3, "µs": 1e-3,',
        module="tests/scenario/test_values.py",
        bug="a time written in us or µs is read as milliseconds",
    ),
    Mutant(
        id="sim-connections-never-become-established",
        part="sim",
        path="sim/nodes.py",
        original="        ct[reverse] = True\n",
        replacement="",
        module="tests/scenarios/test_seed.py",
        bug="a reply does not mark its connection established, so the handshake's ACK meets the rules again",
    ),
    Mutant(
        id="cli-exit-codes-of-failure-and-invalid-input-swapped",
        part="cli",
        path="cli.py",
        original="EXIT_OK, EXIT_FAIL, EXIT_INVALID = 0, 1, 2",
        replacement="EXIT_OK, EXIT_FAIL, EXIT_INVALID = 0, 2, 1",
        module="tests/test_cli.py",
        bug="'not connected' exits 2 and invalid input exits 1",
    ),
    Mutant(
        id="probes-a-snat-source-is-admitted-as-its-own-address",
        part="probes",
        path="probes.py",
        original="return Peer(d.peer, node.label, node.id, node.snat_label, node.snat_pool or own)",
        replacement="return Peer(d.peer, node.label, node.id, node.snat_label, own)",
        module="tests/test_readable_failures.py",
        bug="look at tells the user to admit one SNAT address, which breaks the service's next endpoint",
    ),
    Mutant(
        id="report-brief-folds-no-retransmission",
        part="report",
        path="report/text.py",
        original="        groups.setdefault(_group_key(p), []).append(p)",
        replacement="        groups.setdefault((id(p),), []).append(p)",
        module="tests/test_readable_failures.py",
        bug="telnet --brief prints one line per SYN, so a 127 s timeout takes a dozen lines",
    ),
    Mutant(
        id="lint-a-drop-rule-counts-as-an-accept",
        part="lint",
        path="lint/rulespace.py",
        original="            out.dropped.append((br, hit))",
        replacement="            out.accepted |= hit",
        module="tests/lint/test_private_link.py",
        bug="a drop rule that decides part of the SNAT range is taken for an accept, so nothing is reported",
    ),
    Mutant(
        id="lint-one-rule-covers-a-box-whatever-its-addresses",
        part="lint",
        path="lint/rulespace.py",
        original="                if elo <= lo and ehi >= hi and e.first <= target.first and e.last >= target.last:",
        replacement="                if elo <= lo and ehi >= hi:",
        module="tests/lint/test_shadowing.py",
        bug="an earlier rule whose ports cover a rule's shadows it even when its addresses do not",
    ),
    Mutant(
        id="probes-only-the-schedulers-first-pick",
        part="probes",
        path="probes.py",
        original="        if not every_branch or _no_choice(first.choices):",
        replacement="        if True:",
        module="tests/scenarios/test_every_branch.py",
        bug="a check runs only on the backend the scheduler picks first: a half-broken service passes",
    ),
    Mutant(
        id="sim-pins-ignored",
        part="sim",
        path="sim/nodes.py",
        original="            pinned = candidates[keys.index(pin)]",
        replacement="            pinned = None",
        module="tests/test_branches.py",
        bug="a load balancer ignores the branch it is pinned to and schedules as usual",
    ),
    Mutant(
        id="branches-only-the-first-branch-point",
        part="branches",
        path="branches.py",
        original="        for i, c in enumerate(met):",
        replacement="        for i, c in enumerate(met[:1]):",
        module="tests/test_branches.py",
        bug="only the first load balancer on a path is explored: no product of choices",
    ),
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What running one mutant gave."""

    workdir: Path
    occurrences: int
    """How often the original snippet occurs in its file; nothing runs unless it is exactly once."""
    origin: str = ""
    """The file the mutated module is imported from under the subprocess environment."""
    returncode: int | None = None
    output: str = ""


FIND_SPEC = "import importlib.util, sys; print(importlib.util.find_spec(sys.argv[1]).origin)"
"""Prints the file a module would be imported from."""


def _module_name(path: str) -> str:
    return "vpcsim." + path.removesuffix(".py").replace("/", ".")


def run_mutant(mutant: Mutant, workdir: Path) -> Outcome:
    """Copy the package into ``workdir``, plant the mutant, run its test module against the copy."""
    src = workdir / "src"
    shutil.copytree(PACKAGE, src / "vpcsim", ignore=shutil.ignore_patterns("__pycache__"))
    target = src / "vpcsim" / mutant.path
    text = target.read_text(encoding="utf-8")
    count = text.count(mutant.original)
    if count != 1:
        return Outcome(workdir, count)
    target.write_text(text.replace(mutant.original, mutant.replacement), encoding="utf-8")
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(src), os.environ.get("PYTHONPATH", "")) if p)
    # A failing property test would save its example into the repository's Hypothesis database.
    env["HYPOTHESIS_STORAGE_DIRECTORY"] = str(workdir / "hypothesis")
    run = partial(subprocess.run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    try:
        where = run([sys.executable, "-c", FIND_SPEC, _module_name(mutant.path)])
        done = run(
            [sys.executable, "-m", "pytest", mutant.module, "-x", "-q", "-p", "no:cacheprovider", "-m", "not kernel"]
        )
    except subprocess.TimeoutExpired as exc:
        return Outcome(workdir, count, output=f"still running after {TIMEOUT:g} s: {exc.cmd}")
    origin = where.stdout.strip() or where.stderr
    return Outcome(workdir, count, origin, done.returncode, done.stdout + done.stderr)


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Run every selected mutant, several at a time: each is a pytest process of a few seconds."""
    selected = {
        m.id: m
        for item in request.session.items
        if isinstance(m := getattr(getattr(item, "callspec", None), "params", {}).get("mutant"), Mutant)
    }
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=max(1, cpus)) as pool:
        futures = {mid: pool.submit(run_mutant, m, tmp_path_factory.mktemp(mid)) for mid, m in selected.items()}
        return {mid: f.result() for mid, f in futures.items()}


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_mutant_is_caught(mutant: Mutant, outcomes: dict[str, Outcome]) -> None:
    o = outcomes[mutant.id]
    assert o.occurrences == 1, (
        f"src/vpcsim/{mutant.path}: the snippet to mutate occurs {o.occurrences} times, not once; "
        f"update mutant {mutant.id} to the current code:\n{mutant.original}"
    )
    assert Path(o.origin).is_relative_to(o.workdir), f"the mutated copy was not imported: {o.origin or o.output}"
    # Exit code 1: tests ran and some failed. 2-5 (interrupted, internal or usage error, no tests
    # collected) mean the mutant broke collection or the run, which proves nothing about the tests.
    assert o.returncode == pytest.ExitCode.TESTS_FAILED, (
        f"{mutant.module} did not fail on the bug: {mutant.bug} (exit code {o.returncode}, 1 is required)\n"
        f"{o.output[-3000:]}"
    )


def test_every_part_of_the_package_has_a_mutant_and_every_entry_points_at_real_files() -> None:
    assert {m.part for m in MUTANTS} == PARTS
    assert len({m.id for m in MUTANTS}) == len(MUTANTS)
    for m in MUTANTS:
        assert m.id.startswith(f"{m.part}-"), m.id
        assert m.path.split("/")[0].removesuffix(".py") == m.part or (m.part, m.path) == ("probes", "testing.py"), m
        assert (PACKAGE / m.path).is_file(), m.path
        assert (ROOT / m.module).is_file(), m.module
        assert m.original != m.replacement, m.id
