"""Network ACLs (Tencent 网络ACL): stateless, ordered, first match, bound to subnets.

The checks a user writes when an ACL goes on a subnet: the reply that needs a rule of its own, the
drop above the accept, the deny-all that ends every list, the subnet's inside that no ACL sees, both
directions, UDP and ping, the endpoint's and the CLB's subnets of the bundled scenario (vpcsim binds
an ACL to every address of its subnet), what the trace says and the load errors.

Most tests use a small VPC whose security groups admit everything, so each failure is an ACL's: a
web subnet (web1, web2) and a database subnet (db1). Every verdict is the engine's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from vpcsim import Network, ProbeResult, Reason, Verdict
from vpcsim.errors import VpcsimError
from vpcsim.frontends import from_data
from vpcsim.report.steps import step_text
from vpcsim.trace import AclDenied, AclMatch, StepKind

Data = dict[str, Any]
Build = Callable[[Data], Network]

WEB, DB = "10.10.1.0/24", "10.10.3.0/24"
WEB1, WEB2, DB1 = "10.10.1.10", "10.10.1.11", "10.10.3.10"
EPHEMERAL = "1024-65535"
VIP = "172.16.2.16"
VPORT = 1044
CLIENTS = ("cvm-vpc1", "cvm-vpc3")
CLIENT_ADDRESS = {"cvm-vpc1": "172.16.2.10", "cvm-vpc3": "192.168.1.10"}


@pytest.fixture
def app_data() -> Data:
    """One VPC, two subnets, groups open both ways, listeners on TCP and UDP; no ACL yet."""
    return {
        "version": 1,
        "vpcs": {
            "vpc-app": {
                "region": "ap-chengdu",
                "account": "100012345678",
                "cidr": "10.10.0.0/16",
                "subnets": {
                    "subnet-web": {"cidr": WEB, "zone": "ap-chengdu-1"},
                    "subnet-db": {"cidr": DB, "zone": "ap-chengdu-2"},
                },
            }
        },
        "security_groups": {
            "sg-open": {
                "ingress": [{"action": "accept", "protocol": "all", "source": "0.0.0.0/0"}],
                "egress": [{"action": "accept", "protocol": "all", "destination": "0.0.0.0/0"}],
            }
        },
        "instances": {
            "web1": {"vpc": "vpc-app", "subnet": "subnet-web", "ip": WEB1, "security_groups": ["sg-open"]},
            "web2": {
                "vpc": "vpc-app",
                "subnet": "subnet-web",
                "ip": WEB2,
                "security_groups": ["sg-open"],
                "listen": [8080, "udp/53"],
            },
            "db1": {
                "vpc": "vpc-app",
                "subnet": "subnet-db",
                "ip": DB1,
                "security_groups": ["sg-open"],
                "listen": [3306, "udp/53"],
            },
        },
    }


def rule(action: str, protocol: str, peer: str, port: int | str | None = None, *, egress: bool = False) -> Data:
    r: Data = {"action": action, "protocol": protocol}
    if port is not None:
        r["port"] = port
    r["destination" if egress else "source"] = peer
    return r


def accept_in(protocol: str, source: str, port: int | str | None = None) -> Data:
    return rule("accept", protocol, source, port)


def accept_out(protocol: str, destination: str, port: int | str | None = None) -> Data:
    return rule("accept", protocol, destination, port, egress=True)


OPEN_IN = [accept_in("all", "0.0.0.0/0")]
OPEN_OUT = [accept_out("all", "0.0.0.0/0")]


def bind(data: Data, aid: str, vpc: str, subnet: str, *, ingress: list[Data], egress: list[Data]) -> Data:
    data.setdefault("network_acls", {})[aid] = {
        "vpc": vpc,
        "subnets": [subnet],
        "ingress": [dict(r) for r in ingress],
        "egress": [dict(r) for r in egress],
    }
    return data


CONNECTED = (Verdict.CONNECTED, Reason.ESTABLISHED)
ANSWERED = (Verdict.ANSWERED, Reason.ANSWERED)
REFUSED = (Verdict.REFUSED, Reason.PORT_CLOSED)
IN_DENIED = (Verdict.TIMEOUT, Reason.ACL_INGRESS_DENIED)
OUT_DENIED = (Verdict.TIMEOUT, Reason.ACL_EGRESS_DENIED)


def ends(r: ProbeResult) -> tuple[Verdict, Reason]:
    return r.verdict, r.reason


def denied(r: ProbeResult) -> AclDenied:
    """The typed record of the drop that decided the probe."""
    data = r.packets[r.decisive].hops[-1].steps[-1].data
    assert isinstance(data, AclDenied), data
    return data


# -- stateless: the reply needs its own rule ---------------------------------------------------------


def test_an_acl_that_forgets_the_return_traffic_drops_the_syn_ack(app_data: Data, network_of: Build) -> None:
    """The SYN gets out and in; the SYN-ACK comes back to the client's ephemeral port, which the web
    subnet's ingress list does not admit: connect() times out, however often it retries."""
    bind(app_data, "acl-web", "vpc-app", "subnet-web", ingress=[], egress=[accept_out("tcp", DB, 3306)])
    r = network_of(app_data).telnet("web1", "db1", 3306)
    assert (r.verdict, r.reason, r.blocked_at) == (Verdict.TIMEOUT, Reason.ACL_INGRESS_DENIED, "vpc-app")
    assert r.packets[0].kind == "SYN"
    assert r.packets[0].nodes == ("web1", "vpc-app", "db1")  # the request was delivered
    assert r.packets[r.decisive].kind == "SYN-ACK"
    assert {p.kind for p in r.packets} == {"SYN", "SYN-ACK"}  # every retry ends the same way
    d = denied(r)
    assert (d.match.acl, d.match.direction, d.match.number) == ("acl-web", "ingress", -1)
    assert d.peer == DB1
    assert d.port == r.local_port  # the client's ephemeral port, not 3306
    assert d.port >= 1024
    assert "network ACLs are stateless, so return traffic needs a rule of its own" in r.detail

    app_data["network_acls"]["acl-web"]["ingress"] = [accept_in("tcp", DB, EPHEMERAL)]
    r = network_of(app_data).telnet("web1", "db1", 3306)
    assert ends(r) == CONNECTED
    assert [p.kind for p in r.packets] == ["SYN", "SYN-ACK", "ACK"]


