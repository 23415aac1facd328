"""Congestion control: slow start, congestion avoidance and the backoff on loss, Reno and CUBIC."""

from __future__ import annotations

import pytest

from vpcsim.sim.congestion import Cubic, Reno


@pytest.mark.parametrize("cc", [Reno, Cubic])
def test_slow_start_grows_by_at_most_two_segments_an_ack(cc: type[Reno]) -> None:
    c = cc(10)
    c.on_ack(2.0, 0.0, 0.01)
    assert c.cwnd == 12
    c.on_ack(5.0, 0.0, 0.01)  # an ACK for five segments counts two (RFC 3465, L = 2)
    assert c.cwnd == 14


def test_reno_halves_on_loss_and_grows_a_segment_per_window_after() -> None:
    c = Reno(10)
    c.cwnd = 40.0
    c.on_loss(0.0)
    assert c.ssthresh == 20
    c.cwnd = c.ssthresh
    for _ in range(20):  # one window of data acknowledged, a segment at a time
        c.on_ack(1.0, 0.0, 0.01)
    assert c.cwnd == 21


def test_a_timeout_goes_back_to_one_segment() -> None:
    for cc in (Reno, Cubic):
        c = cc(10)
        c.cwnd = 50.0
        c.on_timeout(0.0)
        assert c.cwnd == 1
        assert c.ssthresh == (25 if cc is Reno else 35)


def test_cubic_backs_off_to_seven_tenths_and_regrows_to_its_last_maximum_in_k_seconds() -> None:
    c = Cubic(10)
    c.cwnd = 100.0
    c.on_loss(0.0)
    assert c.ssthresh == pytest.approx(70)
    c.cwnd = c.ssthresh
    k = ((100 - 70) / Cubic.C) ** (1 / 3)  # RFC 9438: K = cbrt(W_max (1 - beta) / C)
    t, rtt = 0.0, 1.0  # a long round trip: the cubic curve, not the Reno-friendly line, decides
    while t < k:
        c.on_ack(1.0, t, rtt)
        t += rtt / c.cwnd  # one ACK per segment, a window per round trip
    assert c.cwnd == pytest.approx(100, rel=0.03)


def test_cubic_grows_at_least_as_reno_would_on_short_round_trips() -> None:
    c = Cubic(10)
    c.cwnd = 100.0
    c.on_loss(0.0)
    c.cwnd = c.ssthresh
    t, rtt = 0.0, 0.001
    for _ in range(100):  # a hundred round trips of a full window each
        for _ in range(int(c.cwnd)):
            c.on_ack(1.0, t, rtt)
        t += rtt
    reno_friendly = 70 + 3 * (1 - Cubic.BETA) / (1 + Cubic.BETA) * 100  # RFC 9438 §4.3, per RTT
    assert c.cwnd >= reno_friendly * 0.97


def test_cubic_converges_fast_when_it_loses_below_its_last_maximum() -> None:
    c = Cubic(10)
    c.cwnd = 100.0
    c.on_loss(0.0)
    c.cwnd = 80.0
    c.on_loss(1.0)
    assert c.w_max == pytest.approx(80 * (1 + Cubic.BETA) / 2)
