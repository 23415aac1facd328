"""Determinism: the same scenario and seed give the same bytes, run after run, process after process.

Python randomises ``str`` hashes per process (PYTHONHASHSEED), which reorders sets and can leak
into anything iterated from them; the CLI runs here in fresh processes under several hash seeds and
its JSON, text and pcapng output must not change by a byte. In-process, a result must not depend
on which Network object computed it or which probes ran before. The random seed, by contrast, must
matter: it picks the ephemeral and SNAT ports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tests.conftest import ROOT, SEED
from vpcsim import Network
from vpcsim.report import probe_to_dict, write_pcapng

SCENARIO = str(SEED.relative_to(ROOT))
"""As a user types it (``vpcsim check --json`` echoes the path it was given)."""

HASH_SEEDS = ("0", "1", "12345", "0")
"""Three hash seeds, and the first again: across processes and across runs of one setting."""

CASES: dict[str, tuple[str, ...]] = {
    "telnet from cvm-vpc1 --json": ("telnet", SCENARIO, "--from", "cvm-vpc1", "172.16.2.16", "1044", "--json"),
    "telnet from cvm-vpc3 --json": ("telnet", SCENARIO, "--from", "cvm-vpc3", "172.16.2.16", "1044", "--json"),
    "telnet to a port without listener --json": (
        "telnet",
        SCENARIO,
        "--from",
        "cvm-vpc3",
        "vpce-vpc1",
        "1045",
        "--json",
    ),
    "telnet from cvm-vpc3, text": ("telnet", SCENARIO, "--from", "cvm-vpc3", "172.16.2.16", "1044"),
    "check --json": ("check", SCENARIO, "--json"),
}
WITH_PCAP = {name for name, args in CASES.items() if args[0] == "telnet" and "--json" in args}
"""The telnet cases that also write a pcap (the text case shares its probe with one of them)."""


class Run(NamedTuple):
    code: int
    stdout: bytes
    stderr: bytes
    pcap: bytes | None


def _command() -> list[str]:
    """The console script of the interpreter running the tests, or its entry function."""
    script = Path(sys.executable).with_name("vpcsim")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-c", "from vpcsim.cli import main; main()"]


def run_cli(args: tuple[str, ...], *, hash_seed: str, pcap: Path | None = None) -> Run:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    extra = ["--pcap", str(pcap)] if pcap is not None else []
    done = subprocess.run(
        [*_command(), *args, *extra], cwd=ROOT, env=env, capture_output=True, timeout=120, check=False
    )
    return Run(done.returncode, done.stdout, done.stderr, pcap.read_bytes() if pcap is not None else None)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Run]]:
    """Every case under every hash seed, each in its own process (four at a time)."""
    tmp = tmp_path_factory.mktemp("determinism")
    jobs = {
        (name, i): (args, seed, tmp / f"case{n}-run{i}.pcapng" if name in WITH_PCAP else None)
        for n, (name, args) in enumerate(CASES.items())
        for i, seed in enumerate(HASH_SEEDS)
    }
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {
            key: pool.submit(run_cli, args, hash_seed=seed, pcap=pcap) for key, (args, seed, pcap) in jobs.items()
        }
        done = {key: f.result() for key, f in futures.items()}
    return {name: [done[(name, i)] for i in range(len(HASH_SEEDS))] for name in CASES}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_the_cli_prints_the_same_bytes_under_every_hash_seed_and_on_every_run(
    runs: dict[str, list[Run]], case: str
) -> None:
    first, *others = runs[case]
    assert first.stderr == b"", first.stderr.decode()
    assert first.stdout, "no output"
    for seed, other in zip(HASH_SEEDS[1:], others, strict=True):
        assert other.code == first.code, f"PYTHONHASHSEED={seed}"
        assert other.stdout == first.stdout, (
            f"PYTHONHASHSEED={seed}: output differs from PYTHONHASHSEED={HASH_SEEDS[0]}"
        )
        assert other.stderr == first.stderr, f"PYTHONHASHSEED={seed}"


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(WITH_PCAP))
def test_the_cli_writes_the_same_pcap_bytes_under_every_hash_seed_and_on_every_run(
    runs: dict[str, list[Run]], case: str
) -> None:
    first, *others = runs[case]
    assert first.pcap, "no pcap written"
    for seed, other in zip(HASH_SEEDS[1:], others, strict=True):
        assert other.pcap == first.pcap, f"PYTHONHASHSEED={seed}: pcap differs from PYTHONHASHSEED={HASH_SEEDS[0]}"


@pytest.mark.slow
def test_the_cases_cover_a_connected_and_a_failing_telnet_and_a_check_run(runs: dict[str, list[Run]]) -> None:
    telnet_codes = {runs[name][0].code for name in WITH_PCAP}
    assert telnet_codes == {0, 1}, "both telnet exit codes (connected, not connected) should be exercised"
    failing = json.loads(runs["telnet to a port without listener --json"][0].stdout)
    assert failing["verdict"] != "connected"
    report = json.loads(runs["check --json"][0].stdout)
    assert report["passed"] + report["failed"] == len(report["checks"]) > 0


def _telnet_json(seed: int | None, *, hash_seed: str = "0") -> dict[str, Any]:
    args = ("telnet", SCENARIO, "--from", "cvm-vpc3", "172.16.2.16", "1044", "--json")
    result = run_cli(args if seed is None else (*args, "--seed", str(seed)), hash_seed=hash_seed)
    assert result.stderr == b"", result.stderr.decode()
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _ports(result: dict[str, Any]) -> tuple[int, int]:
    """The client's ephemeral port and the endpoint's SNAT port, as the SYN's trace shows them."""
    syn = result["packets"][0]
    client_port = int(syn["summary"].split(" > ")[0].rsplit(":", 1)[1])
    nat = next(s for h in syn["hops"] for s in h["steps"] if s["kind"] == "transform")
    snat_port = int(next(d["new"] for d in nat["diffs"] if d["field"] == "sport"))
    return client_port, snat_port