def test_the_servers_subnet_needs_an_egress_rule_for_its_replies(app_data: Data, network_of: Build) -> None:
    bind(app_data, "acl-db", "vpc-app", "subnet-db", ingress=[accept_in("tcp", WEB, 3306)], egress=[])
    r = network_of(app_data).telnet("web1", "db1", 3306)
    assert ends(r) == OUT_DENIED
    assert r.packets[r.decisive].kind == "SYN-ACK"
    assert r.packets[r.decisive].nodes == ("db1", "vpc-app")
    assert denied(r).peer == WEB1

    app_data["network_acls"]["acl-db"]["egress"] = [accept_out("tcp", WEB, EPHEMERAL)]
    r = network_of(app_data).telnet("web1", "db1", 3306)
    assert ends(r) == CONNECTED


def test_an_inbound_accept_does_not_let_its_replies_out(app_data: Data, network_of: Build) -> None:
    """No connection tracking: the web subnet admits db1's SYNs to 8080 but its egress list, written
    for web1's own MySQL requests, does not pass the SYN-ACKs; and web1's requests, let out, get no
    reply in through an ingress list written for 8080."""
    bind(
        app_data,
        "acl-web",
        "vpc-app",
        "subnet-web",
        ingress=[accept_in("tcp", DB, 8080)],
        egress=[accept_out("tcp", DB, 3306)],
    )
    net = network_of(app_data)
    r = net.telnet("db1", "web2", 8080)  # in on 8080, but the SYN-ACK leaves to an ephemeral port
    assert ends(r) == OUT_DENIED
    assert r.packets[r.decisive].kind == "SYN-ACK"
    r = net.telnet("web1", "db1", 3306)
    assert ends(r) == IN_DENIED


# -- first match, then the immutable deny-all --------------------------------------------------------


def test_a_drop_above_an_accept_wins(app_data: Data, network_of: Build) -> None:
    bind(
        app_data,
        "acl-db",
        "vpc-app",
        "subnet-db",
        ingress=[rule("drop", "tcp", WEB1 + "/32", 3306), accept_in("all", "0.0.0.0/0")],
        egress=OPEN_OUT,
    )
    net = network_of(app_data)
    r = net.telnet("web1", "db1", 3306)
    assert ends(r) == IN_DENIED
    assert r.packets[r.decisive].kind == "SYN"
    d = denied(r)
    assert (d.match.number, d.match.accept) == (0, False)
    assert r.ref == "network ACL acl-db ingress rule #0"
    # The drop is narrow: another client, and another protocol from the same one, reach the accept.
    assert ends(net.telnet("web2", "db1", 3306)) == CONNECTED
    assert ends(net.nc("web1", "db1", 53, udp=True)) == ANSWERED

    app_data["network_acls"]["acl-db"]["ingress"].reverse()  # the accept first: the drop never bites
    r = network_of(app_data).telnet("web1", "db1", 3306)
    assert ends(r) == CONNECTED


