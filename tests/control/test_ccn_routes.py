"""CCN route conflicts: the first attached wins, containment conflicts too, invalid stays invalid."""

from __future__ import annotations

from ipaddress import IPv4Network as Net

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