@pytest.mark.slow
def test_the_random_seed_picks_the_ephemeral_and_snat_ports_but_not_the_verdict() -> None:
    by_seed = {seed: _telnet_json(seed, hash_seed=str(seed)) for seed in (1, 2, 3)}
    ports = {seed: _ports(r) for seed, r in by_seed.items()}
    assert len({client for client, _ in ports.values()}) == 3, ports
    assert len({snat for _, snat in ports.values()}) == 3, ports
    assert len({r["verdict"] for r in by_seed.values()}) == 1
    assert _telnet_json(1, hash_seed="12345") == by_seed[1]


@pytest.mark.slow
def test_without_seed_the_cli_uses_the_scenarios_own_seed() -> None:
    scenario_seed = Network.from_file(SEED).topology.settings.seed
    assert _telnet_json(None) == _telnet_json(scenario_seed)


# -- in-process ----------------------------------------------------------------------------------

PROBES = (
    ("cvm-vpc1", "172.16.2.16", 1044),
    ("cvm-vpc3", "172.16.2.16", 1044),
    ("cvm-vpc3", "vpce-vpc1", 1045),
    ("cvm-vpc1", "10.0.1.100", 1044),
)


def test_two_networks_built_from_the_same_file_give_equal_results() -> None:
    a, b = Network.from_file(SEED), Network.from_file(SEED)
    for probe in PROBES:
        ra, rb = a.telnet(*probe, capture=True), b.telnet(*probe, capture=True)
        assert probe_to_dict(ra) == probe_to_dict(rb), probe
        assert ra.captures == rb.captures, probe


def test_a_result_does_not_depend_on_the_probes_run_before_it_on_the_same_network() -> None:
    fresh = {probe: probe_to_dict(Network.from_file(SEED).telnet(*probe)) for probe in PROBES}
    shared = Network.from_file(SEED)
    for probe in (*PROBES, *reversed(PROBES), *PROBES):
        assert probe_to_dict(shared.telnet(*probe)) == fresh[probe], probe


def test_writing_the_same_result_twice_gives_the_same_pcap_bytes(tmp_path: Path) -> None:
    result = Network.from_file(SEED).telnet("cvm-vpc3", "172.16.2.16", 1044, capture=True)
    write_pcapng(result, tmp_path / "a.pcapng")
    write_pcapng(Network.from_file(SEED).telnet("cvm-vpc3", "172.16.2.16", 1044, capture=True), tmp_path / "b.pcapng")
    assert (tmp_path / "a.pcapng").read_bytes() == (tmp_path / "b.pcapng").read_bytes()
