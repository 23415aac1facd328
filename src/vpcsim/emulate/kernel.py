"""Apply build plans to the running kernel, run real TCP connects, and remove everything again.

Everything this module creates lives in network namespaces named ``vpcsim-<pid>-<n>-<i>``: veth pairs
are created from inside a namespace straight into its peer's namespace (never in the host
namespace), addresses, routes and iptables rules are set inside them, and listening and
connecting sockets are opened inside them (``setns`` on the calling thread, verified, then
restored). Teardown deletes the namespaces, which deletes their veths, rules and conntrack tables.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import re
import resource
import selectors
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from vpcsim.emulate import nflog
from vpcsim.emulate.plan import NFLOG_GROUP, DropPoint, NetPlan, NsPlan, Pin, RoutePin, pin_document

NETNS_DIR = "/var/run/netns"
NAME_PREFIX = "vpcsim-"
_CLONE_NEWNET = 0x40000000
_LEFTOVER = re.compile(r"^vpcsim-(\d+)-\d+-\d+$")


class CannotEmulateError(Exception):
    """This machine cannot run the emulation (not root, tools missing, no netns support)."""


class KernelError(Exception):
    """A kernel configuration step failed."""


def preflight() -> None:
    """Raise :class:`CannotEmulateError` unless we are root with iproute2, iptables and netns."""
    if os.geteuid() != 0:
        raise CannotEmulateError("needs root (network namespaces, veth pairs and iptables)")
    missing = [t for t in ("ip", "iptables", "iptables-restore", "dnsmasq") if shutil.which(t) is None]
    if missing:
        raise CannotEmulateError(
            f"missing tools: {', '.join(missing)} (Debian packages iproute2, iptables and dnsmasq-base)"
        )
    if not os.path.exists("/proc/self/ns/net"):
        raise CannotEmulateError("this kernel has no network namespace support")


def neighbour_budget() -> int:
    """How many more neighbour (ARP) entries the kernel takes before it refuses new ones.

    The table's hard limit (``gc_thresh3``) is one for every namespace together: past it, sends
    fail with ENOBUFS and packets wait for an address that is never resolved. A build stays under
    it with a margin for the host's own entries; the limit is read, never changed.
    """
    try:
        with open("/proc/sys/net/ipv4/neigh/default/gc_thresh3", encoding="ascii") as fh:
            limit = int(fh.read().split()[0])
        # The table's entry count, every namespace together (``/proc/net/arp`` lists only the
        # calling namespace's): the first column of any per-CPU row, in hex.
        with open("/proc/net/stat/arp_cache", encoding="ascii") as fh:
            used = int(fh.read().splitlines()[1].split()[0], 16)
    except (OSError, ValueError, IndexError):
        return 1024 - 128
    return max(64, int((limit - used) * 0.85))


def _run(cmd: Sequence[str], stdin: str = "") -> None:
    proc = subprocess.run(list(cmd), input=stdin, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise KernelError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")


def _run_parallel(jobs: Sequence[tuple[Sequence[str], str]], width: int = 32) -> None:
    """Run commands with their stdin, ``width`` at a time; raise on the first failure."""
    errors: list[str] = []
    for start in range(0, len(jobs), width):
        procs = []
        for cmd, stdin in jobs[start : start + width]:
            p = subprocess.Popen(
                list(cmd), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            procs.append((cmd, p, stdin))
        for cmd, p, stdin in procs:
            out, err = p.communicate(stdin)
            if p.returncode != 0:
                errors.append(f"{' '.join(cmd)} failed ({p.returncode}): {err.strip() or out.strip()}")
    if errors:
        raise KernelError(errors[0])


_libc: ctypes.CDLL | None = None


def _setns(fd: int) -> None:
    global _libc
    if hasattr(os, "setns"):
        os.setns(fd, _CLONE_NEWNET)
        return
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def _thread_netns() -> int:
    return os.stat("/proc/thread-self/ns/net").st_ino


@contextlib.contextmanager
def in_netns(name: str) -> Iterator[None]:
    """Run the body with this thread in namespace ``name``; always come back (verified)."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    home_ino = os.fstat(home).st_ino
    target = os.open(os.path.join(NETNS_DIR, name), os.O_RDONLY)
    try:
        _setns(target)
        if _thread_netns() != os.fstat(target).st_ino:
            raise KernelError(f"setns into {name} did not take effect")
        try:
            yield
        finally:
            _setns(home)
            if _thread_netns() != home_ino:  # pragma: no cover - would be a kernel bug
                os.write(2, b"vpcsim: could not return to the original network namespace\n")
                os._exit(70)
    finally:
        os.close(target)
        os.close(home)


