"""A seeded generator of broken and not-so-broken scenario documents.

Every document is derived from the Chengdu/Chongqing seed, deterministically from its index:

* ``data`` mutations edit the bundled scenario as plain data (wrong types, missing keys, huge numbers, NaN,
  unicode, duplicated ids, renamed and unknown keys, deep nesting, swapped values) and dump it;
* ``valid`` mutations make changes a user would make (ports, rules, IPs, new objects, timeline
  events, checks) that often still load, so the engine behind the loader is exercised too;
* ``text`` mutations edit the YAML text itself (truncation, byte flips, code-running tags, alias
  bombs, duplicated and shuffled lines, tabs, stray brackets, anchors, merge keys, control bytes).

No test lives here: ``test_fuzz_scenarios.py`` runs the documents.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Callable
from typing import Any

import yaml

Doc = Any
PathT = tuple[Any, ...]

MARKER = "/tmp/vpcsim-fuzz-pwned"
"""Placeholder for the file code-running payloads try to create; :func:`document` substitutes it."""

_WEIRD_STRINGS = [
    "",
    " ",
    "x",
    "ĉvm-ünïcode",
    "名字",
    "🙂",
    "a\nb",
    "tab\there",
    "nul\x00byte",
    "\u202eRTL",
    "\ufeffbom",
    "\u2028line",
    "0x1F",
    "1e400",
    "-1",
    "NaN",
    ".inf",
    "yes",
    "null",
    "~",
    "1.2.3.4",
    "10.0.0.0/8",
    "10.0.0.1/8",
    "::1",
    "256.0.0.1",
    "all",
    "1-65535",
    "65535-1",
    "0-0",
    "20s",
    "-5s",
    "1e3ms",
    "999999999h",
    "host:port",
    ":80",
    "172.16.2.16:",
    "172.16.2.16:99999",
    "vpce-vpc1:1044",
    "!!python/object/apply:os.system",
    "{{jinja}}",
    f"$(touch {MARKER})",
    "'; DROP TABLE",
    "a" * 70,
    "b" * 5000,
    "100012345678",
    "*",
]

_WEIRD_NUMBERS: list[Any] = [
    0,
    -1,
    1,
    2,
    65535,
    65536,
    -65536,
    2**31,
    2**63,
    2**64,
    10**30,
    -(10**30),
    0.5,
    -0.0,
    1e12,
    1e308,
    math.inf,
    -math.inf,
    math.nan,
    3.14159,
    True,
    False,
    None,
]


def _paths(doc: Doc, prefix: PathT = ()) -> list[PathT]:
    out: list[PathT] = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.extend(_paths(v, (*prefix, i)))
    return out


def _get(doc: Doc, path: PathT) -> Any:
    for p in path:
        doc = doc[p]
    return doc


def _set(doc: Doc, path: PathT, value: Any) -> None:
    _get(doc, path[:-1])[path[-1]] = value


def _junk(rng: random.Random, depth: int = 0) -> Any:
    r = rng.random()
    if r < 0.35:
        return rng.choice(_WEIRD_STRINGS)
    if r < 0.7:
        return rng.choice(_WEIRD_NUMBERS)
    if r < 0.8 or depth > 3:
        return [_junk(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if r < 0.9:
        return {rng.choice(_WEIRD_STRINGS)[:20]: _junk(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    return _nested(rng.randint(30, 60), rng)


def _nested(depth: int, rng: random.Random) -> Any:
    value: Any = rng.choice([1, "x", None])
    for _ in range(depth):
        value = [value] if rng.random() < 0.5 else {"k": value}
    return value


# -- data mutations ----------------------------------------------------------------------------


def _m_replace(doc: Doc, rng: random.Random) -> None:
    paths = _paths(doc)[1:]
    if paths:
        _set(doc, rng.choice(paths), _junk(rng))


def _m_delete(doc: Doc, rng: random.Random) -> None:
    paths = _paths(doc)[1:]
    if not paths:
        return
    path = rng.choice(paths)
    parent = _get(doc, path[:-1])
    if isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent.pop(path[-1])


def _m_unknown_key(doc: Doc, rng: random.Random) -> None:
    dicts = [p for p in _paths(doc) if isinstance(_get(doc, p), dict)]
    target = _get(doc, rng.choice(dicts))
    target[rng.choice(["ipp", "vpcid", "portt", "extra", "from_", "Version", "ingres", "名"])] = _junk(rng)


def _m_rename_key(doc: Doc, rng: random.Random) -> None:
    dicts = [p for p in _paths(doc) if isinstance(_get(doc, p), dict) and _get(doc, p)]
    target = _get(doc, rng.choice(dicts))
    key = rng.choice(list(target))
    new = rng.choice([key.upper(), key + "_", key[:-1], rng.choice(_WEIRD_STRINGS)[:64] or "k"])
    target[new] = target.pop(key)


def _m_duplicate_id(doc: Doc, rng: random.Random) -> None:
    """Reuse an id in another section, or an object's IP elsewhere."""
    sections = [
        s for s in ("vpcs", "security_groups", "instances", "load_balancers", "endpoints", "ccns") if doc.get(s)
    ]
    if len(sections) < 2:
        return
    a, b = rng.sample(sections, 2)
    if not isinstance(doc[a], dict) or not isinstance(doc[b], dict) or not doc[a] or not doc[b]:
        return
    ida = rng.choice(list(doc[a]))
    idb = rng.choice(list(doc[b]))
    doc[b][ida] = doc[b].pop(idb)


