"""A backend calling its own load balancer's VIP: only connections scheduled elsewhere can work."""

from __future__ import annotations

from typing import Any

from vpcsim import Network


def test_a_backend_scheduled_to_itself_times_out_naming_the_listener(seed_net: Network) -> None:
    r = seed_net.telnet("cvm-backend1", "lb-service", 1044)
    assert (r.verdict.value, r.reason.value) == ("timeout", "lb_loopback")
    assert r.blocked_at == "lb-service"
    assert r.ref == "lb-service listener lbl-1044"
    assert "cvm-backend1:8080" in r.detail


def test_a_backend_scheduled_to_another_backend_passes_the_load_balancer(
    seed_data: dict[str, Any], network_of: Any
) -> None:
    # Admit VPC2's own range on the backends, so the only question left is the loopback.
    seed_data["security_groups"]["sg-backend"]["ingress"].insert(
        0, {"action": "accept", "protocol": "tcp", "port": 8080, "source": "10.0.0.0/16"}
    )
    net: Network = network_of(seed_data)
    r = net.telnet("cvm-backend2", "lb-service", 1044)
    assert r.connected
    assert r.packets[0].nodes == ("cvm-backend2", "vpc2", "lb-service", "vpc2", "cvm-backend1")


def test_an_instance_dialling_its_own_address_uses_loopback_not_the_cloud(
    seed_data: dict[str, Any], network_of: Any
) -> None:
    seed_data["security_groups"]["sg-client"]["egress"] = []  # nothing may leave cvm-vpc1
    net: Network = network_of(seed_data)
    closed = net.telnet("cvm-vpc1", "172.16.2.10", 22)
    assert (closed.verdict.value, closed.reason.value) == ("refused", "port_closed")
    assert all(p.nodes == ("cvm-vpc1",) for p in closed.packets)
    backend = net.telnet("cvm-backend1", "cvm-backend1", 8080)
    assert backend.connected
    assert backend.connect_time == 0.0