def list_namespaces() -> list[str]:
    try:
        return sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return []


def delete_namespaces(names: Sequence[str]) -> None:
    if names:
        _run(["ip", "-force", "-batch", "-"], "".join(f"netns delete {n}\n" for n in names))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def leftovers() -> list[str]:
    """Namespaces of vpcsim runs whose process no longer exists."""
    out = []
    for name in list_namespaces():
        m = _LEFTOVER.match(name)
        if m and not _pid_alive(int(m.group(1))):
            out.append(name)
    return out


def cleanup_leftovers() -> list[str]:
    """Delete the namespaces of killed vpcsim runs; returns their names."""
    names = leftovers()
    delete_namespaces(names)
    return names


_Round = tuple[dict[tuple[str, str, int], Pin], dict[tuple[str, int, str], RoutePin], list[int]]
"""Jobs that run together: the load-balancer pins and equal-cost routes they agree on, their indexes."""


@dataclass(frozen=True, slots=True)
class Job:
    """One real connect: from the namespace ``source`` (a namespace key) to ``dst:port``, with the
    load-balancer pins the simulator's run implies."""

    source: str
    dst: str
    port: int
    pins: tuple[Pin, ...] = ()
    protocol: str = "tcp"
    """tcp: a non-blocking connect(); udp: one datagram from a connected socket; icmp: one echo
    request from a ping socket."""
    routes: tuple[RoutePin, ...] = ()
    """The equal-cost next hops the simulator's run took."""


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: str
    """connected | answered | refused | timeout | error"""
    detail: str
    seconds: float
    drops: tuple[tuple[DropPoint, bool], ...] = ()
    """The drop points that logged this job's packets, in the order first seen, each with whether
    the packet was travelling toward the client (a reply, an answer, an error about its request)."""
    local_port: int = 0
    """The client's source port (the echo identifier of a ping), which keys the drop logs."""

    def with_drops(self, drops: tuple[tuple[DropPoint, bool], ...], port: int) -> Outcome:
        return Outcome(self.verdict, self.detail, self.seconds, drops, port)


_fabric_counter = 0
LOCK_PATHS = ("/run/vpcsim-kernel.lock", "/tmp/vpcsim-kernel.lock")
"""A machine-wide lock: one build at a time, whichever process makes it. Every build sizes itself
to the neighbour table, which all namespaces share, so two at once could overflow it and turn
unresolved neighbours into false timeouts."""
_lock_depth = 0
_lock_fd: int | None = None


@contextlib.contextmanager
def machine_lock() -> Iterator[None]:
    """Hold the machine-wide build lock (re-entrant within a process)."""
    global _lock_depth, _lock_fd
    if _lock_depth == 0:
        for path in LOCK_PATHS:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.write(2, f"vpcsim: waiting for another kernel build on this machine ({path})\n".encode())
                fcntl.flock(fd, fcntl.LOCK_EX)
            _lock_fd = fd
            break
        else:
            os.write(2, b"vpcsim: no lock file could be opened: building without the machine-wide lock\n")
    _lock_depth += 1
    try:
        yield
    finally:
        _lock_depth -= 1
        if _lock_depth == 0 and _lock_fd is not None:
            fcntl.flock(_lock_fd, fcntl.LOCK_UN)
            os.close(_lock_fd)
            _lock_fd = None


