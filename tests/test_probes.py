"""The Python API's probe: arguments as a user passes them, and the units of what comes back."""

from __future__ import annotations

import pytest

from vpcsim import ArgumentError, Network, UnknownObjectError
from vpcsim.report import probe_to_dict


def test_at_takes_the_time_strings_of_scenario_files(seed_net: Network) -> None:
    by_string = seed_net.telnet("cvm-vpc3", "172.16.2.16", 1044, at="300s")
    by_number = seed_net.telnet("cvm-vpc3", "172.16.2.16", 1044, at=300)
    assert by_string.started_at == by_number.started_at == 300.0
    assert (by_string.verdict, by_string.connect_time) == (by_number.verdict, by_number.connect_time)
    assert seed_net.telnet("cvm-vpc3", "172.16.2.16", 1044, at="1.5e3ms").started_at == 1.5


@pytest.mark.parametrize(
    ("at", "problem"),
    [
        ("soon", "at: 'soon' is not a time"),
        ("-1s", "at: time '-1s' is negative"),
        (True, "at: expected a time"),
        ("2d", "at: '2d' is not a time"),
    ],
)
def test_a_time_that_is_not_one_is_an_argument_error(seed_net: Network, at: object, problem: str) -> None:
    with pytest.raises(ArgumentError) as e:
        seed_net.telnet("cvm-vpc3", "172.16.2.16", 1044, at=at)  # type: ignore[arg-type]
    assert str(e.value).startswith(problem)


def test_ports_and_ids_are_checked(seed_net: Network) -> None:
    with pytest.raises(ArgumentError, match="port 70000 is out of range 1-65535"):
        seed_net.telnet("cvm-vpc3", "172.16.2.16", 70000)
    with pytest.raises(ArgumentError, match="port must be an integer"):
        seed_net.telnet("cvm-vpc3", "172.16.2.16", "1044")  # type: ignore[arg-type]
    with pytest.raises(UnknownObjectError, match="unknown instance or data-centre host 'cvm-nowhere'"):
        seed_net.telnet("cvm-nowhere", "172.16.2.16", 1044)


def test_connect_time_is_in_seconds_and_json_gives_milliseconds(seed_net: Network) -> None:
    connected = seed_net.telnet("cvm-vpc3", "172.16.2.16", 1044)
    timed_out = seed_net.telnet("cvm-vpc3", "172.16.2.16", 1045)
    # Two Chengdu-Chongqing round trips' worth of delay, not thousands of seconds.
    assert 0.0065 < connected.connect_time < 0.1
    # Linux gives up after SYN retries at 1, 2, 4, 8, 16 and 32 s: 127 s in all.
    assert timed_out.connect_time == pytest.approx(127.0)
    assert probe_to_dict(connected)["connect_time_ms"] == pytest.approx(connected.connect_time * 1000)
