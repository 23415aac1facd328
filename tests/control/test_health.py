"""Load-balancer health over time: thresholds, intervals, steady state at t=0."""

from __future__ import annotations

from vpcsim.control.health import health_transitions
from vpcsim.model import HealthCheck

HC = HealthCheck(interval=5.0, timeout=2.0, healthy_threshold=3, unhealthy_threshold=3)


def test_a_listener_that_never_changes_keeps_its_initial_health() -> None:
    assert health_transitions(HC, True, []) == []
    assert health_transitions(HC, False, []) == []


def test_a_change_back_to_the_initial_state_flips_nothing() -> None:
    assert health_transitions(HC, True, [(3.0, True)]) == []
    assert health_transitions(HC, False, [(3.0, False)]) == []


def test_a_stopped_listener_turns_unhealthy_after_three_failed_probes_and_a_timeout() -> None:
    # Probes at 15, 20, 25 fail; the third times out at 27.
    flips = health_transitions(HC, True, [(12.0, False)])
    assert flips == [(27.0, False)]


def test_a_started_listener_turns_healthy_after_three_good_probes() -> None:
    flips = health_transitions(HC, False, [(12.0, True)])
    assert flips == [(25.0, True)]


def test_a_short_outage_between_probes_is_not_noticed() -> None:
    flips = health_transitions(HC, True, [(11.0, False), (12.0, True)])
    assert flips == []


def test_disabled_health_checks_never_flip() -> None:
    off = HealthCheck(enabled=False)
    assert health_transitions(off, True, [(1.0, False)]) == []
