"""Which backend the bundled scenario's CLB picks: smooth weighted round robin (docs/decisions.md Q12), weighted
least-connections, weight 0 (Q11) and health [CLB8].

A telnet runs on a fresh simulation, so it shows the first pick only; a run of several connections
shares one simulation (as a client opening connections one after another would) through
:class:`vpcsim.sim.Simulation`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pytest

from vpcsim import Network, Reason, Verdict
from vpcsim.report.steps import step_text
from vpcsim.sim import ConnectOutcome, Simulation, connect
from vpcsim.trace import StepKind

Data = dict[str, Any]
Build = Callable[[Data], Network]

VIP = "172.16.2.16"
VPORT = 1044
BACKENDS = ("cvm-backend1", "cvm-backend2")


def set_pool(data: Data, scheduler: str, weights: dict[str, int], order: tuple[str, ...] = BACKENDS) -> None:
    listener = data["load_balancers"]["lb-service"]["listeners"]["lbl-1044"]
    listener["scheduler"] = scheduler
    listener["backends"] = [{"instance": b, "port": 8080, "weight": weights[b]} for b in order]


def picks(net: Network, count: int, client: str = "cvm-vpc1") -> list[str]:
    """The backend each of ``count`` connections reaches, opened one a second in one simulation."""
    sim = Simulation(net.compiled, seed=net.compiled.seed)
    outcomes: list[ConnectOutcome] = []

    def opener(i: int) -> Generator[Any, Any, None]:
        yield sim.env.timeout(float(i))
        outcome = ConnectOutcome()
        outcomes.append(outcome)
        yield from connect(sim, client, net.address_of(VIP), VPORT, outcome)

    for i in range(count):
        sim.env.process(opener(i))
    sim.env.run()
    assert [o.verdict for o in outcomes] == ["connected"] * count
    return [p.nodes[-1] for p in sim.packets if p.kind == "SYN"]


def smooth_wrr(weights: list[int], count: int) -> list[int]:
    """nginx's smooth weighted round robin, the reference: ties go to the first bound backend."""
    current = [0] * len(weights)
    out = []
    for _ in range(count):
        current = [c + w for c, w in zip(current, weights, strict=True)]
        best = max(range(len(weights)), key=lambda i: (current[i], -i))
        current[best] -= sum(weights)
        out.append(best)
    return out


def chosen_detail(net: Network, client: str = "cvm-vpc3") -> str:
    r = net.telnet(client, VIP, VPORT)
    (detail,) = [step_text(s) for h in r.packets[0].hops for s in h.steps if s.kind is StepKind.LOAD_BALANCE]
    return detail


# -- wrr --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", [BACKENDS, BACKENDS[::-1]], ids=["bound-1-2", "bound-2-1"])
def test_wrr_with_equal_weights_alternates_starting_with_the_first_bound(
    seed_data: Data, network_of: Build, order: tuple[str, ...]
) -> None:
    set_pool(seed_data, "wrr", {"cvm-backend1": 10, "cvm-backend2": 10}, order)
    assert picks(network_of(seed_data), 6) == [order[0], order[1]] * 3


@pytest.mark.parametrize(("w1", "w2"), [(10, 30), (30, 10), (20, 30), (1, 100)])
def test_wrr_follows_smooth_weighted_round_robin(seed_data: Data, network_of: Build, w1: int, w2: int) -> None:
    set_pool(seed_data, "wrr", {"cvm-backend1": w1, "cvm-backend2": w2})
    expected = [BACKENDS[i] for i in smooth_wrr([w1, w2], 10)]
    assert picks(network_of(seed_data), 10) == expected


def test_wrr_sends_the_first_connection_to_the_heaviest_backend(seed_data: Data, network_of: Build) -> None:
    set_pool(seed_data, "wrr", {"cvm-backend1": 10, "cvm-backend2": 30})
    net = network_of(seed_data)
    assert chosen_detail(net) == "wrr chose cvm-backend2:8080 (weight 30) among 2 healthy backends"
    assert net.telnet("cvm-vpc3", VIP, VPORT).packets[0].nodes[-1] == "cvm-backend2"


