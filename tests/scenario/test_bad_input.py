"""Every kind of bad input through ``vpcsim validate FILE``.

Each case writes a broken scenario (the bundled scenario edited as data, or a small YAML text), runs the CLI's
entry function and checks what a user sees: exit status 2 and exactly one line on stderr,
``vpcsim: FILE:LINE:COL: key.path: problem``, naming the file, the key path (or line:column for a
YAML syntax error) and the problem, with no traceback anywhere. A few run through a real process.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.watchdog import watchdog
from vpcsim.cli import main
from vpcsim.errors import ScenarioError
from vpcsim.frontends import load, loads
from vpcsim.scenario import yamlsafe

HANG_S = 30
"""A hang guard, not a timing target: each of these finishes in well under a second."""

ROOT = Path(__file__).resolve().parent.parent.parent
SEED = ROOT / "scenarios" / "chengdu_chongqing.yaml"
SEED_TEXT = SEED.read_text(encoding="utf-8")

Doc = dict[str, Any]

_MESSAGE = re.compile(r"^vpcsim: (?P<where>.*?)(?::(?P<line>\d+):(?P<col>\d+))?: (?P<rest>.*)$")


@dataclass(frozen=True)
class Refusal:
    """What ``vpcsim validate`` printed for an invalid file."""

    line: int | None
    column: int | None
    rest: str
    """``key.path: problem``, or just ``problem`` for a file-level error."""

    def at(self, path: str) -> str:
        """The problem, after asserting the key path is exactly ``path``."""
        assert self.rest.startswith(f"{path}: "), f"expected key path {path!r} in {self.rest!r}"
        return self.rest[len(path) + 2 :]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    code = done.value.code
    return (code if isinstance(code, int) else 1), out, err


def refused(capsys: pytest.CaptureFixture[str], path: Path, *args: str) -> Refusal:
    """Run ``vpcsim validate PATH`` (or ``args``) and check the one-line refusal."""
    code, out, err = run_cli(capsys, *(args or ("validate", str(path))))
    assert "Traceback" not in out + err
    assert code == 2, f"exit {code}, stdout {out!r}, stderr {err!r}"
    assert err.endswith("\n"), f"not exactly one line: {err!r}"
    assert err.count("\n") == 1, f"not exactly one line: {err!r}"
    assert err.startswith(f"vpcsim: {path}"), f"the message does not name the file first: {err!r}"
    m = _MESSAGE.match(err.rstrip("\n"))
    assert m is not None, err
    assert m.group("where") == str(path), err
    return Refusal(
        line=int(m.group("line")) if m.group("line") else None,
        column=int(m.group("col")) if m.group("col") else None,
        rest=m.group("rest"),
    )


def write_data(tmp_path: Path, data: Any, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def write_text(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line of ``text`` containing ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def listener(d: Doc) -> Doc:
    listeners: Doc = d["load_balancers"]["lb-service"]["listeners"]["lbl-1044"]
    return listeners


LISTENER = "load_balancers.lb-service.listeners.lbl-1044"


@dataclass(frozen=True)
class Case:
    id: str
    edit: Callable[[Doc], None]
    path: str
    needles: tuple[str, ...]


def case(id: str, edit: Callable[[Doc], None], path: str, *needles: str) -> Any:
    return pytest.param(Case(id, edit, path, needles), id=id)


def setter(*keys: Any, value: Any) -> Callable[[Doc], None]:
    def edit(d: Doc) -> None:
        target = d
        for k in keys[:-1]:
            target = target[k]
        target[keys[-1]] = value

    return edit


def timeline(*events: Doc) -> Callable[[Doc], None]:
    return setter("timeline", value=list(events))


def _move_vpc1_to_chongqing(d: Doc) -> None:
    d["vpcs"]["vpc1"]["region"] = "ap-chongqing"
    d["vpcs"]["vpc1"]["subnets"]["subnet-consumer"]["zone"] = "ap-chongqing-1"


def _backend_into_the_clb_subnet(d: Doc) -> None:
    d["instances"]["cvm-backend1"].update(subnet="subnet-clb", ip="10.0.1.100")


# -- every reference kind, unknown ------------------------------------------------------------------

UNKNOWN_IDS = [
    case("instance.vpc", setter("instances", "cvm-vpc1", "vpc", value="vpc9"), "instances.cvm-vpc1.vpc",
         "unknown VPC 'vpc9'", "known: vpc1, vpc2, vpc3"),
    case("instance.subnet", setter("instances", "cvm-vpc1", "subnet", value="subnet-x"), "instances.cvm-vpc1.subnet",
         "unknown subnet 'subnet-x' in VPC vpc1", "known: subnet-consumer"),
    case("instance.security_group", setter("instances", "cvm-vpc1", "security_groups", value=["sg-client", "sg-x"]),
         "instances.cvm-vpc1.security_groups[1]", "unknown security group 'sg-x'", "known: sg-backend, sg-client"),
    case("load_balancer.vpc", setter("load_balancers", "lb-service", "vpc", value="vpc9"), "load_balancers.lb-service.vpc",
         "unknown VPC 'vpc9'"),
    case("load_balancer.subnet", setter("load_balancers", "lb-service", "subnet", value="subnet-consumer"),
         "load_balancers.lb-service.subnet", "unknown subnet 'subnet-consumer' in VPC vpc2"),
    case("load_balancer.security_group", setter("load_balancers", "lb-service", "security_groups", value=["sg-x"]),
         "load_balancers.lb-service.security_groups[0]", "unknown security group 'sg-x'"),
    case("listener backend that does not exist",
         lambda d: listener(d)["backends"][1].update(instance="cvm-backend3"),
         f"{LISTENER}.backends[1].instance", "unknown instance 'cvm-backend3'", "known: cvm-backend1"),
    case("endpoint_service.vpc", setter("endpoint_services", "vpcsvc-service", "vpc", value="vpc9"),
         "endpoint_services.vpcsvc-service.vpc", "unknown VPC 'vpc9'"),
    case("endpoint_service.load_balancer", setter("endpoint_services", "vpcsvc-service", "load_balancer", value="lb-x"),
         "endpoint_services.vpcsvc-service.load_balancer", "unknown load balancer 'lb-x'", "known: lb-service"),
    case("endpoint.vpc", setter("endpoints", "vpce-vpc1", "vpc", value="vpc9"), "endpoints.vpce-vpc1.vpc",
         "unknown VPC 'vpc9'"),
    case("endpoint.subnet", setter("endpoints", "vpce-vpc1", "subnet", value="subnet-cq"),
         "endpoints.vpce-vpc1.subnet", "unknown subnet 'subnet-cq' in VPC vpc1"),
    case("endpoint.service", setter("endpoints", "vpce-vpc1", "service", value="vpcsvc-x"),
         "endpoints.vpce-vpc1.service", "unknown endpoint service 'vpcsvc-x'", "known: vpcsvc-service"),
    case("endpoint.security_group", setter("endpoints", "vpce-vpc1", "security_groups", value=["sg-x"]),
         "endpoints.vpce-vpc1.security_groups[0]", "unknown security group 'sg-x'"),
    case("ccn attachment", setter("ccns", "ccn-chengdu-chongqing", "attachments", value=["vpc1", "vpc9"]),
         "ccns.ccn-chengdu-chongqing.attachments[1]", "unknown VPC 'vpc9'"),
    case("timeline endpoint", timeline({"at": 1, "action": "accept_endpoint", "endpoint": "vpce-x"}),
         "timeline[0].endpoint", "unknown endpoint 'vpce-x'", "known: vpce-vpc1"),
    case("timeline ccn", timeline({"at": 1, "action": "detach_vpc", "ccn": "ccn-x", "vpc": "vpc3"}),
         "timeline[0].ccn", "unknown CCN 'ccn-x'", "known: ccn-chengdu-chongqing"),
    case("timeline vpc", timeline({"at": 1, "action": "detach_vpc", "ccn": "ccn-chengdu-chongqing", "vpc": "vpc9"}),
         "timeline[0].vpc", "unknown VPC 'vpc9'"),
    case("timeline security group",
         timeline({"at": 1, "action": "remove_rule", "security_group": "sg-x", "direction": "ingress", "index": 0}),
         "timeline[0].security_group", "unknown security group 'sg-x'"),
    case("timeline instance", timeline({"at": 1, "action": "stop_listener", "instance": "cvm-x", "port": 8080}),
         "timeline[0].instance", "unknown instance or data-centre host 'cvm-x'"),
    case("check from", setter("checks", 0, "from", value="cvm-x"), "checks[0].from", "unknown instance or data-centre host 'cvm-x'",
         "known: cvm-backend1, cvm-backend2, cvm-vpc1, cvm-vpc3"),
    case("check from an endpoint, not an instance", setter("checks", 1, "from", value="vpce-vpc1"), "checks[1].from",
         "unknown instance or data-centre host 'vpce-vpc1'"),
    case("check to", setter("checks", 0, "to", value="vpce-x:1044"), "checks[0].to",
         "'vpce-x' is neither an IPv4 address nor the id of an instance, data-centre host, endpoint or load balancer"),
]  # fmt: skip

# -- addresses and CIDRs ---------------------------------------------------------------------------

ADDRESSES = [
    case("instance IP outside its subnet", setter("instances", "cvm-vpc1", "ip", value="172.16.3.10"),
         "instances.cvm-vpc1.ip", "172.16.3.10 is outside its subnet subnet-consumer (172.16.2.0/24)"),
    case("load balancer VIP outside its subnet", setter("load_balancers", "lb-service", "vip", value="10.0.2.100"),
         "load_balancers.lb-service.vip", "10.0.2.100 is outside its subnet subnet-clb (10.0.1.0/24)"),
    case("endpoint IP outside its subnet", setter("endpoints", "vpce-vpc1", "ip", value="172.16.9.16"),
         "endpoints.vpce-vpc1.ip", "172.16.9.16 is outside its subnet subnet-consumer (172.16.2.0/24)"),
    case("instance on the network address", setter("instances", "cvm-vpc1", "ip", value="172.16.2.0"),
         "instances.cvm-vpc1.ip", "172.16.2.0 is the network or broadcast address of 172.16.2.0/24"),
    case("instance on the broadcast address", setter("instances", "cvm-vpc3", "ip", value="192.168.1.255"),
         "instances.cvm-vpc3.ip", "192.168.1.255 is the network or broadcast address of 192.168.1.0/24"),
    case("subnet outside its VPC", setter("vpcs", "vpc1", "subnets", "subnet-consumer", "cidr", value="172.17.2.0/24"),
         "vpcs.vpc1.subnets.subnet-consumer.cidr", "subnet 172.17.2.0/24 is not inside the VPC CIDR 172.16.0.0/16"),
    case("subnets overlapping inside one VPC", setter("vpcs", "vpc2", "subnets", "subnet-app", "cidr", value="10.0.1.128/25"),
         "vpcs.vpc2.subnets.subnet-clb.cidr", "subnet 10.0.1.0/24 overlaps subnet 'subnet-app' (10.0.1.128/25) in vpc2"),
    case("duplicate instance IP", setter("instances", "cvm-backend2", "ip", value="10.0.2.11"),
         "instances.cvm-backend2.ip", "10.0.2.11 is already used by instance cvm-backend1 in VPC vpc2"),
    case("instance on the endpoint VIP", setter("instances", "cvm-vpc1", "ip", value="172.16.2.16"),
         "endpoints.vpce-vpc1.ip", "172.16.2.16 is already used by instance cvm-vpc1 in VPC vpc1"),
    case("load balancer VIP taken by an instance", _backend_into_the_clb_subnet,
         "load_balancers.lb-service.vip", "10.0.1.100 is already used by instance cvm-backend1 in VPC vpc2"),
    case("host bits in a VPC CIDR", setter("vpcs", "vpc1", "cidr", value="172.16.0.1/16"), "vpcs.vpc1.cidr",
         "'172.16.0.1/16' has host bits set: the network is 172.16.0.0/16"),
    case("host bits in a subnet CIDR", setter("vpcs", "vpc2", "subnets", "subnet-app", "cidr", value="10.0.2.7/24"),
         "vpcs.vpc2.subnets.subnet-app.cidr", "'10.0.2.7/24' has host bits set: the network is 10.0.2.0/24"),
    case("host bits in a rule CIDR", setter("security_groups", "sg-backend", "ingress", 0, "source", value="11.163.0.1/16"),
         "security_groups.sg-backend.ingress[0].source", "'11.163.0.1/16' has host bits set: the network is 11.163.0.0/16"),
    case("CIDR without a prefix length", setter("vpcs", "vpc3", "cidr", value="192.168.0.0"), "vpcs.vpc3.cidr",
         "'192.168.0.0' is not a CIDR: it needs a prefix length, like '10.0.0.0/16'"),
    case("not an address", setter("instances", "cvm-vpc1", "ip", value="172.16.2"), "instances.cvm-vpc1.ip",
         "'172.16.2' is not a valid IPv4 address"),
    case("an IPv6 address", setter("instances", "cvm-vpc1", "ip", value="fe80::1"), "instances.cvm-vpc1.ip",
         "'fe80::1' is not IPv4 (vpcsim models IPv4 only)"),
    case("an endpoint in another region than its service", _move_vpc1_to_chongqing, "endpoints.vpce-vpc1.service",
         "endpoint in ap-chongqing cannot use service vpcsvc-service in ap-chengdu",
         "Private Link is same-region only"),
    case("a backend in another VPC than its load balancer", lambda d: listener(d)["backends"][0].update(instance="cvm-vpc1"),
         f"{LISTENER}.backends[0].instance", "backend cvm-vpc1 is in VPC vpc1, not in the load balancer's VPC vpc2"),
]  # fmt: skip

# -- ports -------------------------------------------------------------------------------------------

PORTS = [
    case("listener port 0", lambda d: listener(d).update(port=0), f"{LISTENER}.port", "port 0 is out of range 1-65535"),
    case("listener port 70000", lambda d: listener(d).update(port=70000), f"{LISTENER}.port",
         "port 70000 is out of range 1-65535"),
    case("backend port 65536", lambda d: listener(d)["backends"][0].update(port=65536), f"{LISTENER}.backends[0].port",
         "port 65536 is out of range 1-65535"),
    case("health-check port", lambda d: listener(d)["health_check"].update(port=-1), f"{LISTENER}.health_check.port",
         "port -1 is out of range 1-65535"),
    case("listen port 0", setter("instances", "cvm-backend1", "listen", value=[8080, 0]), "instances.cvm-backend1.listen[1]",
         "port 0 is out of range 1-65535"),
    case("rule port", setter("security_groups", "sg-backend", "ingress", 0, "port", value=70000),
         "security_groups.sg-backend.ingress[0].port", "port 70000 is out of range 1-65535"),
    case("rule port range", setter("security_groups", "sg-backend", "ingress", 0, "port", value="8000-70000"),
         "security_groups.sg-backend.ingress[0].port", "port 70000 is out of range 1-65535"),
    case("rule port range reversed", setter("security_groups", "sg-backend", "ingress", 0, "port", value="9000-8000"),
         "security_groups.sg-backend.ingress[0].port", "port range '9000-8000' is reversed"),
    case("a port range on an icmp rule",
         setter("security_groups", "sg-client", "egress", 0, value={"action": "accept", "protocol": "icmp", "port": "1-80"}),
         "security_groups.sg-client.egress[0].port", "protocol icmp has no ports; remove 'port' or use tcp/udp"),
    case("a port range on an all-protocols rule",
         setter("security_groups", "sg-backend", "ingress", 1, "port", value="1024-65535"),
         "security_groups.sg-backend.ingress[1].port", "protocol all has no ports; remove 'port' or use tcp/udp"),
    case("check port 0", setter("checks", 0, "to", value="172.16.2.16:0"), "checks[0].to", "port 0 is out of range 1-65535"),
    case("check port 65536", setter("checks", 0, "to", value="vpce-vpc1:65536"), "checks[0].to",
         "port 65536 is out of range 1-65535"),
    case("check port with 40 digits", setter("checks", 0, "to", value="vpce-vpc1:" + "9" * 40), "checks[0].to",
         "is out of range 1-65535"),
    case("timeline port", timeline({"at": 1, "action": "stop_listener", "instance": "cvm-backend1", "port": 70000}),
         "timeline[0].port", "port 70000 is out of range 1-65535"),
    case("a float port", lambda d: listener(d).update(port=1044.0), f"{LISTENER}.port",
         "expected a port number 1-65535, got 1044.0"),
    case("a boolean port", lambda d: listener(d).update(port=True), f"{LISTENER}.port",
         "expected a port number 1-65535, got true"),
    case("a quoted port", lambda d: listener(d).update(port="1044"), f"{LISTENER}.port",
         "expected a port number 1-65535 (without quotes), got '1044'"),
]  # fmt: skip

# -- shapes: unknown keys, missing keys, wrong types -------------------------------------------------

SHAPES = [
    case("unknown top-level key", setter("vpc", value={}), "vpc", "unknown key 'vpc' (did you mean 'vpcs'?",
         "allowed: version, cloud, settings, vpcs"),
    case("unknown instance key", setter("instances", "cvm-vpc1", "ipp", value="172.16.2.11"), "instances.cvm-vpc1.ipp",
         "unknown key 'ipp' (did you mean 'ip'? allowed: vpc, subnet, ip, security_groups, listen, link)"),
    case("'from_' for 'from'", lambda d: d["checks"][0].update(from_=d["checks"][0].pop("from")), "checks[0].from_",
         "unknown key 'from_' (did you mean 'from'?"),
    case("unknown key in a rule", setter("security_groups", "sg-client", "egress", 0, "dst", value="0.0.0.0/0"),
         "security_groups.sg-client.egress[0].dst", "unknown key 'dst'"),
    case("missing version", lambda d: d.pop("version"), "", "missing required key 'version' (a scenario needs version, vpcs)"),
    case("missing check 'from'", lambda d: d["checks"][2].pop("from"), "checks[2]",
         "missing required key 'from' (a check needs from, to, expect)"),
    case("missing subnet zone", lambda d: d["vpcs"]["vpc3"]["subnets"]["subnet-cq"].pop("zone"),
         "vpcs.vpc3.subnets.subnet-cq", "missing required key 'zone' (a subnet needs cidr, zone)"),
    case("version 2", setter("version", value=2), "version", "unsupported scenario format version 2: this vpcsim reads version 1"),
    case("version true", setter("version", value=True), "version",
         "expected the scenario format version, the number 1, got true"),
    case("version '1'", setter("version", value="1"), "version", "expected the scenario format version, the number 1, got '1'"),
    case("vpcs as a list", setter("vpcs", value=["vpc1"]), "vpcs",
         "expected a mapping of ids to VPC definitions (id: {...}), got a list"),
    case("an instance as text", setter("instances", "cvm-vpc1", value="172.16.2.10"), "instances.cvm-vpc1",
         "expected a mapping (an instance with keys such as vpc, subnet, ip", "got '172.16.2.10'"),
    case("an IP as a number", setter("instances", "cvm-vpc1", "ip", value=5), "instances.cvm-vpc1.ip",
         "expected an IPv4 address like '10.0.0.5', got 5"),
    case("security groups as text", setter("instances", "cvm-vpc1", "security_groups", value="sg-client"),
         "instances.cvm-vpc1.security_groups", "expected a list ([a, b] or one '- item' per line), got 'sg-client'"),
    case("a boolean weight", lambda d: listener(d)["backends"][0].update(weight=True), f"{LISTENER}.backends[0].weight",
         "expected a whole number, got true"),
    case("a boolean seed", setter("settings", "seed", value=False), "settings.seed", "expected a whole number, got false"),
    case("a float seed", setter("settings", "seed", value=1.5), "settings.seed", "expected a whole number, got 1.5"),
    case("a huge seed", setter("settings", "seed", value=2**64), "settings.seed",
         "must be at most 9223372036854775807, got 18446744073709551616"),
    case("auto_accept as text", setter("endpoint_services", "vpcsvc-service", "auto_accept", value="yes"),
         "endpoint_services.vpcsvc-service.auto_accept", "expected true or false, got 'yes'"),
    case("an account as a number", setter("vpcs", "vpc1", "account", value=100012345678), "vpcs.vpc1.account",
         "expected text, got 100012345678 (put it in quotes to make it text)"),
    case("a check name as a number", setter("checks", 0, "name", value=5), "checks[0].name", "expected text, got 5"),
    case("settings: null", setter("settings", value=None), "settings",
         "expected a mapping (the settings with keys such as seed", "got null (write {} for none, or leave the key out)"),
    case("checks as a mapping", setter("checks", value={"a": 1}), "checks", "expected a list", "got a mapping"),
    case("an expectation not in the set", setter("checks", 0, "expect", value="ok"), "checks[0].expect",
         "expected 'connected', 'answered', 'refused' or 'timeout', got 'ok'"),
    case("a protocol not in the set", setter("security_groups", "sg-client", "egress", 0, "protocol", value="sctp"),
         "security_groups.sg-client.egress[0].protocol", "expected 'tcp', 'udp', 'icmp' or 'all', got 'sctp'"),
    case("an id with a space", lambda d: d["instances"].update({"cvm vpc9": d["instances"].pop("cvm-vpc3")}),
         "instances.cvm vpc9", "id 'cvm vpc9' is not a valid id: use 1-64 letters, digits"),
    case("an id of 65 characters", lambda d: d["ccns"].update({"c" * 65: d["ccns"].pop("ccn-chengdu-chongqing")}),
         f"ccns.{'c' * 65}", "is not a valid id"),
    case("an id used in two sections", lambda d: d["security_groups"].update({"vpc1": d["security_groups"].pop("sg-client")}),
         "security_groups.vpc1", "id 'vpc1' is already used in vpcs; ids must be unique"),
    case("a NUL in a check name", setter("checks", 0, "name", value="step\x005"), "checks[0].name",
         "contains the control character U+0000: write plain text"),
    case("a newline in a check name", setter("checks", 0, "name", value="two\nlines"), "checks[0].name",
         "contains the control character U+000A"),
    case("a NUL in an id", setter("instances", "cvm-vpc1", "vpc", value="vpc1\x00"), "instances.cvm-vpc1.vpc",
         "value 'vpc1\\x00' is not a valid id"),
    case("a region pair given twice",
         setter("settings", "delays", "regions", value={"ap-chengdu/ap-chongqing": "3ms", "ap-chongqing/ap-chengdu": "5ms"}),
         "settings.delays.regions.ap-chongqing/ap-chengdu",
         "the delay between ap-chongqing and ap-chengdu is already given as 'ap-chengdu/ap-chongqing'"),
]  # fmt: skip

# -- absurd sizes and times --------------------------------------------------------------------------

ABSURD = [
    case("at: 1e12", setter("checks", 0, "at", value=1e12), "checks[0].at", "is longer than the 86400 s allowed"),
    case("at: NaN", setter("checks", 0, "at", value=float("nan")), "checks[0].at", "a time cannot be NaN"),
    case("at: inf", setter("checks", 0, "at", value=float("inf")), "checks[0].at", "time inf is longer than the 86400 s allowed"),
    case("at: -1", setter("checks", 0, "at", value=-1), "checks[0].at", "time -1 is negative: times are zero or positive"),
    case("at: '-1s'", setter("checks", 0, "at", value="-1s"), "checks[0].at", "time '-1s' is negative"),
    case("at: 'soon'", setter("checks", 0, "at", value="soon"), "checks[0].at",
         "'soon' is not a time: write a number of seconds or '20s', '500ms', '250us'"),
    case("at: true", setter("checks", 0, "at", value=True), "checks[0].at", "expected a time", "got true"),
    case("timeline at: 2 days", timeline({"at": "48h", "action": "accept_endpoint", "endpoint": "vpce-vpc1"}),
         "timeline[0].at", "time '48h' is longer than the 86400 s allowed"),
    case("a negative delay", setter("settings", "delays", "same_zone", value=-0.1), "settings.delays.same_zone",
         "time -0.1 is negative"),
    case("an implausible delay", setter("settings", "delays", "cross_zone", value="11s"), "settings.delays.cross_zone",
         "a one-way delay over 10 s is not plausible"),
    case("a health-check interval too short", lambda d: listener(d)["health_check"].update(interval="1s"),
         f"{LISTENER}.health_check.interval", "time '1s' is too short: it must be at least 2 s"),
    case("an initial RTO of zero", setter("settings", "tcp", value={"initial_rto": 0}), "settings.tcp.initial_rto",
         "time 0 is too short: it must be more than 0 s"),
    case("SYN retries 100", setter("settings", "tcp", value={"syn_retries": 100}), "settings.tcp.syn_retries",
         "must be at most 15, got 100"),
    case("1001 listen ports", setter("instances", "cvm-backend1", "listen", value=list(range(1, 1002))),
         "instances.cvm-backend1.listen", "too many entries: 1001 (at most 1000)"),
    case("a bandwidth out of range", setter("ccns", "ccn-chengdu-chongqing", "bandwidth", value="100Tbps"),
         "ccns.ccn-chengdu-chongqing.bandwidth", "bandwidth '100Tbps' is outside 1 Kbps .. 1 Tbps"),
    case("a bandwidth as words", setter("ccns", "ccn-chengdu-chongqing", "bandwidth", value="fast"),
         "ccns.ccn-chengdu-chongqing.bandwidth", "'fast' is not a bandwidth"),
]  # fmt: skip


@pytest.mark.parametrize("c", UNKNOWN_IDS + ADDRESSES + PORTS + SHAPES + ABSURD)
def test_an_edited_seed_is_refused_with_its_key_path(
    c: Case, seed_data: Doc, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c.edit(seed_data)
    path = write_data(tmp_path, seed_data)
    r = refused(capsys, path)
    problem = r.at(c.path) if c.path else r.rest
    for needle in c.needles:
        assert needle in problem, f"{needle!r} not in {problem!r}"
    assert r.line is not None, "a key-path error also gives the line and column"
    assert r.column is not None


def test_the_seed_itself_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "validate", str(SEED))
    assert (code, err) == (0, "")
    assert "valid: 3 VPCs" in out


def test_the_key_path_points_at_the_line_of_the_bad_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SEED_TEXT.replace("ip: 172.16.2.10", "ip: 172.16.3.10")
    r = refused(capsys, write_text(tmp_path, text))
    assert r.at("instances.cvm-vpc1.ip").startswith("172.16.3.10 is outside its subnet")
    assert (r.line, r.column) == (line_of(text, "ip: 172.16.3.10"), 9)


# -- YAML syntax ---------------------------------------------------------------------------------------

SYNTAX = [
    ("an unclosed flow sequence", "version: 1\nvpcs: {a: [}\n", 2, 12, "did not find expected node content"),
    ("a key at the wrong indent", "version: 1\nvpcs:\n  a: b\n c: d\n", 4, 2, "did not find expected key"),
    ("an unterminated quote", "version: 1\nvpcs: 'abc\n", 3, 1, "found unexpected end of stream"),
    ("a tab indent", "version: 1\nvpcs:\n\ta: 1\n", 3, 1, "tab"),
    ("an undefined alias", "version: 1\nvpcs: *nothing\n", 2, 7, "found undefined alias"),
    ("two documents", "version: 1\n---\nvpcs: {}\n", 2, 1, "expected a single document in the stream"),
    ("a missing colon", "version: 1\nvpcs\ninstances: {}\n", 3, 1, "could not find expected ':'"),
]


@pytest.mark.parametrize(("text", "line", "column", "needle"), [p[1:] for p in SYNTAX], ids=[p[0] for p in SYNTAX])
def test_a_yaml_syntax_error_gives_line_and_column(
    text: str, line: int, column: int, needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = refused(capsys, write_text(tmp_path, text))
    assert (r.line, r.column) == (line, column), r
    assert r.rest.startswith("YAML syntax error: ")
    assert needle in r.rest


def test_a_syntax_error_in_the_seed_names_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SEED_TEXT.replace("vip: 10.0.1.100", "vip: [10.0.1.100")
    r = refused(capsys, write_text(tmp_path, text))
    assert r.rest.startswith("YAML syntax error: ")
    assert r.line is not None
    assert r.line >= line_of(text, "vip: [10.0.1.100")


# -- duplicate keys --------------------------------------------------------------------------------------


def test_a_duplicated_key_is_refused_at_its_second_occurrence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = SEED_TEXT.replace("    ip: 172.16.2.10\n", "    ip: 172.16.2.10\n    ip: 172.16.2.11\n")
    r = refused(capsys, write_text(tmp_path, text))
    assert r.at("instances.cvm-vpc1.ip") == "duplicated key 'ip': each key may appear once"
    assert (r.line, r.column) == (line_of(text, "ip: 172.16.2.11"), 5)


def test_a_duplicated_id_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SEED_TEXT.replace("  cvm-vpc3:\n", "  cvm-vpc1:\n")
    r = refused(capsys, write_text(tmp_path, text))
    assert r.at("instances.cvm-vpc1") == "duplicated key 'cvm-vpc1': each key may appear once"


def test_a_duplicated_top_level_key_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SEED_TEXT + "version: 1\n"
    r = refused(capsys, write_text(tmp_path, text))
    assert r.at("version").startswith("duplicated key 'version'")
    assert r.line == len(text.splitlines())


def test_keys_are_the_text_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """YAML 1.1 would read these keys as true, null and a date; a scenario reads them as written."""
    for key in ("yes", "null", "2024-01-01", "0x1F"):
        r = refused(capsys, write_text(tmp_path, f"version: 1\n{key}: 1\nvpcs: {{}}\n"))
        assert r.at(key).startswith(f"unknown key {key!r}")


# -- YAML tags: loading never runs code -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ('!!python/object/apply:os.system ["touch {marker}"]', "!!python/object/apply:os.system"),
        ("!!python/object/new:subprocess.Popen [[touch, {marker}]]", "!!python/object/new:subprocess.Popen"),
        ("!!python/name:os.system", "!!python/name:os.system"),
        ("!!python/module:os", "!!python/module:os"),
        ("!!binary aGVsbG8=", "!!binary"),
        ("!!set {a, b}", "!!set"),
        ("!vpc vpc1", "!vpc"),
    ],
)
def test_a_tag_is_refused_and_never_runs(
    value: str, shown: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "pwned"
    text = SEED_TEXT.replace("    vpc: vpc1\n", "    vpc: " + value.replace("{marker}", str(marker)) + "\n", 1)
    r = refused(capsys, write_text(tmp_path, text))
    problem = r.at("instances.cvm-vpc1.vpc")
    assert problem.startswith(f"YAML tag {shown} is not allowed")
    assert "loading never runs code" in problem
    assert not marker.exists()


def test_a_tag_on_the_whole_document_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "pwned"
    r = refused(capsys, write_text(tmp_path, f'!!python/object/apply:os.system ["touch {marker}"]\n'))
    assert (r.line, r.column) == (1, 1)
    assert r.rest.startswith("YAML tag !!python/object/apply:os.system is not allowed")
    assert not marker.exists()


def test_a_tag_on_a_key_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = refused(capsys, write_text(tmp_path, "!!python/str version: 1\nvpcs: {}\n"))
    assert r.rest.startswith("YAML tag !!python/str is not allowed")


def test_a_merge_key_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "version: 1\nbase: &b {region: ap-chengdu}\nvpcs:\n  vpc1:\n    <<: *b\n"
    r = refused(capsys, write_text(tmp_path, text))
    assert r.at("vpcs.vpc1") == "YAML merge keys ('<<') are not supported: write the keys out"


def test_anchors_and_aliases_still_load(seed_data: Doc, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SEED_TEXT.replace("security_groups: [sg-client]", "security_groups: &client [sg-client]", 1)
    text = text.replace("security_groups: [sg-client]", "security_groups: *client")
    assert "*client" in text
    code, _, err = run_cli(capsys, "validate", str(write_text(tmp_path, text)))
    assert (code, err) == (0, "")


# -- alias bombs, huge and deep documents -----------------------------------------------------------------


def _billion_laughs(levels: int = 9, width: int = 9) -> str:
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_without_expanding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_text(tmp_path, "version: 1\n" + _billion_laughs())
    with watchdog(HANG_S):  # expanding the aliases would take hours
        r = refused(capsys, path)
    # a5 is the first value that alone expands past the limit (9**6 strings)
    assert r.at("a5") == "document too large: aliases expand it to 490329056 values (at most 200000)"
    assert (r.line, r.column) == (7, 5)


def test_a_recursive_alias_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = refused(capsys, write_text(tmp_path, "version: 1\nvpcs: &v {a: *v}\n"))
    assert r.rest == "an alias refers to a value that contains it (a recursive alias)"
    assert r.line == 2


def test_a_quarter_million_values_are_refused_quickly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_text(tmp_path, "version: 1\nvpcs: [" + "1, " * 250_000 + "]\n")
    with watchdog(HANG_S):
        r = refused(capsys, path)
    assert r.rest == "document too large: more than 200000 values"


def test_a_file_over_4_mib_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_text(tmp_path, "version: 1\n" + "# padding\n" * 500_000)
    r = refused(capsys, path)
    assert r.rest == "file too large: more than 4194304 bytes"


def test_a_hundred_digit_number_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SEED_TEXT.replace("seed: 2024", "seed: " + "9" * 100)
    r = refused(capsys, write_text(tmp_path, text))
    assert r.at("settings.seed") == "number too large (100 characters, at most 40)"


@pytest.mark.parametrize("depth", [41, 1_000, 100_000])
def test_deep_nesting_is_refused(depth: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = refused(capsys, write_text(tmp_path, "version: 1\nvpcs: " + "[" * depth + "]" * depth + "\n"))
    assert r.rest == "nesting deeper than 40 levels"
    assert (r.line, r.column) == (2, 7 + 40)


def test_deep_mappings_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = refused(capsys, write_text(tmp_path, "version: 1\nvpcs: " + "{a: " * 500 + "1" + "}" * 500 + "\n"))
    assert r.rest == "nesting deeper than 40 levels"


def test_nesting_of_40_levels_is_a_shape_error_not_a_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = refused(capsys, write_text(tmp_path, "version: 1\nvpcs: " + "[" * 39 + "]" * 39 + "\n"))
    assert r.at("vpcs").startswith("expected a mapping of ids to VPC definitions")


# -- the file itself ------------------------------------------------------------------------------------


def test_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = refused(capsys, tmp_path / "nope.yaml")
    assert r.rest == "cannot read the file: No such file or directory"


def test_an_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for text in ("", "\n\n", "# only a comment\n"):
        r = refused(capsys, write_text(tmp_path, text))
        assert r.rest == "the file is empty: a scenario needs at least 'version' and 'vpcs'"


@pytest.mark.parametrize(
    ("text", "shown"), [("- version: 1\n", "a list"), ("hello\n", "'hello'"), ("null\n", "null"), ("42\n", "42")]
)
def test_a_document_that_is_not_a_mapping(
    text: str, shown: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = refused(capsys, write_text(tmp_path, text))
    assert r.rest == f"a scenario is a mapping of sections (version, vpcs, ...), not {shown}"
    assert (r.line, r.column) == (1, 1)


def test_a_latin1_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(SEED_TEXT.replace("service consumer", "service consumér").encode("latin-1"))
    r = refused(capsys, path)
    assert r.rest == "the file is not UTF-8 text: byte 0xE9 cannot be decoded"
    assert r.line == line_of(SEED_TEXT, "service consumer")


def test_a_utf16_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "utf16.yaml"
    path.write_bytes(SEED_TEXT.encode("utf-16"))
    r = refused(capsys, path)
    assert r.rest == "the file is not UTF-8 text: byte 0xFF cannot be decoded (it looks like UTF-16: save it as UTF-8)"


def test_a_raw_control_character(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SEED_TEXT.replace("zone: ap-chongqing-1", "zone: ap-chong\x00qing-1")
    r = refused(capsys, write_text(tmp_path, text))
    assert r.rest.startswith("character U+0000 is not allowed in a YAML file")
    assert r.line == line_of(text, "ap-chong\x00qing-1")


def test_a_byte_order_mark_and_crlf_line_ends_are_fine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "windows.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + SEED_TEXT.replace("\n", "\r\n").encode("utf-8"))
    code, _, err = run_cli(capsys, "validate", str(path))
    assert (code, err) == (0, "")


def test_the_python_api_refuses_a_directory_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as e:
        load(tmp_path)
    assert str(e.value) == f"{tmp_path}: is a directory, not a scenario file"


def test_a_directory_on_the_command_line_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "validate", str(tmp_path))
    assert code == 2
    assert "Traceback" not in out + err
    assert "is a directory" in err


def test_a_directory_on_the_command_line_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "validate", str(tmp_path))
    assert code == 2
    assert err.count("\n") == 1, err
    assert err.startswith("vpcsim: "), err


def test_messages_never_span_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A key with a newline or a terminal escape still gives one printable line."""
    for key in ('"a\\nb"', '"\\e[31mred"', '"\\u2028"'):
        r = refused(capsys, write_text(tmp_path, f"version: 1\nvpcs:\n  {key}: {{}}\n"))
        assert "is not a valid id" in r.rest
        assert r.rest.isprintable()
    r = refused(capsys, write_text(tmp_path, 'version: 1\nvpcs:\n  "\\ud800": {}\n'))
    assert r.at("vpcs") == "the escape \\ud800 is half of a UTF-16 pair, not a character"


