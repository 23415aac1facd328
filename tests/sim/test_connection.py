"""A TCP connection that carries data, checked in simulated time against what the network models:
link delays and rates, queues, the receiver's window, Linux's timers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.sim.capacity_networks import MSS, SYN_BYTES, pair, seconds_on_wire

from vpcsim import Network
from vpcsim.sim import Simulation
from vpcsim.sim.connection import Connection, State
from vpcsim.sim.packet import ACK, TCP

Build = Callable[[dict[str, Any]], Network]
B = 10e6  # the pair's link rate


def _open(net: Network, write: int = 0, close: bool = False) -> tuple[Simulation, Connection, list[Connection]]:
    sim = Simulation(net.compiled, seed=3, trace=False)
    sim.streams = True
    servers: list[Connection] = []
    sim.on_accept = servers.append
    conn = Connection.open(sim, "client", net.address_of("server"), 5001, 0)
    assert conn is not None

    def established(c: Connection) -> None:
        if write:
            c.write(write)
        if close:
            c.close()

    conn.on_established = established
    return sim, conn, servers


def test_connect_time_is_the_modelled_round_trip(network_of: Build) -> None:
    net = network_of(pair(bandwidth="10Mbps", delay="1ms"))
    # Each way: the zones' delay, and serialisation on the client's link and on the server's.
    one_way = 0.001 + 2 * seconds_on_wire(SYN_BYTES, B)
    r = net.transfer("client", "server", 5001, 1000)
    assert r.connect_time == pytest.approx(2 * one_way, abs=1e-12)
    telnet = net.telnet("client", "server", 5001)  # connect()'s SYN carries only the MSS option
    assert telnet.connect_time == pytest.approx(2 * (0.001 + 2 * seconds_on_wire(44, B)), abs=1e-12)


def test_a_capped_transfer_never_carries_more_than_the_rate_over_any_window(network_of: Build) -> None:
    net = network_of(pair(bandwidth="10Mbps", queue=50))
    r = net.transfer("client", "server", 5001, 2_000_000, capture=True)
    assert r.completed
    assert r.drops.get("queue_full", 0) > 0  # the queue overflowed: the cap was pressed
    window = 10 * seconds_on_wire(MSS + 40, B)  # ten full segments' transmission time
    points = [(0.0, 0)]  # (time, payload bytes that reached the server so far), retransmissions included
    for t, point, h, _ in r.captures:
        if point == "server:eth0" and h.length:
            points.append((t, points[-1][1] + h.length))
    worst = 0.0
    for i, (t0, n0) in enumerate(points):
        for t1, n1 in points[i + 1 :]:
            if t1 - t0 >= window:
                worst = max(worst, (n1 - n0) - (B * (t1 - t0) / 8 + MSS))
    assert worst <= 0, f"{worst:.0f} bytes over the cap"
    assert r.goodput_bps <= B


def test_a_full_queue_drops_and_tcp_recovers_every_byte_in_order(network_of: Build) -> None:
    for cc in ("cubic", "reno"):
        net = network_of(pair(bandwidth="10Mbps", queue=5, congestion=cc))
        r = net.transfer("client", "server", 5001, 300_000, capture=True)
        assert r.drops.get("queue_full", 0) > 0, cc
        assert r.retransmissions > 0, cc
        assert r.completed, cc
        assert r.delivered == 300_000, cc
        assert [n for _, n in r.progress] == sorted(n for _, n in r.progress)
        # What reached the server's NIC covers every byte of the stream, whatever order it came in.
        seen: list[tuple[int, int]] = sorted(
            (h.seq, h.seq + h.length) for _, point, h, _ in r.captures if point == "server:eth0" and h.length
        )
        start, end = seen[0][0], seen[0][0]
        for s, e in seen:
            assert s <= end, f"{cc}: a hole at {end - start}"
            end = max(end, e)
        assert end - start == 300_000


def test_the_receiver_acknowledges_a_lone_segment_after_the_delayed_ack_timer(network_of: Build) -> None:
    net = network_of(pair(bandwidth="1Gbps", delay="1ms"))
    sim, conn, servers = _open(net, write=MSS)
    sim.env.run(until=1.0)
    (server,) = servers
    assert server.delivered == MSS
    arrived = server.progress[0][0]
    acks = [o for o in sim.outcomes if o.origin == "server" and o.kind == "ACK" and o.sent_at > arrived - 1e-9]
    assert acks[0].sent_at == pytest.approx(arrived + 0.040, abs=1e-9)
    assert conn.snd_una == conn.app_end


def test_the_retransmission_timeout_follows_rfc_6298_with_linux_floor(network_of: Build) -> None:
    net = network_of(pair(bandwidth="1Gbps", delay="1ms"))
    sim, conn, _ = _open(net, write=200_000, close=True)
    sim.env.run(until=5.0)
    assert conn.rtt_samples
    assert conn.rto == pytest.approx(conn.srtt + max(4 * conn.rttvar, 0.2))
    assert conn.rto >= 0.2


def test_the_receive_window_bounds_a_fast_long_path(network_of: Build) -> None:
    window = 65536
    net = network_of(pair(bandwidth="1Gbps", delay="10ms", tcp={"receive_window": window}))
    r = net.transfer("client", "server", 5001, 5_000_000)
    rtt = min(x for _, x in r.rtt_samples)
    assert r.completed
    assert r.goodput_bps <= window * 8 / rtt * 1.01
    assert r.goodput_bps >= window * 8 / rtt * 0.7  # it is the window, not something else, that limits


def test_window_scaling_is_offered_in_the_syn_and_used_after(network_of: Build) -> None:
    net = network_of(pair(bandwidth="1Gbps"))
    r = net.transfer("client", "server", 5001, 100_000, capture=True)
    syn = next(h for _, point, h, kind in r.captures if kind == "SYN" and point == "client:eth0")
    assert syn.wscale == 7
    acks = [h for _, point, h, kind in r.captures if kind == "ACK" and point == "server:eth0" and h.flags == ACK]
    assert acks
    assert all(h.window == (3 << 20) >> 7 for h in acks[1:])


def test_the_mss_comes_from_the_path(network_of: Build) -> None:
    data = pair(bandwidth="1Gbps")
    data["instances"]["server"]["link"] = {"mtu": 1400}
    r = network_of(data).transfer("client", "server", 5001, 100_000)
    assert r.mss == 1400 - 40
    assert r.completed


def test_timestamps_take_twelve_bytes_of_every_segment(network_of: Build) -> None:
    net = network_of(pair(bandwidth="1Gbps", tcp={"timestamps": True}))
    r = net.transfer("client", "server", 5001, 100_000, capture=True)
    assert r.completed
    assert r.mss == MSS - 12  # as Linux's mss_cache: 1,448 data bytes in a 1,500-byte packet
    sent = [(kind, h) for _, point, h, kind in r.captures if point == "client:eth0"]
    syn = next(h for kind, h in sent if kind == "SYN")
    assert (syn.ts, syn.mss, syn.size) == (True, MSS, 60)  # MSS, SACK-permitted, timestamps, window scale
    data = [h for kind, h in sent if kind == "DATA"]
    assert all(h.ts for h in data)
    assert max(h.size for h in data) == 1500


def test_a_syn_without_the_mss_option_makes_the_handshake_of_ns3s_frames(network_of: Build) -> None:
    """ns-3 announces no MSS: its SYN is 56 bytes (window scale, SACK-permitted, timestamps)."""
    net = network_of(pair(bandwidth="10Mbps", delay="1ms", tcp={"timestamps": True, "mss_option": False}))
    r = net.transfer("client", "server", 5001, 100_000)
    assert r.connect_time == pytest.approx(2 * (0.001 + 2 * seconds_on_wire(56, B)), abs=1e-12)
    assert r.mss == MSS - 12  # each side keeps its own MSS
    assert r.completed


def test_the_closer_waits_in_time_wait_then_frees_its_port(network_of: Build) -> None:
    net = network_of(pair(bandwidth="1Gbps"))
    sim, conn, servers = _open(net, write=10_000, close=True)
    sim.env.run(until=1.0)
    assert conn.state is State.TIME_WAIT
    assert servers[0].state is State.CLOSED
    assert conn.key in sim.connections
    sim.env.run(until=61.5)
    assert conn.state is State.CLOSED
    assert conn.key not in sim.connections
    again = sim.ephemeral.allocate(conn.local, conn.remote, conn.remote_port)
    assert again is not None


def test_a_closed_port_refuses_a_transfer(network_of: Build) -> None:
    net = network_of(pair(bandwidth="1Gbps"))
    r = net.transfer("client", "server", 5002, 1000)
    assert r.outcome == "refused"
    assert r.reason is not None
    assert r.reason.value == "port_closed"
    assert r.delivered == 0


def test_segments_of_a_connection_the_server_no_longer_has_draw_a_reset(network_of: Build) -> None:
    net = network_of(pair(bandwidth="1Gbps"))
    sim, conn, _ = _open(net, write=10_000, close=True)
    sim.env.run(until=1.0)
    before = len(sim.outcomes)
    from vpcsim.sim.packet import Header
    from vpcsim.trace import Cause, Originated

    stray = Header(conn.local, conn.remote, conn.local_port, conn.remote_port, ACK, conn.snd_nxt, 1, 64, TCP, None, 100)
    sim.send(stray, "client", Originated("client", "DATA", Cause.STREAM), attempt=1)
    sim.env.run(until=2.0)
    kinds = [(o.origin, o.kind) for o in sim.outcomes[before:]]
    assert ("server", "RST") in kinds


def test_sack_recovers_a_burst_of_losses_without_a_timeout(network_of: Build) -> None:
    # A shallow queue at the sender's link: slow start overflows it and loses dozens of segments.
    data = pair(bandwidth="10Gbps", delay="0.015ms")
    data["settings"]["links"] = {}
    data["instances"]["client"]["link"] = {"bandwidth": 50, "queue": 19, "overhead": 14}
    for cc in ("cubic", "reno"):
        data["settings"]["tcp"]["congestion_control"] = cc
        r = network_of(data).transfer("client", "server", 5001, 4_000_000)
        assert r.completed, cc
        assert r.drops["queue_full"] > 20, cc
        assert r.timeouts == 0, cc
        assert r.goodput_bps > 0.9 * 50e6 * MSS / (MSS + 40 + 14), cc  # nine tenths of what the frames allow


def test_without_sack_newreno_still_delivers_every_byte(network_of: Build) -> None:
    net = network_of(pair(bandwidth="10Mbps", queue=5, tcp={"sack": False}))
    r = net.transfer("client", "server", 5001, 300_000, capture=True)
    assert r.completed
    assert r.drops["queue_full"] > 0
    assert r.fast_retransmits > 0  # three duplicate ACKs, though each advertises a narrower window
    assert not any(h.sack for _, _, h, _ in r.captures)


def test_acks_carry_sack_blocks_for_what_arrived_out_of_order(network_of: Build) -> None:
    net = network_of(pair(bandwidth="10Mbps", queue=5))
    r = net.transfer("client", "server", 5001, 300_000, capture=True)
    sacks = [h.sack for _, point, h, _ in r.captures if point == "server:eth0" and h.sack]
    assert sacks
    assert all(len(blocks) <= 4 and all(a < b for a, b in blocks) for blocks in sacks)
