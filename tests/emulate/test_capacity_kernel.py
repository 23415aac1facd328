"""The capacity oracle's kernel half: real Linux TCP through a veth capped by a ``tbf`` qdisc.

A cap is checked where tbf applies it, on the frames arriving at the server's veth (kernel receive
times, Ethernet headers included, as tbf charges them): over any window of at least ten frame times
they carry at most ``rate * window / 8`` plus the bucket plus one frame. The server's reads cannot
be held to that window by window: a segment tbf drops without telling TCP leaves a hole, and the
tens of kilobytes queued behind it reach the application in one read when the retransmission fills
it. What the reads can be held to is the same bound counted from the connect, and the whole
transfer's goodput.

The tbf sits either on the client's own veth (``sender``) or on a router's egress toward the server
(``router``); at the router every drop is a hole in the network, which the sender learns of only from
the ACKs and must fill with a retransmission.

The pure tests (windows, arguments) run anywhere; the ``kernel`` ones need root, iproute2 and the
kernel's tbf, and skip without them (fail with CI=true).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests import summaries
from vpcsim.emulate import capacity
from vpcsim.emulate.capacity import (
    ETH_HEADER,
    KernelTransfer,
    TransferTimeoutError,
    Where,
    capped_transfer,
    default_burst,
    max_bytes_in_windows,
)
from vpcsim.emulate.kernel import KernelError, list_namespaces

NBYTES = 4_000_000
ROUTED_NBYTES = 1_000_000
"""Shorter through the router (0.42 s at the cap), to keep this file's run under ten seconds."""
RATE = 20e6
LIMIT = 30_000
"""About 20 full frames, 12 ms at the cap: small enough that the queue overflows and tbf drops."""
MTU = 1500
FRAME = MTU + ETH_HEADER
WINDOWS = (10, 30, 100, 1000)
"""Window lengths checked, in frame transmission times at the cap (10 frames = 6 ms at 20 Mbit/s)."""


@pytest.fixture
def nothing_left_behind() -> Iterator[None]:
    """The test's namespaces are all gone when it ends."""
    mine = f"vpcsim-{os.getpid()}-"
    before = {n for n in list_namespaces() if n.startswith(mine)}
    yield
    after = {n for n in list_namespaces() if n.startswith(mine)}
    assert after <= before, f"namespaces left behind: {sorted(after - before)}"


def _excess(samples: tuple[tuple[float, int], ...], rate: float, burst: int) -> float:
    """The most the bytes read by any moment exceed what tbf could have passed since the connect."""
    return max(count - burst - rate * t / 8 for t, count in samples)


# -- anywhere ---------------------------------------------------------------------------------------


def test_max_bytes_in_windows_slides_over_the_samples() -> None:
    samples = [(0.0, 100), (1.0, 200), (2.0, 1000), (2.5, 1100)]
    assert max_bytes_in_windows([], 1.0) == 0
    assert max_bytes_in_windows(samples, 0.0) == 800  # the largest single read
    assert max_bytes_in_windows(samples, 0.5) == 900  # the reads at 2.0 and 2.5
    assert max_bytes_in_windows(samples, 0.49) == 800
    assert max_bytes_in_windows(samples, 1.0) == 900
    assert max_bytes_in_windows(samples, 2.0) == 1000
    assert max_bytes_in_windows(samples, 2.5) == 1100
    with pytest.raises(ValueError, match="negative"):
        max_bytes_in_windows(samples, -1.0)