def test_an_accept_above_a_drop_wins_and_later_rules_are_not_read(app_data: Data, network_of: Build) -> None:
    bind(
        app_data,
        "acl-db",
        "vpc-app",
        "subnet-db",
        ingress=[accept_in("tcp", WEB, "3000-3999"), rule("drop", "all", "0.0.0.0/0"), accept_in("udp", WEB, 53)],
        egress=OPEN_OUT,
    )
    net = network_of(app_data)
    r = net.telnet("web1", "db1", 3306)
    assert ends(r) == CONNECTED
    steps = [s.data for h in r.packets[0].hops for s in h.steps if isinstance(s.data, AclMatch)]
    assert [(m.acl, m.direction, m.number, m.accept) for m in steps] == [("acl-db", "ingress", 0, True)]
    r = net.nc("web1", "db1", 53, udp=True)  # rule #2 would accept it; rule #1 drops it first
    assert ends(r) == IN_DENIED
    assert r.ref == "network ACL acl-db ingress rule #1"


@pytest.mark.parametrize("direction", ["ingress", "egress"])
def test_an_empty_list_is_the_deny_all_alone(app_data: Data, network_of: Build, direction: str) -> None:
    lists: dict[str, list[Data]] = {"ingress": OPEN_IN, "egress": OPEN_OUT}
    lists[direction] = []
    bind(app_data, "acl-db", "vpc-app", "subnet-db", ingress=lists["ingress"], egress=lists["egress"])
    net = network_of(app_data)
    reason = Reason.ACL_INGRESS_DENIED if direction == "ingress" else Reason.ACL_EGRESS_DENIED
    for r in (net.telnet("web1", "db1", 3306), net.nc("web1", "db1", 53, udp=True), net.ping("web1", "db1")):
        assert (r.verdict, r.reason) == (Verdict.TIMEOUT, reason), r.protocol
        d = denied(r)
        assert (d.match.number, d.match.accept, d.match.protocol, d.match.peer) == (-1, False, "all", "0.0.0.0/0")
        assert r.ref == f"network ACL acl-db {direction} deny-all"


def test_the_deny_all_ends_a_list_whose_rules_do_not_match(app_data: Data, network_of: Build) -> None:
    bind(app_data, "acl-db", "vpc-app", "subnet-db", ingress=[accept_in("tcp", WEB, 3306)], egress=OPEN_OUT)
    net = network_of(app_data)
    assert ends(net.telnet("web1", "db1", 3306)) == CONNECTED
    for r in (net.telnet("web1", "db1", 3307), net.nc("web1", "db1", 53, udp=True), net.ping("web1", "db1")):
        assert ends(r) == IN_DENIED, r.protocol
        assert denied(r).match.number == -1
    # Without the ACL 3307 is refused: with it the SYN never gets to db1 to be refused.
    del app_data["network_acls"]
    r = network_of(app_data).telnet("web1", "db1", 3307)
    assert ends(r) == REFUSED


# -- where ACLs apply ----------------------------------------------------------------------------------


def test_an_acl_does_not_apply_between_two_addresses_of_its_subnet(app_data: Data, network_of: Build) -> None:
    bind(app_data, "acl-web", "vpc-app", "subnet-web", ingress=[], egress=[])
    net = network_of(app_data)
    r = net.telnet("web1", "web2", 8080)
    assert ends(r) == CONNECTED
    assert not [s for p in r.packets for h in p.hops for s in h.steps if isinstance(s.data, AclMatch)]
    r = net.nc("web1", "web2", 53, udp=True)
    assert ends(r) == ANSWERED
    r = net.ping("web1", "web2")
    assert ends(r) == ANSWERED
    r = net.nc("web1", "web2", 54, udp=True)  # the port unreachable stays inside the subnet too
    assert ends(r) == REFUSED
    r = net.telnet("web1", "db1", 3306)  # leaving the subnet, the same ACL drops
    assert ends(r) == OUT_DENIED


