"""Reports of transfers and load runs: text for people, JSON for programs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vpcsim.report.json import _ms

if TYPE_CHECKING:
    from vpcsim.load import LoadResult, Percentiles
    from vpcsim.transfer import TransferResult

TRANSFER_SCHEMA = 1
LOAD_SCHEMA = 1
SERIES_POINTS = 1000
"""Most points of a time series JSON carries (evenly thinned, first and last kept)."""


def _rate(bps: float) -> str:
    for unit, scale in (("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if bps >= scale:
            return f"{bps / scale:.1f} {unit}"
    return f"{bps:.0f} bit/s"


def _thin(series: tuple[tuple[float, Any], ...], limit: int = SERIES_POINTS) -> list[tuple[float, Any]]:
    if len(series) <= limit:
        return list(series)
    step = (len(series) - 1) / (limit - 1)
    return [series[round(i * step)] for i in range(limit)]


def _backend(result: TransferResult) -> str:
    return ", ".join(f"{c.balancer} -> {c.backend}" for c in result.choices if c.kind == "backend")


def render_transfer(result: TransferResult) -> str:
    r = result
    lines = [f"transfer {r.source} -> {r.host}:{r.port} ({r.address}), {r.bytes:,} bytes"]
    lines += _transfer_body(r)
    if r.other_branches:
        lines.append(f"other branches ({len(r.other_branches)}):")
        for b in r.other_branches:
            head = f"  {_backend(b) or 'no choice'}: {b.outcome}"
            if b.completed:
                head += f", goodput {_rate(b.goodput_bps)}, last byte after {b.completion_time * 1000:.3f} ms"
            elif b.reason is not None:
                head += f" ({b.reason.value})"
            lines.append(head)
    return "\n".join(lines)


def _transfer_body(r: TransferResult) -> list[str]:
    lines = []
    if r.choices:
        lines.append(f"branch: {_backend(r)}")
    if r.outcome == "completed":
        lines.append(
            f"completed: connected after {r.connect_time * 1000:.3f} ms, "
            f"last byte delivered after {r.completion_time * 1000:.3f} ms"
        )
        lines.append(f"goodput {_rate(r.goodput_bps)} (MSS {r.mss})")
    else:
        reason = f" ({r.reason.value})" if r.reason is not None else ""
        lines.append(f"{r.outcome}{reason}: {r.delivered:,} of {r.bytes:,} bytes delivered")
    lines.append(f"retransmissions {r.retransmissions} (fast retransmits {r.fast_retransmits}, timeouts {r.timeouts})")
    if r.rtt_samples:
        rtts = sorted(x for _, x in r.rtt_samples)
        lines.append(
            f"RTT {rtts[0] * 1000:.3f} / {rtts[len(rtts) // 2] * 1000:.3f} / {rtts[-1] * 1000:.3f} ms "
            f"(min / median / max of {len(rtts)} samples)"
        )
    if r.cwnd:
        lines.append(f"cwnd peak {max(w for _, w in r.cwnd):,} bytes, last {r.cwnd[-1][1]:,} bytes")
    if r.queues:
        lines.append("queues (busy time / duration):")
        lines.extend(
            f"  {q.name}: {q.utilisation * 100:.1f} % busy, {q.carried:,} packets carried, "
            f"{q.dropped:,} dropped, at most {q.peak:,} waiting"
            for q in r.queues
        )
    drops = ", ".join(f"{k} {v}" for k, v in sorted(r.drops.items())) or "none"
    lines.append(f"drops: {drops}")
    return lines


def transfer_to_dict(result: TransferResult) -> dict[str, Any]:
    return {
        "schema": TRANSFER_SCHEMA,
        **_transfer_branch(result),
        "other_branches": [_transfer_branch(b) for b in result.other_branches],
    }


def _transfer_branch(r: TransferResult) -> dict[str, Any]:
    return {
        "source": r.source,
        "host": r.host,
        "address": r.address,
        "port": r.port,
        "bytes": r.bytes,
        "outcome": r.outcome,
        "reason": r.reason.value if r.reason is not None else None,
        "backends": [c.backend for c in r.choices if c.kind == "backend"],
        "connect_time_ms": _ms(r.connect_time),
        "completion_time_ms": _ms(r.completion_time),
        "goodput_bps": round(r.goodput_bps, 3),
        "delivered": r.delivered,
        "mss": r.mss,
        "retransmissions": r.retransmissions,
        "fast_retransmits": r.fast_retransmits,
        "timeouts": r.timeouts,
        "rtt_samples": [{"t_ms": _ms(t), "rtt_ms": _ms(x)} for t, x in _thin(r.rtt_samples)],
        "cwnd": [{"t_ms": _ms(t), "bytes": w} for t, w in _thin(r.cwnd)],
        "links": [
            {
                "name": q.name,
                "busy_ms": _ms(q.busy),
                "utilisation": round(q.utilisation, 6),
                "carried": q.carried,
                "dropped": q.dropped,
                "peak_queue": q.peak,
            }
            for q in r.queues
        ],
        "drops": dict(sorted(r.drops.items())),
        "duration_ms": _ms(r.duration),
    }


def _pct(p: Percentiles) -> str:
    if not p.count:
        return "none"
    return (
        f"p50 {p.p50 * 1000:.3f} ms, p90 {p.p90 * 1000:.3f} ms, p99 {p.p99 * 1000:.3f} ms, "
        f"max {p.max * 1000:.3f} ms ({p.count:,})"
    )


def render_load(r: LoadResult) -> str:
    what = f"holding {r.hold:g} s" if not r.bytes else f"sending {r.bytes:,} bytes"
    lines = [
        f"load {', '.join(r.sources)} -> {r.host}:{r.port} ({r.address}): {r.clients:,} clients, "
        f"{r.started:,} started, each {what}"
    ]
    lines.append("connections: " + ", ".join(f"{k} {v:,}" for k, v in sorted(r.outcomes.items())))
    if r.failures:
        lines.append("failed by reason: " + ", ".join(f"{k} {v:,}" for k, v in sorted(r.failures.items())))
    lines.append(f"connection rate {r.connection_rate:.1f}/s over {r.arrival_window:.3f} s of arrivals")
    lines.append(f"connect latency: {_pct(r.connect)}")
    if r.bytes:
        lines.append(f"completion: {_pct(r.completion)}")
    for s in r.spread:
        total = sum(s.counts.values())
        weight_total = sum(w for k, w in s.weights.items() if w > 0) or 1
        lines.append(f"{s.balancer} listener {s.listener} ({s.scheduler}), {total:,} connections:")
        for key, weight in s.weights.items():
            n = s.counts.get(key, 0)
            share = n / total * 100 if total else 0.0
            lines.append(
                f"  {key}: weight {weight}, {n:,} ({share:.2f} %; by weight {weight / weight_total * 100:.2f} %), "
                f"at most {s.peak_open.get(key, 0):,} open"
            )
    if r.peak_sessions:
        lines.append("sessions (most open at once / opened):")
        for node, peak in r.peak_sessions.items():
            lines.append(f"  {node}: {peak:,} / {r.opened_sessions.get(node, 0):,}")
    drops = ", ".join(f"{k} {v:,}" for k, v in sorted(r.drops.items())) or "none"
    lines.append(f"dropped packets: {drops}")
    return "\n".join(lines)


def _pct_dict(p: Percentiles) -> dict[str, Any]:
    def ms(x: float) -> float | None:
        return _ms(x) if p.count else None

    return {"p50_ms": ms(p.p50), "p90_ms": ms(p.p90), "p99_ms": ms(p.p99), "max_ms": ms(p.max), "count": p.count}


def load_to_dict(r: LoadResult) -> dict[str, Any]:
    return {
        "schema": LOAD_SCHEMA,
        "sources": list(r.sources),
        "host": r.host,
        "address": r.address,
        "port": r.port,
        "clients": r.clients,
        "started": r.started,
        "hold_ms": _ms(r.hold),
        "bytes": r.bytes,
        "outcomes": dict(sorted(r.outcomes.items())),
        "failures": dict(sorted(r.failures.items())),
        "drops": dict(sorted(r.drops.items())),
        "connection_rate": round(r.connection_rate, 6),
        "arrival_window_ms": _ms(r.arrival_window),
        "duration_ms": _ms(r.duration),
        "connect_latency": _pct_dict(r.connect),
        "completion": _pct_dict(r.completion),
        "spread": [
            {
                "balancer": s.balancer,
                "listener": s.listener,
                "scheduler": s.scheduler,
                "backends": [
                    {"backend": k, "weight": w, "connections": s.counts.get(k, 0), "peak_open": s.peak_open.get(k, 0)}
                    for k, w in s.weights.items()
                ],
            }
            for s in r.spread
        ],
        "sessions": [
            {
                "node": node,
                "peak": r.peak_sessions.get(node, 0),
                "opened": r.opened_sessions.get(node, 0),
                "samples": [{"t_ms": _ms(t), "open": n} for t, n in _thin(series)],
            }
            for node, series in r.occupancy.items()
        ],
    }
