"""The Linux kernel's answer to the same question, timed: a TCP connect through a NAT router.

Three network namespaces this script creates and removes: a client, a router that DNATs a virtual
address to the server and SNATs the client (as a Private Link endpoint does), and a server that
accepts in its own process. The client makes ``count`` non-blocking ``connect()`` calls, each timed
from the call until the socket is writable (the SYN-ACK arrived), each closed at once with
``SO_LINGER`` 0 so no TIME_WAIT piles up; the median is what a real network stack takes to answer
"does it connect?" on this machine. Needs root, iproute2 and iptables; otherwise returns None with
the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

_CLIENT = r"""
import select, socket, statistics, struct, sys, time
count = int(sys.argv[1])
times = []
for _ in range(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    t0 = time.perf_counter()
    err = s.connect_ex(("10.203.0.100", 80))
    if err not in (0, 115):
        raise SystemExit(f"connect failed: {err}")
    select.select([], [s], [], 5)
    t1 = time.perf_counter()
    if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
        raise SystemExit("connect did not complete")
    times.append(t1 - t0)
    s.close()
print(statistics.median(times) * 1e6)
"""

_SERVER = r"""
import socket
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("10.202.0.2", 8080))
srv.listen(4096)
print("ready", flush=True)
while True:
    conn, _ = srv.accept()
    conn.close()
"""


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def _ns(ns: str, *args: str) -> None:
    subprocess.run(["ip", "netns", "exec", ns, *args], check=True, capture_output=True)


def kernel_connect_us(count: int = 1000) -> tuple[float | None, str]:
    """(median µs of a real connect through DNAT+SNAT, note) — None with the reason when not root."""
    if os.geteuid() != 0:
        return None, "needs root (network namespaces and iptables)"
    missing = [t for t in ("ip", "iptables") if shutil.which(t) is None]
    if missing:
        return None, f"missing tools: {', '.join(missing)}"
    tag = f"vpcsim-bench-{os.getpid()}"
    client, router, server = f"{tag}-c", f"{tag}-r", f"{tag}-s"
    made: list[str] = []
    proc = None
    try:
        for ns in (client, router, server):
            _ip("netns", "add", ns)
            made.append(ns)
        # veth pairs created inside one namespace straight into the other: nothing in the host's.
        _ns(client, "ip", "link", "add", "c0", "type", "veth", "peer", "name", "r0", "netns", router)
        _ns(router, "ip", "link", "add", "r1", "type", "veth", "peer", "name", "s0", "netns", server)
        for ns, dev, addr in (
            (client, "c0", "10.201.0.2/24"),
            (router, "r0", "10.201.0.1/24"),
            (router, "r1", "10.202.0.1/24"),
            (server, "s0", "10.202.0.2/24"),
        ):
            _ns(ns, "ip", "addr", "add", addr, "dev", dev)
            _ns(ns, "ip", "link", "set", dev, "up")
        for ns in (client, router, server):
            _ns(ns, "ip", "link", "set", "lo", "up")
        _ns(client, "ip", "route", "add", "default", "via", "10.201.0.1")
        _ns(server, "ip", "route", "add", "default", "via", "10.202.0.1")
        _ns(router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        rules = (
            "*nat\n"
            "-A PREROUTING -d 10.203.0.100/32 -p tcp --dport 80 -j DNAT --to-destination 10.202.0.2:8080\n"
            "-A POSTROUTING -o r1 -j SNAT --to-source 10.202.0.1\n"
            "COMMIT\n"
        )
        subprocess.run(
            ["ip", "netns", "exec", router, "iptables-restore"], input=rules, text=True, check=True, capture_output=True
        )
        proc = subprocess.Popen(
            ["ip", "netns", "exec", server, sys.executable, "-c", _SERVER], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        proc.stdout.readline()
        out = subprocess.run(
            ["ip", "netns", "exec", client, sys.executable, "-c", _CLIENT, str(count)],
            check=True,
            capture_output=True,
            text=True,
        )
        return float(out.stdout.strip()), f"median of {count} connects, client/router (DNAT+SNAT)/server namespaces"
    except subprocess.CalledProcessError as exc:
        return None, f"{' '.join(exc.cmd[:5])} failed: {(exc.stderr or '').strip()[-300:]}"
    except OSError as exc:
        return None, f"could not build the namespaces: {exc}"
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        for ns in made:
            subprocess.run(["ip", "netns", "delete", ns], check=False, capture_output=True)
        time.sleep(0)


if __name__ == "__main__":
    value, note = kernel_connect_us()
    print({"kernel_connect_us": value, "note": note})
