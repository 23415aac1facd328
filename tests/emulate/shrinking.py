"""Shrink a scenario that shows a simulator/kernel disagreement, many candidates per kernel build.

A shrinker that tries one deletion at a time pays a kernel build per try: a few hundred builds
for one scenario. Here each round builds every candidate deletion of the current best and
hands them to ``fails_many`` in batches, so one build answers for up to ``max_batch`` candidates;
the round moves to the smallest candidate that still fails. The moves know what a scenario's
objects name, so deleting an object deletes what would dangle without it (an instance with its
backends, checks and listener events; a VPC with everything in it): far fewer candidates fail to
load, and one move can take out a whole VPC instead of one key per build.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import yaml

Data = dict[str, Any]
FailsMany = Callable[[list[Data]], list[bool]]
Move = Callable[[Data], None]
"""Edits a copy of the scenario in place."""

KEEP_TOP = ("version", "vpcs")
"""Top-level keys no move deletes."""


class _Dumper(yaml.SafeDumper):
    """Flow style for every map that holds no map and no list of collections: a rule, a check, an
    instance (its groups a list of names) each fits one line."""


def _map(dumper: yaml.SafeDumper, data: dict[Any, Any]) -> yaml.Node:
    leaf = bool(data) and all(
        not isinstance(v, dict) and not (isinstance(v, list) and any(isinstance(x, dict | list) for x in v))
        for v in data.values()
    )
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True if leaf else None)


_Dumper.add_representer(dict, _map)


def dump(data: Data) -> str:
    """The scenario as YAML: flow style for leaves, so a rule, a check or an instance is one line."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=None)


def lines(data: Data) -> int:
    """How big a scenario reads: its YAML lines."""
    return len(dump(data).splitlines())


def _size(text: str) -> tuple[int, int]:
    """Lines first, characters to break ties: a deletion that leaves the line count alone (a key in
    a one-line rule) still counts as progress, but after any that saves lines."""
    return len(text.splitlines()), len(text)


class _Sizes:
    """:func:`_size` of :func:`dump` without dumping every candidate whole.

    PyYAML writes the top-level map, each section's map of objects and the checks and timeline
    lists in block style (they hold maps), and each entry of a block collection on lines of its
    own, the same wherever its siblings are. So a scenario's size is the sum of its entries'
    sizes, each dumped in place (same key, same indentation) once and remembered: a candidate
    differs from its parent in one or two objects, and only those are dumped again.
    """

    def __init__(self) -> None:
        self.memo: dict[tuple[str, str], tuple[int, int]] = {}

    def entry(self, key: str, value: Any) -> tuple[int, int]:
        """Size of ``key: value`` at the top level."""
        memo_key = (key, repr(value))
        known = self.memo.get(memo_key)
        if known is None:
            if isinstance(value, dict | list):
                known = _size(dump({key: value}))
            else:  # alone, a map of scalars would be written in flow style: {version: 1}
                known = _size(yaml.safe_dump({key: value}, sort_keys=False, default_flow_style=False))
            self.memo[memo_key] = known
        return known

    def __call__(self, data: Data) -> tuple[int, int]:
        rows = chars = 0
        for key, value in data.items():
            header = len(key) + 2  # "key:\n"
            if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
                parts = [self.entry(key, {oid: obj}) for oid, obj in value.items()]
                rows += 1 + sum(n - 1 for n, _ in parts)
                chars += header + sum(c - header for _, c in parts)
            elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                parts = [self.entry(key, [item]) for item in value]
                rows += 1 + sum(n - 1 for n, _ in parts)
                chars += header + sum(c - header for _, c in parts)
            else:
                n, c = self.entry(key, value)
                rows, chars = rows + n, chars + c
        return rows, chars


# -- references -------------------------------------------------------------------------------------


def _host(check: Data) -> str:
    """The host a check's ``to`` names (``HOST:PORT``, or ``HOST`` for a ping)."""
    to = str(check.get("to", ""))
    return to.rpartition(":")[0] if ":" in to else to


def _section(d: Data, key: str) -> dict[str, Any]:
    value = d.get(key)
    return value if isinstance(value, dict) else {}


def _drop_checks(d: Data, names: set[str]) -> None:
    """Checks from or to any of ``names`` (object ids)."""
    if isinstance(d.get("checks"), list):
        d["checks"] = [c for c in d["checks"] if not (c.get("from") in names or _host(c) in names)]


