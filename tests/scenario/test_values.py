"""Times with units, as a scenario file writes them, and what they change in a probe."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from vpcsim import Network
from vpcsim.scenario.values import duration

Doc = dict[str, Any]
Build = Callable[[Doc], Network]

MICROSECONDS = ("250us", "250µs", "250 us")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250us", 250e-6),
        ("250µs", 250e-6),
        ("1.5e6us", 1.5),
        ("0.25ms", 250e-6),
        ("20s", 20.0),
        ("2m", 120.0),
        ("1h", 3600.0),
    ],
)
def test_each_unit_gives_its_seconds(text: str, seconds: float) -> None:
    assert duration(text) == pytest.approx(seconds, rel=1e-12)


@pytest.mark.parametrize("text", MICROSECONDS)
def test_a_same_zone_delay_in_microseconds_is_the_same_delay_in_milliseconds(
    seed_data: Doc, network_of: Build, text: str
) -> None:
    def connect_time(same_zone: str | float) -> float:
        seed_data["settings"]["delays"]["same_zone"] = same_zone
        r = network_of(seed_data).telnet("cvm-vpc1", "172.16.2.16", 1044)
        assert r.connected
        return r.connect_time

    in_us, in_ms, in_s = connect_time(text), connect_time("0.25ms"), connect_time(0.00025)
    assert in_us == pytest.approx(in_ms, rel=1e-12) == in_s
    assert in_us > connect_time("0.1ms"), "a longer same-zone delay makes the connect slower"
    assert in_us < connect_time("250ms")


@pytest.mark.parametrize("text", ["5000us", "5000µs", "5000 us"])
def test_a_timeline_event_and_a_check_at_microseconds(seed_data: Doc, network_of: Build, text: str) -> None:
    """The SNAT rule removed 5000 µs in: a connect started at 0 completes first, later ones time out."""
    seed_data["timeline"] = [
        {"at": text, "action": "remove_rule", "security_group": "sg-backend", "direction": "ingress", "index": 0}
    ]
    seed_data["checks"] = [
        {"from": "cvm-vpc1", "to": "172.16.2.16:1044", "at": 0, "expect": "connected"},
        {"from": "cvm-vpc1", "to": "172.16.2.16:1044", "at": text, "expect": "timeout"},
        {"from": "cvm-vpc1", "to": "172.16.2.16:1044", "at": "10ms", "expect": "timeout"},
    ]
    net = network_of(seed_data)
    assert net.compiled.times == (0.0, pytest.approx(0.005))
    results = net.run_checks()
    assert [c.result.started_at for c in results] == [0.0, pytest.approx(0.005), pytest.approx(0.01)]
    assert [c.result.reason.value for c in results] == ["established", "sg_ingress_denied", "sg_ingress_denied"]
    assert all(c.passed for c in results)
