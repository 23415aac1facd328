"""tshark opens the pcapng vpcsim writes: valid checksums, a full handshake at every capture point,
addresses as rewritten there; read back with Scapy, every frame carries its simulated time."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from vpcsim import Network
from vpcsim.report import write_pcapng

SEED = Path(__file__).resolve().parents[2] / "scenarios" / "chengdu_chongqing.yaml"
T0 = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
"""Simulated t=0 as the pcapng says it (README)."""

FIELDS = [
    "frame.interface_name",
    "ip.src",
    "ip.dst",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.flags.str",
    "ip.checksum.status",
    "tcp.checksum.status",
    "frame.comment",
]


def tshark() -> str:
    exe = shutil.which("tshark")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tshark is required in CI (Debian package tshark)")
        pytest.skip("tshark is not installed")
    return exe


def read(path: Path) -> list[dict[str, str]]:
    out = subprocess.run(
        [
            tshark(),
            "-r",
            str(path),
            "-o",
            "ip.check_checksum:TRUE",
            "-o",
            "tcp.check_checksum:TRUE",
            "-T",
            "fields",
            "-E",
            "separator=\t",
            *(x for f in FIELDS for x in ("-e", f)),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return [dict(zip(FIELDS, line.split("\t"), strict=True)) for line in out.stdout.splitlines()]


@pytest.fixture(scope="module")
def vpc3_capture(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    net = Network.from_file(Path(__file__).resolve().parents[2] / "scenarios" / "chengdu_chongqing.yaml")
    result = net.telnet("cvm-vpc3", "172.16.2.16", 1044, capture=True)
    path = tmp_path_factory.mktemp("pcap") / "vpc3.pcapng"
    assert write_pcapng(result, path) == len(result.captures)
    return read(path)


@pytest.mark.tshark
def test_every_packet_has_good_ip_and_tcp_checksums(vpc3_capture: list[dict[str, str]]) -> None:
    assert vpc3_capture
    assert {(r["ip.checksum.status"], r["tcp.checksum.status"]) for r in vpc3_capture} == {("1", "1")}


@pytest.mark.tshark
def test_every_capture_point_sees_syn_then_syn_ack_then_ack(vpc3_capture: list[dict[str, str]]) -> None:
    flags: dict[str, list[str]] = defaultdict(list)
    for r in vpc3_capture:
        flags[r["frame.interface_name"]].append(r["tcp.flags.str"].replace("·", ""))
    assert len(flags) >= 14
    for point, seen in flags.items():
        assert seen == ["S", "S", "AS", "AS", "A", "A"] or seen == ["S", "AS", "A"], point


@pytest.mark.tshark
def test_capture_points_show_the_addresses_as_rewritten_there(vpc3_capture: list[dict[str, str]]) -> None:
    syns = {r["frame.interface_name"]: r for r in vpc3_capture if r["tcp.flags.str"].replace("·", "") == "S"}
    client = syns["cvm-vpc3:eth0"]
    assert (client["ip.src"], client["ip.dst"], client["tcp.dstport"]) == ("192.168.1.10", "172.16.2.16", "1044")
    to_lb = syns["vpce-vpc1:lb-service"]
    assert to_lb["ip.src"].startswith("11.163.")
    assert (to_lb["ip.dst"], to_lb["tcp.dstport"]) == ("10.0.1.100", "1044")
    backend = syns["cvm-backend1:eth0"]
    assert backend["ip.src"] == to_lb["ip.src"]
    assert (backend["ip.dst"], backend["tcp.dstport"]) == ("10.0.2.11", "8080")
    assert backend["frame.comment"] == "cvm-backend1:eth0 SYN"


@pytest.mark.tshark
def test_the_cli_writes_a_pcap_tshark_reads(tmp_path: Path) -> None:
    from vpcsim.cli import main

    path = tmp_path / "vpc1.pcapng"
    seed = Path(__file__).resolve().parents[2] / "scenarios" / "chengdu_chongqing.yaml"
    with pytest.raises(SystemExit) as done:
        main(["telnet", str(seed), "--from", "cvm-vpc1", "172.16.2.16", "1044", "--pcap", str(path), "--json"])
    assert done.value.code == 0
    rows = read(path)
    assert {r["frame.interface_name"] for r in rows} >= {"cvm-vpc1:eth0", "lb-service:vpc2", "cvm-backend1:eth0"}


def test_frame_timestamps_are_the_simulated_times_after_the_documented_epoch(tmp_path: Path) -> None:
    """Each frame is stamped when its packet is sent or arrives at that point, counted from T0."""
    from scapy.utils import PcapNgReader

    net = Network.from_file(SEED)
    result = net.telnet("cvm-vpc3", "172.16.2.16", 1044, capture=True)
    path = tmp_path / "vpc3.pcapng"
    write_pcapng(result, path)
    t0 = Decimal(int(T0.timestamp()))
    stamped: dict[tuple[str, str], float] = {}
    with PcapNgReader(str(path)) as reader:
        for frame in reader:
            point, kind = frame.comments[0].decode().split(" ")
            assert point == frame.sniffed_on
            assert (point, kind) not in stamped, "one packet of each kind per capture point"
            stamped[point, kind] = float(Decimal(frame.time) - t0)
    expected: dict[tuple[str, str], float] = {}
    for p in result.packets:
        first = p.hops[0]
        expected[f"{first.node}:eth0", p.kind] = p.sent_at - result.started_at
        for prev, hop in zip(p.hops, p.hops[1:], strict=False):
            iface = "eth0" if hop.node in net.topology.instances else prev.node
            expected[f"{hop.node}:{iface}", p.kind] = hop.time - result.started_at
    assert len(expected) == sum(len(p.hops) for p in result.packets)
    assert expected.keys() <= stamped.keys()
    for key, t in expected.items():
        assert stamped[key] == pytest.approx(t, abs=1e-6), key  # pcapng stamps in microseconds
    last = max(p.arrived_at for p in result.packets) - result.started_at
    assert last > 0.008  # the ACK arrives after two Chengdu-Chongqing round trips and a half
    assert max(stamped.values()) == pytest.approx(last, abs=1e-6)
    assert datetime.fromtimestamp(float(t0) + min(stamped.values()), UTC) == T0
