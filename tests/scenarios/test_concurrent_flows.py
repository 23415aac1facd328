"""Several connects in one network at once: the load balancer schedules them in the order their
SYNs arrive, not the order they were sent; ports never collide; an endpoint can run out of ports."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from vpcsim import Network, Reason, Verdict
from vpcsim.probes import Flow, ProbeResult
from vpcsim.trace import Chosen

VIP, VPORT = "172.16.2.16", 1044


def backend_of(r: ProbeResult) -> str:
    """The backend the load balancer chose for this connect (its typed load-balancing step)."""
    chosen = [s.data for p in r.packets for h in p.hops for s in h.steps if isinstance(s.data, Chosen)]
    assert len(chosen) == 1, chosen
    return chosen[0].backend


def lb_arrival(r: ProbeResult) -> float:
    syn = r.packets[0]
    return next(h.time for h in syn.hops if h.node == "lb-service")


def test_the_load_balancer_schedules_in_arrival_order_not_sending_order(seed_net: Network) -> None:
    # cvm-vpc3 sends first, but its SYN crosses Chengdu-Chongqing; cvm-vpc1's, sent 1 ms later,
    # reaches the load balancer first and takes the first pick of round robin.
    far, near = seed_net.simulate([Flow("cvm-vpc3", VIP, VPORT, 0.0), Flow("cvm-vpc1", VIP, VPORT, "1ms")])
    assert far.connected
    assert near.connected
    assert near.packets[0].sent_at > far.packets[0].sent_at
    assert lb_arrival(near) < lb_arrival(far)
    assert backend_of(near) == "cvm-backend1:8080"  # the first of two equal weights
    assert backend_of(far) == "cvm-backend2:8080"


def test_alone_each_client_gets_the_first_pick(seed_net: Network) -> None:
    """The contrast: apart, both connects meet a fresh scheduler."""
    assert backend_of(seed_net.telnet("cvm-vpc3", VIP, VPORT)) == "cvm-backend1:8080"
    assert backend_of(seed_net.telnet("cvm-vpc1", VIP, VPORT, at="1ms")) == "cvm-backend1:8080"


def test_ten_thousand_concurrent_connects_through_the_endpoint_never_share_a_port(seed_net: Network) -> None:
    flows = [Flow("cvm-vpc1" if i % 2 else "cvm-vpc3", VIP, VPORT, i * 1e-6) for i in range(10_000)]
    started = time.perf_counter()
    results = seed_net.simulate(flows)
    elapsed = time.perf_counter() - started
    assert all(r.connected for r in results), Counter((r.verdict, r.reason) for r in results)
    # The clients' ephemeral ports: one per live flow to the same destination.
    for client in ("cvm-vpc1", "cvm-vpc3"):
        ports = [r.local_port for r in results if r.source == client]
        assert len(set(ports)) == len(ports) == 5_000
        assert all(32768 <= p <= 60999 for p in ports)
    # The endpoint's translations: one SNAT port per flow, as the SYNs left the endpoint.
    snat = [_snat_port(r) for r in results]
    assert len(set(snat)) == len(snat)
    # Round robin over two equal backends splits the connects evenly.
    assert Counter(backend_of(r) for r in results) == {"cvm-backend1:8080": 5_000, "cvm-backend2:8080": 5_000}
    assert elapsed < 300, "a guard against a hang, not a timing target"


def _snat_port(r: ProbeResult) -> int:
    from vpcsim.trace import Translated

    for h in r.packets[0].hops:
        for s in h.steps:
            if isinstance(s.data, Translated) and s.data.node == "vpce-vpc1":
                return int(next(d.new for d in s.data.diffs if d.field == "sport"))
    raise AssertionError("no endpoint translation on the SYN's path")


def test_an_endpoint_out_of_snat_ports_drops_the_next_new_flow(
    seed_data: dict[str, Any], network_of: Callable[[dict[str, Any]], Network]
) -> None:
    seed_data["settings"]["snat_ports"] = "2000-2009"  # ten ports on the endpoint's SNAT address
    net = network_of(seed_data)
    results = net.simulate([Flow("cvm-vpc1", VIP, VPORT, i * 1e-3) for i in range(11)])
    assert [r.verdict for r in results[:10]] == [Verdict.CONNECTED] * 10
    last = results[10]
    assert (last.verdict, last.reason) == (Verdict.TIMEOUT, Reason.SNAT_PORTS_EXHAUSTED)
    assert last.blocked_at == "vpce-vpc1"
    assert "all 10 ports are in use" in last.detail
    # Alone, the same connect has the whole pool.
    assert net.telnet("cvm-vpc1", VIP, VPORT).connected


def test_a_verdict_without_a_trace_is_the_same_verdict(seed_net: Network) -> None:
    for source, host, port in [("cvm-vpc3", VIP, 1044), ("cvm-vpc3", VIP, 1045), ("cvm-vpc1", "10.0.1.100", 1044)]:
        full = seed_net.telnet(source, host, port)
        bare = seed_net.telnet(source, host, port, trace=False)
        assert bare.packets == ()
        assert (bare.verdict, bare.reason, bare.detail, bare.blocked_at, bare.ref, bare.connect_time) == (
            full.verdict,
            full.reason,
            full.detail,
            full.blocked_at,
            full.ref,
            full.connect_time,
        )