def test_egress_is_checked_as_the_packet_leaves_the_senders_subnet(app_data: Data, network_of: Build) -> None:
    bind(app_data, "acl-web", "vpc-app", "subnet-web", ingress=OPEN_IN, egress=[accept_out("udp", DB, 53)])
    net = network_of(app_data)
    r = net.telnet("web1", "db1", 3306)
    assert (r.verdict, r.reason, r.blocked_at) == (Verdict.TIMEOUT, Reason.ACL_EGRESS_DENIED, "vpc-app")
    assert r.packets[r.decisive].kind == "SYN"
    assert r.packets[r.decisive].nodes == ("web1", "vpc-app")  # never reached db1
    d = denied(r)
    assert (d.node, d.match.direction, d.match.subnet, d.protocol, d.port, d.peer) == (
        "vpc-app",
        "egress",
        WEB,
        "tcp",
        3306,
        DB1,
    )
    assert "on its way out of 10.10.1.0/24" in r.detail
    r = net.nc("web1", "db1", 53, udp=True)
    assert ends(r) == ANSWERED


def test_ingress_is_checked_as_the_packet_enters_the_receivers_subnet(app_data: Data, network_of: Build) -> None:
    bind(app_data, "acl-db", "vpc-app", "subnet-db", ingress=[accept_in("udp", WEB, 53)], egress=OPEN_OUT)
    net = network_of(app_data)
    r = net.telnet("web1", "db1", 3306)
    assert (r.verdict, r.reason, r.blocked_at) == (Verdict.TIMEOUT, Reason.ACL_INGRESS_DENIED, "vpc-app")
    assert r.packets[r.decisive].kind == "SYN"
    assert r.packets[r.decisive].nodes == ("web1", "vpc-app")
    d = denied(r)
    assert (d.match.direction, d.match.subnet, d.protocol, d.port, d.peer) == ("ingress", DB, "tcp", 3306, WEB1)
    assert "on its way into 10.10.3.0/24" in r.detail
    # The rule admits the web subnet only: the ACL's peer is the packet's source.
    r = net.nc("web1", "db1", 53, udp=True)
    assert ends(r) == ANSWERED
    app_data["network_acls"]["acl-db"]["ingress"] = [accept_in("udp", "10.10.2.0/24", 53)]
    r = network_of(app_data).nc("web1", "db1", 53, udp=True)
    assert ends(r) == IN_DENIED


def test_the_acl_rule_ports_are_the_packets_destination_port(app_data: Data, network_of: Build) -> None:
    """An egress rule on 3306 admits the request, not the reply from 3306 (its source port)."""
    bind(
        app_data,
        "acl-db",
        "vpc-app",
        "subnet-db",
        ingress=[accept_in("tcp", WEB, 3306)],
        egress=[accept_out("tcp", WEB, 3306)],
    )
    r = network_of(app_data).telnet("web1", "db1", 3306)
    assert ends(r) == OUT_DENIED
    assert denied(r).port == r.local_port


# -- UDP and ICMP ------------------------------------------------------------------------------------


def test_a_udp_answer_needs_the_return_rule(app_data: Data, network_of: Build) -> None:
    bind(app_data, "acl-db", "vpc-app", "subnet-db", ingress=[accept_in("udp", WEB, 53)], egress=[])
    r = network_of(app_data).nc("web1", "db1", 53, udp=True)
    assert ends(r) == OUT_DENIED
    assert [p.kind for p in r.packets] == ["UDP", "UDP"]
    assert r.packets[0].nodes[-1] == "db1"  # the datagram arrived; its answer did not get out
    assert r.connect_time == 2.0  # nc -u's wait

    app_data["network_acls"]["acl-db"]["egress"] = [accept_out("udp", WEB, EPHEMERAL)]
    r = network_of(app_data).nc("web1", "db1", 53, udp=True)
    assert ends(r) == ANSWERED


