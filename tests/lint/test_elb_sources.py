"""Backends whose groups drop their load balancer's own source: the shared ELB's 100.125.0.0/16
address (connections and health checks), a dedicated ELB's probe address."""

from __future__ import annotations

from typing import Any

from tests.conftest import SCENARIOS, read_data
from vpcsim.errors import WarningCode
from vpcsim.frontends import from_data_located
from vpcsim.lint import lint

Data = dict[str, Any]


def _warnings(d: Data) -> list[str]:
    located = from_data_located(d, source="<test>")
    return [w.message for w in lint(located) if w.code is WarningCode.BACKEND_SG_BLOCKS_LOAD_BALANCER]


def _huawei() -> Data:
    return read_data(SCENARIOS / "huawei_cross_vpc.yaml")


def test_a_backend_group_without_the_shared_elb_range_is_named() -> None:
    d = _huawei()
    d["security_groups"]["sg-backend"]["ingress"] = [
        {"action": "accept", "protocol": "tcp", "port": 8080, "source": "198.19.128.0/17"},
        {"action": "accept", "protocol": "tcp", "port": 8080, "source": "10.3.2.0/24"},
    ]
    (message,) = _warnings(d)
    assert message.startswith("backend ecs-3 of elb-3: its groups (sg-backend) admit no tcp/8080 from 100.125.128.1")
    assert "admit 100.125.0.0/16 on those ports" in message


def test_a_dedicated_elbs_probe_address_must_be_admitted_too() -> None:
    d = _huawei()
    rules = d["security_groups"]["sg-backend"]["ingress"]
    d["security_groups"]["sg-backend"]["ingress"] = [r for r in rules if r.get("source") != "10.3.2.0/24"]
    (message,) = _warnings(d)
    assert message.startswith("backend ecs-3 of elb-4: its groups (sg-backend) admit no tcp/8080 from 10.3.2.")
    assert "the address it probes from (dedicated load balancer)" in message


def test_the_bundled_huawei_scenario_has_none_and_tencent_clbs_are_never_judged() -> None:
    assert _warnings(_huawei()) == []
    seed = read_data(SCENARIOS / "chengdu_chongqing.yaml")
    seed["security_groups"]["sg-backend"]["ingress"] = []
    assert _warnings(seed) == []
