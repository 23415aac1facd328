"""Rules that can never match: everything they match, earlier rules of the same list match first."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.lint.conftest import Data
from tests.lint.helpers import file_warnings, line_of, only
from vpcsim.errors import ScenarioWarning, WarningCode
from vpcsim.lint.shadowing import MAX_BOUND_RULES

Lint = Callable[[Data], list[ScenarioWarning]]
SHADOWED = WarningCode.RULE_SHADOWED
BY_GROUP = WarningCode.RULE_SHADOWED_BY_EARLIER_GROUP


def rule(action: str = "accept", protocol: str = "all", port: Any = None, peer: str = "0.0.0.0/0") -> Data:
    out: Data = {"action": action, "protocol": protocol, "source": peer}
    if port is not None:
        out["port"] = port
    return out


def with_group(data: Data, ingress: list[Data]) -> Data:
    """The scenario with a group ``sg-t`` (bound to nothing) holding ``ingress``."""
    data["security_groups"]["sg-t"] = {"ingress": ingress}
    return data


def shadowed(found: list[ScenarioWarning]) -> list[str]:
    return [w.path for w in only(found, SHADOWED)]


def test_a_narrower_rule_after_a_wider_one(seed_data: Data, warnings_of: Lint) -> None:
    seed_data["security_groups"]["sg-backend"]["ingress"].append(rule(protocol="tcp", port=8080, peer="11.163.1.0/24"))
    (w,) = only(warnings_of(seed_data), SHADOWED)
    assert w.path == "security_groups.sg-backend.ingress[2]"
    assert "rule #0 (accept tcp/8080 11.163.0.0/16)" in w.message
    assert "never match" in w.message


def test_the_line_is_the_shadowed_rules_own(seed_data: Data, write: Callable[..., Path]) -> None:
    seed_data["security_groups"]["sg-backend"]["ingress"].append(rule(protocol="tcp", port=8080, peer="11.163.1.0/24"))
    path = write(seed_data)
    (w,) = only(file_warnings(path), SHADOWED)
    # The appended rule is the first '- action: accept' after sg-backend's drop-all.
    assert w.line == line_of(path, "- action: accept", start=line_of(path, "- action: drop"))


def test_two_halves_together_cover_the_whole(seed_data: Data, warnings_of: Lint) -> None:
    with_group(
        seed_data,
        [
            rule(protocol="tcp", port=80, peer="10.0.0.0/9"),
            rule(protocol="tcp", port=80, peer="10.128.0.0/9"),
            rule(protocol="tcp", port=80, peer="10.1.0.0/16"),
        ],
    )
    (w,) = only(warnings_of(seed_data), SHADOWED)
    assert w.path == "security_groups.sg-t.ingress[2]"
    assert "rule #0" in w.message
    seed_data["security_groups"]["sg-t"]["ingress"][2]["source"] = "10.0.0.0/8"
    (w,) = only(warnings_of(seed_data), SHADOWED)
    assert "rule #0 (accept tcp/80 10.0.0.0/9), rule #1 (accept tcp/80 10.128.0.0/9)" in w.message


def test_port_ranges_together_cover_a_range(seed_data: Data, warnings_of: Lint) -> None:
    with_group(
        seed_data,
        [rule(protocol="tcp", port="1-100"), rule(protocol="tcp", port="101-200"), rule(protocol="tcp", port="50-150")],
    )
    assert shadowed(warnings_of(seed_data)) == ["security_groups.sg-t.ingress[2]"]


def test_a_partial_overlap_is_not_shadowing(seed_data: Data, warnings_of: Lint) -> None:
    with_group(seed_data, [rule(protocol="tcp", port=8080), rule(protocol="tcp", port="8000-9000")])
    assert shadowed(warnings_of(seed_data)) == []
    with_group(seed_data, [rule(protocol="tcp", peer="10.0.0.0/16"), rule(protocol="tcp", peer="10.0.0.0/8")])
    assert shadowed(warnings_of(seed_data)) == []


def test_ports_and_addresses_must_be_covered_together(seed_data: Data, warnings_of: Lint) -> None:
    """Low ports from one half and high ports from the other leave two corners open."""
    with_group(
        seed_data,
        [
            rule(protocol="tcp", port="1-100", peer="10.0.0.0/9"),
            rule(protocol="tcp", port="101-200", peer="10.128.0.0/9"),
            rule(protocol="tcp", port="1-200", peer="10.0.0.0/8"),
        ],
    )
    assert shadowed(warnings_of(seed_data)) == []
    seed_data["security_groups"]["sg-t"]["ingress"][2:2] = [
        rule(protocol="tcp", port="101-200", peer="10.0.0.0/9"),
        rule(protocol="tcp", port="1-100", peer="10.128.0.0/9"),
    ]
    assert shadowed(warnings_of(seed_data)) == ["security_groups.sg-t.ingress[4]"]


def test_tcp_udp_and_icmp_do_not_cover_all_protocols(seed_data: Data, warnings_of: Lint) -> None:
    with_group(seed_data, [rule(protocol="tcp"), rule(protocol="udp"), rule(protocol="icmp"), rule(protocol="all")])
    assert shadowed(warnings_of(seed_data)) == []


def test_all_protocols_cover_tcp_and_icmp(seed_data: Data, warnings_of: Lint) -> None:
    with_group(seed_data, [rule(protocol="all"), rule(protocol="tcp", port=22), rule(protocol="icmp")])
    assert shadowed(warnings_of(seed_data)) == ["security_groups.sg-t.ingress[1]", "security_groups.sg-t.ingress[2]"]


def test_a_drop_behind_an_accept_never_applies(seed_data: Data, warnings_of: Lint) -> None:
    with_group(seed_data, [rule(protocol="tcp"), rule(action="drop", protocol="tcp", port=23, peer="0.0.0.0/0")])
    (w,) = only(warnings_of(seed_data), SHADOWED)
    assert "so its drop never applies" in w.message
    assert "move it above rule #0" in w.message


def test_egress_lists_are_checked_too(seed_data: Data, warnings_of: Lint) -> None:
    seed_data["security_groups"]["sg-client"]["egress"].append(
        {"action": "drop", "protocol": "tcp", "port": 25, "destination": "0.0.0.0/0"}
    )
    assert shadowed(warnings_of(seed_data)) == ["security_groups.sg-client.egress[1]"]


def test_a_later_group_covered_by_the_groups_bound_before_it(seed_data: Data, warnings_of: Lint) -> None:
    """sg-backend ends with drop-all: nothing of a group bound after it can ever match."""
    seed_data["security_groups"]["sg-extra"] = {"ingress": [rule(protocol="tcp", port=9090, peer="10.0.0.0/8")]}
    for iid in ("cvm-backend1", "cvm-backend2"):
        seed_data["instances"][iid]["security_groups"] = ["sg-backend", "sg-extra"]
    found = warnings_of(seed_data)
    assert shadowed(found) == []  # within its own group the rule is fine
    (w,) = only(found, BY_GROUP)
    assert w.path == "instances.cvm-backend1.security_groups[1]"
    assert "where cvm-backend1 binds sg-backend, sg-extra (and where cvm-backend2 binds the same)" in w.message
    assert "sg-extra ingress rule #0 (accept tcp/9090 10.0.0.0/8) can never match" in w.message
    assert "sg-backend ingress rule #1 (drop all 0.0.0.0/0)" in w.message
    assert "so its accept never applies" in w.message


def test_load_balancers_and_endpoints_are_checked_on_ingress_only(seed_data: Data, warnings_of: Lint) -> None:
    seed_data["security_groups"]["sg-a"] = {"ingress": [rule()], "egress": [rule()]}
    seed_data["security_groups"]["sg-b"] = {"ingress": [], "egress": [rule(protocol="tcp")]}
    seed_data["endpoints"]["vpce-vpc1"]["security_groups"] = ["sg-a", "sg-b"]
    for rd in seed_data["security_groups"]["sg-a"]["egress"] + seed_data["security_groups"]["sg-b"]["egress"]:
        rd["destination"] = rd.pop("source")
    assert only(warnings_of(seed_data), BY_GROUP) == []
    seed_data["instances"]["cvm-vpc1"]["security_groups"] = ["sg-a", "sg-b"]
    (w,) = only(warnings_of(seed_data), BY_GROUP)
    assert w.path == "instances.cvm-vpc1.security_groups[1]"
    assert "sg-b egress rule #0" in w.message


def test_bound_lists_longer_than_tencent_allows_are_not_checked_across_groups(
    seed_data: Data, warnings_of: Lint
) -> None:
    """Tencent allows 5 groups of 100 rules per direction; longer lists would make the check quadratic."""
    assert MAX_BOUND_RULES == 500
    many = [rule(protocol="tcp", port=p + 1, peer="10.0.0.0/8") for p in range(MAX_BOUND_RULES)]
    seed_data["security_groups"]["sg-many"] = {"ingress": many}
    seed_data["security_groups"]["sg-late"] = {"ingress": [rule(protocol="tcp", port=1, peer="10.0.0.0/24")]}
    seed_data["instances"]["cvm-vpc1"]["security_groups"] = ["sg-many", "sg-late", "sg-client"]
    assert only(warnings_of(seed_data), BY_GROUP) == []
    del many[-1]
    assert [w.path for w in only(warnings_of(seed_data), BY_GROUP)] == ["instances.cvm-vpc1.security_groups[1]"]
