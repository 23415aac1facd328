"""A check holds for every backend its connection may reach, not only the one the scheduler picks first.

The classic half-broken service: two backends behind the CLB, the second one's security group admits
the wrong range. Every other connection times out in the cloud; the first one WRR makes happens to work.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from vpcsim import Network
from vpcsim.cli import cli
from vpcsim.testing import assert_reachable, assert_unreachable

VIP, VPORT = "172.16.2.16", 1044


def half_broken(data: dict[str, Any]) -> dict[str, Any]:
    """cvm-backend2 gets its own group, admitting 172.20.0.0/16 instead of Private Link's 11.163.0.0/16."""
    groups = data["security_groups"]
    groups["sg-backend2"] = {
        "ingress": [
            {"action": "accept", "protocol": "tcp", "port": 8080, "source": "172.20.0.0/16"},
            {"action": "drop", "protocol": "all", "source": "0.0.0.0/0"},
        ],
        "egress": [{"action": "accept", "protocol": "all", "destination": "0.0.0.0/0"}],
    }
    data["instances"]["cvm-backend2"]["security_groups"] = ["sg-backend2"]
    return data


def write(tmp_path: Path, data: dict[str, Any]) -> str:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


def three_backends(data: dict[str, Any], weights: tuple[int, int, int]) -> dict[str, Any]:
    data["instances"]["cvm-backend3"] = {
        "vpc": "vpc2",
        "subnet": "subnet-app",
        "ip": "10.0.2.13",
        "security_groups": ["sg-backend"],
        "listen": [8080],
    }
    listener = data["load_balancers"]["lb-service"]["listeners"]["lbl-1044"]
    listener["backends"] = [
        {"instance": f"cvm-backend{i + 1}", "port": 8080, "weight": w} for i, w in enumerate(weights)
    ]
    return data


def test_the_scheduler_s_first_pick_connects_and_the_other_branch_times_out(
    seed_data: dict[str, Any], network_of: Any
) -> None:
    net: Network = network_of(half_broken(seed_data))
    r = net.telnet("cvm-vpc3", VIP, VPORT)
    assert r.connected  # the first branch: what WRR picks first
    assert [b.choices[0].instance for b in r.branches] == ["cvm-backend1", "cvm-backend2"]
    other = r.other_branches[0]
    assert (other.verdict.value, other.reason.value, other.blocked_at) == (
        "timeout",
        "sg_ingress_denied",
        "cvm-backend2",
    )
    assert other.ref.startswith("sg-backend2: no accept for tcp/8080 from 11.163.0.0/16")


def test_check_fails_naming_the_backend_and_the_command_for_its_trace(
    seed_data: dict[str, Any], tmp_path: Path
) -> None:
    path = write(tmp_path, half_broken(seed_data))
    out = CliRunner().invoke(cli, ["check", path])
    assert out.exit_code == 1
    blocks = re.split(r"\n(?=PASS|FAIL)", out.output)
    step5 = [block for block in blocks if "step 5" in block]
    assert len(step5) == 2
    for block in step5:
        assert block.lstrip().startswith("FAIL")
        assert "timeout (sg_ingress_denied) via cvm-backend2:8080" in block
        assert "via cvm-backend2:8080: look at: sg-backend2: no accept for tcp/8080 from 11.163.0.0/16" in block
        assert "--backend cvm-backend2:8080" in block
    assert out.output.rstrip().endswith("4 passed, 2 failed")


def test_check_json_lists_every_branch_and_the_failing_ones(seed_data: dict[str, Any], tmp_path: Path) -> None:
    import json

    path = write(tmp_path, half_broken(seed_data))
    out = CliRunner().invoke(cli, ["check", path, "--json"])
    data = json.loads(out.output)
    first = data["checks"][1]
    assert not first["passed"]
    assert first["failing_branches"] == [1]
    branches = first["result"]["branches"]
    assert [(b["choices"][0]["backend"], b["verdict"], b["blocked_at"]) for b in branches] == [
        ("cvm-backend1", "connected", None),
        ("cvm-backend2", "timeout", "cvm-backend2"),
    ]
    assert branches[1]["choices"][0] == {
        "node": "lb-service",
        "listener": "lbl-1044",
        "backend": "cvm-backend2",
        "port": 8080,
        "pinned": True,
        "kind": "backend",
    }


