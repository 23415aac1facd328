"""Step 5 of the bundled Private Link + CCN best practice, as its user would check it."""

from __future__ import annotations

from vpcsim import Network, assert_reachable
from vpcsim.report.steps import step_text
from vpcsim.trace import Hop, StepKind


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


def test_the_handshakes_ack_passes_both_security_groups_as_an_established_connection(seed_net: Network) -> None:
    """The SYN meets the rules; once its SYN-ACK is back, the ACK belongs to an established connection."""
    syn, synack, ack = assert_reachable(seed_net, "cvm-vpc3", "172.16.2.16:1044").packets
    established = "matches an established connection: security groups are stateful, rules are not consulted"
    reply = "reply of a connection the security groups admitted: stateful, rules are not consulted"

    def checks(hop: Hop) -> list[tuple[StepKind, str]]:
        return [(s.kind, step_text(s)) for s in hop.steps if s.kind in (StepKind.FILTER, StepKind.SESSION)]

    assert checks(syn.hops[0]) == [
        (StepKind.FILTER, "sg-client egress rule #0 (accept all to 0.0.0.0/0) accepts"),
    ]
    assert checks(syn.hops[-1]) == [
        (StepKind.FILTER, "sg-backend ingress rule #0 (accept tcp/8080 from 11.163.0.0/16) accepts"),
    ]
    assert checks(synack.hops[0]) == [(StepKind.SESSION, reply)]
    assert checks(synack.hops[-1]) == [(StepKind.SESSION, reply)]
    assert ack.nodes[0] == "cvm-vpc3"
    assert checks(ack.hops[0]) == [(StepKind.SESSION, established)]
    assert ack.nodes[-1] == "cvm-backend1"
    assert checks(ack.hops[-1]) == [(StepKind.SESSION, established)]