class Fabric:
    """The namespaces of one or more plans, built together; a context manager that always tears down."""

    def __init__(self, plans: Sequence[NetPlan]) -> None:
        global _fabric_counter
        self.plans = list(plans)
        self.prefix = f"{NAME_PREFIX}{os.getpid()}-{_fabric_counter}"
        _fabric_counter += 1
        self.ns: dict[str, str] = {}
        self.by_key: dict[str, NsPlan] = {}
        i = 0
        for plan in self.plans:
            for nsp in plan.namespaces:
                if nsp.key in self.by_key:
                    raise KernelError(f"namespace key {nsp.key} is used twice")
                self.by_key[nsp.key] = nsp
                self.ns[nsp.key] = f"{self.prefix}-{i}"
                i += 1
        self.created: list[str] = []
        self.sockets: list[socket.socket] = []
        self.echoes: list[socket.socket] = []
        """UDP listeners: each echoes what it receives."""
        self.resolvers: list[subprocess.Popen[bytes]] = []
        """DNS resolvers (dnsmasq), one per namespace that answers DNS."""
        self.pins: dict[str, dict[tuple[str, int], Pin]] = {}
        self.routes: dict[tuple[str, int, str], tuple[str, str]] = {
            (key, g.table, g.prefix): g.hops[0][1:] for key, nsp in self.by_key.items() for g in nsp.ecmp
        }
        """(router key, kernel table, prefix) → the (via, dev) installed for an equal-cost group."""
        self.build_seconds = 0.0
        self._lock = machine_lock()
        self.restore = "iptables-restore"
        """The ``iptables-restore`` of the build (see :func:`_restore_tool`)."""
        self.logs: dict[int, tuple[socket.socket, str]] = {}
        """NFLOG socket's file descriptor → the socket and the namespace key whose drops it receives."""
        self.ports = _PortPool(self.plans)
        self.logged: dict[int, list[tuple[DropPoint, bool]]] = {}
        """Client port → the drop points that logged its packets."""

    # -- build ------------------------------------------------------------------------------
    def __enter__(self) -> Fabric:
        self._lock.__enter__()
        try:
            self.build()
        except BaseException:
            self.teardown()
            self._lock.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.teardown()
        finally:
            self._lock.__exit__(None, None, None)

    def build(self) -> None:
        t0 = time.perf_counter()
        _enough_files()
        names = [self.ns[k] for k in self.by_key]
        # Record first, then create: a failure halfway still removes what exists.
        self.created = list(names)
        _run(["ip", "-batch", "-"], "".join(f"netns add {n}\n" for n in names))
        for key, nsp in self.by_key.items():
            self._sysctls(self.ns[key], nsp)
        by_ns: dict[str, list[str]] = {}
        for plan in self.plans:
            for link in plan.links:
                by_ns.setdefault(self.ns[link.a], []).append(
                    f"link add name {link.a_if} type veth peer name {link.b_if} netns {self.ns[link.b]}\n"
                )
        _run_parallel([(["ip", "-n", ns, "-batch", "-"], "".join(lines)) for ns, lines in by_ns.items()])
        batches = []
        for key, nsp in self.by_key.items():
            lines = ["link set dev lo up\n"]
            for iface in nsp.ifaces:
                lines.append(f"addr add {iface.address} dev {iface.name}\n")
                lines.append(f"link set dev {iface.name} up\n")
            lines += [line + "\n" for line in nsp.ip_lines]
            batches.append((["ip", "-n", self.ns[key], "-batch", "-"], "".join(lines)))
        _run_parallel(batches)
        for key, nsp in self.by_key.items():
            self._sysctls(self.ns[key], nsp, ifaces=True)
        keys = list(self.by_key)
        if keys:
            first = self.ns[keys[0]]
            self.restore = _restore_tool(first, self.by_key[keys[0]].iptables)
            docs = [
                (["ip", "netns", "exec", self.ns[key], self.restore, "-w"], self.by_key[key].iptables)
                for key in keys[1:]
            ]
            _run_parallel(docs)
        self.apply_pins({})
        for key, nsp in self.by_key.items():
            if nsp.drops:
                with in_netns(self.ns[key]):
                    sock = nflog.open_group(NFLOG_GROUP)
                self.logs[sock.fileno()] = (sock, key)
            if nsp.listen:
                self._listen(self.ns[key], nsp.listen)
            if nsp.listen_udp:
                # With several own addresses (virtual IPs), one socket each: a datagram to a virtual
                # IP is answered from it. Otherwise one socket on every address, as before.
                own = [i.address.split("/")[0] for i in nsp.ifaces if i.address.endswith("/32")]
                self._listen_udp(self.ns[key], nsp.listen_udp, own if len(own) > 1 else ["0.0.0.0"])
            if nsp.resolver:
                self._resolve(self.ns[key], nsp.resolver)
        self.build_seconds = time.perf_counter() - t0

    def _sysctls(self, ns: str, nsp: NsPlan, *, ifaces: bool = False) -> None:
        values: dict[str, str] = {}
        confs = ["all", "default"] if not ifaces else [i.name for i in nsp.ifaces]
        for conf in confs:
            values[f"net/ipv4/conf/{conf}/rp_filter"] = "0"
            values[f"net/ipv4/conf/{conf}/send_redirects"] = "0"
            values[f"net/ipv4/conf/{conf}/accept_local"] = "1" if nsp.forwarding else "0"
            if ifaces:
                # A round's first packets all wait for ARP on fresh links: queue them all (the
                # default ~200 KB per neighbour drops the rest, which a cloud network never does).
                values[f"net/ipv4/neigh/{conf}/unres_qlen_bytes"] = str(16 << 20)
            if not ifaces:
                values[f"net/ipv6/conf/{conf}/disable_ipv6"] = "1"
        if not ifaces:
            values["net/ipv4/ip_forward"] = "1" if nsp.forwarding else "0"
            # Every port unreachable is sent (Linux rate-limits them by default), and root may
            # open ping sockets (as the ping command does when it is not setuid).
            values["net/ipv4/icmp_ratelimit"] = "0"
            values["net/ipv4/ping_group_range"] = "0 2147483647"

        with in_netns(ns):
            for path, value in values.items():
                with open(f"/proc/sys/{path}", "w", encoding="ascii") as fh:
                    fh.write(value)

    def _listen(self, ns: str, ports: Sequence[int]) -> None:
        with in_netns(ns):
            for port in ports:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("0.0.0.0", port))
                s.listen(4096)
                s.setblocking(False)
                self.sockets.append(s)

    def _resolve(self, ns: str, address: str) -> None:
        """A real DNS resolver on ``address``, UDP and TCP 53, answering every name with it."""
        cmd = [
            "ip", "netns", "exec", ns, "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
            "--no-dhcp-interface=", "--bind-interfaces", f"--listen-address={address}", "--port=53",
            "--user=root", "--group=root", "--pid-file=", f"--address=/#/{address}", "--log-facility=/dev/null",
        ]  # fmt: skip
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.resolvers.append(proc)
        # Ready once it listens on TCP 53 (it binds UDP first).
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise KernelError(f"dnsmasq in {ns} exited: {err.strip()}")
            with in_netns(ns), socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.settimeout(0.05)
                if s.connect_ex((address, 53)) == 0:
                    return
            time.sleep(0.01)
        raise KernelError(f"dnsmasq in {ns} did not listen on {address}:53")

    def _listen_udp(self, ns: str, ports: Sequence[int], addresses: Sequence[str]) -> None:
        with in_netns(ns):
            for port in ports:
                for address in addresses:
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.bind((address, port))
                    s.setblocking(False)
                    self.echoes.append(s)

    def apply_pins(self, wanted: dict[tuple[str, str, int], Pin]) -> None:
        """Pin each load balancer's listeners: ``wanted`` (lb key, protocol, port) first, defaults
        for the rest."""
        jobs = []
        for key, nsp in self.by_key.items():
            if nsp.kind != "load_balancer":
                continue
            pins = {(p.protocol, p.port): p for p in nsp.default_pins}
            for (lb, protocol, port), pin in wanted.items():
                if lb == key:
                    pins[(protocol, port)] = pin
            if self.pins.get(key) == pins:
                continue
            self.pins[key] = pins
            doc = pin_document([pins[p] for p in sorted(pins)])
            jobs.append((["ip", "netns", "exec", self.ns[key], self.restore, "-w", "--noflush"], doc))
        _run_parallel(jobs)

    def apply_routes(self, wanted: dict[tuple[str, int, str], RoutePin]) -> None:
        """Install the wanted next hop of each equal-cost group, the first of the others."""
        jobs = []
        for key, nsp in self.by_key.items():
            for g in nsp.ecmp:
                k = (key, g.table, g.prefix)
                pin = wanted.get(k)
                hop = (pin.via, pin.dev) if pin is not None else g.hops[0][1:]
                if self.routes.get(k) == hop:
                    continue
                self.routes[k] = hop
                cmd = ["ip", "-n", self.ns[key], "route", "replace", g.prefix, "via", hop[0], "dev", hop[1]]
                jobs.append(([*cmd, "onlink", "table", str(g.table)], ""))
        _run_parallel(jobs)

    # -- run --------------------------------------------------------------------------------
    def run(self, jobs: Sequence[Job], *, deadline: float) -> list[Outcome]:
        """Run every job as a real non-blocking connect; jobs whose pins agree run concurrently."""
        self.ports.reserve([j.port for j in jobs] + [p.port for j in jobs for p in j.pins])
        self.ports.reserve([p.backend_port for j in jobs for p in j.pins])
        rounds: list[_Round] = []
        for i, job in enumerate(jobs):
            for wanted, routes, members in rounds:
                if all(wanted.get((p.lb, p.protocol, p.port), p) == p for p in job.pins) and all(
                    routes.get((r.router, r.table, r.prefix), r) == r for r in job.routes
                ):
                    for p in job.pins:
                        wanted[(p.lb, p.protocol, p.port)] = p
                    for r in job.routes:
                        routes[(r.router, r.table, r.prefix)] = r
                    members.append(i)
                    break
            else:
                rounds.append(
                    (
                        {(p.lb, p.protocol, p.port): p for p in job.pins},
                        {(r.router, r.table, r.prefix): r for r in job.routes},
                        [i],
                    )
                )
        results: dict[int, Outcome] = {}
        for wanted, routes, members in rounds:
            self.apply_pins(wanted)
            self.apply_routes(routes)
            outcomes = self._connect_all([jobs[i] for i in members], deadline)
            results.update(zip(members, outcomes, strict=True))
        return [results[i] for i in range(len(jobs))]

    def _connect_all(self, jobs: Sequence[Job], deadline: float) -> list[Outcome]:
        """Start every job at once, then wait on them together: TCP until the socket is writable,
        UDP and ICMP until an answer (or an error) can be read."""
        socks: list[socket.socket] = []
        outcomes: list[Outcome | None] = [None] * len(jobs)
        started: list[float] = []
        ports = [self.ports.take() for _ in jobs]
        for port in ports:
            self.logged[port] = []
        try:
            for job, port in zip(jobs, ports, strict=True):
                with in_netns(self.ns[job.source]):
                    s = _client_socket(job.protocol)
                socks.append(s)
                # A port of its own, unique in the build, keys the drop logs to the job; the
                # endpoints' SNAT keeps a source port that no other flow uses.
                s.bind(("0.0.0.0", port))
                s.setblocking(False)
            for i, (job, s) in enumerate(zip(jobs, socks, strict=True)):
                started.append(time.perf_counter())
                outcomes[i] = _start(job, s)
            end = time.perf_counter() + deadline
            streams = {s.fileno(): i for i, s in enumerate(socks) if outcomes[i] is None and jobs[i].protocol == "tcp"}
            datagrams = {
                s.fileno(): i for i, s in enumerate(socks) if outcomes[i] is None and jobs[i].protocol != "tcp"
            }
            listeners = {s.fileno(): s for s in self.sockets}
            echoes = {s.fileno(): s for s in self.echoes}
            # epoll, not select(): a round holds thousands of sockets, past select()'s 1024.
            with selectors.DefaultSelector() as sel:
                for fd in [*listeners, *echoes, *datagrams, *self.logs]:
                    sel.register(fd, selectors.EVENT_READ)
                for fd in streams:
                    sel.register(fd, selectors.EVENT_WRITE)
                while streams or datagrams:
                    left = end - time.perf_counter()
                    if left <= 0:
                        break
                    for key, _ in sel.select(min(left, 0.05)):
                        fd = key.fd
                        if fd in self.logs:
                            self._read_log(fd)
                        elif fd in listeners:
                            self._accept(listeners[fd])
                        elif fd in echoes:
                            _echo(echoes[fd])
                        elif fd in datagrams:
                            i = datagrams[fd]
                            got = _answer(jobs[i], socks[i], time.perf_counter() - started[i])
                            if got is not None:
                                outcomes[i] = got
                                del datagrams[fd]
                                sel.unregister(fd)
                        elif fd in streams:
                            i = streams.pop(fd)
                            sel.unregister(fd)
                            rc = socks[i].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                            outcomes[i] = _outcome_of(rc, time.perf_counter() - started[i])
            for i in [*streams.values(), *datagrams.values()]:
                outcomes[i] = Outcome("timeout", f"no answer within {deadline:g}s", time.perf_counter() - started[i])
        finally:
            for job, s in zip(jobs, socks, strict=False):
                if job.protocol == "tcp":
                    with contextlib.suppress(OSError):
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.close()
            for s in self.sockets:
                self._accept(s)
            for s in self.echoes:
                _echo(s)
            for fd in self.logs:
                self._read_log(fd)
        return [
            o.with_drops(tuple(dict.fromkeys(self.logged.pop(port))), port)
            for o, port in zip(outcomes, ports, strict=True)
            if o is not None
        ]

    def _read_log(self, fd: int) -> None:
        sock, key = self.logs[fd]
        nsp = self.by_key[key]
        for logged in nflog.drain(sock):
            found = _job_port(logged, self.logged)
            if found is None or not logged.prefix.startswith("d"):
                continue
            port, toward_client = found
            self.logged[port].append((nsp.drops[int(logged.prefix[1:])], toward_client))

    @staticmethod
    def _accept(listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            conn.close()

    # -- teardown ---------------------------------------------------------------------------
    def teardown(self) -> None:
        for s in [*self.sockets, *self.echoes, *(sock for sock, _ in self.logs.values())]:
            with contextlib.suppress(OSError):
                s.close()
        self.sockets = []
        self.echoes = []
        self.logs = {}
        for proc in self.resolvers:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stderr is not None:
                proc.stderr.close()
        self.resolvers = []
        existing = set(list_namespaces())
        doomed = [n for n in self.created if n in existing]
        self.created = []
        if doomed:
            delete_namespaces(doomed)
        still = [n for n in list_namespaces() if n.startswith(self.prefix + "-")]
        if still:
            delete_namespaces(still)


def _restore_tool(ns: str, doc: str) -> str:
    """Load the first namespace's rules, and say which ``iptables-restore`` the build uses.

    The legacy (x_tables) one where the kernel still has it: the rules mean the same to both, and a
    legacy load of a few dozen rules takes a third of the time of an nf_tables transaction, which
    adds up over thousands of namespaces. Otherwise the nf_tables one. One namespace never mixes
    the two.
    """
    legacy = "iptables-legacy-restore"
    if shutil.which(legacy) is not None:
        proc = subprocess.run(
            ["ip", "netns", "exec", ns, legacy, "-w"], input=doc, capture_output=True, text=True, check=False
        )
        if proc.returncode == 0:
            return legacy
    _run(["ip", "netns", "exec", ns, "iptables-restore", "-w"], doc)
    return "iptables-restore"


CLIENT_PORTS = (32768, 60999)
"""Where the build's client ports come from: Linux's default ``ip_local_port_range``, the range a
real client (and the simulator's) takes its ephemeral port from, so a stateless rule over that
range means the same on both sides."""


class _PortPool:
    """Client ports for the jobs of one build: each used once, none a port any server, listener or
    check of the build uses (so a logged packet's ports name its job without doubt)."""

    FIRST = CLIENT_PORTS[0]

    def __init__(self, plans: Sequence[NetPlan]) -> None:
        self.taken: set[int] = set()
        for plan in plans:
            for nsp in plan.namespaces:
                self.taken |= set(nsp.listen) | set(nsp.listen_udp)
                self.taken |= {p.port for p in nsp.default_pins} | {p.backend_port for p in nsp.default_pins}
        self.next = self.FIRST

    def reserve(self, ports: Sequence[int]) -> None:
        self.taken |= set(ports)

    def take(self) -> int:
        while self.next in self.taken:
            self.next += 1
        if self.next > CLIENT_PORTS[1]:
            raise KernelError("the build ran out of client ports: split it")
        port = self.next
        self.next += 1
        return port


def _job_port(logged: nflog.Logged, open_ports: dict[int, list[tuple[DropPoint, bool]]]) -> tuple[int, bool] | None:
    """The client port of the job a logged packet belongs to, and whether it travelled toward the
    client."""
    if logged.proto == 1:
        if logged.icmp_type in (0, 8):
            return (logged.sport, logged.icmp_type == 0) if logged.sport in open_ports else None
        if logged.inner is None:
            return None
        _, sport, dport = logged.inner
        if sport in open_ports:
            return sport, True
        return (dport, False) if dport in open_ports else None
    if logged.sport in open_ports:
        return logged.sport, False
    return (logged.dport, True) if logged.dport in open_ports else None


def _enough_files() -> None:
    """A round opens a socket per job: lift the soft limit on open files to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 1 << 20, hard))


ECHO_REQUEST = struct.pack("!BBHHH", 8, 0, 0, 0, 1) + b"\0" * 56
"""An echo request as a ping socket takes it: the kernel fills in the identifier and checksum."""
DATAGRAM = b"\x56\x50\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x06vpcsim\x04test\x00\x00\x01\x00\x01"
"""A UDP probe's payload: a DNS query (``vpcsim.test``, type A), so a real resolver answers it as
an echoing listener does."""


def _client_socket(protocol: str) -> socket.socket:
    if protocol == "udp":
        return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if protocol == "icmp":
        return socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
    return socket.socket(socket.AF_INET, socket.SOCK_STREAM)


def _start(job: Job, s: socket.socket) -> Outcome | None:
    """Begin a job: connect (TCP), or connect and send (UDP, ICMP). An outcome if it already ended."""
    if job.protocol == "tcp":
        rc = s.connect_ex((job.dst, job.port))
        return None if rc in (0, errno.EINPROGRESS) else _outcome_of(rc, 0.0)
    rc = s.connect_ex((job.dst, job.port if job.protocol == "udp" else 0))
    if rc != 0:
        return _outcome_of(rc, 0.0)
    try:
        s.send(DATAGRAM if job.protocol == "udp" else ECHO_REQUEST)
    except PermissionError:
        # The emulation keeps an instance's security groups in its own netfilter, which reports
        # an output drop to the sender (EPERM); the cloud's groups drop in the virtual switch,
        # silently. So the datagram counts as sent and lost: the deadline decides.
        return None
    except OSError as exc:
        return _outcome_of(exc.errno or 0, 0.0)
    return None


def _answer(job: Job, s: socket.socket, seconds: float) -> Outcome | None:
    """What a readable UDP or ping socket says: an answer, or (UDP) the refusal an ICMP port
    unreachable reports; None when nothing was there after all."""
    try:
        data = s.recv(2048)
    except (BlockingIOError, InterruptedError):
        return None
    except ConnectionRefusedError:
        return Outcome("refused", "ICMP port unreachable (ECONNREFUSED)", seconds)
    except OSError as exc:
        return _outcome_of(exc.errno or 0, seconds)
    if job.protocol == "icmp":
        if not data or data[0] != 0:  # not an echo reply
            return None
        return Outcome("answered", "echo reply", seconds)
    return Outcome("answered", f"{len(data)} bytes back", seconds)


def _echo(s: socket.socket) -> None:
    """A UDP listener sends every datagram waiting for it back to where it came from."""
    while True:
        try:
            data, peer = s.recvfrom(65535)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            continue  # an ICMP error queued on the socket: read past it
        with contextlib.suppress(OSError):
            s.sendto(data, peer)


def _outcome_of(rc: int, seconds: float) -> Outcome:
    if rc == 0:
        return Outcome("connected", "handshake completed", seconds)
    if rc == errno.ECONNREFUSED:
        return Outcome("refused", "connection refused (RST)", seconds)
    name = errno.errorcode.get(rc, str(rc))
    return Outcome("error", f"{name}: {os.strerror(rc)}", seconds)
