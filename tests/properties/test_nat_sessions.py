"""NAT sessions always map replies back.

A probe through Private Link is translated twice on the way in (the endpoint: SNAT into
11.163.0.0/16 and DNAT to the load-balancer VIP; the load balancer: DNAT to a backend) and twice
back. For random connected probes: the SYN-ACK the client receives comes from exactly the address
and port it dialled and goes to its own address and port; every transformation step on the reply
path is the mirror image of the one on the request path at the same node; and each step's diffs are
what really happened to the packet there, as the capture points saw it.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings

from tests.strategies import DETERMINISTIC, Doc, Probe, nat_cases
from vpcsim import Network, ProbeResult
from vpcsim.frontends import from_data
from vpcsim.sim.packet import Header, ip_text
from vpcsim.trace import FlowDiff, PacketTrace, Step, StepKind

EXAMPLES = 200
MIRROR = {"src": "dst", "dst": "src", "sport": "dport", "dport": "sport"}
"""Where a request's header field sits in its reply."""

Case = tuple[Doc, Probe, int]


def _run(case: Case) -> tuple[Network, ProbeResult]:
    doc, (source, host, port), seed = case
    net = Network(from_data(doc, source="<nat property>"))
    return net, net.telnet(source, host, port, seed=seed, capture=True)


def _packet(r: ProbeResult, kind: str) -> PacketTrace:
    """The delivered packet of ``kind`` (the one the handshake used)."""
    return next(p for p in r.packets if p.kind == kind and p.reason is None)


def _transforms(p: PacketTrace) -> dict[str, Step]:
    """Each node's transformation step on this packet's path."""
    out: dict[str, Step] = {}
    for hop in p.hops:
        steps = [s for s in hop.steps if s.kind is StepKind.TRANSFORM]
        assert len(steps) <= 1, f"{hop.node} transformed {p.kind} twice"
        if steps:
            out[hop.node] = steps[0]
    return out


def _mirror(diffs: tuple[FlowDiff, ...]) -> set[FlowDiff]:
    return {FlowDiff(MIRROR[d.field], d.new, d.old) for d in diffs}


def _header_diffs(old: Header, new: Header) -> set[FlowDiff]:
    out = set()
    for field, text in (("src", ip_text), ("sport", str), ("dst", ip_text), ("dport", str)):
        before, after = getattr(old, field), getattr(new, field)
        if before != after:
            out.add(FlowDiff(field, text(before), text(after)))
    return out


def _captures_by_packet(r: ProbeResult) -> list[list[tuple[str, Header]]]:
    """The capture points' records, split per packet: a packet is recorded leaving its origin,
    entering and leaving every node between, and entering its last node."""
    records = [(point, header) for _, point, header, _ in r.captures]
    out, at = [], 0
    for p in r.packets:
        count = 0 if len(p.hops) == 1 else 2 * len(p.hops) - 2
        out.append(records[at : at + count])
        at += count
    assert at == len(records)
    return out


def test_the_syn_ack_reaches_the_client_from_the_address_and_port_it_dialled() -> None:
    tally: Counter[str] = Counter()

    @settings(DETERMINISTIC, max_examples=EXAMPLES)
    @given(case=nat_cases())
    def replies_come_back_to_the_client(case: Case) -> None:
        net, r = _run(case)
        tally[r.verdict.value] += 1
        if not r.connected:
            return
        source, host, port = case[1]
        client, dialled = net.address_of(source), net.address_of(host)
        sent = [h for point, h, kind in ((c[1], c[2], c[3]) for c in r.captures) if point == f"{source}:eth0"]
        syn = next(h for h in sent if h.kind == "SYN")
        synack = [h for h in sent if h.kind == "SYN-ACK"][-1]
        assert (syn.src, syn.dst, syn.dport) == (client, dialled, port)
        assert (synack.src, synack.sport) == (dialled, port), f"the SYN-ACK came from {synack.summary()}"
        assert (synack.dst, synack.dport) == (client, syn.sport), f"the SYN-ACK went to {synack.summary()}"
        assert _packet(r, "SYN-ACK").hops[-1].node == source

    replies_come_back_to_the_client()
    assert tally["connected"] >= 0.9 * sum(tally.values()), tally


def test_every_translation_is_reversed_exactly_on_the_reply_path() -> None:
    tally: Counter[str] = Counter()

    @settings(DETERMINISTIC, max_examples=EXAMPLES)
    @given(case=nat_cases())
    def reply_steps_mirror_request_steps(case: Case) -> None:
        _, r = _run(case)
        if not r.connected:
            return
        syn, synack, ack = _packet(r, "SYN"), _packet(r, "SYN-ACK"), _packet(r, "ACK")
        forward, reverse = _transforms(syn), _transforms(synack)
        assert list(reverse) == list(reversed(forward)), "the reply must pass the translating nodes in reverse"
        assert _transforms(ack) == forward, "a session rewrites every packet of its flow the same way"
        for node, step in forward.items():
            assert step.data.diffs, f"{node} recorded a transformation that changed nothing"
            assert set(reverse[node].data.diffs) == _mirror(step.data.diffs), node
            tally[node] += 1

    reply_steps_mirror_request_steps()
    assert tally["lb-service"] >= 100, tally
    assert sum(n for node, n in tally.items() if node.startswith("vpce-")) >= 100, tally


def test_transformation_steps_state_what_the_capture_points_saw_change() -> None:
    tally: Counter[str] = Counter()

    @settings(DETERMINISTIC, max_examples=EXAMPLES // 2)
    @given(case=nat_cases())
    def steps_match_the_packets(case: Case) -> None:
        _, r = _run(case)
        for p, records in zip(r.packets, _captures_by_packet(r), strict=True):
            for i, hop in enumerate(p.hops[1:-1], start=1):
                (point_in, arrived), (point_out, left) = records[2 * i - 1], records[2 * i]
                assert point_in == f"{hop.node}:{p.hops[i - 1].node}"
                assert point_out == f"{hop.node}:{p.hops[i + 1].node}"
                step = _transforms(p).get(hop.node)
                assert _header_diffs(arrived, left) == (set(step.data.diffs) if step else set()), (p.kind, hop.node)
                tally["translated" if step else "forwarded unchanged"] += 1

    steps_match_the_packets()
    assert tally["translated"] >= 100, tally