def test_a_closed_udp_ports_unreachable_is_dropped_unless_icmp_is_allowed(app_data: Data, network_of: Build) -> None:
    """The ICMP port unreachable is a packet like any other: without an icmp rule the client hears
    nothing and times out instead of being refused."""
    r = network_of(app_data).nc("web1", "db1", 54, udp=True)
    assert ends(r) == REFUSED  # no ACL yet

    bind(
        app_data,
        "acl-db",
        "vpc-app",
        "subnet-db",
        ingress=[accept_in("udp", WEB)],
        egress=[accept_out("udp", WEB, EPHEMERAL)],
    )
    net = network_of(app_data)
    assert ends(net.nc("web1", "db1", 53, udp=True)) == ANSWERED
    r = net.nc("web1", "db1", 54, udp=True)
    assert ends(r) == OUT_DENIED
    assert [p.kind for p in r.packets] == ["UDP", "UNREACHABLE"]
    d = denied(r)
    assert (d.protocol, d.match.number) == ("icmp", -1)

    app_data["network_acls"]["acl-db"]["egress"].append(accept_out("icmp", WEB))
    r = network_of(app_data).nc("web1", "db1", 54, udp=True)
    assert (r.verdict, r.reason, r.blocked_at) == (Verdict.REFUSED, Reason.PORT_CLOSED, "db1")


def test_the_clients_subnet_must_let_the_unreachable_in_too(app_data: Data, network_of: Build) -> None:
    bind(
        app_data,
        "acl-web",
        "vpc-app",
        "subnet-web",
        ingress=[accept_in("udp", DB, EPHEMERAL)],
        egress=[accept_out("udp", DB)],
    )
    r = network_of(app_data).nc("web1", "db1", 54, udp=True)
    assert ends(r) == IN_DENIED
    assert r.packets[r.decisive].kind == "UNREACHABLE"
    app_data["network_acls"]["acl-web"]["ingress"].insert(0, accept_in("icmp", DB))
    r = network_of(app_data).nc("web1", "db1", 54, udp=True)
    assert ends(r) == REFUSED


def test_ping_needs_icmp_both_ways(app_data: Data, network_of: Build) -> None:
    bind(app_data, "acl-db", "vpc-app", "subnet-db", ingress=[accept_in("icmp", WEB)], egress=[])
    r = network_of(app_data).ping("web1", "db1")
    assert ends(r) == OUT_DENIED
    assert [p.kind for p in r.packets] == ["ECHO", "ECHO-REPLY"]
    assert denied(r).protocol == "icmp"

    app_data["network_acls"]["acl-db"]["egress"] = [accept_out("tcp", WEB, EPHEMERAL)]
    r = network_of(app_data).ping("web1", "db1")  # a tcp rule is no icmp rule
    assert ends(r) == OUT_DENIED

    app_data["network_acls"]["acl-db"]["egress"] = [accept_out("icmp", WEB)]
    r = network_of(app_data).ping("web1", "db1", count=2)
    assert ends(r) == ANSWERED
    # Nor is an icmp rule a tcp one.
    assert ends(network_of(app_data).telnet("web1", "db1", 3306)) == IN_DENIED


def test_protocol_all_matches_tcp_udp_and_icmp(app_data: Data, network_of: Build) -> None:
    bind(
        app_data,
        "acl-db",
        "vpc-app",
        "subnet-db",
        ingress=[accept_in("all", WEB)],
        egress=[accept_out("all", WEB)],
    )
    net = network_of(app_data)
    assert ends(net.telnet("web1", "db1", 3306)) == CONNECTED
    assert ends(net.telnet("web1", "db1", 3307)) == REFUSED  # the RST is tcp too
    assert ends(net.nc("web1", "db1", 53, udp=True)) == ANSWERED
    assert ends(net.nc("web1", "db1", 54, udp=True)) == REFUSED  # the port unreachable is icmp
    assert ends(net.ping("web1", "db1")) == ANSWERED


# -- the endpoint's and the CLB's subnets of the bundled scenario -------------------------------------


