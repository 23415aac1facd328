"""``load``: many connections at once through the seed's endpoint and load balancer, each reading
like the question a performance engineer asks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import SCENARIOS
from vpcsim import Network

Build = Callable[[dict[str, Any]], Network]
VIP = "172.16.2.16"


def _listener(data: dict[str, Any]) -> dict[str, Any]:
    listener: dict[str, Any] = data["load_balancers"]["lb-service"]["listeners"]["lbl-1044"]
    return listener


def _shares(result: Any) -> dict[str, float]:
    (spread,) = result.spread
    total = sum(spread.counts.values())
    return {k: n / total for k, n in spread.counts.items()}


def test_ten_thousand_clients_are_spread_as_the_weights_say(seed_net: Network) -> None:
    r = seed_net.load(["cvm-vpc1", "cvm-vpc3"], VIP, 1044, clients=10_000, rate=2000, duration=60, hold=0.5)
    assert r.outcomes == {"connected": 10_000}
    (spread,) = r.spread
    weights = spread.weights
    total_weight = sum(weights.values())
    for backend, share in _shares(r).items():
        assert share == pytest.approx(weights[backend] / total_weight, abs=0.02)


def test_unequal_weights_split_ten_thousand_clients_three_to_one(seed_data: dict[str, Any], network_of: Build) -> None:
    _listener(seed_data)["backends"][0]["weight"] = 30
    r = network_of(seed_data).load(["cvm-vpc1"], VIP, 1044, clients=10_000, rate=2000, duration=60, hold=0.1)
    shares = _shares(r)
    assert shares["cvm-backend1:8080"] == pytest.approx(0.75, abs=0.02)
    assert shares["cvm-backend2:8080"] == pytest.approx(0.25, abs=0.02)


def test_least_connections_balances_the_connections_held_open(seed_data: dict[str, Any], network_of: Build) -> None:
    _listener(seed_data)["scheduler"] = "least_conn"
    r = network_of(seed_data).load(["cvm-vpc1", "cvm-vpc3"], VIP, 1044, clients=3000, rate=500, duration=60, hold=5)
    (spread,) = r.spread
    peaks = list(spread.peak_open.values())
    assert min(peaks) > 1000  # ~2,500 held at once in all
    assert max(peaks) - min(peaks) <= 2
    assert r.outcomes == {"connected": 3000}


def test_a_load_balancer_session_limit_drops_what_comes_beyond_it(seed_data: dict[str, Any], network_of: Build) -> None:
    seed_data["load_balancers"]["lb-service"]["capacity"] = {"max_sessions": 100}
    r = network_of(seed_data).load(["cvm-vpc1"], VIP, 1044, clients=1000, rate=1000, duration=10, hold=2)
    assert r.drops["session_limit"] > 0
    assert r.peak_sessions["lb-service"] <= 100
    assert r.outcomes["connected"] < 1000


def test_huaweis_endpoint_holds_three_thousand_connections(network_of: Build) -> None:
    import yaml

    data = yaml.safe_load((SCENARIOS / "huawei_cross_vpc.yaml").read_text(encoding="utf-8"))
    net = network_of(data)
    # Held longer than connect() retries (127 s): the connections beyond 3,000 never get in.
    r = net.load(["ecs-1"], "vpce-1", 80, clients=3050, rate=2000, duration=10, hold=200, at=310)
    assert r.peak_sessions["vpce-1"] == 3000
    assert r.outcomes == {"connected": 3000, "timeout": 50}
    assert r.failures == {"session_limit": 50}


def test_a_new_connection_rate_limit_drops_syns_beyond_it(seed_data: dict[str, Any], network_of: Build) -> None:
    seed_data["endpoints"]["vpce-vpc1"]["capacity"] = {"new_per_second": 100}
    r = network_of(seed_data).load(["cvm-vpc1"], VIP, 1044, clients=500, rate=1000, duration=10, hold=0.1)
    assert r.drops["rate_limit"] > 0
    # A refused SYN is retried a second later: the clients get through, slower.
    assert r.outcomes["connected"] == 500
    assert r.connect.max >= 1.0


def test_an_idle_timeout_forgets_a_held_connection(seed_data: dict[str, Any], network_of: Build) -> None:
    seed_data["load_balancers"]["lb-service"]["capacity"] = {"idle_timeout": "2s"}
    r = network_of(seed_data).load(["cvm-vpc1"], VIP, 1044, clients=20, rate=100, duration=10, hold=5)
    assert r.drops["no_session"] > 0  # the FIN after 5 s idle finds nothing to map it to
    assert r.opened_sessions["lb-service"] == 20  # nor do its retransmissions open a new one


def test_a_gateway_queue_overflows_under_a_burst(seed_data: dict[str, Any], network_of: Build) -> None:
    seed_data["endpoints"]["vpce-vpc1"]["capacity"] = {"service_time": "1ms", "queue": 2}
    r = network_of(seed_data).load(["cvm-vpc1"], VIP, 1044, clients=300, rate=5000, duration=10, hold=0.1)
    assert r.drops["queue_full"] > 0


def test_transfers_under_load_report_completion_percentiles(seed_net: Network) -> None:
    r = seed_net.load(["cvm-vpc1"], VIP, 1044, clients=50, rate=100, duration=10, nbytes=100_000)
    assert r.outcomes == {"connected": 50}
    assert r.completion.count == 50
    assert r.completion.p50 > r.connect.p50


def test_the_same_seed_gives_the_same_run(seed_net: Network) -> None:
    a = seed_net.load(["cvm-vpc1", "cvm-vpc3"], VIP, 1044, clients=300, rate=500, duration=10, hold=1)
    b = seed_net.load(["cvm-vpc1", "cvm-vpc3"], VIP, 1044, clients=300, rate=500, duration=10, hold=1)
    assert a == b


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"clients": 0}, "clients must be"),
        ({"rate": 0}, "rate must be"),
        ({"duration": "soon"}, "duration or hold"),
        ({"hold": 1, "nbytes": 10}, "hold or bytes"),
    ],
)
def test_bad_arguments_get_one_clear_error(seed_net: Network, kwargs: dict[str, Any], message: str) -> None:
    from vpcsim.errors import ArgumentError

    args: dict[str, Any] = {"clients": 10, "rate": 10, "duration": 10, **kwargs}
    with pytest.raises(ArgumentError, match=message):
        seed_net.load(["cvm-vpc1"], VIP, 1044, **args)


def test_the_cli_takes_glob_sources_and_exits_1_when_a_limit_drops_clients(
    seed_data: dict[str, Any], tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    from tests.conftest import SEED
    from vpcsim.cli import main

    with pytest.raises(SystemExit) as done:
        main(
            [
                "load",
                str(SEED),
                "--from",
                "cvm-vpc*",
                "--to",
                f"{VIP}:1044",
                "--clients",
                "100",
                "--rate",
                "100",
                "--duration",
                "10s",
                "--hold",
                "100ms",
            ]
        )
    out = capsys.readouterr().out
    assert done.value.code == 0
    assert "load cvm-vpc1, cvm-vpc3 -> 172.16.2.16:1044" in out
    assert "connections: connected 100" in out
    seed_data["load_balancers"]["lb-service"]["capacity"] = {"max_sessions": 5}
    seed_data["settings"]["tcp"] = {"syn_retries": 0, "initial_rto": "50ms"}
    limited = tmp_path / "limited.yaml"
    limited.write_text(yaml.safe_dump(seed_data), encoding="utf-8")
    with pytest.raises(SystemExit) as done:
        main(
            [
                "load",
                str(limited),
                "--from",
                "cvm-vpc1",
                "--to",
                f"{VIP}:1044",
                "--clients",
                "50",
                "--rate",
                "500",
                "--duration",
                "10s",
                "--hold",
                "2s",
            ]
        )
    out = capsys.readouterr().out
    assert done.value.code == 1
    assert "failed by reason: session_limit" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "nobody*"], "--from 'nobody*' names no instance"),
        (["--from", "cvm-vpc1", "--hold", "1s", "--bytes", "1KB"], "give --hold or --bytes, not both"),
        (["--from", "cvm-vpc1", "--bytes", "lots"], "--bytes: 'lots' is not a size in bytes"),
    ],
)
def test_the_cli_refuses_bad_input_with_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import SEED
    from vpcsim.cli import main

    with pytest.raises(SystemExit) as done:
        main(["load", str(SEED), "--to", f"{VIP}:1044", "--clients", "10", "--rate", "10", "--duration", "1s", *args])
    err = capsys.readouterr().err
    assert done.value.code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