def _drop_events(d: Data, key: str, value: str) -> None:
    if isinstance(d.get("timeline"), list):
        d["timeline"] = [e for e in d["timeline"] if e.get(key) != value]


def _listeners(d: Data) -> Iterator[Data]:
    for lb in _section(d, "load_balancers").values():
        for lst in _section(lb, "listeners").values():
            if isinstance(lst, dict):
                yield lst


def _drop_routes_to(d: Data, target: str) -> None:
    """Routes (declared, or added on the timeline) whose next hop is ``target``, and the timeline
    events that name a route no longer there."""
    for tid, table in _section(d, "route_tables").items():
        routes = _section(table, "routes")
        for rid in [r for r, route in routes.items() if _section(route, "next_hop").get("id") == target]:
            routes.pop(rid)
            _drop_route_events(d, tid, rid)
    if isinstance(d.get("timeline"), list):
        gone = [e for e in d["timeline"] if _section(e, "next_hop").get("id") == target]
        for e in gone:
            _drop_route_events(d, str(e.get("route_table")), str(e.get("route")))


def _drop_route_events(d: Data, tid: str, rid: str) -> None:
    if isinstance(d.get("timeline"), list):
        d["timeline"] = [e for e in d["timeline"] if not (e.get("route_table") == tid and e.get("route") == rid)]


def _delete_instance(d: Data, iid: str) -> None:
    _drop_routes_to(d, iid)
    _section(d, "instances").pop(iid, None)
    for lst in _listeners(d):
        if isinstance(lst.get("backends"), list):
            lst["backends"] = [b for b in lst["backends"] if b.get("instance") != iid]
    _drop_checks(d, {iid})
    _drop_events(d, "instance", iid)


def _delete_endpoint(d: Data, eid: str) -> None:
    _section(d, "endpoints").pop(eid, None)
    _drop_checks(d, {eid})
    _drop_events(d, "endpoint", eid)


def _delete_service(d: Data, sid: str) -> None:
    _section(d, "endpoint_services").pop(sid, None)
    for eid, ep in list(_section(d, "endpoints").items()):
        if ep.get("service") == sid:
            _delete_endpoint(d, eid)


def _delete_balancer(d: Data, lid: str) -> None:
    _section(d, "load_balancers").pop(lid, None)
    for sid, svc in list(_section(d, "endpoint_services").items()):
        if svc.get("load_balancer") == lid:
            _delete_service(d, sid)
    _drop_checks(d, {lid})


def _delete_ccn(d: Data, cid: str) -> None:
    _section(d, "ccns").pop(cid, None)
    _drop_events(d, "ccn", cid)
    for section in ("vpn_gateways", "dc_gateways"):
        for gid, gw in list(_section(d, section).items()):
            if gw.get("ccn") == cid:
                _delete_gateway(d, gid)


def _delete_group(d: Data, gid: str) -> None:
    _section(d, "security_groups").pop(gid, None)
    for section in ("instances", "load_balancers", "endpoints"):
        for obj in _section(d, section).values():
            if isinstance(obj.get("security_groups"), list):
                obj["security_groups"] = [g for g in obj["security_groups"] if g != gid]
    _drop_events(d, "security_group", gid)


def _delete_acl(d: Data, aid: str) -> None:
    _section(d, "network_acls").pop(aid, None)


def _delete_table(d: Data, tid: str) -> None:
    _section(d, "route_tables").pop(tid, None)
    _drop_events(d, "route_table", tid)
    for section in ("vpn_gateways", "dc_gateways"):
        for gw in _section(d, section).values():
            if isinstance(gw.get("route_tables"), list):
                gw["route_tables"] = [t for t in gw["route_tables"] if t != tid]


def _delete_peering(d: Data, pid: str) -> None:
    _drop_routes_to(d, pid)
    _section(d, "peerings").pop(pid, None)


def _delete_gateway(d: Data, gid: str) -> None:
    _drop_routes_to(d, gid)
    for section in ("vpn_gateways", "dc_gateways"):
        _section(d, section).pop(gid, None)
    for idc in _section(d, "idcs").values():
        routes = _section(idc, "routes")
        for rid in [r for r, route in routes.items() if route.get("gateway") == gid]:
            routes.pop(rid)
    _drop_events(d, "vpn_gateway", gid)


