"""CCN route conflicts: the first attached wins, containment conflicts too, invalid stays invalid."""

from __future__ import annotations

from ipaddress import IPv4Network as Net

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import DETERMINISTIC

from vpcsim.control import CcnRouteTable


def empty() -> CcnRouteTable:
    return CcnRouteTable(ccn="ccn-1", attachments=(), routes=())


def test_identical_subnets_first_attached_wins() -> None:
    t = empty().attach("vpc-a", [("a1", Net("10.0.1.0/24"))]).attach("vpc-b", [("b1", Net("10.0.1.0/24"))])
    assert [(r.vpc, r.enabled) for r in t.routes] == [("vpc-a", True), ("vpc-b", False)]
    assert "vpc-a" in t.routes[1].note


def test_a_contained_route_learned_later_is_invalid_by_default() -> None:
    t = empty().attach("vpc-a", [("a1", Net("10.0.0.0/16"))]).attach("vpc-b", [("b1", Net("10.0.5.0/24"))])
    assert [r.enabled for r in t.routes] == [True, False]


def test_disjoint_routes_are_all_enabled() -> None:
    t = empty().attach("vpc-a", [("a1", Net("10.0.1.0/24"))]).attach("vpc-b", [("b1", Net("10.0.2.0/24"))])
    assert len(t.enabled()) == 2


def test_detaching_removes_the_vpc_routes_and_keeps_invalid_ones_invalid() -> None:
    t = empty().attach("vpc-a", [("a1", Net("10.0.1.0/24"))]).attach("vpc-b", [("b1", Net("10.0.1.0/24"))])
    t = t.detach("vpc-a")
    assert t.attachments == ("vpc-b",)
    assert [(r.vpc, r.enabled) for r in t.routes] == [("vpc-b", False)]


def _scan(attachments: list[tuple[str, list[tuple[str, Net]]]]) -> list[tuple[str, str, bool, str]]:
    """The rule read literally: each new route against every enabled one learned before it."""
    learned: list[tuple[str, str, Net, bool, str]] = []
    for vpc, subnets in attachments:
        for sid, prefix in sorted(subnets, key=lambda s: (s[1], s[0])):
            clash = next((r for r in learned if r[3] and r[2].overlaps(prefix)), None)
            note = "" if clash is None else f"invalid: overlaps {clash[2]} of {clash[0]} (attached first)"
            learned.append((vpc, sid, prefix, clash is None, note))
    return [(v, s, e, n) for v, s, _, e, n in learned]


@st.composite
def attachments(draw: st.DrawFn) -> list[tuple[str, list[tuple[str, Net]]]]:
    out = []
    for v in range(draw(st.integers(1, 8))):
        subnets = []
        for s in range(draw(st.integers(0, 4))):
            length = draw(st.integers(8, 28))
            net = draw(st.integers(0, 2**length - 1)) << (32 - length)
            subnets.append((f"s{v}-{s}", Net((net & 0x0FFFFFFF | 0x0A000000, length), strict=False)))
        out.append((f"vpc-{v}", subnets))
    return out


@settings(DETERMINISTIC, max_examples=300)
@given(attachments())
def test_the_prefix_index_finds_the_same_conflicts_as_a_scan(vpcs: list[tuple[str, list[tuple[str, Net]]]]) -> None:
    table = empty().attach_all(vpcs)
    assert [(r.vpc, r.subnet, r.enabled, r.note) for r in table.routes] == _scan(vpcs)
