"""Step 5 of the bundled Private Link + CCN best practice, as its user would check it."""

from __future__ import annotations

from vpcsim import Network, assert_reachable


def test_vpc1_server_reaches_the_service_through_its_endpoint(seed_net: Network) -> None:
    r = assert_reachable(seed_net, "cvm-vpc1", "172.16.2.16:1044")
    assert [h.node for h in r.packets[0].hops] == [
        "cvm-vpc1",
        "vpc1",
        "vpce-vpc1",
        "lb-service",
        "vpc2",
        "cvm-backend1",
    ]


def test_vpc3_server_reaches_the_service_through_vpc1_endpoint_over_ccn(seed_net: Network) -> None:
    r = assert_reachable(seed_net, "cvm-vpc3", "172.16.2.16:1044")
    syn, synack, ack = r.packets
    assert syn.nodes == (
        "cvm-vpc3",
        "vpc3",
        "ccn-chengdu-chongqing",
        "vpc1",
        "vpce-vpc1",
        "lb-service",
        "vpc2",
        "cvm-backend1",
    )
    assert synack.nodes == (
        "cvm-backend1",
        "vpc2",
        "lb-service",
        "vpce-vpc1",
        "vpc1",
        "ccn-chengdu-chongqing",
        "vpc3",
        "cvm-vpc3",
    )
    assert ack.nodes == syn.nodes
