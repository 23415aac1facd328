"""The rule algebra against brute force: every (protocol, port, address) of a small universe, one by one.

Peers are prefixes inside 10.0.0.0/29 or the whole 0.0.0.0/0, and port ranges lie inside 1-6 or are
"all", so one address outside 10.0.0.0/29 and port 7 stand for everything else: enumerating the
universe decides exactly what a rule list matches.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import DETERMINISTIC
from vpcsim.lint.context import BoundRule
from vpcsim.lint.rulespace import RuleList, components, first_match
from vpcsim.model import Action, PortRange, Protocol, Rule
from vpcsim.model.security import ALL_PORTS

ADDRESSES = [IPv4Address("10.0.0.0") + i for i in range(8)] + [IPv4Address("11.0.0.0")]
PORTS = [1, 2, 3, 4, 5, 6, 7]
PROTOCOLS = ["tcp", "udp", "icmp", "other"]


@st.composite
def rules(draw: st.DrawFn) -> Rule:
    protocol = draw(st.sampled_from(list(Protocol)))
    ports = ALL_PORTS
    if protocol in (Protocol.TCP, Protocol.UDP) and draw(st.booleans()):
        low = draw(st.integers(1, 6))
        ports = PortRange(low=low, high=draw(st.integers(low, 6)))
    if draw(st.integers(0, 5)) == 0:
        peer = IPv4Network("0.0.0.0/0")
    else:
        plen = draw(st.integers(29, 32))
        peer = IPv4Network(f"10.0.0.{draw(st.integers(0, 7))}/{plen}", strict=False)
    return Rule(action=draw(st.sampled_from(list(Action))), protocol=protocol, ports=ports, peer=peer)


def bound(rs: list[Rule]) -> list[BoundRule]:
    return [BoundRule("sg", "ingress", i, r) for i, r in enumerate(rs)]


def matches(rule: Rule, protocol: str, port: int, address: IPv4Address) -> bool:
    if address not in rule.peer:
        return False
    return any(p == protocol and (lo <= port <= hi or p in ("icmp", "other")) for p, lo, hi in components(rule))


def universe(rule: Rule) -> list[tuple[str, int, IPv4Address]]:
    """Every point of the small universe ``rule`` matches (ports only where the protocol has them)."""
    return [
        (proto, port, a)
        for proto in PROTOCOLS
        for port in (PORTS if proto in ("tcp", "udp") else [0])
        for a in ADDRESSES
        if matches(rule, proto, port, a)
    ]


@settings(DETERMINISTIC, max_examples=400)
@given(st.lists(rules(), min_size=1, max_size=7))
def test_a_rule_is_covered_exactly_when_earlier_rules_match_every_point_it_matches(rs: list[Rule]) -> None:
    covering = RuleList(bound(rs)).covering(len(rs) - 1)
    target, earlier = rs[-1], rs[:-1]
    expected = all(any(matches(e, *point) for e in earlier) for point in universe(target))
    assert (covering is not None) == expected, (rs, covering)
    if covering is not None:
        # The rules it names are enough on their own: the message never blames a bystander's work.
        named = [c.rule for c in covering]
        assert all(any(matches(e, *point) for e in named) for point in universe(target))
        assert [c.index for c in covering] == sorted({c.index for c in covering})
        assert all(c.index < len(rs) - 1 for c in covering)


@settings(DETERMINISTIC, max_examples=300)
@given(st.lists(rules(), max_size=7), st.integers(1, 7))
def test_first_match_splits_the_sources_as_walking_each_address_would(rs: list[Rule], port: int) -> None:
    sources = IPv4Network("10.0.0.0/29")
    adm = first_match(bound(rs), "tcp", port, sources)
    for a in ADDRESSES[:8]:
        decider = next((i for i, r in enumerate(rs) if matches(r, "tcp", port, a)), None)
        dropped_by = [br.index for br, hit in adm.dropped if str(a) in hit]
        if decider is None:
            assert str(a) in adm.unmatched
            assert dropped_by == []
            assert str(a) not in adm.accepted
        elif rs[decider].action is Action.ACCEPT:
            assert str(a) in adm.accepted
            assert dropped_by == []
        else:
            assert dropped_by == [decider]
            assert str(a) not in adm.accepted
    assert adm.denied == any(
        next((r.action for r in rs if matches(r, "tcp", port, a)), Action.DROP) is Action.DROP for a in ADDRESSES[:8]
    )