def _m_number(doc: Doc, rng: random.Random) -> None:
    paths = [p for p in _paths(doc) if isinstance(_get(doc, p), int | float) and p]
    if paths:
        _set(doc, rng.choice(paths), rng.choice(_WEIRD_NUMBERS))


def _m_swap(doc: Doc, rng: random.Random) -> None:
    paths = _paths(doc)[1:]
    if not paths:
        return
    p, q = rng.choice(paths), rng.choice(paths)
    if p[: len(q)] == q or q[: len(p)] == p:
        return
    a, b = _get(doc, p), _get(doc, q)
    _set(doc, p, copy.deepcopy(b))
    _set(doc, q, copy.deepcopy(a))


def _m_huge_list(doc: Doc, rng: random.Random) -> None:
    lists = [p for p in _paths(doc) if isinstance(_get(doc, p), list) and p]
    if lists:
        p = rng.choice(lists)
        items = _get(doc, p)
        item = items[0] if items and not isinstance(items[0], dict | list) else rng.choice(["x", 8080, "sg-client"])
        _set(doc, p, [item] * rng.choice([101, 1001]))


_DATA_OPS: list[Callable[[Doc, random.Random], None]] = [
    _m_replace,
    _m_replace,
    _m_delete,
    _m_unknown_key,
    _m_rename_key,
    _m_duplicate_id,
    _m_number,
    _m_number,
    _m_swap,
    _m_huge_list,
]


# -- valid-ish mutations -------------------------------------------------------------------------


def _rand_ip(rng: random.Random, prefixes: list[str]) -> str:
    return rng.choice(prefixes) + str(rng.randint(0, 255))


def _v_port(doc: Doc, rng: random.Random) -> None:
    lst = doc["load_balancers"]["lb-service"]["listeners"]["lbl-1044"]
    choice = rng.randint(0, 4)
    if choice == 0:
        lst["port"] = rng.choice([1044, 1045, 80, 8080, 65535, 1])
    elif choice == 1:
        lst["backends"][rng.randint(0, 1)]["port"] = rng.choice([8080, 8081, 22])
    elif choice == 2:
        doc["instances"]["cvm-backend1"]["listen"] = rng.sample([8080, 8081, 22, 1044], rng.randint(0, 3))
    elif choice == 3:
        lst["health_check"]["port"] = rng.choice([8080, 8081, 9000])
    else:
        lst["scheduler"] = rng.choice(["wrr", "least_conn"])
        lst["backends"][0]["weight"] = rng.choice([0, 1, 10, 100])


def _v_rules(doc: Doc, rng: random.Random) -> None:
    sg = doc["security_groups"][rng.choice(list(doc["security_groups"]))]
    direction = rng.choice(["ingress", "egress"])
    rules = sg.setdefault(direction, [])
    op = rng.randint(0, 2)
    if op == 0 and rules:
        rules.pop(rng.randrange(len(rules)))
    elif op == 1:
        peer = "source" if direction == "ingress" else "destination"
        rule: dict[str, Any] = {"action": rng.choice(["accept", "drop"]), "protocol": rng.choice(["tcp", "udp", "all"])}
        if rule["protocol"] == "tcp":
            rule["port"] = rng.choice([8080, "1000-2000", "all", 1044])
        rule[peer] = rng.choice(["0.0.0.0/0", "11.163.0.0/16", "192.168.0.0/16", "172.16.2.0/24", "10.0.0.0/8"])
        rules.insert(rng.randint(0, len(rules)), rule)
    else:
        rng.shuffle(rules)