def test_assert_reachable_fails_on_the_broken_branch_with_its_trace(seed_data: dict[str, Any], network_of: Any) -> None:
    net: Network = network_of(half_broken(seed_data))
    with pytest.raises(AssertionError) as failure:
        assert_reachable(net, "cvm-vpc3", f"{VIP}:{VPORT}")
    message = str(failure.value)
    assert "expected connected, got timeout (sg_ingress_denied) on the branch via cvm-backend2:8080" in message
    assert "sg-backend2 ingress rule #1 (drop all from 0.0.0.0/0) drops" in message  # the branch's own trace
    assert re.search(r"\d+\. cvm-backend2  \+", message)  # the hops reach the broken backend
    # Relaxed to one branch, both hold: the service answers some of the time, and some of the time not.
    assert assert_reachable(net, "cvm-vpc3", f"{VIP}:{VPORT}", branches="any").connected
    assert_unreachable(net, "cvm-vpc3", f"{VIP}:{VPORT}", branches="any", reason="sg_ingress_denied")
    with pytest.raises(AssertionError, match="expected no connection, but it connected"):
        assert_unreachable(net, "cvm-vpc3", f"{VIP}:{VPORT}")


def test_a_scenario_check_can_ask_for_one_branch(seed_data: dict[str, Any], network_of: Any) -> None:
    data = half_broken(seed_data)
    data["checks"] = [
        {"from": "cvm-vpc3", "to": f"{VIP}:{VPORT}", "expect": "connected", "branches": "any"},
        {"from": "cvm-vpc3", "to": f"{VIP}:{VPORT}", "expect": "timeout"},
        {"from": "cvm-vpc3", "to": f"{VIP}:{VPORT}", "expect": "timeout", "branches": "any"},
    ]
    net: Network = network_of(data)
    assert [c.passed for c in net.run_checks()] == [True, False, True]


def test_the_correct_seed_holds_on_both_branches(seed_net: Network) -> None:
    r = assert_reachable(seed_net, "cvm-vpc3", f"{VIP}:{VPORT}")
    assert len(r.branches) == 2
    assert all(b.connected for b in r.branches)


def test_a_backend_at_weight_0_is_not_a_branch(seed_data: dict[str, Any], network_of: Any) -> None:
    net: Network = network_of(three_backends(seed_data, (10, 0, 10)))
    r = net.telnet("cvm-vpc1", VIP, VPORT)
    assert [b.choices[0].backend for b in r.branches] == ["cvm-backend1:8080", "cvm-backend3:8080"]


def test_under_all_dead_all_alive_every_bound_backend_is_a_branch(seed_data: dict[str, Any], network_of: Any) -> None:
    data = three_backends(seed_data, (10, 0, 10))
    for i in (1, 2, 3):
        data["instances"][f"cvm-backend{i}"]["listen"] = [8080]
    # Health checks probe a port nobody listens on: every backend fails them.
    data["load_balancers"]["lb-service"]["listeners"]["lbl-1044"]["health_check"]["port"] = 9999
    net: Network = network_of(data)
    r = net.telnet("cvm-vpc1", VIP, VPORT, at="60s")
    assert sorted(b.choices[0].backend for b in r.branches) == [
        "cvm-backend1:8080",
        "cvm-backend2:8080",
        "cvm-backend3:8080",
    ]
    assert r.choices[0].backend != "cvm-backend2:8080"  # the scheduler itself still weighs them
    assert all(b.connected for b in r.branches)


def test_a_backend_dialling_its_own_vip_loops_on_one_branch_and_connects_on_the_other(
    seed_data: dict[str, Any], network_of: Any
) -> None:
    seed_data["security_groups"]["sg-backend"]["ingress"].insert(
        0, {"action": "accept", "protocol": "tcp", "port": 8080, "source": "10.0.0.0/16"}
    )
    net: Network = network_of(seed_data)
    r = net.telnet("cvm-backend1", "lb-service", 1044)
    ends = {b.choices[0].instance: (b.verdict.value, b.reason.value) for b in r.branches}
    assert ends == {"cvm-backend1": ("timeout", "lb_loopback"), "cvm-backend2": ("connected", "established")}


