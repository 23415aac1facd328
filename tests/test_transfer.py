"""``transfer``: bulk data through the seed's endpoint and load balancer, on every branch, read
the way a performance engineer reads it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SEED
from vpcsim import Network
from vpcsim.cli import main
from vpcsim.errors import ArgumentError

Build = Callable[[dict[str, Any]], Network]
VIP = "172.16.2.16"
MB = 1_000_000


@pytest.mark.parametrize("source", ["cvm-vpc1", "cvm-vpc3"])
def test_100_mb_through_the_endpoint_and_the_load_balancer_completes_on_every_branch(
    seed_net: Network, source: str
) -> None:
    r = seed_net.transfer(source, VIP, 1044, 100 * MB)
    assert {b.choices[0].backend for b in r.branches} == {"cvm-backend1:8080", "cvm-backend2:8080"}
    for b in r.branches:
        assert b.completed
        assert b.delivered == 100 * MB
        assert b.completion_time > b.connect_time > 0


def test_the_ccns_default_cap_bounds_the_cross_region_goodput(seed_net: Network) -> None:
    r = seed_net.transfer("cvm-vpc3", VIP, 1044, 20 * MB, backends=["cvm-backend1"])
    assert r.completed
    (into_chengdu,) = [q for q in r.queues if q.name.endswith("ap-chongqing->ap-chengdu")]
    assert into_chengdu.utilisation > 0.5
    assert r.goodput_bps < 1e9 * r.mss / (r.mss + 40)  # never beyond the 1 Gbps cap's payload share


def test_a_prepaid_ccn_without_bandwidth_carries_ten_kilobits(seed_data: dict[str, Any], network_of: Build) -> None:
    ccn = seed_data["ccns"]["ccn-chengdu-chongqing"]
    ccn["billing"] = "prepaid"
    del ccn["bandwidth"]
    r = network_of(seed_data).transfer("cvm-vpc3", VIP, 1044, 20_000, backends=["cvm-backend1"])
    assert r.completed
    assert r.goodput_bps <= 10e3
    bought = network_of(
        seed_data
        | {"ccns": {"ccn-chengdu-chongqing": ccn | {"region_bandwidths": {"ap-chengdu/ap-chongqing": "100Mbps"}}}}
    )
    faster = bought.transfer("cvm-vpc3", VIP, 1044, 20_000, backends=["cvm-backend1"])
    assert faster.completion_time < r.completion_time / 100


def test_the_same_seed_gives_the_same_transfer(seed_net: Network) -> None:
    a = seed_net.transfer("cvm-vpc3", VIP, 1044, 2 * MB, backends=["cvm-backend2"])
    b = seed_net.transfer("cvm-vpc3", VIP, 1044, 2 * MB, backends=["cvm-backend2"])
    assert a == b


def test_a_refused_transfer_says_why(seed_data: dict[str, Any], network_of: Build) -> None:
    for backend in ("cvm-backend1", "cvm-backend2"):  # every one fails its checks: all-dead-all-alive
        seed_data["instances"][backend]["listen"] = []
    r = network_of(seed_data).transfer("cvm-vpc1", VIP, 1044, MB)
    for b in r.branches:
        assert b.outcome == "refused"
        assert b.reason is not None
        assert b.reason.value == "port_closed"
        assert b.delivered == 0


def test_a_blocked_transfer_times_out_with_the_reason_of_its_drops(
    seed_data: dict[str, Any], network_of: Build
) -> None:
    seed_data["security_groups"]["sg-backend"]["ingress"] = []
    r = network_of(seed_data).transfer("cvm-vpc1", VIP, 1044, MB, every_branch=False)
    assert r.outcome == "timeout"
    assert r.reason is not None
    assert r.reason.value == "sg_ingress_denied"


@pytest.mark.parametrize("size", [0, -1, 10**13, 1.5])
def test_a_size_out_of_range_is_refused(seed_net: Network, size: Any) -> None:
    with pytest.raises(ArgumentError, match="bytes must be"):
        seed_net.transfer("cvm-vpc1", VIP, 1044, size)


def test_the_cli_prints_goodput_and_exits_0_when_every_branch_completes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["transfer", str(SEED), "--from", "cvm-vpc3", VIP, "1044", "--bytes", "2MB"])
    out = capsys.readouterr().out
    assert done.value.code == 0
    assert "goodput" in out
    assert "other branches (1):" in out


def test_the_cli_json_and_pcap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pcap = tmp_path / "t.pcapng"
    args = ["transfer", str(SEED), "--from", "cvm-vpc1", VIP, "1044", "--bytes", "64KiB", "--json"]
    args += ["--backend", "cvm-backend1", "--pcap", str(pcap), "--pcap-points", "cvm-backend1:*", "--snaplen", "96"]
    with pytest.raises(SystemExit) as done:
        main(args)
    r = json.loads(capsys.readouterr().out)
    assert done.value.code == 0
    assert r["schema"] == 1
    assert r["bytes"] == 65536
    assert r["delivered"] == 65536
    assert r["backends"] == ["cvm-backend1:8080"]
    assert r["other_branches"] == []
    from scapy.utils import rdpcap

    packets = rdpcap(str(pcap))
    assert packets
    assert all(len(bytes(p)) <= 96 for p in packets)
    assert {p.sniffed_on for p in packets} == {"cvm-backend1:eth0"}


def test_tshark_reads_a_transfers_pcap(tmp_path: Path, seed_net: Network) -> None:
    import shutil

    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed")
    from vpcsim.report import write_captures

    r = seed_net.transfer("cvm-vpc3", VIP, 1044, 100_000, capture=True, backends=["cvm-backend2"])
    pcap = tmp_path / "t.pcapng"
    write_captures(r.captures, pcap, points=["cvm-vpc3:eth0"])
    out = subprocess.run(
        [
            "tshark",
            "-r",
            str(pcap),
            "-o",
            "tcp.check_checksum:TRUE",
            "-T",
            "fields",
            "-e",
            "tcp.checksum.status",
            "-e",
            "tcp.len",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    rows = [line.split("\t") for line in out if line]
    assert rows
    assert all(status == "1" for status, _ in rows)  # every checksum good (0 bad, 2 unverified)
    assert sum(int(n) for _, n in rows) >= 100_000
