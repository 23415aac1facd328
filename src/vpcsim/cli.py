"""The ``vpcsim`` command line: a thin layer over :class:`vpcsim.Network`.

Exit codes: 0 connected / all checks pass / valid; 1 not connected / a check failed / no checks /
a warning under ``validate --strict``; 2 invalid input (one message on stderr, never a traceback).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import click

from vpcsim.errors import VpcsimError

EXIT_OK, EXIT_FAIL, EXIT_INVALID = 0, 1, 2

SCHEMAS = {"check": 5, "validate": 3}
"""The version of each command's ``--json`` shape (``telnet``'s is ``report.json.SCHEMA``); the
repository's ``schemas/`` holds the JSON Schema of each."""

_OPTIONAL_COUNTS = frozenset({"network_acls", "route_tables", "peerings", "idcs", "gateways", "cloud_services"})

REASON_CODES = 'Reason codes: README.md, section "Reason codes" (the "reason" of --json and of checks).'


def _epilog(example: str, exits: str, *extra: str) -> str:
    """What every subcommand's --help ends with: an example, the exit codes, where codes are listed.
    ``\b`` keeps click from rewrapping the lists."""
    return "\n\n".join([f"\b\nExample:\n  {example}", f"\b\nExit codes:\n{exits}", *extra, REASON_CODES])


def _fail_input(message: str) -> None:
    click.echo(f"vpcsim: {message}", err=True)
    sys.exit(EXIT_INVALID)


def limits() -> Any:
    """The loader's limits for this run: the group's ``--max-*`` options (defaults otherwise)."""
    from vpcsim.scenario import DEFAULT_LIMITS

    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    return getattr(root, "obj", None) or DEFAULT_LIMITS


def _load(path: str) -> Any:
    from vpcsim.frontends import load
    from vpcsim.probes import Network

    try:
        return Network(load(path, limits=limits()))
    except VpcsimError as exc:
        _fail_input(str(exc))


def _load_located(path: str) -> Any:
    """The scenario with its key positions (for warnings that name a line), compiled once as
    ``_load`` would: what ``check`` and ``telnet`` refuse, ``validate`` refuses too."""
    from vpcsim.frontends import load_located
    from vpcsim.probes import Network

    try:
        located = load_located(path, limits=limits())
        Network(located.topology)
    except VpcsimError as exc:
        _fail_input(str(exc))
    return located


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _dump(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, sort_keys=False))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vpcsim")
@click.option("--max-bytes", type=click.IntRange(1), default=None, help="Largest scenario file (default 4 MiB).")
@click.option(
    "--max-values", type=click.IntRange(1), default=None, help="Most values in a scenario file (default 200,000)."
)
@click.option(
    "--max-objects",
    type=click.IntRange(1),
    default=None,
    help="Most entries in one section or list of objects (default 10,000).",
)
@click.pass_context
def cli(ctx: click.Context, max_bytes: int | None, max_values: int | None, max_objects: int | None) -> None:
    """Packet-level reachability simulator for cloud private networks.

    The --max-* options raise (or lower) the scenario loader's limits for very large networks, e.g.
    vpcsim --max-objects 200000 --max-values 2000000 --max-bytes 64000000 validate big.yaml
    """
    from dataclasses import replace

    from vpcsim.scenario import DEFAULT_LIMITS

    given = {"max_bytes": max_bytes, "max_values": max_values, "max_objects": max_objects}
    ctx.obj = replace(DEFAULT_LIMITS, **{k: v for k, v in given.items() if v is not None})


_BACKENDS = click.option(
    "--backend",
    "backends",
    multiple=True,
    metavar="INSTANCE[:PORT]",
    help="Take this backend at the load balancer that may choose it (or this next hop, an id without a "
    "port, at a router with equal-cost routes), instead of exploring every branch (repeat for several).",
)
_MAX_BRANCHES = click.option(
    "--max-branches",
    type=click.IntRange(1),
    default=64,
    show_default=True,
    help="Most branches (combinations of load-balancer choices) to explore.",
)


