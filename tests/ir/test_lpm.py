"""Longest-prefix match (the property test against a brute-force oracle lives in tests/properties)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

import pytest

from vpcsim.ir import LpmTable


def ip(text: str) -> int:
    return int(IPv4Address(text))


def test_the_longest_matching_prefix_wins() -> None:
    table = LpmTable(
        [
            (IPv4Network("10.0.0.0/8"), "wide"),
            (IPv4Network("10.1.0.0/16"), "mid"),
            (IPv4Network("10.1.2.0/24"), "narrow"),
        ]
    )
    assert table.lookup(ip("10.1.2.3")) == "narrow"
    assert table.lookup(ip("10.1.3.3")) == "mid"
    assert table.lookup(ip("10.9.9.9")) == "wide"
    assert table.lookup(ip("11.0.0.1")) is None


def test_a_default_route_matches_everything_else() -> None:
    table = LpmTable([(IPv4Network("0.0.0.0/0"), "default"), (IPv4Network("192.168.1.0/24"), "lan")])
    assert table.lookup(ip("8.8.8.8")) == "default"
    assert table.lookup(ip("192.168.1.200")) == "lan"


def test_a_duplicate_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="duplicate prefix"):
        LpmTable([(IPv4Network("10.0.0.0/8"), 1), (IPv4Network("10.0.0.0/8"), 2)])