def _delete_host(idc: str, hid: str, d: Data) -> None:
    _section(_section(d, "idcs").get(idc) or {}, "hosts").pop(hid, None)
    _drop_checks(d, {hid})
    _drop_events(d, "instance", hid)


def _delete_idc(d: Data, iid: str) -> None:
    """A data centre with its hosts and the gateways that reach only it (a tunnel to it goes)."""
    for hid in list(_section(_section(d, "idcs").get(iid) or {}, "hosts")):
        _delete_host(iid, hid, d)
    for gid, gw in list(_section(d, "dc_gateways").items()):
        if gw.get("idc") == iid:
            _delete_gateway(d, gid)
    for gid, gw in list(_section(d, "vpn_gateways").items()):
        tunnels = _section(gw, "tunnels")
        for tid in [t for t, tun in tunnels.items() if tun.get("idc") == iid]:
            tunnels.pop(tid)
            if isinstance(d.get("timeline"), list):
                d["timeline"] = [
                    e for e in d["timeline"] if not (e.get("vpn_gateway") == gid and e.get("tunnel") == tid)
                ]
        if not tunnels:
            _delete_gateway(d, gid)
    _section(d, "idcs").pop(iid, None)


def _delete_placed(d: Data, vid: str, subnet: str | None = None) -> None:
    """Everything placed in VPC ``vid`` (or in one of its subnets), with what names it."""

    def here(obj: Data) -> bool:
        return bool(obj.get("vpc") == vid and (subnet is None or obj.get("subnet") == subnet))

    for iid, inst in list(_section(d, "instances").items()):
        if here(inst):
            _delete_instance(d, iid)
    for lid, lb in list(_section(d, "load_balancers").items()):
        if here(lb):
            _delete_balancer(d, lid)
    for eid, ep in list(_section(d, "endpoints").items()):
        if here(ep):
            _delete_endpoint(d, eid)


def _delete_vpc(d: Data, vid: str) -> None:
    """A VPC with everything in it, its attachments and events, and its account in whitelists
    when no other VPC has that account (whitelisting an account without VPCs changes nothing)."""
    account = _section(d, "vpcs").get(vid, {}).get("account")
    _delete_placed(d, vid)
    for sid, svc in list(_section(d, "endpoint_services").items()):
        if svc.get("vpc") == vid:
            _delete_service(d, sid)
    for ccn in _section(d, "ccns").values():
        if isinstance(ccn.get("attachments"), list):
            ccn["attachments"] = [v for v in ccn["attachments"] if v != vid]
    _drop_events(d, "vpc", vid)
    for aid, acl in list(_section(d, "network_acls").items()):
        if acl.get("vpc") == vid:
            _delete_acl(d, aid)
    for tid, table in list(_section(d, "route_tables").items()):
        if table.get("vpc") == vid:
            _delete_table(d, tid)
    for pid, peering in list(_section(d, "peerings").items()):
        if vid in (peering.get("vpcs") or []):
            _delete_peering(d, pid)
    for section in ("vpn_gateways", "dc_gateways"):
        for gid, gw in list(_section(d, section).items()):
            if gw.get("vpc") == vid:
                _delete_gateway(d, gid)
    _section(d, "vpcs").pop(vid, None)
    if account is not None and all(v.get("account") != account for v in _section(d, "vpcs").values()):
        for svc in _section(d, "endpoint_services").values():
            if isinstance(svc.get("whitelist"), list):
                svc["whitelist"] = [a for a in svc["whitelist"] if a != account]


def _delete_subnet(vid: str, subnet: str, d: Data) -> None:
    _delete_placed(d, vid, subnet)
    _section(_section(d, "vpcs").get(vid, {}), "subnets").pop(subnet, None)
    _unbind(d, vid, subnet)


def _unbind(d: Data, vid: str, subnet: str) -> None:
    """A subnet out of the network ACL and the route table that bind it (either bound to nothing is
    still valid)."""
    for section in ("network_acls", "route_tables"):
        for obj in _section(d, section).values():
            if obj.get("vpc") == vid and isinstance(obj.get("subnets"), list):
                obj["subnets"] = [s for s in obj["subnets"] if s != subnet]


