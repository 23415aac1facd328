"""Routes, peering connections and network ACLs that leave a path half built.

* a route whose next hop cannot carry anything at t=0: a VPN gateway with every tunnel DOWN;
* a peering connection that one of its VPCs has no route through (peering needs one on each side);
* a cross-region peering connection: Tencent discontinued them on 2023-10-31 [PEER5];
* a network ACL that drops the return traffic of a connection a check expects to come back: the
  reply reaches the client on one of its ephemeral ports (Linux's 32768-60999, random per
  connection), so every one of them must be allowed in, and out of the server's subnet.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from ipaddress import IPv4Address

from vpcsim.errors import ScenarioWarning, WarningCode
from vpcsim.lint.context import Context, listing
from vpcsim.model import Action, EventKind, NetworkAcl, NextHopKind, Protocol, Rule, TunnelState
from vpcsim.model.checks import Expectation
from vpcsim.model.settings import LINUX_EPHEMERAL_PORTS


def check(ctx: Context) -> Iterator[ScenarioWarning]:
    yield from _down_next_hops(ctx)
    yield from _one_sided_peerings(ctx)
    yield from _acls_dropping_replies(ctx)


def _down_next_hops(ctx: Context) -> Iterator[ScenarioWarning]:
    topo = ctx.topology
    for table in topo.route_tables.values():
        for r in table.routes:
            if not r.enabled or r.kind is not NextHopKind.VPN_GATEWAY:
                continue
            gw = topo.gateways[r.target]
            # The tunnels toward the data centres this route's destination overlaps.
            toward = [t for t in gw.tunnels if any(c.overlaps(r.destination) for c in topo.idcs[t.idc].cidrs)] or list(
                gw.tunnels
            )
            if all(t.state is TunnelState.DOWN for t in toward):
                path = (
                    ("vpn_gateways", gw.id, "tunnels") if r.propagated else ("route_tables", table.id, "routes", r.id)
                )
                yield ctx.warn(
                    path,
                    WarningCode.ROUTE_TO_DOWN_NEXT_HOP,
                    f"route {r.id} of {table.id} sends {r.destination} to VPN gateway {gw.id}, whose tunnels there "
                    f"({listing([t.id for t in toward])}) are all DOWN at t=0: traffic it routes is dropped "
                    "(tunnel_down) until a tunnel comes up",
                )


def _one_sided_peerings(ctx: Context) -> Iterator[ScenarioWarning]:
    topo = ctx.topology
    through: set[tuple[str, str]] = set()  # (vpc, peering) with an enabled route through it, now or later
    for table in topo.route_tables.values():
        enabled_later = {
            ev.route for ev in topo.timeline if ev.kind is EventKind.ENABLE_ROUTE and ev.route_table == table.id
        }
        for r in table.routes:
            if r.kind is NextHopKind.PEERING and (r.enabled or r.id in enabled_later):
                through.add((table.vpc, r.target))
    for ev in topo.timeline:
        if ev.kind is EventKind.ADD_ROUTE and ev.entry is not None and ev.entry.kind is NextHopKind.PEERING:
            through.add((topo.route_tables[str(ev.route_table)].vpc, ev.entry.target))
    for p in topo.peerings.values():
        a, b = (topo.vpcs[v] for v in p.vpcs)
        if a.region != b.region:
            yield ctx.warn(
                ("peerings", p.id, "vpcs"),
                WarningCode.CROSS_REGION_PEERING,
                f"peering connection {p.id} joins {a.region} and {b.region}: Tencent Cloud stopped cross-region "
                "peering on 2023-10-31 (connections carry data only where Tencent kept them on request); "
                "CCN replaces it",
            )
        missing = [v for v in p.vpcs if (v, p.id) not in through]
        if missing:
            yield ctx.warn(
                ("peerings", p.id),
                WarningCode.PEERING_WITHOUT_ROUTE,
                f"{' and '.join(missing)} {'has' if len(missing) == 1 else 'have'} no route through peering "
                f"connection {p.id}: traffic needs a route on each side (and the replies one back), so "
                f"{'nothing crosses it' if len(missing) == 2 else 'connections across it time out'}; add a route "
                f"to the other VPC's CIDR with next_hop {{type: peering, id: {p.id}}}",
            )


def _acls_dropping_replies(ctx: Context) -> Iterator[ScenarioWarning]:
    topo = ctx.topology
    if not topo.network_acls or topo.cloud == "huawei":
        return  # Huawei's ACLs track connections: the replies of what they admit pass
    low, high = LINUX_EPHEMERAL_PORTS
    for i, c in enumerate(topo.checks):
        if c.expect is Expectation.TIMEOUT or c.protocol == "icmp" or c.source not in topo.instances:
            continue
        client = topo.instances[c.source]
        server_ip, _ = topo.resolve_host(c.host)
        acl = topo.acl_of(client.vpc, client.subnet)
        cidr = topo.subnet(client.vpc, client.subnet).cidr
        if acl is not None and server_ip not in cidr:
            denied = _denied_ports(acl.ingress, c.protocol, server_ip, low, high)
            if denied:
                yield _reply_warning(ctx, i, acl, "ingress", c.source, c.protocol, denied, server_ip)
        server = topo.instances.get(c.host)
        if server is not None and client.ip not in topo.subnet(server.vpc, server.subnet).cidr:
            sacl = topo.acl_of(server.vpc, server.subnet)
            if sacl is not None:
                denied = _denied_ports(sacl.egress, c.protocol, client.ip, low, high)
                if denied:
                    yield _reply_warning(ctx, i, sacl, "egress", c.host, c.protocol, denied, client.ip)


def _reply_warning(
    ctx: Context, i: int, acl: NetworkAcl, direction: str, node: str, protocol: str, denied: str, peer: IPv4Address
) -> ScenarioWarning:
    check = ctx.topology.checks[i]
    way = "into" if direction == "ingress" else "out of"
    return ctx.warn(
        ("checks", i),
        WarningCode.ACL_DROPS_RETURN_TRAFFIC,
        f"check {check.name!r} expects an answer, but network ACL {acl.id} ({direction}) drops {protocol} replies "
        f"{way} {node}'s subnet on ports {denied} (to or from {peer}): network ACLs are stateless, so the "
        "client's ephemeral ports (32768-60999) need a rule of their own",
    )


def _denied_ports(rules: Sequence[Rule], protocol: str, peer: IPv4Address, low: int, high: int) -> str:
    """The ports in [low, high] whose first matching rule (or the deny-all) drops, as ranges."""
    cuts = {low, high + 1}
    for r in rules:
        cuts.update(p for p in (r.ports.low, r.ports.high + 1) if low < p <= high)
    points = sorted(cuts)
    bad: list[tuple[int, int]] = []
    for start, end in itertools.pairwise(points):
        if not _accepts(rules, protocol, peer, start):
            if bad and bad[-1][1] == start - 1:
                bad[-1] = (bad[-1][0], end - 1)
            else:
                bad.append((start, end - 1))
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in bad)


def _accepts(rules: Sequence[Rule], protocol: str, peer: IPv4Address, port: int) -> bool:
    for r in rules:
        if (
            peer in r.peer
            and (r.protocol is Protocol.ALL or r.protocol.value == protocol)
            and r.ports.low <= port <= r.ports.high
        ):
            return r.action is Action.ACCEPT
    return False
