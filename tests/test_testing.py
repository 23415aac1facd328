"""The pytest helpers a platform team uses: what they pass, and what their failures say."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from vpcsim import Network, assert_reachable, assert_unreachable

SEED = Path(__file__).resolve().parent.parent / "scenarios" / "chengdu_chongqing.yaml"


def test_the_plugin_fixture_loads_each_scenario_once(vpcsim_network: Callable[[str | Path], Network]) -> None:
    net = vpcsim_network(SEED)
    assert vpcsim_network(str(SEED)) is net
    assert_reachable(net, "cvm-vpc3", "172.16.2.16:1044")


def test_assert_reachable_failure_shows_verdict_reason_and_trace(seed_net: Network) -> None:
    with pytest.raises(AssertionError) as failure:
        assert_reachable(seed_net, "cvm-vpc3", "172.16.2.16:1045")
    message = str(failure.value)
    assert "expected connected, got timeout (no_listener)" in message
    assert "telnet: Unable to connect to remote host: Connection timed out" in message
    assert "lb-service has no TCP listener on port 1045" in message
    assert "cvm-vpc3  +0.000 ms" in message


def test_assert_unreachable_checks_verdict_and_reason_when_asked(seed_net: Network) -> None:
    r = assert_unreachable(seed_net, "cvm-vpc1", "vpce-vpc1:1045", verdict="timeout", reason="no_listener")
    assert r.blocked_at == "lb-service"
    with pytest.raises(AssertionError, match="expected reason no_route, got no_listener"):
        assert_unreachable(seed_net, "cvm-vpc1", "vpce-vpc1:1045", reason="no_route")
    with pytest.raises(AssertionError, match="expected no connection, but it connected"):
        assert_unreachable(seed_net, "cvm-vpc1", "172.16.2.16:1044")