def test_an_acl_on_the_endpoints_subnet_checks_clients_from_the_ccn(seed_data: Data, network_of: Build) -> None:
    """subnet-consumer holds cvm-vpc1 and the endpoint VIP: cvm-vpc1 is inside it, cvm-vpc3 comes over
    the CCN and meets the ACL on the way in (the request) and on the way out (the endpoint's reply)."""
    bind(
        seed_data,
        "acl-consumer",
        "vpc1",
        "subnet-consumer",
        ingress=[accept_in("tcp", "172.16.0.0/16")],
        egress=OPEN_OUT,
    )
    net = network_of(seed_data)
    assert ends(net.telnet("cvm-vpc1", VIP, VPORT)) == CONNECTED
    r = net.telnet("cvm-vpc3", VIP, VPORT)
    assert (r.verdict, r.reason, r.blocked_at) == (Verdict.TIMEOUT, Reason.ACL_INGRESS_DENIED, "vpc1")
    assert r.packets[r.decisive].kind == "SYN"
    assert r.packets[r.decisive].nodes == ("cvm-vpc3", "vpc3", "ccn-chengdu-chongqing", "vpc1")
    assert denied(r).peer == CLIENT_ADDRESS["cvm-vpc3"]  # the client's real address, before SNAT

    seed_data["network_acls"]["acl-consumer"]["ingress"].append(accept_in("tcp", "192.168.1.0/24", VPORT))
    seed_data["network_acls"]["acl-consumer"]["egress"] = [accept_out("tcp", "172.16.0.0/16")]
    r = network_of(seed_data).telnet("cvm-vpc3", VIP, VPORT)
    assert (r.verdict, r.reason, r.blocked_at) == (Verdict.TIMEOUT, Reason.ACL_EGRESS_DENIED, "vpc1")
    assert r.packets[r.decisive].kind == "SYN-ACK"
    assert r.packets[r.decisive].nodes[:3] == ("cvm-backend1", "vpc2", "lb-service")
    assert r.packets[r.decisive].nodes[-2:] == ("vpce-vpc1", "vpc1")  # the endpoint's reply, leaving

    seed_data["network_acls"]["acl-consumer"]["egress"].append(accept_out("tcp", "192.168.1.0/24", EPHEMERAL))
    r = network_of(seed_data).telnet("cvm-vpc3", VIP, VPORT)
    assert ends(r) == CONNECTED


def test_an_acl_on_the_clients_subnet_in_vpc3_needs_the_vips_replies(seed_data: Data, network_of: Build) -> None:
    bind(seed_data, "acl-cq", "vpc3", "subnet-cq", ingress=[], egress=[accept_out("tcp", VIP + "/32", VPORT)])
    r = network_of(seed_data).telnet("cvm-vpc3", VIP, VPORT)
    assert (r.verdict, r.reason, r.blocked_at) == (Verdict.TIMEOUT, Reason.ACL_INGRESS_DENIED, "vpc3")
    assert denied(r).peer == VIP  # the reply comes from the endpoint VIP, not from the backend
    seed_data["network_acls"]["acl-cq"]["ingress"] = [accept_in("tcp", VIP + "/32", EPHEMERAL)]
    r = network_of(seed_data).telnet("cvm-vpc3", VIP, VPORT)
    assert ends(r) == CONNECTED


@pytest.mark.parametrize("client", CLIENTS)
def test_an_acl_on_the_clbs_subnet_checks_the_way_to_the_backends(
    seed_data: Data, network_of: Build, client: str
) -> None:
    """subnet-clb holds the CLB VIP only: the CLB's packets to the backends leave it, and the
    backends' replies, steered back through the CLB, enter it on the Private Link SNAT port."""
    bind(seed_data, "acl-clb", "vpc2", "subnet-clb", ingress=OPEN_IN, egress=[accept_out("tcp", "10.0.2.0/24", 80)])
    r = network_of(seed_data).telnet(client, VIP, VPORT)
    assert (r.verdict, r.reason, r.blocked_at) == (Verdict.TIMEOUT, Reason.ACL_EGRESS_DENIED, "vpc2")
    assert r.packets[r.decisive].kind == "SYN"
    assert r.packets[r.decisive].nodes[-2:] == ("lb-service", "vpc2")
    d = denied(r)
    assert (d.match.acl, d.match.subnet, d.port, d.peer) == ("acl-clb", "10.0.1.0/24", 8080, "10.0.2.11")

    seed_data["network_acls"]["acl-clb"] = {
        "vpc": "vpc2",
        "subnets": ["subnet-clb"],
        "ingress": [],
        "egress": [accept_out("tcp", "10.0.2.0/24", 8080)],
    }
    # The Private Link leg reaches the CLB without a router: the CLB checks its subnet's ACL itself,
    # against the SNAT source.
    r = network_of(seed_data).telnet(client, VIP, VPORT)
    assert (r.verdict, r.reason, r.blocked_at) == (Verdict.TIMEOUT, Reason.ACL_INGRESS_DENIED, "lb-service")
    assert r.packets[r.decisive].kind == "SYN"
    assert denied(r).node == "lb-service"
    assert denied(r).peer.startswith("11.163.")

    seed_data["network_acls"]["acl-clb"]["ingress"] = [accept_in("tcp", "11.163.0.0/16", VPORT)]
    r = network_of(seed_data).telnet(client, VIP, VPORT)
    assert (r.verdict, r.reason, r.blocked_at) == (Verdict.TIMEOUT, Reason.ACL_INGRESS_DENIED, "vpc2")
    assert r.packets[r.decisive].kind == "SYN-ACK"
    assert r.packets[r.decisive].nodes == ("cvm-backend1", "vpc2")
    assert denied(r).peer == "10.0.2.11"

    seed_data["network_acls"]["acl-clb"]["ingress"].append(accept_in("tcp", "10.0.2.0/24", EPHEMERAL))
    r = network_of(seed_data).telnet(client, VIP, VPORT)
    assert (r.verdict, r.reason, r.blocked_at) == (Verdict.TIMEOUT, Reason.ACL_EGRESS_DENIED, "lb-service")
    assert r.packets[r.decisive].kind == "SYN-ACK"  # leaving the subnet toward the endpoint, untracked

    seed_data["network_acls"]["acl-clb"]["egress"].append(accept_out("tcp", "11.163.0.0/16", EPHEMERAL))
    r = network_of(seed_data).telnet(client, VIP, VPORT)
    assert ends(r) == CONNECTED
    assert [ends(b) for b in r.branches] == [CONNECTED, CONNECTED]  # both backends