def _reindexed(d: Data, gid: str, direction: str, removed: int) -> None:
    """Timeline rule events of a group after its rule ``removed`` went: later positions move up
    (a guess; a candidate whose timeline no longer applies fails to load and is skipped)."""
    for e in d.get("timeline") or []:
        if e.get("security_group") == gid and e.get("direction") == direction:
            index = e.get("index")
            if isinstance(index, int) and index > removed:
                e["index"] = index - 1


EMPTY_IS_DEFAULT = (
    "routes",
    "subnets",
    "route_tables",
    "hosts",
    "listen",
    "security_groups",
    "listeners",
    "backends",
    "whitelist",
    "attachments",
    "ingress",
    "egress",
)
"""Keys of objects (and listeners) whose default is empty."""


def _tidy(d: Data) -> None:
    """Drop sections and keys left empty: each has an empty default, so the scenario means the same
    in fewer lines. Objects themselves stay, even empty ones (a group without rules is still
    bound, a CCN without attachments still named by events)."""
    for section in list(d):
        value = d[section]
        if isinstance(value, dict) and section != "settings":
            for obj in value.values():
                if not isinstance(obj, dict):
                    continue
                for lst in _section(obj, "listeners").values():
                    if isinstance(lst, dict) and lst.get("backends") == []:
                        del lst["backends"]
                for key in EMPTY_IS_DEFAULT:
                    if key in obj and obj[key] in ([], {}):
                        del obj[key]
        if section not in KEEP_TOP and value in ([], {}):
            del d[section]


def _referenced(d: Data) -> set[str]:
    """Ids the checks need, transitively: what they name, the endpoint's service, its load
    balancer and backends, the VPCs all of these sit in, their groups, the CCNs of those VPCs and
    the network ACLs of those VPCs' subnets."""
    instances, lbs = _section(d, "instances"), _section(d, "load_balancers")
    services, endpoints = _section(d, "endpoint_services"), _section(d, "endpoints")
    named: set[str] = set()
    for c in d.get("checks") or []:
        named.update((str(c.get("from")), _host(c)))
    todo = list(named)
    while todo:
        oid = todo.pop()
        found: list[str] = []
        for obj in (instances.get(oid), lbs.get(oid), services.get(oid), endpoints.get(oid)):
            if isinstance(obj, dict):
                found.extend(str(obj[k]) for k in ("vpc", "service", "load_balancer") if k in obj)
                found.extend(str(g) for g in obj.get("security_groups") or [])
        for lst in _section(lbs.get(oid) or {}, "listeners").values():
            found.extend(str(b.get("instance")) for b in lst.get("backends") or [])
        found.extend(sid for sid, svc in services.items() if svc.get("load_balancer") == oid)
        found.extend(cid for cid, ccn in _section(d, "ccns").items() if oid in (ccn.get("attachments") or []))
        found.extend(_network_needs(d, oid))
        for new in found:
            if new not in named:
                named.add(new)
                todo.append(new)
    named.update(aid for aid, acl in _section(d, "network_acls").items() if acl.get("vpc") in named)
    return named


def _network_needs(d: Data, oid: str) -> list[str]:
    """What an object needs of the network around the endpoints: a host its data centre; a data
    centre the gateways it routes through or that reach it; a gateway its VPC or CCN; a VPC its
    route tables; a route table its next hops; a peering connection its VPCs."""
    out: list[str] = []
    idcs, tables = _section(d, "idcs"), _section(d, "route_tables")
    gateways = {**_section(d, "vpn_gateways"), **_section(d, "dc_gateways")}
    out.extend(i for i, idc in idcs.items() if oid in _section(idc, "hosts"))
    if oid in idcs:
        out.extend(str(r.get("gateway")) for r in _section(idcs[oid], "routes").values())
        for gid, gw in gateways.items():
            if gw.get("idc") == oid or any(t.get("idc") == oid for t in _section(gw, "tunnels").values()):
                out.append(gid)
    gw = gateways.get(oid)
    if gw is not None:
        out.extend(str(gw[k]) for k in ("vpc", "ccn", "idc") if k in gw)
        out.extend(str(t.get("idc")) for t in _section(gw, "tunnels").values())
        out.extend(str(t) for t in gw.get("route_tables") or [])
    out.extend(tid for tid, table in tables.items() if table.get("vpc") == oid)
    if oid in tables:
        out.extend(str(_section(r, "next_hop").get("id")) for r in _section(tables[oid], "routes").values())
    peering = _section(d, "peerings").get(oid)
    if isinstance(peering, dict):
        out.extend(str(v) for v in peering.get("vpcs") or [])
    out.extend(
        str(e["next_hop"].get("id"))
        for e in d.get("timeline") or []
        if e.get("route_table") == oid and isinstance(e.get("next_hop"), dict)
    )
    return out