def test_the_default_burst_is_two_frames_or_a_millisecond() -> None:
    assert default_burst(20e6) == 2 * FRAME
    assert default_burst(1e9) == 125_000
    assert default_burst(10e6, mtu=9000) == 2 * (9000 + ETH_HEADER)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"burst_bytes": FRAME - 1}, "burst"),
        ({"limit_bytes": FRAME - 1}, "limit"),
        ({"mtu": 60}, "mtu"),
    ],
)
def test_settings_tbf_would_silently_misbehave_with_are_refused(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        capped_transfer(
            NBYTES,
            RATE,
            limit_bytes=kwargs.get("limit_bytes", LIMIT),
            burst_bytes=kwargs.get("burst_bytes"),
            mtu=kwargs.get("mtu", MTU),
        )


def test_a_tbf_is_only_on_the_sender_or_the_router() -> None:
    with pytest.raises(ValueError, match="where must be one of sender, router"):
        capped_transfer(NBYTES, RATE, limit_bytes=LIMIT, where="server")  # type: ignore[arg-type]


# -- the kernel -------------------------------------------------------------------------------------


@pytest.mark.kernel
@pytest.mark.usefixtures("tbf_ready", "nothing_left_behind")
@pytest.mark.parametrize("congestion", ["cubic", "bbr"])
def test_a_capped_transfer_arrives_whole_at_the_cap(congestion: str) -> None:
    try:
        t = capped_transfer(NBYTES, RATE, limit_bytes=LIMIT, congestion=congestion)
    except ValueError as exc:
        if "not available" in str(exc):
            pytest.skip(str(exc))
        raise
    _report(t)
    assert t.congestion == congestion
    assert t.where == "sender"
    _assert_whole_at_the_cap(t, NBYTES)

    # A 30 KB queue overflows: tbf tail-drops, and TCP still delivers every byte.
    assert t.drops > 0
    assert t.retransmits >= 0


@pytest.mark.kernel
@pytest.mark.usefixtures("tbf_ready", "nothing_left_behind")
@pytest.mark.parametrize("congestion", ["cubic", "reno"])
def test_a_transfer_capped_at_a_router_arrives_whole_at_the_cap(congestion: str) -> None:
    try:
        t = capped_transfer(ROUTED_NBYTES, RATE, limit_bytes=LIMIT, congestion=congestion, where="router")
    except ValueError as exc:
        if "not available" in str(exc):
            pytest.skip(str(exc))
        raise
    _report(t)
    assert (t.congestion, t.where) == (congestion, "router")
    _assert_whole_at_the_cap(t, ROUTED_NBYTES)

    # The router's 30 KB queue overflows. No drop there reaches the sender but through the ACKs:
    # each one is a hole it has to fill by sending the segment again.
    assert t.drops > 0
    assert t.retransmits >= t.drops


def _assert_whole_at_the_cap(t: KernelTransfer, nbytes: int) -> None:
    """Every byte arrived, in order, and neither the link nor the reads beat the cap."""
    assert (t.sent, t.received, t.intact) == (nbytes, nbytes, True)
    assert t.rate_bps == RATE
    assert t.burst_bytes >= FRAME

    # The cap, where tbf applies it.
    assert t.wire, "the capture at the server's veth missed frames"
    assert t.wire[-1][1] >= nbytes
    frame_time = FRAME * 8 / RATE
    for frames in WINDOWS:
        window = frames * frame_time
        most = max_bytes_in_windows(t.wire, window)
        bound = RATE * window / 8 + t.burst_bytes + FRAME
        assert most <= bound, f"{most} B crossed the link in {window * 1e3:.1f} ms; the cap allows {bound:.0f} B"
    # The reads, counted from the connect; and the whole transfer.
    read_excess = _excess(t.samples, RATE, t.burst_bytes)
    assert read_excess <= 0, f"the server had read {read_excess:.0f} B more than the cap allows since the connect"
    wire_excess = _excess(t.wire, RATE, t.burst_bytes)
    assert wire_excess <= FRAME, f"{wire_excess:.0f} B more crossed the link than the cap allows since the connect"
    assert t.goodput_bps <= RATE
    assert t.goodput_bps >= 0.7 * RATE, f"goodput {t.goodput_bps / 1e6:.2f} Mbit/s at a cap of {RATE / 1e6:g}"


@pytest.mark.kernel
@pytest.mark.usefixtures("tbf_ready", "nothing_left_behind")
@pytest.mark.parametrize("where", ["sender", "router"])
def test_a_transfer_that_overruns_its_time_limit_is_abandoned(monkeypatch: pytest.MonkeyPatch, where: Where) -> None:
    # 1 MB at 10 Mbit/s takes 0.8 s; allowed a quarter of that, it cannot finish.
    monkeypatch.setattr(capacity, "SLOW_FACTOR", 0.25)
    monkeypatch.setattr(capacity, "SLACK_SECONDS", 0.0)
    with pytest.raises(TransferTimeoutError, match=r"the limit is 0\.25"):
        capped_transfer(1_000_000, 10e6, limit_bytes=LIMIT, where=where)


@pytest.mark.kernel
@pytest.mark.usefixtures("tbf_ready", "nothing_left_behind")
@pytest.mark.parametrize("where", ["sender", "router"])
def test_a_failure_halfway_still_deletes_everything(monkeypatch: pytest.MonkeyPatch, where: Where) -> None:
    def broken(ns: str, dev: str) -> dict[str, int] | None:
        raise KernelError(f"planted failure in {ns} on {dev}")

    monkeypatch.setattr(capacity, "_tbf_stats", broken)
    with pytest.raises(KernelError, match="planted failure"):
        capped_transfer(NBYTES, RATE, limit_bytes=LIMIT, where=where)


def _report(t: KernelTransfer) -> None:
    frame_time = FRAME * 8 / t.rate_bps
    over = max(max_bytes_in_windows(t.wire, k * frame_time) - t.rate_bps * k * frame_time / 8 for k in WINDOWS)
    summaries.add(
        "vpcsim capacity oracle (kernel)",
        f"{t.sent / 1e6:g} MB at {t.rate_bps / 1e6:g} Mbit/s, tbf at the {t.where}, limit {LIMIT} B, "
        f"burst {t.burst_bytes} B, "
        f"{t.congestion}: goodput {t.goodput_bps / 1e6:.2f} Mbit/s ({t.goodput_bps / t.rate_bps:.1%} of the cap) "
        f"in {t.duration:.2f} s, {t.drops} tbf drops, {t.retransmits} retransmissions; busiest window "
        f"{over:.0f} B over the rate (allowed: burst + a frame, {t.burst_bytes + FRAME} B)",
    )