# -- least_conn -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("w1", "w2"), [(10, 10), (10, 30), (30, 10), (7, 3)])
def test_least_conn_picks_the_backend_with_fewest_connections_per_weight(
    seed_data: Data, network_of: Build, w1: int, w2: int
) -> None:
    weights = {"cvm-backend1": w1, "cvm-backend2": w2}
    set_pool(seed_data, "least_conn", weights)
    open_conns = dict.fromkeys(BACKENDS, 0)
    for backend in picks(network_of(seed_data), 12):
        ratio = {b: open_conns[b] / weights[b] for b in BACKENDS}
        assert ratio[backend] == min(ratio.values()), (backend, open_conns)
        open_conns[backend] += 1
    assert open_conns["cvm-backend1"] / open_conns["cvm-backend2"] == pytest.approx(w1 / w2, rel=0.5)


def test_least_conn_with_equal_weights_alternates(seed_data: Data, network_of: Build) -> None:
    set_pool(seed_data, "least_conn", {"cvm-backend1": 10, "cvm-backend2": 10})
    chosen = picks(network_of(seed_data), 6)
    assert chosen[0::2] == [chosen[0]] * 3
    assert chosen[1::2] == [chosen[1]] * 3
    assert chosen[0] != chosen[1]


# -- weight 0 and health ----------------------------------------------------------------------------


@pytest.mark.parametrize("scheduler", ["wrr", "least_conn"])
def test_weight_zero_backend_takes_no_new_connections(seed_data: Data, network_of: Build, scheduler: str) -> None:
    set_pool(seed_data, scheduler, {"cvm-backend1": 0, "cvm-backend2": 10})
    assert picks(network_of(seed_data), 4) == ["cvm-backend2"] * 4


def test_all_backends_at_weight_zero_time_out_with_no_backend(seed_data: Data, network_of: Build) -> None:
    set_pool(seed_data, "wrr", {"cvm-backend1": 0, "cvm-backend2": 0})
    r = network_of(seed_data).telnet("cvm-vpc3", VIP, VPORT)
    assert (r.verdict, r.reason) == (Verdict.TIMEOUT, Reason.NO_BACKEND)
    assert r.blocked_at == "lb-service"
    assert "lbl-1044" in r.ref
    assert "weight" in r.detail


@pytest.mark.parametrize("scheduler", ["wrr", "least_conn"])
def test_unhealthy_backend_takes_no_new_connections(seed_data: Data, network_of: Build, scheduler: str) -> None:
    """cvm-backend1 does not listen (its health checks fail); the other one takes everything."""
    set_pool(seed_data, scheduler, {"cvm-backend1": 10, "cvm-backend2": 10})
    seed_data["instances"]["cvm-backend1"]["listen"] = []
    net = network_of(seed_data)
    assert picks(net, 4) == ["cvm-backend2"] * 4
    assert chosen_detail(net) == f"{scheduler} chose cvm-backend2:8080 (weight 10) among 1 healthy backend"


def test_without_health_checks_a_backend_that_does_not_listen_still_gets_connections(
    seed_data: Data, network_of: Build
) -> None:
    """Health checking off: traffic goes to every bound backend, unhealthy or not [CLB8]."""
    listener = seed_data["load_balancers"]["lb-service"]["listeners"]["lbl-1044"]
    listener["health_check"] = {"enabled": False}
    seed_data["instances"]["cvm-backend1"]["listen"] = []
    r = network_of(seed_data).telnet("cvm-vpc3", VIP, VPORT)
    assert (r.verdict, r.reason) == (Verdict.REFUSED, Reason.PORT_CLOSED)
    assert r.blocked_at == "cvm-backend1"
    details = [step_text(s) for h in r.packets[0].hops for s in h.steps if s.kind is StepKind.LOAD_BALANCE]
    assert details == ["wrr chose cvm-backend1:8080 (weight 10) among 2 bound backends"]
