"""Branch exploration over the cloud-neutral IR: products of branch points, pins and the cap.

A path through two load balancers is built in the IR directly: a front balancer whose backends are
two listeners of a second balancer's address (no cloud front-end binds a load balancer behind
another today, but the engine and the explorer must not care what a backend is).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from vpcsim import Network
from vpcsim.branches import COUNT_CEILING, BackendPin, BranchLimitError, explore, points
from vpcsim.errors import ArgumentError
from vpcsim.frontends import from_data
from vpcsim.ir import Backend, Balancer, ForwardingState
from vpcsim.trace import Choice


def _scenario() -> dict[str, Any]:
    """One VPC: a client, five servers, a front load balancer and a back one with two listeners."""
    servers = {
        f"cvm-{i}": {
            "vpc": "vpc",
            "subnet": "app",
            "ip": f"10.0.1.{10 + i}",
            "security_groups": ["sg"],
            "listen": [8080],
        }
        for i in range(1, 6)
    }

    def listener(port: int, names: list[str]) -> dict[str, Any]:
        return {
            "protocol": "tcp",
            "port": port,
            "backends": [{"instance": n, "port": 8080} for n in names],
            "health_check": {"enabled": False},
        }

    return {
        "version": 1,
        "vpcs": {
            "vpc": {
                "region": "ap-chengdu",
                "account": "100000000001",
                "cidr": "10.0.0.0/16",
                "subnets": {"app": {"cidr": "10.0.1.0/24", "zone": "ap-chengdu-1"}},
            }
        },
        "security_groups": {
            "sg": {
                "ingress": [{"action": "accept", "protocol": "all", "source": "0.0.0.0/0"}],
                "egress": [{"action": "accept", "protocol": "all", "destination": "0.0.0.0/0"}],
            }
        },
        "instances": {
            "client": {"vpc": "vpc", "subnet": "app", "ip": "10.0.1.5", "security_groups": ["sg"]},
            **servers,
        },
        "load_balancers": {
            "lb-front": {
                "vpc": "vpc",
                "subnet": "app",
                "vip": "10.0.1.100",
                "listeners": {"l80": listener(80, ["cvm-1", "cvm-2"])},
            },
            "lb-back": {
                "vpc": "vpc",
                "subnet": "app",
                "vip": "10.0.1.101",
                "listeners": {
                    "l80": listener(80, ["cvm-1", "cvm-2", "cvm-3"]),
                    "l81": listener(81, ["cvm-3", "cvm-4", "cvm-5"]),
                },
            },
        },
    }


@pytest.fixture(scope="module")
def chained() -> Network:
    """lb-front's listener 80 balances over lb-back's listeners 80 and 81 (three servers each)."""
    net = Network(from_data(_scenario(), source="<chain>"))
    state = net.compiled.states[0]
    front = state.nodes["lb-front"]
    back = state.nodes["lb-back"]
    assert isinstance(front, Balancer)
    assert isinstance(back, Balancer)
    (listener,) = front.listeners.values()
    to_back = tuple(
        Backend("lb-back", back.address, back.gateway, port, 10, True, f"lb-back:{port}") for port in (80, 81)
    )
    front = replace(front, listeners={key: replace(listener, backends=to_back) for key in front.listeners})
    nodes = {**state.nodes, "lb-front": front}
    net.compiled = replace(net.compiled, states=(ForwardingState(state.time, nodes, state.links, state.changes),))
    return net


def test_a_path_through_two_load_balancers_explores_their_product(chained: Network) -> None:
    r = chained.telnet("client", "10.0.1.100", 80)
    routes = [tuple(c.backend for c in b.choices) for b in r.branches]
    assert len(routes) == 6
    assert sorted(routes) == sorted(
        [("lb-back:80", f"cvm-{i}:8080") for i in (1, 2, 3)] + [("lb-back:81", f"cvm-{i}:8080") for i in (3, 4, 5)]
    )
    assert routes[0] == tuple(c.backend for c in r.choices)
    assert all(b.connected for b in r.branches)
    assert all(b.packets[0].nodes[-1] == b.choices[-1].instance for b in r.branches)
    # The first branch's choices are the schedulers' own; every other branch pins at least one.
    assert not any(c.pinned for c in r.choices)
    assert all(any(c.pinned for c in b.choices) for b in r.other_branches)


def test_pins_on_both_load_balancers_leave_one_branch(chained: Network) -> None:
    r = chained.telnet("client", "10.0.1.100", 80, backends=["lb-back:81", "cvm-4"])
    assert [tuple(c.backend for c in b.choices) for b in r.branches] == [("lb-back:81", "cvm-4:8080")]
    assert r.connected
    # One pin: the other load balancer is still explored.
    half = chained.telnet("client", "10.0.1.100", 80, backends=["lb-back:81"])
    assert sorted(b.choices[1].backend for b in half.branches) == ["cvm-3:8080", "cvm-4:8080", "cvm-5:8080"]


def test_a_pin_matching_two_ports_of_one_instance_is_ambiguous() -> None:
    data = _scenario()
    data["instances"]["cvm-1"]["listen"] = [8080, 9090]
    data["load_balancers"]["lb-front"]["listeners"]["l80"]["backends"] = [
        {"instance": "cvm-1", "port": 8080},
        {"instance": "cvm-1", "port": 9090},
    ]
    net = Network(from_data(data, source="<ambiguous>"))
    with pytest.raises(ArgumentError, match=r"matches cvm-1:8080, cvm-1:9090 at lb-front listener l80"):
        net.telnet("client", "lb-front", 80, backends=["cvm-1"])
    assert net.telnet("client", "lb-front", 80, backends=["cvm-1:9090"]).choices[0].port == 9090


def test_the_cap_counts_every_branch(chained: Network) -> None:
    with pytest.raises(
        BranchLimitError, match=r"client -> 10.0.1.100:80 may take 6 branches, more than the limit of 5"
    ):
        chained.telnet("client", "10.0.1.100", 80, max_branches=5)
    assert len(chained.telnet("client", "10.0.1.100", 80, max_branches=6).branches) == 6
    first = chained.telnet("client", "10.0.1.100", 80, every_branch=False)
    assert first.other_branches == ()
    with pytest.raises(ArgumentError, match="max_branches must be a positive integer"):
        chained.telnet("client", "10.0.1.100", 80, max_branches=0)


# -- the explorer on its own ------------------------------------------------------------------------------


def _choice(point: str, candidates: tuple[str, ...], taken: str, pinned: bool = False) -> Choice:
    instance, _, port = taken.partition(":")
    return Choice(point, "l", 1, candidates, taken, instance, int(port), pinned)


def _tree(width: int, depth: int) -> Any:
    """A fake run: ``depth`` load balancers in a row, each choosing among ``width`` backends."""
    names = tuple(f"b{i}:1" for i in range(width))

    def run(pins: Any, _trace: bool) -> list[Choice]:
        return [
            _choice(f"lb{d}", names, pins.get((f"lb{d}", "l"), names[0]), (f"lb{d}", "l") in pins) for d in range(depth)
        ]

    return run


def test_explore_visits_each_combination_once_first_branch_first() -> None:
    explored = explore(_tree(3, 3), lambda r: r, what="x", limit=64)
    combos = [tuple(c.backend for c in r) for r in explored.results]
    assert len(combos) == 27 == len(set(combos))
    assert combos[0] == ("b0:1", "b0:1", "b0:1")


def test_explore_counts_past_the_cap_up_to_a_ceiling() -> None:
    with pytest.raises(BranchLimitError, match="may take 81 branches, more than the limit of 64"):
        explore(_tree(3, 4), lambda r: r, what="x", limit=64)
    with pytest.raises(BranchLimitError, match=f"more than {COUNT_CEILING - 1} branches"):
        explore(_tree(2, 14), lambda r: r, what="x", limit=64)


def test_a_load_balancer_met_twice_is_one_branch_point() -> None:
    twice = [_choice("lb", ("a:1", "b:1"), "a:1"), _choice("lb", ("a:1", "b:1"), "a:1")]
    assert points(twice) == twice[:1]


@pytest.mark.parametrize(
    ("text", "pin"),
    [("cvm-1", BackendPin("cvm-1")), ("cvm-1:8080", BackendPin("cvm-1", 8080))],
)
def test_backend_pins_parse(text: str, pin: BackendPin) -> None:
    assert BackendPin.parse(text) == pin
    assert str(pin) == text
    assert pin.matches("cvm-1:8080")
    assert not pin.matches("cvm-10:8080")