def test_error_paths_and_strings_are_the_same_through_the_api() -> None:
    with pytest.raises(ScenarioError) as e:
        loads(SEED_TEXT.replace("port: 1044", "port: 0"), source="seed.yaml")
    err = e.value
    assert (err.source, err.path) == ("seed.yaml", "load_balancers.lb-service.listeners.lbl-1044.port")
    assert err.problem == "port 0 is out of range 1-65535"
    assert str(err) == f"seed.yaml:{err.line}:{err.column}: {err.path}: {err.problem}"


# -- the other commands and their arguments -----------------------------------------------------------------


def test_check_and_telnet_refuse_a_bad_file_the_same_way(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_text(tmp_path, SEED_TEXT.replace("ip: 172.16.2.10", "ip: 172.16.3.10"))
    expected = refused(capsys, path)
    assert refused(capsys, path, "check", str(path)) == expected
    assert refused(capsys, path, "telnet", str(path), "--from", "cvm-vpc1", "172.16.2.16", "1044") == expected


def test_telnet_refuses_an_unknown_source_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    r = refused(capsys, SEED, "telnet", str(SEED), "--from", "cvm-x", "172.16.2.16", "1044")
    assert r.rest.startswith("unknown instance or data-centre host 'cvm-x'")


def test_telnet_refuses_an_absurd_start_time_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "telnet", str(SEED), "--from", "cvm-vpc1", "172.16.2.16", "1044", "--at", "1e12")
    assert code == 2
    assert "Traceback" not in out + err
    assert err == "vpcsim: --at: time '1e12' is longer than the 86400 s allowed\n"


