"""A FIFO in front of a server, and a token bucket, computed from arrival times alone."""

from __future__ import annotations

import pytest

from vpcsim.sim.queues import Fifo, TokenBucket


def test_a_packet_that_finds_the_server_idle_leaves_after_its_service() -> None:
    q = Fifo(limit=2)
    assert q.admit(1.0, 0.5) == 1.5
    assert q.admit(3.0, 0.5) == 3.5
    assert q.peak == 0


def test_packets_that_find_it_busy_wait_their_turn_in_order() -> None:
    q = Fifo(limit=10)
    leaves = [q.admit(0.0, 1.0) for _ in range(4)]
    assert leaves == [1.0, 2.0, 3.0, 4.0]
    assert q.peak == 3  # the first is being served, three wait


def test_a_full_queue_drops_the_newcomer_and_makes_room_as_service_starts() -> None:
    q = Fifo(limit=2)
    assert q.admit(0.0, 1.0) == 1.0  # served at once
    assert q.admit(0.0, 1.0) == 2.0  # waits
    assert q.admit(0.0, 1.0) == 3.0  # waits: two waiting now
    assert q.admit(0.5, 1.0) == -1.0  # tail drop
    assert q.dropped == 1
    assert q.admit(1.0, 1.0) == 4.0  # the second started at 1.0: room for one more
    assert q.busy == pytest.approx(4.0)
    assert q.carried == 4


def test_no_limit_never_drops() -> None:
    q = Fifo(limit=0)
    assert all(q.admit(0.0, 0.1) > 0 for _ in range(10_000))
    assert q.dropped == 0


def test_a_token_bucket_allows_its_rate_in_a_burst_then_refills_evenly() -> None:
    b = TokenBucket(rate=5, at=0.0)
    assert [b.take(0.0) for _ in range(6)] == [True] * 5 + [False]
    assert not b.take(0.1)  # half a token so far
    assert b.take(0.2)  # one token after 0.2 s at 5 a second
    assert not b.take(0.2)