@cli.command(
    epilog=_epilog(
        "vpcsim telnet scenarios/chengdu_chongqing.yaml --from cvm-vpc3 172.16.2.16 1044 --brief",
        "  0  connected\n  1  not connected: refused or timed out\n  2  invalid input (one message on stderr)",
    )
)
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--from", "source", required=True, metavar="SOURCE", help="Instance or data-centre host to telnet from.")
@click.argument("host")
@click.argument("port", type=click.IntRange(1, 65535))
@click.option("--at", "at", default="0", metavar="T", help="Simulated start time: seconds, or '20s', '500ms'.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=None, help="Random seed (default: the scenario's).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option(
    "--brief",
    is_flag=True,
    help="Fold identical retransmissions into one line and print the deciding packet's path, not every hop.",
)
@_BACKENDS
@_MAX_BRANCHES
@click.option(
    "--pcap",
    "pcap",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write every packet at every capture point to this pcapng file.",
)
def telnet(
    scenario: str,
    source: str,
    host: str,
    port: int,
    at: str,
    seed: int | None,
    as_json: bool,
    brief: bool,
    backends: tuple[str, ...],
    max_branches: int,
    pcap: str | None,
) -> None:
    """What `telnet HOST PORT` on instance INSTANCE would print, with the trace.

    HOST is an IP address or the id of an instance, data-centre host, endpoint or load balancer. The trace is the
    branch the load balancers' schedulers pick first; every other backend they may choose is tried
    too, and each branch that ends differently gets one line. The exit code is the first branch's."""
    from vpcsim.scenario.values import duration

    net = _load(scenario)
    try:
        start = duration(at)
    except ValueError as exc:
        _fail_input(f"--at: {exc}")
    try:
        result = net.telnet(
            source,
            host,
            port,
            at=start,
            seed=seed,
            capture=pcap is not None,
            backends=backends,
            max_branches=max_branches,
        )
    except VpcsimError as exc:
        _fail_input(f"{scenario}: {exc}")
    _report(result, as_json=as_json, brief=brief, pcap=pcap)


def _report(result: Any, *, as_json: bool, brief: bool, pcap: str | None) -> None:
    """What telnet, nc and ping print (text, brief or JSON), the pcap they write and their exit."""
    from vpcsim.report import probe_to_dict, render_brief, render_head, render_trace, write_pcapng

    if pcap is not None:
        try:
            write_pcapng(result, pcap)
        except OSError as exc:
            _fail_input(f"--pcap {pcap}: {exc.strerror or exc}")
    if as_json:
        _dump(probe_to_dict(result))
    elif brief:
        click.echo(render_brief(result))
    else:
        click.echo(render_head(result))
        click.echo()
        click.echo(render_trace(result))
    sys.exit(EXIT_OK if result.succeeded else EXIT_FAIL)


_JSON = click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
_BRIEF = click.option(
    "--brief",
    is_flag=True,
    help="Fold identical packets into one line and print the deciding packet's path, not every hop.",
)
_PCAP = click.option(
    "--pcap",
    "pcap",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write every packet at every capture point to this pcapng file.",
)
_AT = click.option("--at", "at", default="0", metavar="T", help="Simulated start time: seconds, or '20s', '500ms'.")
_SEED = click.option(
    "--seed", type=click.IntRange(0, 2**63 - 1), default=None, help="Random seed (default: the scenario's)."
)


def _times(scenario: str, at: str, wait: str, what: str) -> tuple[float, float]:
    from vpcsim.scenario.values import duration

    try:
        start = duration(at)
    except ValueError as exc:
        _fail_input(f"--at: {exc}")
    try:
        waiting = duration(wait)
    except ValueError as exc:
        _fail_input(f"{what}: {exc}")
    return start, waiting


@cli.command(
    epilog=_epilog(
        "vpcsim nc scenarios/chengdu_chongqing.yaml -u --from cvm-vpc3 172.16.2.16 1044 --wait 2s",
        "  0  answered (UDP) or connected (TCP)\n  1  refused or timed out\n  2  invalid input (one message on stderr)",
    )
)
@click.option("-u", "--udp", is_flag=True, help="UDP: send one datagram from a connected socket (else a TCP connect).")
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--from", "source", required=True, metavar="SOURCE", help="Instance or data-centre host to send from.")
@click.argument("host")
@click.argument("port", type=click.IntRange(1, 65535))
@click.option(
    "--wait", "-w", "wait", default="2s", show_default=True, metavar="T", help="How long to wait for an answer."
)
@_AT
@_SEED
@_JSON
@_BRIEF
@click.option(
    "--backend",
    "backends",
    multiple=True,
    metavar="INSTANCE[:PORT]",
    help="Pin a load balancer's or a router's choice.",
)
@_PCAP
def nc(
    udp: bool,
    scenario: str,
    source: str,
    host: str,
    port: int,
    wait: str,
    at: str,
    seed: int | None,
    as_json: bool,
    brief: bool,
    backends: tuple[str, ...],
    pcap: str | None,
) -> None:
    """`nc -u HOST PORT` on instance INSTANCE: one UDP datagram, answered, refused (an ICMP port
    unreachable came back) or timed out; without -u, a TCP connect as telnet. With the trace, on
    every branch as telnet."""
    net = _load(scenario)
    start, waiting = _times(scenario, at, wait, "--wait")
    try:
        result = net.nc(
            source, host, port, udp=udp, wait=waiting, at=start, seed=seed, capture=pcap is not None, backends=backends
        )
    except VpcsimError as exc:
        _fail_input(f"{scenario}: {exc}")
    _report(result, as_json=as_json, brief=brief, pcap=pcap)


@cli.command(
    epilog=_epilog(
        "vpcsim ping scenarios/chengdu_chongqing.yaml --from cvm-vpc3 172.16.2.10 -c 1 -W 1s",
        "  0  answered\n  1  no echo reply in time\n  2  invalid input (one message on stderr)",
    )
)
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--from", "source", required=True, metavar="SOURCE", help="Instance or data-centre host to ping from.")
@click.argument("host")
@click.option(
    "-c", "--count", type=click.IntRange(1, 1000), default=1, show_default=True, help="Echo requests to send."
)
@click.option(
    "-W", "--wait", "wait", default="1s", show_default=True, metavar="T", help="How long to wait for a reply."
)
@_AT
@_SEED
@_JSON
@_BRIEF
@_PCAP
def ping(
    scenario: str,
    source: str,
    host: str,
    count: int,
    wait: str,
    at: str,
    seed: int | None,
    as_json: bool,
    brief: bool,
    pcap: str | None,
) -> None:
    """`ping -c COUNT -W WAIT HOST` on instance INSTANCE: answered or timed out, with the trace."""
    net = _load(scenario)
    start, waiting = _times(scenario, at, wait, "-W")
    try:
        result = net.ping(source, host, count=count, wait=waiting, at=start, seed=seed, capture=pcap is not None)
    except VpcsimError as exc:
        _fail_input(f"{scenario}: {exc}")
    _report(result, as_json=as_json, brief=brief, pcap=pcap)


def _size(text: str, what: str) -> int:
    from vpcsim.scenario.values import size

    try:
        return size(text)
    except ValueError as exc:
        _fail_input(f"{what}: {exc}")
        raise  # pragma: no cover - _fail_input exits


@cli.command(
    epilog=_epilog(
        "vpcsim transfer scenarios/chengdu_chongqing.yaml --from cvm-vpc3 172.16.2.16 1044 --bytes 10MB",
        "  0  every branch delivered every byte and closed\n  1  a branch did not (refused, timed out, reset)\n"
        "  2  invalid input (one message on stderr)",
    )
)
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--from", "source", required=True, metavar="SOURCE", help="Instance or data-centre host to send from.")
@click.argument("host")
@click.argument("port", type=click.IntRange(1, 65535))
@click.option("--bytes", "nbytes", required=True, metavar="N", help="How much to send: bytes, or '100MB', '64KiB'.")
@_AT
@_SEED
@_JSON
@_BACKENDS
@_MAX_BRANCHES
@click.option(
    "--pcap",
    "pcap",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write the first branch's packets at the capture points chosen to this pcapng file.",
)
@click.option(
    "--pcap-points",
    "points",
    default="",
    metavar="SEL",
    help="Capture points to write, comma-separated glob patterns over NODE:IFACE (default: every point), "
    "e.g. 'cvm-vpc3:*,cvm-backend*:*'.",
)
@click.option(
    "--snaplen",
    type=click.IntRange(0, 65535),
    default=0,
    help="Write at most this many bytes of each packet (0: all), as tcpdump -s.",
)
def transfer(
    scenario: str,
    source: str,
    host: str,
    port: int,
    nbytes: str,
    at: str,
    seed: int | None,
    as_json: bool,
    backends: tuple[str, ...],
    max_branches: int,
    pcap: str | None,
    points: str,
    snaplen: int,
) -> None:
    """Send N bytes over one TCP connection from SOURCE to HOST PORT (`nc HOST PORT < file`), every
    segment simulated: goodput, RTT samples, congestion window, retransmissions, completion time and
    how busy each capped link and gateway was, on every branch the load balancers may take."""
    from vpcsim.report import render_transfer, transfer_to_dict, write_captures
    from vpcsim.report.progress import for_terminal

    size = _size(nbytes, "--bytes")
    net = _load(scenario)
    start, _ = _times(scenario, at, "0", "--at")
    with for_terminal() as progress:
        progress.stage("bytes delivered", total=size)
        seen = [0]

        def advance(delivered: int) -> None:
            progress.advance(delivered - seen[0])
            seen[0] = delivered

        def reset(delivered: int) -> None:
            if delivered < seen[0]:  # the next branch started
                seen[0] = 0
                progress.stage("bytes delivered (next branch)", total=size)
            advance(delivered)

        try:
            result = net.transfer(
                source,
                host,
                port,
                size,
                at=start,
                seed=seed,
                capture=pcap is not None,
                backends=backends,
                max_branches=max_branches,
                progress=reset,
            )
        except VpcsimError as exc:
            _fail_input(f"{scenario}: {exc}")
    if pcap is not None:
        try:
            write_captures(result.captures, pcap, points=[p for p in points.split(",") if p], snaplen=snaplen)
        except OSError as exc:
            _fail_input(f"--pcap {pcap}: {exc.strerror or exc}")
    if as_json:
        _dump(transfer_to_dict(result))
    else:
        click.echo(render_transfer(result))
    sys.exit(EXIT_OK if all(b.completed for b in result.branches) else EXIT_FAIL)


def _sources(net: Any, selector: str) -> list[str]:
    """Instances and data-centre hosts named by comma-separated ids or glob patterns, in sorted order."""
    from fnmatch import fnmatchcase

    known = sorted(net.topology.host_ids())
    chosen: list[str] = []
    for pattern in (p.strip() for p in selector.split(",")):
        if not pattern:
            continue
        hits = [h for h in known if fnmatchcase(h, pattern)]
        if not hits:
            _fail_input(f"--from {pattern!r} names no instance or data-centre host (known: {', '.join(known)})")
        chosen += [h for h in hits if h not in chosen]
    if not chosen:
        _fail_input("--from names no instance or data-centre host")
    return chosen


@cli.command(
    epilog=_epilog(
        "vpcsim load scenarios/chengdu_chongqing.yaml --from 'cvm-vpc*' --to 172.16.2.16:1044 "
        "--clients 2000 --rate 1000 --duration 20s --hold 1s",
        "  0  every connection connected\n  1  some did not (refused, timed out, dropped by a limit)\n"
        "  2  invalid input (one message on stderr)",
    )
)
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option(
    "--from",
    "selector",
    required=True,
    metavar="SEL",
    help="Client instances: comma-separated ids or glob patterns ('cvm-vpc*'); connections take them in turn.",
)
@click.option("--to", "target", required=True, metavar="HOST:PORT", help="Where to connect.")
@click.option("--clients", type=click.IntRange(1, 10_000_000), required=True, help="Connections to open.")
@click.option(
    "--rate", type=click.FloatRange(0, 1e7, min_open=True), required=True, help="Mean arrivals per second (Poisson)."
)
@click.option("--duration", required=True, metavar="T", help="No arrival after this long: seconds, or '20s', '500ms'.")
@click.option(
    "--hold", default=None, metavar="S", help="Each connection stays open this long, then closes (default 0)."
)
@click.option("--bytes", "nbytes", default=None, metavar="B", help="Each connection sends this much, then closes.")
@_AT
@_SEED
@_JSON
def load(
    scenario: str,
    selector: str,
    target: str,
    clients: int,
    rate: float,
    duration: str,
    hold: str | None,
    nbytes: str | None,
    at: str,
    seed: int | None,
    as_json: bool,
) -> None:
    """Open many connections at once: Poisson arrivals, each connects, holds or sends, then closes.
    Reports the connection rate, connect-latency percentiles, how the load balancers spread the
    connections, the sessions each gateway held over time, and every drop by its reason."""
    from vpcsim.report import load_to_dict, render_load
    from vpcsim.report.progress import for_terminal
    from vpcsim.scenario.values import host_port

    if hold is not None and nbytes is not None:
        _fail_input("give --hold or --bytes, not both")
    try:
        host, port = host_port(target)
    except ValueError as exc:
        _fail_input(f"--to: {exc}")
    size = _size(nbytes, "--bytes") if nbytes is not None else 0
    net = _load(scenario)
    sources = _sources(net, selector)
    start, window = _times(scenario, at, duration, "--duration")
    _, held = _times(scenario, "0", hold or "0", "--hold")
    with for_terminal() as progress:
        progress.stage("connections ended", total=clients)
        seen = [0]

        def advance(ended: int) -> None:
            progress.advance(ended - seen[0])
            seen[0] = ended

        try:
            result = net.load(
                sources,
                host,
                port,
                clients=clients,
                rate=rate,
                duration=window,
                hold=held,
                nbytes=size,
                at=start,
                seed=seed,
                progress=advance,
            )
        except VpcsimError as exc:
            _fail_input(f"{scenario}: {exc}")
    if as_json:
        _dump(load_to_dict(result))
    else:
        click.echo(render_load(result))
    connected = result.outcomes.get("connected", 0)
    sys.exit(EXIT_OK if connected == result.started == result.clients else EXIT_FAIL)


@cli.command(
    epilog=_epilog(
        "vpcsim check scenarios/chengdu_chongqing.yaml",
        "  0  every check passes\n  1  a check failed, or the scenario has no checks\n"
        "  2  invalid input (one message on stderr)",
        "A failing check prints its reason, the object to look at and the 'vpcsim telnet' command "
        "that shows its trace.",
    )
)
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=None, help="Random seed (default: the scenario's).")
@click.option(
    "--max-branches",
    type=click.IntRange(1),
    default=64,
    show_default=True,
    help="Most branches (combinations of load-balancer choices) a check may take.",
)
def check(scenario: str, as_json: bool, seed: int | None, max_branches: int) -> None:
    """Run the scenario's checks; exit 1 if any fails or there are none.

    A check holds when its expectation holds on every branch its connection may take (every
    backend each load balancer on the way may choose), or on one with `branches: any`."""
    from vpcsim.report import check_to_dict, render_check_line
    from vpcsim.report.progress import for_terminal

    results = []
    with for_terminal() as progress:
        progress.stage("loading the scenario")  # a large file takes a while to load and compile
        net = _load(scenario)
        checks = net.topology.checks
        if not checks:
            # Nothing passes over nothing: a scenario without checks cannot vouch for anything.
            click.echo(f"vpcsim: {scenario} has no checks: add a 'checks' section (see 'vpcsim telnet')", err=True)
            sys.exit(EXIT_FAIL)
        progress.stage("checks", total=len(checks))
        for c in checks:
            try:
                results.append(net.run_check(c, seed=seed, max_branches=max_branches))
            except VpcsimError as exc:
                _fail_input(f"{scenario}: {exc}")
            progress.advance()
    failed = sum(not r.passed for r in results)
    if as_json:
        _dump(
            {
                "schema": SCHEMAS["check"],
                "scenario": scenario,
                "passed": len(results) - failed,
                "failed": failed,
                "warnings": [w.to_dict() for w in net.topology.coded_warnings],
                "checks": [check_to_dict(r) for r in results],
            }
        )
    else:
        for w in net.topology.warnings:
            click.echo(f"warning: {w}")
        for r in results:
            click.echo(render_check_line(r, scenario=scenario, seed=seed))
        click.echo(f"{len(results) - failed} passed, {failed} failed")
    sys.exit(EXIT_FAIL if failed else EXIT_OK)