def _v_objects(doc: Doc, rng: random.Random) -> None:
    n = len(doc["instances"])
    vpc, subnet, prefix = rng.choice(
        [
            ("vpc1", "subnet-consumer", "172.16.2."),
            ("vpc2", "subnet-app", "10.0.2."),
            ("vpc3", "subnet-cq", "192.168.1."),
        ]
    )
    doc["instances"][f"cvm-new{n}"] = {
        "vpc": vpc,
        "subnet": subnet,
        "ip": _rand_ip(rng, [prefix]),
        "security_groups": rng.sample(list(doc["security_groups"]), rng.randint(0, len(doc["security_groups"]))),
        "listen": rng.sample([8080, 1044, 22], rng.randint(0, 2)),
    }
    if rng.random() < 0.3:
        doc["endpoints"][f"vpce-new{n}"] = {"vpc": vpc, "subnet": subnet, "service": "vpcsvc-service"}
    if rng.random() < 0.3:
        doc["vpcs"]["vpc2"]["account"] = rng.choice(["100012345678", "200000000000"])
        svc = doc["endpoint_services"]["vpcsvc-service"]
        svc["auto_accept"] = rng.random() < 0.5
        svc["whitelist"] = rng.choice([[], ["100012345678"], ["*"]])


def _v_timeline(doc: Doc, rng: random.Random) -> None:
    events = doc.setdefault("timeline", [])
    at = rng.choice([0, 0.5, 1, 3, "2s", "500ms", 10, 60])
    kind = rng.randint(0, 4)
    if kind == 0:
        events.append({"at": at, "action": rng.choice(["accept_endpoint", "reject_endpoint"]), "endpoint": "vpce-vpc1"})
    elif kind == 1:
        events.append(
            {
                "at": at,
                "action": rng.choice(["detach_vpc", "attach_vpc"]),
                "ccn": "ccn-chengdu-chongqing",
                "vpc": rng.choice(["vpc3", "vpc2", "vpc1"]),
            }
        )
    elif kind == 2:
        events.append(
            {
                "at": at,
                "action": "add_rule",
                "security_group": "sg-backend",
                "direction": "ingress",
                "index": 0,
                "rule": {"action": rng.choice(["accept", "drop"]), "protocol": "all", "source": "0.0.0.0/0"},
            }
        )
    elif kind == 3:
        events.append(
            {"at": at, "action": "remove_rule", "security_group": "sg-backend", "direction": "ingress", "index": 0}
        )
    else:
        events.append(
            {
                "at": at,
                "action": rng.choice(["stop_listener", "start_listener"]),
                "instance": rng.choice(["cvm-backend1", "cvm-backend2"]),
                "port": 8080,
            }
        )


def _v_checks(doc: Doc, rng: random.Random) -> None:
    checks = doc.setdefault("checks", [])
    host = rng.choice(
        [
            "172.16.2.16",
            "vpce-vpc1",
            "10.0.1.100",
            "lb-service",
            "cvm-backend1",
            "10.0.2.11",
            "192.168.1.10",
            "172.16.2.10",
        ]
    )
    checks.insert(
        0,
        {
            "from": rng.choice(["cvm-vpc1", "cvm-vpc3", "cvm-backend1", "cvm-backend2"]),
            "to": f"{host}:{rng.choice([1044, 8080, 1045, 22])}",
            "at": rng.choice([0, 1, 2.5, "30s", 120, 500]),
            "expect": rng.choice(["connected", "refused", "timeout"]),
        },
    )


def _v_ccn(doc: Doc, rng: random.Random) -> None:
    ccn = doc["ccns"]["ccn-chengdu-chongqing"]
    ccn["attachments"] = rng.sample(["vpc1", "vpc2", "vpc3"], rng.randint(0, 3))
    ccn["bandwidth"] = rng.choice(["10Kbps", "1Gbps", 100, "1Tbps"])


def _v_settings(doc: Doc, rng: random.Random) -> None:
    s = doc.setdefault("settings", {})
    s["seed"] = rng.randint(0, 2**63 - 1)
    s.setdefault("tcp", {})["syn_retries"] = rng.randint(0, 15)
    s["tcp"]["initial_rto"] = rng.choice([0.2, 1, "3s", 60])
    s.setdefault("delays", {})["same_zone"] = rng.choice([0, "1us", "2ms", 10])


_VALID_OPS: list[Callable[[Doc, random.Random], None]] = [
    _v_port,
    _v_rules,
    _v_objects,
    _v_timeline,
    _v_checks,
    _v_ccn,
    _v_settings,
]


# -- text mutations ------------------------------------------------------------------------------

