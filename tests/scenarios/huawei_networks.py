"""A small Huawei Cloud picture that the endpoint and network tests change one thing at a time, and
readers of a probe's Huawei records.

A consumer VPC (vpc-c, account domain-a) with ecs-c; a service VPC (vpc-s, the same account) with
ecs-s listening on TCP 8080 and UDP 5353, its group admitting VPC Endpoint's range 198.19.128.0/17
on both and the shared ELB's 100.125.0.0/16 on TCP 8080; svc-vm publishes ecs-s (client port 80 →
server port 8080, approval off) and vpce-c in vpc-c is its endpoint at 192.168.1.50. Helpers put an
ELB in front of ecs-s and add another account's VPC with its own endpoint.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any

from tests.conftest import SCENARIOS, read_data

from vpcsim.probes import ProbeResult
from vpcsim.trace import Chosen, Translated

Data = dict[str, Any]

REGION = "cn-north-4"
OWNER = "domain-a"
VPCEP = "198.19.128.0/17"
SHARED_ELB = "100.125.0.0/16"
CLIENT_IP = "192.168.1.10"
ENDPOINT_IP = "192.168.1.50"
BACKEND_IP = "10.3.1.10"
ELB_VIP = "10.3.1.100"


def vpc(cidr: str, subnets: dict[str, str], account: str = OWNER, region: str = REGION) -> Data:
    """A VPC whose subnets are given as id → CIDR, all in zone a of its region."""
    return {
        "region": region,
        "account": account,
        "cidr": cidr,
        "subnets": {sid: {"cidr": c, "zone": f"{region}a"} for sid, c in subnets.items()},
    }


def accept(
    protocol: str = "all", port: int | None = None, *, source: str | None = None, dest: str | None = None
) -> Data:
    rule: Data = {"action": "accept", "protocol": protocol}
    if port is not None:
        rule["port"] = port
    if source is not None:
        rule["source"] = source
    if dest is not None:
        rule["destination"] = dest
    return rule


def ecs(vpc_id: str, subnet: str, ip: str, *groups: str, listen: list[Any] | None = None, **more: Any) -> Data:
    d: Data = {"vpc": vpc_id, "subnet": subnet, "ip": ip, "security_groups": list(groups)}
    if listen:
        d["listen"] = listen
    d.update(more)
    return d


def scenario() -> Data:
    return {
        "version": 1,
        "cloud": "huawei",
        "vpcs": {
            "vpc-c": vpc("192.168.0.0/16", {"subnet-c": "192.168.1.0/24"}),
            "vpc-s": vpc("10.3.0.0/16", {"subnet-s": "10.3.1.0/24", "subnet-elb": "10.3.2.0/24"}),
        },
        "security_groups": {
            "sg-client": {"egress": [accept()]},
            "sg-backend": {
                "ingress": [
                    accept("tcp", 8080, source=VPCEP),
                    accept("udp", 5353, source=VPCEP),
                    accept("tcp", 8080, source=SHARED_ELB),
                ],
                "egress": [accept()],
            },
        },
        "instances": {
            "ecs-c": ecs("vpc-c", "subnet-c", CLIENT_IP, "sg-client"),
            "ecs-s": ecs("vpc-s", "subnet-s", BACKEND_IP, "sg-backend", listen=[8080, "udp/5353"]),
        },
        "endpoint_services": {
            "svc-vm": {
                "vpc": "vpc-s",
                "server_type": "VM",
                "port_id": "ecs-s",
                "approval_enabled": False,
                "ports": [{"client_port": 80, "server_port": 8080}],
            }
        },
        "endpoints": {"vpce-c": {"vpc": "vpc-c", "subnet": "subnet-c", "ip": ENDPOINT_IP, "service": "svc-vm"}},
    }


def with_elb(d: Data, kind: str = "shared", **more: Any) -> Data:
    """elb-s (VIP 10.3.1.100 in subnet-s, listener TCP 80 → ecs-s:8080) becomes svc-vm's backend
    (an LB service mapping 80 → 80), and ecs-in (10.3.2.30, in subnet-elb) a client of the ELB."""
    d["load_balancers"] = {
        "elb-s": {
            "vpc": "vpc-s",
            "subnet": "subnet-s",
            "vip": ELB_VIP,
            "type": kind,
            "listeners": {"tcp-80": {"port": 80, "backends": [{"instance": "ecs-s", "port": 8080}]}},
            **more,
        }
    }
    d["endpoint_services"]["svc-vm"].update(
        server_type="LB", port_id="elb-s", ports=[{"client_port": 80, "server_port": 80}]
    )
    d["instances"]["ecs-in"] = ecs("vpc-s", "subnet-elb", "10.3.2.30", "sg-client")
    return d


def with_other_account(d: Data, account: str = "domain-b") -> Data:
    """vpc-o of another account, its range overlapping vpc-c's, with ecs-o and vpce-o to svc-vm."""
    d["vpcs"]["vpc-o"] = vpc("192.168.0.0/16", {"subnet-o": "192.168.1.0/24"}, account=account)
    d["instances"]["ecs-o"] = ecs("vpc-o", "subnet-o", CLIENT_IP, "sg-client")
    d["endpoints"]["vpce-o"] = {"vpc": "vpc-o", "subnet": "subnet-o", "ip": ENDPOINT_IP, "service": "svc-vm"}
    return d


def bundled(name: str) -> Data:
    """A bundled Huawei scenario (scenarios/NAME.yaml) as editable data."""
    return read_data(SCENARIOS / f"{name}.yaml")


def translations(r: ProbeResult, node: str, packet: int = 0) -> list[Translated]:
    """The forward translations ``node`` made on one packet."""
    return [
        s.data
        for h in r.packets[packet].hops
        for s in h.steps
        if isinstance(s.data, Translated) and s.data.node == node and not s.data.reverse
    ]


def diffs(t: Translated) -> dict[str, tuple[str, str]]:
    """A translation's changes, field → (old, new)."""
    return {d.field: (d.old, d.new) for d in t.diffs}


def answered(r: ProbeResult) -> str:
    """The source the server saw on the request: the destination of its answer (SYN-ACK or UDP)."""
    request = r.packets[r.decisive]
    answer = next(p for p in r.packets if p.kind in ("SYN-ACK", "UDP") and p.flow[0] != request.flow[0])
    return str(IPv4Address(answer.flow[2]))


def chosen(r: ProbeResult) -> Chosen:
    """The load balancer's one choice on the connect's first packet."""
    (choice,) = [s.data for h in r.packets[r.decisive].hops for s in h.steps if isinstance(s.data, Chosen)]
    return choice
