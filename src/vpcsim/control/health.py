"""Load-balancer health checks over time [CLB5]-[CLB8].

Probes leave every ``interval`` seconds from t=0 (a TCP SYN from 100.64.0.0/10, which the backend's
security group admits automatically for same-account backends [CLB10]). A probe succeeds when the
backend listens on the checked port at that moment. ``unhealthy_threshold`` failures in a row mark
the backend unhealthy when the last one times out; ``healthy_threshold`` successes in a row mark it
healthy again. At t=0 every backend is in the steady state its listener gives (docs/decisions.md Q19).
"""

from __future__ import annotations

import math

from vpcsim.model.loadbalancer import HealthCheck


def health_transitions(
    hc: HealthCheck, initial_listening: bool, changes: list[tuple[float, bool]]
) -> list[tuple[float, bool]]:
    """The (time, healthy) transitions that listener ``changes`` cause, in time order.

    ``changes`` are (time, listening) pairs sorted by time. A backend starts healthy exactly when
    it listens at t=0 (the steady state), so the initial health needs no computing.
    """
    healthy = initial_listening
    if not hc.enabled or not changes:
        return []
    out: list[tuple[float, bool]] = []
    horizon = changes[-1][0] + (max(hc.healthy_threshold, hc.unhealthy_threshold) + 2) * hc.interval
    streak_ok = streak_fail = 0
    k = math.ceil(changes[0][0] / hc.interval)
    listening, seen = initial_listening, 0
    while k * hc.interval <= horizon:
        probe = k * hc.interval
        while seen < len(changes) and changes[seen][0] <= probe:  # probes only move forward
            listening = changes[seen][1]
            seen += 1
        ok = listening
        if ok:
            streak_ok, streak_fail = streak_ok + 1, 0
            if not healthy and streak_ok >= hc.healthy_threshold:
                healthy = True
                out.append((probe, True))
        else:
            streak_ok, streak_fail = 0, streak_fail + 1
            if healthy and streak_fail >= hc.unhealthy_threshold:
                healthy = False
                out.append((probe + hc.timeout, False))
        k += 1
    return out