def _prune(sections: tuple[str, ...], x: Data) -> None:
    """Delete every object of ``sections`` that the checks do not need (:func:`_referenced`)."""
    keep = _referenced(x)
    for section in sections:
        for oid in list(_section(x, section)):
            if oid not in keep and oid in _section(x, section):
                DELETERS[section](x, oid)


# -- moves ------------------------------------------------------------------------------------------


def _pop(path: tuple[Any, ...], x: Data) -> None:
    """Delete the list entry or map key at ``path``."""
    node: Any = x
    for key in path[:-1]:
        node = node[key]
    node.pop(path[-1])


def _keep_check(i: int, x: Data) -> None:
    x["checks"] = [x["checks"][i]]


def _keep_check_pruned(i: int, x: Data) -> None:
    """One check and only what it needs: the biggest step, and the usual answer when one check
    disagrees on its own."""
    _keep_check(i, x)
    _prune(tuple(DELETERS), x)


def _delete(delete: Callable[[Data, str], None], oid: str, x: Data) -> None:
    delete(x, oid)


def _detach(cid: str, vid: str, x: Data) -> None:
    """One CCN attachment, with the events that detach it (they would no longer apply)."""
    x["ccns"][cid]["attachments"].remove(vid)
    if isinstance(x.get("timeline"), list):
        x["timeline"] = [e for e in x["timeline"] if not (e.get("ccn") == cid and e.get("vpc") == vid)]


def _truncate_rules(gid: str, direction: str, keep: int, x: Data) -> None:
    """Every rule of a list from position ``keep`` on (all of them for 0), with the timeline's
    edits of that list (their indexes would not apply)."""
    del x["security_groups"][gid][direction][keep:]
    if isinstance(x.get("timeline"), list):
        x["timeline"] = [
            e for e in x["timeline"] if not (e.get("security_group") == gid and e.get("direction") == direction)
        ]


def _drop_rule(gid: str, direction: str, k: int, x: Data) -> None:
    x["security_groups"][gid][direction].pop(k)
    _reindexed(x, gid, direction, k)


def _truncate_acl_rules(aid: str, direction: str, keep: int, x: Data) -> None:
    del x["network_acls"][aid][direction][keep:]


DELETERS: dict[str, Callable[[Data, str], None]] = {
    "vpcs": _delete_vpc,
    "instances": _delete_instance,
    "load_balancers": _delete_balancer,
    "endpoint_services": _delete_service,
    "endpoints": _delete_endpoint,
    "ccns": _delete_ccn,
    "security_groups": _delete_group,
    "network_acls": _delete_acl,
    "route_tables": _delete_table,
    "peerings": _delete_peering,
    "vpn_gateways": _delete_gateway,
    "dc_gateways": _delete_gateway,
    "idcs": _delete_idc,
}
"""Section → how to delete one of its objects with everything that names it."""


def _moves(d: Data) -> Iterator[Move]:
    """Every candidate deletion of ``d``, roughly biggest first (the caller sorts by size)."""
    checks = d.get("checks") or []
    if len(checks) > 1:
        for i in range(len(checks)):
            yield partial(_keep_check, i)
            yield partial(_keep_check_pruned, i)
    yield partial(_prune, tuple(DELETERS))
    for section in DELETERS:
        yield partial(_prune, (section,))
    if d.get("timeline"):
        yield partial(_pop, ("timeline",))
    for section, delete in DELETERS.items():
        for oid in _section(d, section):
            yield partial(_delete, delete, oid)
    for vid, vpc in _section(d, "vpcs").items():
        subnets = _section(vpc, "subnets")
        if len(subnets) > 1:
            for sid in subnets:
                yield partial(_delete_subnet, vid, sid)
    yield from _list_moves(d)
    yield from _key_moves(d)