@cli.command(
    epilog=_epilog(
        "vpcsim validate scenarios/chengdu_chongqing.yaml --strict",
        "  0  valid (warnings, if any, on stderr)\n  1  valid, but --strict and at least one warning\n"
        "  2  invalid (one message on stderr: file, line, column, key path, problem)",
        'Warning codes: README.md, section "Warning codes".',
    )
)
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option("--strict", is_flag=True, help="Exit 1 when there is any warning.")
def validate(scenario: str, as_json: bool, strict: bool) -> None:
    """Check a scenario file; print warnings; exit 2 if it is invalid (1 on warnings with --strict)."""
    from vpcsim.lint import lint

    located = _load_located(scenario)
    topo = located.topology
    warnings = lint(located)
    counts = (
        ("vpcs", len(topo.vpcs), "VPC"),
        ("instances", len(topo.instances), "instance"),
        ("load_balancers", len(topo.load_balancers), "load balancer"),
        ("endpoints", len(topo.endpoints) + len(topo.gateway_endpoints), "endpoint"),
        ("ccns", len(topo.ccns), "CCN"),
        ("cloud_services", len(topo.cloud_services), "cloud service"),
        ("network_acls", len(topo.network_acls), "network ACL"),
        ("route_tables", sum(not t.implicit for t in topo.route_tables.values()), "route table"),
        ("peerings", len(topo.peerings), "peering connection"),
        ("idcs", len(topo.idcs), "data centre"),
        ("gateways", len(topo.gateways), "gateway"),
        ("timeline_events", len(topo.timeline), "timeline event"),
        ("checks", len(topo.checks), "check"),
    )
    failed = strict and bool(warnings)
    if as_json:
        _dump(
            {
                "schema": SCHEMAS["validate"],
                "scenario": scenario,
                "valid": True,
                "strict": strict,
                "counts": {key: n for key, n, _ in counts},
                "warnings": [w.to_dict() for w in warnings],
            }
        )
    else:
        for w in warnings:
            click.echo(f"warning: {w.render()}", err=True)
        # The network around the endpoints is optional: its counts are shown when there is some.
        # Huawei has no CCN: its count is shown only when there is one.
        optional = _OPTIONAL_COUNTS | ({"ccns"} if topo.cloud != "tencent" else set())
        shown = [(n, word) for key, n, word in counts if n or key not in optional]
        click.echo(f"{scenario}: valid: " + ", ".join(_count(n, word) for n, word in shown))
        if failed:
            click.echo(f"vpcsim: {scenario}: {_count(len(warnings), 'warning')} and --strict: exit 1", err=True)
    sys.exit(EXIT_FAIL if failed else EXIT_OK)


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: every error a user can cause is one line on stderr and exit 2."""
    try:
        code = cli.main(args=list(argv) if argv is not None else None, prog_name="vpcsim", standalone_mode=False)
    except click.UsageError as exc:
        no_args = getattr(click.exceptions, "NoArgsIsHelpError", ())
        if isinstance(exc, no_args) and exc.ctx is not None:  # bare `vpcsim`: show the help
            click.echo(exc.ctx.get_help(), err=True)
            sys.exit(EXIT_INVALID)
        where = ""
        if exc.ctx is not None:
            usage = " ".join([exc.ctx.command_path, *exc.ctx.command.collect_usage_pieces(exc.ctx)])
            where = f" (usage: {usage}; see '{exc.ctx.command_path} --help')"
        message = " ".join(exc.format_message().split())
        click.echo(f"vpcsim: {message}{where}", err=True)
        sys.exit(EXIT_INVALID)
    except click.ClickException as exc:
        click.echo(f"vpcsim: {' '.join(exc.format_message().split())}", err=True)
        sys.exit(EXIT_INVALID if exc.exit_code == 2 else exc.exit_code)
    except click.Abort:
        click.echo("vpcsim: aborted", err=True)
        sys.exit(EXIT_FAIL)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


from vpcsim.emulate.cli import emulate  # noqa: E402

cli.add_command(emulate)