@pytest.mark.parametrize("client", CLIENTS)
def test_an_acl_on_the_backends_subnet_sees_the_snat_address(seed_data: Data, network_of: Build, client: str) -> None:
    bind(
        seed_data,
        "acl-app",
        "vpc2",
        "subnet-app",
        ingress=[accept_in("tcp", "10.0.1.0/24", 8080)],
        egress=[accept_out("tcp", "11.163.0.0/16", EPHEMERAL)],
    )
    r = network_of(seed_data).telnet(client, VIP, VPORT)
    assert (r.verdict, r.reason, r.blocked_at) == (Verdict.TIMEOUT, Reason.ACL_INGRESS_DENIED, "vpc2")
    assert denied(r).peer.startswith("11.163.0.")  # the CLB keeps Private Link's SNAT source
    seed_data["network_acls"]["acl-app"]["ingress"] = [accept_in("tcp", "11.163.0.0/16", 8080)]
    r = network_of(seed_data).telnet(client, VIP, VPORT)
    assert ends(r) == CONNECTED


# -- what the trace says ------------------------------------------------------------------------------


def test_the_trace_names_the_acl_the_rule_and_the_direction(app_data: Data, network_of: Build) -> None:
    bind(
        app_data,
        "acl-db",
        "vpc-app",
        "subnet-db",
        ingress=[accept_in("udp", WEB, 53), rule("drop", "tcp", WEB, "3000-3999")],
        egress=OPEN_OUT,
    )
    net = network_of(app_data)
    r = net.telnet("web1", "db1", 3306)
    assert ends(r) == IN_DENIED
    assert denied(r) == AclDenied(
        "vpc-app",
        AclMatch("acl-db", "ingress", 1, False, "tcp", 3000, 3999, WEB, DB),
        "tcp",
        3306,
        WEB1,
    )
    assert r.ref == "network ACL acl-db ingress rule #1"
    assert r.detail == (
        "SYN dropped at vpc-app: network ACL acl-db ingress rule #1 (drop tcp/3000-3999 from "
        "10.10.1.0/24) drops it on its way into 10.10.3.0/24: tcp/3306 from 10.10.1.10"
    )
    r = net.telnet("web1", "db1", 4000)
    assert ends(r) == IN_DENIED
    assert r.ref == "network ACL acl-db ingress deny-all"
    assert "network ACL acl-db ingress deny-all (the immutable last rule) drops it" in r.detail
    # An accepted packet's hop through the router shows the rule that let it pass, per direction.
    r = net.nc("web1", "db1", 53, udp=True)
    assert ends(r) == ANSWERED
    router = next(h for h in r.packets[0].hops if h.node == "vpc-app")
    assert [step_text(s) for s in router.steps if s.kind is StepKind.FILTER] == [
        "network ACL acl-db ingress rule #0 (accept udp/53 from 10.10.1.0/24) accepts it on its way into 10.10.3.0/24"
    ]
    answer = next(h for h in r.packets[1].hops if h.node == "vpc-app")
    assert [step_text(s) for s in answer.steps if s.kind is StepKind.FILTER] == [
        "network ACL acl-db egress rule #0 (accept all to 0.0.0.0/0) accepts it on its way out of 10.10.3.0/24"
    ]


