"""Load-balancer listeners that cannot serve as written: a backend port nobody listens on, a
listener with no backend that takes connections, a health-check port closed everywhere.

"Listens" means at t=0 or from a timeline ``start_listener`` on: a port the timeline opens later
was meant to open. Weight 0 takes no new connections [CLB4] (Q11); with every backend failing its
health checks, the load balancer sends to all of them anyway [CLB8] — so a check port closed on
every backend silently turns health checking off.
"""

from __future__ import annotations

from collections.abc import Iterator

from vpcsim.errors import ScenarioWarning, WarningCode
from vpcsim.lint.context import Context, listing


def check(ctx: Context) -> Iterator[ScenarioWarning]:
    topo = ctx.topology
    for lb in sorted(topo.load_balancers.values(), key=lambda x: x.id):
        for lst in lb.listeners:
            lpath = ("load_balancers", lb.id, "listeners", lst.id)
            name = f"listener {lst.id} of {lb.id} (port {lst.port})"
            if not lst.backends:
                yield ctx.warn(
                    (*lpath, "backends"),
                    WarningCode.LISTENER_WITHOUT_BACKENDS,
                    f"{name} has no backends: every connection to it times out (no_backend); bind at least one",
                )
                continue
            for i, b in enumerate(lst.backends):
                if not ctx.ever_listens(b.instance, b.port, lst.protocol):
                    yield ctx.warn(
                        (*lpath, "backends", i, "port"),
                        WarningCode.BACKEND_PORT_NOT_LISTENING,
                        f"backend {b.instance}:{b.port} of {name}: {b.instance} does not listen on "
                        f"{_socket(lst.protocol, b.port)} (listens on: {_ports(topo.instances[b.instance].sockets)}), "
                        f"so it fails health checks on that port and any connection sent to it is refused; add "
                        f"{_socket(lst.protocol, b.port)} to instances.{b.instance}.listen or bind the port it serves",
                    )
            if all(b.weight == 0 for b in lst.backends):
                yield ctx.warn(
                    (*lpath, "backends"),
                    WarningCode.LISTENER_ALL_WEIGHTS_ZERO,
                    f"every backend of {name} has weight 0, which takes no new connections: every connection "
                    "times out (no_backend); give at least one backend a weight of 1-100",
                )
            hc = lst.health_check
            # An unset port checks each backend's own port: the backend-port warning says it already.
            if (
                hc.enabled
                and hc.port is not None
                and not any(ctx.ever_listens(b.instance, hc.port, lst.protocol) for b in lst.backends)
            ):
                backends = listing([b.instance for b in lst.backends])
                yield ctx.warn(
                    (*lpath, "health_check", "port"),
                    WarningCode.HEALTH_CHECK_PORT_CLOSED,
                    f"the health check of {name} probes port {hc.port}, which none of its backends ({backends}) "
                    "listens on: every backend fails, and with all of them unhealthy the load balancer sends to "
                    "all of them anyway, so the checks decide nothing; check a port the backends serve",
                )


def _socket(protocol: str, port: int) -> str:
    """``8080`` for TCP (as a scenario writes it), ``udp/53`` for UDP."""
    return str(port) if protocol == "tcp" else f"{protocol}/{port}"


def _ports(sockets: frozenset[tuple[str, int]]) -> str:
    return ", ".join(_socket(proto, p) for proto, p in sorted(sockets, key=lambda s: (s[0] != "tcp", s))) or "nothing"