SNIPPETS = [
    f'!!python/object/apply:os.system ["touch {MARKER}"]',
    f"!!python/object/new:subprocess.Popen [[touch, {MARKER}]]",
    "!!python/name:os.system",
    "!!python/module:os",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!!timestamp 2001-12-14",
    "!custom 5",
    "&a [*a]",
    "*undefined",
    "{",
    "[",
    "]]",
    "}",
    "'unterminated",
    '"\\x00\\ud800"',
    '"\\uD83D"',
    "|\n  literal\n  block",
    ">-",
    "---",
    "...",
    "%YAML 1.1",
    "? complex\n: key",
    "<<: {a: 1}",
    "\t",
    "#",
    "~",
    "=",
    ".nan",
    "-.inf",
    "0x7fffffffffffffffffff",
    "0o777",
    "1_000_000",
    "190:20:30",
    "9" * 60,
    "1e999",
]


def _bomb(rng: random.Random) -> str:
    width = rng.randint(5, 12)
    lines = ["bomb0: &b0 [" + ", ".join(["lol"] * width) + "]"]
    lines += [f"bomb{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * width) + "]" for i in range(1, rng.randint(6, 10))]
    return "\n".join(lines) + "\n"


def _t_truncate(text: str, rng: random.Random) -> str:
    return text[: rng.randrange(len(text) + 1)]


def _t_flip(text: str, rng: random.Random) -> str:
    data = bytearray(text.encode("utf-8", errors="surrogateescape"))
    if not data:
        return text
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(data))
        data[i] = rng.randrange(256)
    return data.decode("utf-8", errors="surrogateescape")


def _t_snippet(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    line = lines[i]
    if ":" in line and rng.random() < 0.7:
        key = line.split(":", 1)[0]
        lines[i] = f"{key}: {rng.choice(SNIPPETS)}"
    else:
        lines.insert(i, rng.choice(SNIPPETS))
    return "\n".join(lines)


def _t_lines(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    op = rng.randint(0, 3)
    if op == 0:
        lines.insert(j, lines[i])  # duplicated key (or item)
    elif op == 1:
        del lines[i]
    elif op == 2:
        lines[i], lines[j] = lines[j], lines[i]
    else:
        lines[i] = " " * rng.randint(0, 6) + lines[i].lstrip()
    return "\n".join(lines)


def _t_bomb(text: str, rng: random.Random) -> str:
    return text + _bomb(rng)


def _t_deep(text: str, rng: random.Random) -> str:
    n = rng.choice([39, 41, 100, 5000])
    return text + "deep: " + "[" * n + "]" * n + "\n"


def _t_chars(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text) + 1)
    ch = rng.choice(["\x00", "\x07", "\x1b", "\ufffe", "\u2028", "\t", "\r", "é", "\U0001f600", "\x85"])
    return text[:i] + ch + text[i:]


_TEXT_OPS: list[Callable[[str, random.Random], str]] = [
    _t_truncate,
    _t_flip,
    _t_snippet,
    _t_snippet,
    _t_lines,
    _t_lines,
    _t_bomb,
    _t_deep,
    _t_chars,
]


_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump(doc: Doc, rng: random.Random) -> str:
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=rng.random() < 0.5, allow_unicode=rng.random() < 0.5, width=10_000)


def document(seed_doc: Doc, seed_text: str, index: int, marker: str = MARKER) -> tuple[str, bytes]:
    """Document number ``index``: its kind and its bytes (deterministic for a given ``marker``).

    ``marker`` is the file the code-running payloads would create: give each run a fresh one.
    """
    kind, data = _document(seed_doc, seed_text, index)
    return kind, data.replace(MARKER.encode(), marker.encode())


def _document(seed_doc: Doc, seed_text: str, index: int) -> tuple[str, bytes]:
    rng = random.Random(index * 7919 + 17)
    roll = index % 10
    if roll < 4:
        doc = copy.deepcopy(seed_doc)
        for _ in range(rng.randint(1, 3)):
            rng.choice(_VALID_OPS)(doc, rng)
        if roll == 3:
            rng.choice(_DATA_OPS)(doc, rng)
            return "data", dump(doc, rng).encode("utf-8", errors="surrogateescape")
        return "valid", dump(doc, rng).encode("utf-8", errors="surrogateescape")
    if roll < 7:
        doc = copy.deepcopy(seed_doc)
        for _ in range(rng.randint(1, 4)):
            rng.choice(_DATA_OPS)(doc, rng)
        return "data", dump(doc, rng).encode("utf-8", errors="surrogateescape")
    text = seed_text
    for _ in range(rng.randint(1, 3)):
        text = rng.choice(_TEXT_OPS)(text, rng)
    return "text", text.encode("utf-8", errors="surrogateescape")