def _list_moves(d: Data) -> Iterator[Move]:
    """One entry of a list: a timeline event, a check, a CCN attachment, a rule of a group or a
    network ACL (or every rule from a position on), an ACL's subnet, a listener, a backend, a
    listen entry, a group binding, a whitelist entry."""
    for i in range(len(d.get("timeline") or [])):
        yield partial(_pop, ("timeline", i))
    if len(d.get("checks") or []) > 1:
        for i in range(len(d["checks"])):
            yield partial(_pop, ("checks", i))
    for cid, ccn in _section(d, "ccns").items():
        for vid in ccn.get("attachments") or []:
            yield partial(_detach, cid, vid)
    for gid, group in _section(d, "security_groups").items():
        for direction in ("ingress", "egress"):
            rules = group.get(direction) or []
            for keep in range(len(rules) - 1):  # keeping len - 1 is the same as dropping the last
                yield partial(_truncate_rules, gid, direction, keep)
            for k in range(len(rules)):
                yield partial(_drop_rule, gid, direction, k)
    for aid, acl in _section(d, "network_acls").items():
        for direction in ("ingress", "egress"):
            rules = acl.get(direction) or []
            for keep in range(len(rules) - 1):
                yield partial(_truncate_acl_rules, aid, direction, keep)
            for k in range(len(rules)):
                yield partial(_pop, ("network_acls", aid, direction, k))
        for i in range(len(acl.get("subnets") or [])):
            yield partial(_pop, ("network_acls", aid, "subnets", i))
    for lid, lb in _section(d, "load_balancers").items():
        for name, lst in _section(lb, "listeners").items():
            yield partial(_pop, ("load_balancers", lid, "listeners", name))
            for i in range(len(lst.get("backends") or [])):
                yield partial(_pop, ("load_balancers", lid, "listeners", name, "backends", i))
    for section in ("instances", "load_balancers", "endpoints"):
        for oid, obj in _section(d, section).items():
            for key in ("listen", "security_groups"):
                values = obj.get(key) or []
                if len(values) > 1:
                    for i in range(len(values)):
                        yield partial(_pop, (section, oid, key, i))
    for sid, svc in _section(d, "endpoint_services").items():
        if len(svc.get("whitelist") or []) > 1:
            for i in range(len(svc["whitelist"])):
                yield partial(_pop, ("endpoint_services", sid, "whitelist", i))
    yield from _network_moves(d)


def _network_moves(d: Data) -> Iterator[Move]:
    """A route (with its events), a table's subnet, a tunnel, a data centre's route or host, a
    host's listen entry or firewall rule."""
    for tid, table in _section(d, "route_tables").items():
        for rid in _section(table, "routes"):
            yield partial(_delete_route, tid, rid)
        for i in range(len(table.get("subnets") or [])):
            yield partial(_pop, ("route_tables", tid, "subnets", i))
    for iid, idc in _section(d, "idcs").items():
        for rid in _section(idc, "routes"):
            yield partial(_pop, ("idcs", iid, "routes", rid))
        for hid, host in _section(idc, "hosts").items():
            yield partial(_delete_host, iid, hid)
            for key in ("listen",):
                for i in range(len(host.get(key) or [])):
                    yield partial(_pop, ("idcs", iid, "hosts", hid, key, i))
            for direction in ("ingress", "egress"):
                for k in range(len(_section(host, "firewall").get(direction) or [])):
                    yield partial(_pop, ("idcs", iid, "hosts", hid, "firewall", direction, k))


def _delete_route(tid: str, rid: str, x: Data) -> None:
    x["route_tables"][tid]["routes"].pop(rid)
    _drop_route_events(x, tid, rid)


OPTIONAL: dict[str, tuple[str, ...]] = {
    "security_groups": ("description", "ingress", "egress"),
    "instances": ("listen", "security_groups"),
    "load_balancers": ("security_groups",),
    "endpoint_services": ("whitelist", "auto_accept"),
    "endpoints": ("ip", "security_groups"),
    "ccns": ("bandwidth",),
    "network_acls": ("description",),
    "peerings": ("bandwidth",),
    "vpn_gateways": ("bandwidth", "route_tables"),
    "dc_gateways": ("bandwidth", "route_tables"),
}
"""Keys of each section's objects that have a default."""
CHECK_OPTIONAL = ("name", "at", "wait", "reason", "branches")


COSMETIC = frozenset({"settings", "cloud", "description", "health_check", "scheduler", "weight", "bandwidth", "name"})
"""Optional keys that rarely decide a verdict: one move deletes them all at once."""