def test_an_acl_drop_is_a_check_failure_with_the_acl_in_its_reason(app_data: Data, network_of: Build) -> None:
    bind(app_data, "acl-web", "vpc-app", "subnet-web", ingress=[], egress=[accept_out("tcp", DB, 3306)])
    app_data["checks"] = [{"from": "web1", "to": "db1:3306", "expect": "connected"}]
    (result,) = network_of(app_data).run_checks()
    assert not result.passed
    assert ends(result.result) == IN_DENIED
    assert result.result.ref == "network ACL acl-web ingress deny-all"


# -- load errors --------------------------------------------------------------------------------------


def _one_acl(**keys: Any) -> dict[str, Data]:
    return {"acl-db": {"vpc": "vpc-app", "subnets": ["subnet-db"], **keys}}


@pytest.mark.parametrize(
    ("acls", "path", "message"),
    [
        (
            {"acl-x": {"vpc": "vpc-nope", "subnets": ["subnet-db"]}},
            "network_acls.acl-x.vpc",
            "unknown VPC 'vpc-nope' (known: vpc-app)",
        ),
        (
            {"acl-x": {"vpc": "vpc-app", "subnets": ["subnet-db", "subnet-nope"]}},
            "network_acls.acl-x.subnets[1]",
            "unknown subnet 'subnet-nope' in VPC vpc-app (known: subnet-db, subnet-web)",
        ),
        (
            {
                "acl-a": {"vpc": "vpc-app", "subnets": ["subnet-web", "subnet-db"]},
                "acl-b": {"vpc": "vpc-app", "subnets": ["subnet-db"]},
            },
            "network_acls.acl-b.subnets[0]",
            "subnet subnet-db is already bound to network ACL acl-a: one per subnet",
        ),
        (
            _one_acl(ingress=[accept_in("tcp", WEB, p) for p in range(1, 22)]),
            "network_acls.acl-db.ingress",
            "too many entries: 21 (at most 20)",
        ),
        (
            _one_acl(egress=[accept_out("tcp", WEB, p) for p in range(1, 22)]),
            "network_acls.acl-db.egress",
            "too many entries: 21 (at most 20)",
        ),
        (
            _one_acl(ingress=[accept_in("tcp", WEB, 3306), accept_out("tcp", WEB)]),
            "network_acls.acl-db.ingress[1].destination",
            "an ingress rule matches on 'source', not 'destination'",
        ),
        (
            _one_acl(egress=[accept_in("tcp", WEB)]),
            "network_acls.acl-db.egress[0].source",
            "an egress rule matches on 'destination', not 'source'",
        ),
        (
            _one_acl(ingress=[accept_in("icmp", WEB, 8)]),
            "network_acls.acl-db.ingress[0].port",
            "protocol icmp has no ports",
        ),
        (
            _one_acl(ingress=[{"action": "allow", "protocol": "tcp", "source": WEB}]),
            "network_acls.acl-db.ingress[0].action",
            "",
        ),
        (_one_acl(stateful=True), "network_acls.acl-db.stateful", "unknown key 'stateful'"),
    ],
    ids=[
        "unknown-vpc",
        "unknown-subnet",
        "subnet-in-two-acls",
        "21-ingress-rules",
        "21-egress-rules",
        "destination-on-ingress",
        "source-on-egress",
        "port-on-icmp",
        "bad-action",
        "unknown-key",
    ],
)
def test_a_bad_network_acl_is_one_clear_error(app_data: Data, acls: dict[str, Data], path: str, message: str) -> None:
    app_data["network_acls"] = acls
    with pytest.raises(VpcsimError) as err:
        from_data(app_data, source="acl.yaml")
    text = str(err.value)
    assert text.startswith(f"acl.yaml: {path}:"), text
    assert message in text
    assert "\n" not in text


def test_twenty_rules_a_direction_load_and_a_subnet_may_stay_unbound(app_data: Data, network_of: Build) -> None:
    app_data["network_acls"] = {
        **_one_acl(
            ingress=[accept_in("tcp", WEB, p) for p in range(3290, 3310)],
            egress=[accept_out("tcp", WEB, EPHEMERAL) for _ in range(20)],
        ),
        "acl-spare": {"vpc": "vpc-app"},
    }
    r = network_of(app_data).telnet("web1", "db1", 3306)
    assert ends(r) == CONNECTED
    r = network_of(app_data).telnet("web1", "db1", 3310)  # past the twentieth rule: the deny-all
    assert ends(r) == IN_DENIED
    assert denied(r).match.number == -1