@pytest.mark.parametrize("port", ["0", "70000", "-1", "http"])
def test_telnet_refuses_a_port_out_of_range(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "telnet", str(SEED), "--from", "cvm-vpc1", "172.16.2.16", port)
    assert code == 2
    assert "Traceback" not in out + err
    assert "PORT" in err
    assert port in err


def test_telnet_refuses_a_port_out_of_range_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "telnet", str(SEED), "--from", "cvm-vpc1", "172.16.2.16", "70000")
    assert code == 2
    assert err.count("\n") == 1, err
    assert err.startswith("vpcsim: "), err


# -- through a real process --------------------------------------------------------------------------------


def _command() -> list[str]:
    script = shutil.which("vpcsim")
    return [script] if script else [sys.executable, "-c", "from vpcsim.cli import main; main()"]


PROCESS_CASES = [
    ("syntax", "version: 1\nvpcs: {a: [}\n", ":2:12: YAML syntax error: did not find expected node content"),
    ("unknown-id", SEED_TEXT.replace("vpc: vpc3", "vpc: vpc9"), "instances.cvm-vpc3.vpc: unknown VPC 'vpc9'"),
    ("tag", 'version: !!python/object/apply:os.system ["echo pwned >&2"]\n', "version: YAML tag !!python/object/apply"),
    ("bomb", "version: 1\n" + _billion_laughs(), "document too large: aliases expand it to"),
    ("deep", "version: 1\nvpcs: " + "[" * 100_000 + "]" * 100_000 + "\n", ":2:47: nesting deeper than 40 levels"),
    ("port", SEED_TEXT.replace("port: 1044", "port: 70000"), "lbl-1044.port: port 70000 is out of range 1-65535"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("text", "needle"), [p[1:] for p in PROCESS_CASES], ids=[p[0] for p in PROCESS_CASES])
def test_a_real_process_exits_2_with_one_line(text: str, needle: str, tmp_path: Path) -> None:
    path = write_text(tmp_path, text)
    done = subprocess.run([*_command(), "validate", str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"vpcsim: {path}"), done.stderr
    assert needle in done.stderr
    assert "pwned" not in done.stderr.replace("echo pwned", "")


@pytest.mark.slow
def test_a_real_process_on_a_non_utf8_missing_or_empty_file(tmp_path: Path) -> None:
    (tmp_path / "latin1.yaml").write_bytes("version: 1\nvpcs: {é: 1}\n".encode("latin-1"))
    (tmp_path / "empty.yaml").write_bytes(b"")
    for name, needle in [
        ("latin1.yaml", ":2:8: the file is not UTF-8 text: byte 0xE9 cannot be decoded"),
        ("missing.yaml", ": cannot read the file: No such file or directory"),
        ("empty.yaml", ": the file is empty"),
    ]:
        done = subprocess.run(
            [*_command(), "validate", str(tmp_path / name)], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 2, done
        assert done.stderr.startswith(f"vpcsim: {tmp_path / name}{needle}"), done.stderr
        assert done.stderr.count("\n") == 1
        assert "Traceback" not in done.stderr


# -- without libyaml ---------------------------------------------------------------------------------------


@pytest.fixture
def pure_python_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parse with PyYAML's pure-Python parser, as on a machine whose PyYAML lacks libyaml."""
    monkeypatch.setattr(yamlsafe, "_Loader", yamlsafe._PyLoader)


@pytest.mark.parametrize("parser", ["libyaml", "python"])
@pytest.mark.parametrize("depth", [41, 1_000, 1_001, 100_000])
@pytest.mark.parametrize("style", ["flow", "block"])
def test_the_depth_limit_is_vpcsims_whichever_parser_reads(
    parser: str, depth: int, style: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libyaml's own flow-depth limit (about 1,000) never speaks before vpcsim's 40 levels."""
    if parser == "python":
        monkeypatch.setattr(yamlsafe, "_Loader", yamlsafe._PyLoader)
    elif yamlsafe._Loader is yamlsafe._PyLoader:
        pytest.skip("this PyYAML was built without libyaml")
    if style == "flow":
        text = "version: 1\nvpcs: " + "[" * depth + "]" * depth + "\n"
    else:
        text = "version: 1\nvpcs:\n" + "".join(" " * i + "- \n" for i in range(min(depth, 2_000)))
    with watchdog(HANG_S), pytest.raises(ScenarioError) as e:
        loads(text, source="<s>")
    assert e.value.problem == "nesting deeper than 40 levels"
    # The first value past the limit: the 41st '[' of line 2, or the '- ' indented 40 on line 43.
    assert (e.value.line, e.value.column) == ((2, 47) if style == "flow" else (43, 41))


def test_the_pure_python_parser_reads_the_seed_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    with_libyaml = load(SEED)
    monkeypatch.setattr(yamlsafe, "_Loader", yamlsafe._PyLoader)
    assert load(SEED) == with_libyaml


@pytest.mark.usefixtures("pure_python_yaml")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\nvpcs: {a: [}\n", "<s>:2:12: YAML syntax error: expected the node content, but found '}'"),
        ("version: 1\nvpcs: " + "[" * 50_000 + "\n", "<s>:2:47: nesting deeper than 40 levels"),
        ("version: 1\n" + _billion_laughs(), "<s>:7:5: a5: document too large: aliases expand it to 490329056"),
        ('version: !!python/object/apply:os.system ["true"]\n', "<s>:1:10: version: YAML tag !!python/object/apply"),
        ("version: 1\nvpcs: &v {a: *v}\n", "<s>:2:7: an alias refers to a value that contains it"),
        ("version: 1\nversion: 1\nvpcs: {}\n", "<s>:2:1: version: duplicated key 'version'"),
        ('version: 1\nvpcs:\n  "\\ud800": {}\n', "<s>:3:3: vpcs: the escape \\ud800 is half of a UTF-16 pair"),
    ],
    ids=["syntax", "deep", "bomb", "tag", "recursive alias", "duplicated key", "surrogate"],
)
def test_the_pure_python_parser_refuses_the_same_way(text: str, expected: str) -> None:
    with watchdog(HANG_S), pytest.raises(ScenarioError) as e:
        loads(text, source="<s>")
    assert str(e.value).startswith(expected), str(e.value)