def test_telnet_backend_pins_one_branch(seed_data: dict[str, Any], tmp_path: Path) -> None:
    path = write(tmp_path, half_broken(seed_data))
    runner = CliRunner()
    out = runner.invoke(cli, ["telnet", path, "--from", "cvm-vpc3", VIP, str(VPORT), "--backend", "cvm-backend2"])
    assert out.exit_code == 1
    assert "Connection timed out" in out.output
    assert "branches: 1, via cvm-backend2:8080 (pinned)" in out.output
    full = runner.invoke(cli, ["telnet", path, "--from", "cvm-vpc3", VIP, str(VPORT), "--brief"])
    assert full.exit_code == 0  # the first branch's verdict
    assert "1 other ends differently:" in full.output
    assert "via cvm-backend2:8080: timeout (sg_ingress_denied) at cvm-backend2, look at sg-backend2" in full.output


@pytest.mark.parametrize(
    ("backend", "message"),
    [
        ("cvm-vpc1", "--backend cvm-vpc1: no load balancer on this connection's path may choose it"),
        ("cvm-backend2:9", "--backend cvm-backend2:9: no load balancer"),
        ("cvm-backend2:x", "--backend 'cvm-backend2:x': the port must be 1-65535"),
        (":8080", "expected INSTANCE or INSTANCE:PORT"),
    ],
)
def test_telnet_backend_that_no_balancer_may_choose_is_one_clear_error(
    seed_net: Network, backend: str, message: str
) -> None:
    from vpcsim.errors import ArgumentError

    with pytest.raises(ArgumentError) as err:
        seed_net.telnet("cvm-vpc3", VIP, VPORT, backends=[backend])
    assert message in str(err.value)
    if "no load balancer" in message:
        assert "lb-service listener lbl-1044 may choose cvm-backend1:8080, cvm-backend2:8080" in str(err.value)


def test_backend_on_a_path_without_a_load_balancer(seed_net: Network) -> None:
    from vpcsim.errors import ArgumentError

    with pytest.raises(ArgumentError, match="meets no load balancer"):
        seed_net.telnet("cvm-vpc3", "10.0.2.11", 8080, backends=["cvm-backend1"])


def test_the_branch_cap_names_the_check_and_the_count(seed_data: dict[str, Any], tmp_path: Path) -> None:
    data = three_backends(seed_data, (10, 10, 10))
    path = write(tmp_path, data)
    out = CliRunner().invoke(cli, ["check", path, "--max-branches", "2"])
    assert out.exit_code == 2
    assert "check 'step 5: VPC1 reaches the service through its endpoint' may take 3 branches" in out.output
    assert "more than the limit of 2" in out.output
    ok = CliRunner().invoke(cli, ["check", path, "--max-branches", "3"])
    assert ok.exit_code == 0, ok.output
    telnet = CliRunner().invoke(cli, ["telnet", path, "--from", "cvm-vpc1", VIP, str(VPORT), "--max-branches", "1"])
    assert telnet.exit_code == 2
    assert "cvm-vpc1 -> 172.16.2.16:1044 may take 3 branches, more than the limit of 1" in telnet.output


@pytest.mark.kernel
@pytest.mark.usefixtures("kernel_ready")
def test_the_kernel_agrees_branch_by_branch(seed_data: dict[str, Any]) -> None:
    """The kernel's load balancer is pinned to each backend in turn: it too times out via cvm-backend2."""
    from vpcsim.emulate import emulate
    from vpcsim.frontends import from_data

    rep = emulate(from_data(half_broken(seed_data), source="<half-broken>"), deadline=0.5)
    step5 = [c for c in rep.checks if c.name.startswith("step 5")]
    assert [(c.check, c.branch, c.backend, c.simulator, c.kernel) for c in step5] == [
        (0, 0, "10.0.2.11:8080", "connected", "connected"),
        (0, 1, "10.0.2.12:8080", "timeout", "timeout"),
        (1, 0, "10.0.2.11:8080", "connected", "connected"),
        (1, 1, "10.0.2.12:8080", "timeout", "timeout"),
    ]
    assert rep.agree
    assert rep.counts()["disagree"] == 0