def _optional_paths(d: Data) -> Iterator[tuple[Any, ...]]:
    """Keys with a default: settings (whole, then one by one), descriptions, health checks,
    weights, schedulers, whitelists, check options."""
    for key in d:
        if key not in KEEP_TOP and key not in ("checks", "timeline") and not isinstance(d[key], dict | list):
            yield (key,)
    settings = _section(d, "settings")
    if settings:
        yield ("settings",)
        if len(settings) > 1:
            for key in settings:
                yield ("settings", key)
    for section, keys in OPTIONAL.items():
        for oid, obj in _section(d, section).items():
            for key in keys:
                if key in obj:
                    yield (section, oid, key)
    for section in ("security_groups", "network_acls"):
        for oid, obj in _section(d, section).items():
            for direction in ("ingress", "egress"):
                for k, rule in enumerate(obj.get(direction) or []):
                    if "description" in rule:
                        yield (section, oid, direction, k, "description")
    for lid, lb in _section(d, "load_balancers").items():
        for name, lst in _section(lb, "listeners").items():
            for key in ("health_check", "scheduler"):
                if key in lst:
                    yield ("load_balancers", lid, "listeners", name, key)
            for i, backend in enumerate(lst.get("backends") or []):
                if "weight" in backend:
                    yield ("load_balancers", lid, "listeners", name, "backends", i, "weight")
    for i, check in enumerate(d.get("checks") or []):
        for key in CHECK_OPTIONAL:
            if key in check:
                yield ("checks", i, key)


def _pop_all(paths: tuple[tuple[Any, ...], ...], x: Data) -> None:
    """Delete every key at ``paths`` that is still there (a map deleted whole takes its keys)."""
    for path in paths:
        try:
            _pop(path, x)
        except (KeyError, IndexError, TypeError):
            continue


def _key_moves(d: Data) -> Iterator[Move]:
    """Each optional key alone, and every cosmetic one together."""
    paths = list(_optional_paths(d))
    for path in paths:
        yield partial(_pop, path)
    cosmetic = tuple(p for p in paths if p[-1] in COSMETIC)
    if len(cosmetic) > 1:
        yield partial(_pop_all, cosmetic)


def candidates(data: Data, sizes: _Sizes | None = None) -> list[tuple[tuple[int, int], Data]]:
    """Every distinct scenario one move away from ``data`` and smaller than it, smallest first,
    with its size (:func:`lines` and characters)."""
    sizes = sizes or _Sizes()
    base = sizes(data)
    seen: set[str] = set()
    out: list[tuple[tuple[int, int], Data]] = []
    for move in _moves(data):
        cand = copy.deepcopy(data)
        try:
            move(cand)
        except (KeyError, IndexError, ValueError, TypeError, AttributeError):
            continue  # a move that does not fit a malformed scenario (a section that is not a map)
        _tidy(cand)
        key = repr(cand)
        if key in seen:
            continue
        seen.add(key)
        size = sizes(cand)
        if size < base:
            out.append((size, cand))
    out.sort(key=lambda c: c[0])
    return out


def shrink(data: Data, fails_many: FailsMany, *, rounds: int = 30, max_batch: int = 64) -> Data:
    """Greedy batched shrinking: round after round, move to the smallest one-move deletion of the
    current best that ``fails_many`` says still fails; stop when none does or after ``rounds``.

    Candidates go to ``fails_many`` smallest first, ``max_batch`` at a time, and a round stops at
    the first batch with a failing one: every smaller candidate was in an earlier batch or this one,
    so its smallest failing candidate is the round's smallest, found with as few builds as possible.
    """
    best = copy.deepcopy(data)
    sizes = _Sizes()
    for _ in range(rounds):
        ordered = candidates(best, sizes)
        found: Data | None = None
        for start in range(0, len(ordered), max_batch):
            batch = ordered[start : start + max_batch]
            verdicts = fails_many([cand for _, cand in batch])
            if len(verdicts) != len(batch):
                raise ValueError(f"fails_many answered {len(verdicts)} verdicts for {len(batch)} candidates")
            hits = [cand for (_, cand), fails in zip(batch, verdicts, strict=True) if fails]
            if hits:
                found = hits[0]  # the batch is sorted: the first failing one is the smallest
                break
        if found is None:
            break
        best = found
    return best
