"""Fuzzed input: thousands of generated and mutated scenario documents.

Each document of :data:`N_DOCUMENTS` (built by :mod:`tests.fuzz.mutator` from the bundled scenario, deterministic
by index) goes through the CLI's entry function, ``vpcsim.cli.main(["validate", FILE])``, under a
:data:`WATCHDOG_S` watchdog. It must either load (exit 0) or exit 2 with exactly one line on stderr
starting with ``vpcsim: FILE``; never a traceback, never another exit status, never a hang. A
document that loads must also compile (``vpcsim.Network``) and run its first checks without raising.
A sample also runs through a real ``vpcsim`` process, which must agree with the in-process result.
Hypothesis adds arbitrary plain data (for ``from_data``) and arbitrary text (for ``loads``).

The counts are printed in pytest's terminal summary (see ``conftest.py``).
"""

from __future__ import annotations

import collections
import contextlib
import io
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tests import summaries
from tests.fuzz import mutator
from tests.strategies import DETERMINISTIC
from tests.watchdog import Hang, watchdog
from vpcsim import Network
from vpcsim.cli import main
from vpcsim.errors import ScenarioError
from vpcsim.frontends import from_data, load, loads

pytestmark = pytest.mark.slow

N_DOCUMENTS = 10_000
"""How many generated documents run through the CLI in-process (at least 10,000)."""
WATCHDOG_S = 5.0
"""Longest a single document may take, from validate to its last probe."""
CHECKS_PER_DOCUMENT = 3
"""Checks probed per loaded document (bounded: the point is 'does not raise', not coverage)."""
SUBPROCESS_SAMPLE = 24

ROOT = Path(__file__).resolve().parent.parent.parent
SEED = ROOT / "scenarios" / "chengdu_chongqing.yaml"

STATS: dict[str, Any] = {}
"""Filled by the corpus run, and printed in pytest's terminal summary (:mod:`tests.summaries`)."""


@dataclass
class CorpusRun:
    outcomes: dict[int, int] = field(default_factory=dict)
    """Document index → exit status of ``vpcsim validate``."""
    kinds: dict[int, str] = field(default_factory=dict)
    loader_failures: list[str] = field(default_factory=list)
    engine_failures: list[str] = field(default_factory=list)
    counts: collections.Counter[str] = field(default_factory=collections.Counter)
    probes: int = 0
    slowest: tuple[float, int] = (0.0, -1)
    seconds: float = 0.0
    marker: Path = Path()
    """The file this run's code-running payloads would create (fresh per run)."""
    code_payloads: int = 0
    """Documents that carry a payload naming :attr:`marker`."""


def _validate(path: Path) -> tuple[int | str, str, str]:
    """``vpcsim validate PATH`` in this process: (exit status or exception, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code: int | str
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(["validate", str(path)])
        code = "returned without exiting"
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else repr(exc.code)
    return code, out.getvalue(), err.getvalue()


def _probe(path: Path) -> int:
    """Compile a document that loaded and run its first checks; the number of probes run."""
    net = Network(load(path))
    checks = net.topology.checks[:CHECKS_PER_DOCUMENT]
    for check in checks:
        net.run_check(check)
    return len(checks)


def _keep(tmp: Path, index: int, data: bytes) -> Path:
    kept = tmp / f"doc{index:05d}.yaml"
    kept.write_bytes(data)
    return kept


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> CorpusRun:
    """Run every document once; the tests below assert on what happened."""
    tmp = tmp_path_factory.mktemp("fuzz")
    keep = tmp_path_factory.mktemp("fuzz-failures")
    seed_text = SEED.read_text(encoding="utf-8")
    seed_doc = yaml.safe_load(seed_text)
    run = CorpusRun(marker=tmp_path_factory.mktemp("fuzz-marker") / "pwned")
    started = time.perf_counter()
    path = tmp / "doc.yaml"
    for index in range(N_DOCUMENTS):
        kind, data = mutator.document(seed_doc, seed_text, index, marker=str(run.marker))
        run.code_payloads += str(run.marker).encode() in data
        run.kinds[index] = kind
        path.write_bytes(data)
        t0 = time.perf_counter()
        try:
            with watchdog(WATCHDOG_S):
                code, out, err = _validate(path)
                if code == 0:
                    try:
                        run.probes += _probe(path)
                    except Hang:
                        raise
                    except BaseException as exc:
                        where = _keep(keep, index, data)
                        run.engine_failures.append(f"doc {index} ({where}): {type(exc).__name__}: {exc}")
        except Hang as exc:
            where = _keep(keep, index, data)
            run.loader_failures.append(f"doc {index} ({where}): {exc}")
            continue
        except BaseException as exc:  # an exception escaped the CLI: a traceback for the user
            where = _keep(keep, index, data)
            run.loader_failures.append(f"doc {index} ({where}): {type(exc).__name__} escaped the CLI: {exc}")
            continue
        elapsed = time.perf_counter() - t0
        run.slowest = max(run.slowest, (elapsed, index))
        run.outcomes[index] = code if isinstance(code, int) else -1
        run.counts[f"{kind}:exit {code}"] += 1
        problem = _check_output(path, code, out, err)
        if problem:
            where = _keep(keep, index, data)
            run.loader_failures.append(f"doc {index} ({where}): {problem}")
    run.seconds = time.perf_counter() - started
    STATS.update(
        documents=N_DOCUMENTS,
        loaded=sum(1 for c in run.outcomes.values() if c == 0),
        refused=sum(1 for c in run.outcomes.values() if c == 2),
        probes=run.probes,
        by_kind=dict(sorted(run.counts.items())),
        seconds=round(run.seconds, 1),
        slowest=f"{run.slowest[0] * 1000:.0f} ms (doc {run.slowest[1]})",
        loader_failures=len(run.loader_failures),
        engine_failures=len(run.engine_failures),
    )
    for key, value in STATS.items():
        summaries.add("vpcsim fuzzed input", f"{key}: {value}")
    return run


def _check_output(path: Path, code: int | str, out: str, err: str) -> str | None:
    if "Traceback" in out + err:
        return f"traceback in the output: {err[-300:]!r}"
    if code == 0:
        if not out.startswith(f"{path}: valid: "):
            return f"exit 0 without the 'valid' line: {out!r}"
        return None
    if code != 2:
        return f"exit status {code!r} (expected 0 or 2); stderr {err[-300:]!r}"
    if not err.startswith(f"vpcsim: {path}"):
        return f"the message does not start with 'vpcsim: FILE': {err[:300]!r}"
    if not err.endswith("\n") or err.count("\n") != 1:
        return f"not exactly one line on stderr: {err[:300]!r}"
    if not err.rstrip("\n").isprintable():
        return f"unprintable characters in the message: {err[:300]!r}"
    if len(err) > 600:
        return f"a message of {len(err)} characters is not 'one clear message': {err[:300]!r}..."
    if out:
        return f"stdout is not empty on exit 2: {out[:300]!r}"
    return None


def test_the_corpus_is_at_least_ten_thousand_documents(corpus: CorpusRun) -> None:
    assert N_DOCUMENTS >= 10_000
    assert len(corpus.kinds) == N_DOCUMENTS
    kinds = collections.Counter(corpus.kinds.values())
    assert set(kinds) == {"valid", "data", "text"}
    # Both outcomes are well represented, so neither the loader nor the engine goes untested.
    assert STATS["loaded"] >= N_DOCUMENTS // 5, STATS
    assert STATS["refused"] >= N_DOCUMENTS // 2, STATS


def test_every_document_loads_or_exits_2_with_one_message(corpus: CorpusRun) -> None:
    assert not corpus.loader_failures, "\n".join(corpus.loader_failures[:30])


def test_no_document_ran_code(corpus: CorpusRun) -> None:
    """The corpus holds ``!!python/object/apply:os.system ["touch MARKER"]`` and kin; none ran."""
    assert corpus.code_payloads >= 100, corpus.code_payloads
    assert not corpus.marker.exists()


def test_documents_that_load_also_compile_and_probe(corpus: CorpusRun) -> None:
    assert corpus.probes > 0
    causes: dict[str, list[str]] = collections.defaultdict(list)
    for failure in corpus.engine_failures:
        where, _, cause = failure.partition("): ")
        causes[cause].append(where + ")")
    summary = [f"{len(docs)} x {cause}\n    e.g. " + "\n    e.g. ".join(docs[:3]) for cause, docs in causes.items()]
    assert not causes, f"{len(corpus.engine_failures)} loaded documents broke the engine:\n" + "\n".join(summary)


def _command() -> list[str]:
    script = shutil.which("vpcsim")
    return [script] if script else [sys.executable, "-c", "from vpcsim.cli import main; main()"]


def test_a_sample_through_real_processes_agrees(corpus: CorpusRun, tmp_path: Path) -> None:
    """Every kind and outcome, through the console script, several processes at a time."""
    seed_text = SEED.read_text(encoding="utf-8")
    seed_doc = yaml.safe_load(seed_text)
    by_bucket: dict[tuple[str, int], list[int]] = collections.defaultdict(list)
    for index, code in corpus.outcomes.items():
        by_bucket[(corpus.kinds[index], code)].append(index)
    sample: list[int] = []
    while len(sample) < SUBPROCESS_SAMPLE and any(by_bucket.values()):
        for bucket in sorted(by_bucket):
            if by_bucket[bucket] and len(sample) < SUBPROCESS_SAMPLE:
                indexes = by_bucket[bucket]
                sample.append(indexes.pop(len(indexes) * 7 // 11))
    assert len(sample) >= 20
    running: list[tuple[int, Path, subprocess.Popen[str]]] = []
    for index in sample:
        path = tmp_path / f"doc{index:05d}.yaml"
        path.write_bytes(mutator.document(seed_doc, seed_text, index, marker=str(corpus.marker))[1])
        proc = subprocess.Popen(
            [*_command(), "validate", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        running.append((index, path, proc))
    problems = []
    for index, path, proc in running:
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            problems.append(f"doc {index}: the process hung")
            continue
        problem = _check_output(path, proc.returncode, out, err)
        if problem:
            problems.append(f"doc {index}: {problem}")
        elif proc.returncode != corpus.outcomes[index]:
            problems.append(f"doc {index}: exit {proc.returncode} in a process, {corpus.outcomes[index]} in-process")
    assert not problems, "\n".join(problems)
    assert not corpus.marker.exists()


# -- hypothesis: arbitrary data and text ------------------------------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["1", "10.0.0.0/8", "172.16.2.16:1044", "vpc1", "tcp", "accept", "20s", "all"])
)
_keys = st.sampled_from(
    ["version", "vpcs", "instances", "checks", "from", "to", "vpc", "subnet", "ip", "cidr", "zone", "region", "port"]
) | st.text(max_size=10)
_data = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_keys, children, max_size=4),
    max_leaves=30,
)


def _one_line(err: ScenarioError) -> None:
    text = str(err)
    assert "\n" not in text, text
    assert text.isprintable(), text
    assert text.startswith(err.source)


@DETERMINISTIC
@given(doc=st.fixed_dictionaries({"version": st.just(1)}, optional={"vpcs": _data, "checks": _data}) | _data)
def test_arbitrary_data_loads_or_raises_one_scenario_error(doc: Any) -> None:
    try:
        from_data(doc, source="<fuzz>")
    except ScenarioError as err:
        _one_line(err)


@DETERMINISTIC
@given(
    text=st.text(max_size=300) | st.builds(lambda a, b: a + b, st.sampled_from(mutator.SNIPPETS), st.text(max_size=40))
)
def test_arbitrary_text_loads_or_raises_one_scenario_error(text: str) -> None:
    try:
        loads(text, source="<fuzz>")
    except ScenarioError as err:
        _one_line(err)


HUAWEI_SEEDS = sorted((ROOT / "scenarios").glob("huawei_*.yaml"))
HUAWEI_PER_SEED = 300
"""Mutated documents per Huawei scenario: the Huawei front-end's own keys and rules under fuzzing."""


def test_every_mutated_huawei_document_loads_or_exits_2_with_one_message(tmp_path: Path) -> None:
    """The same mutations on the Huawei scenarios (those that apply to their keys: the mutator's
    value generators know the Tencent seed's sections, and skip the rest by raising)."""
    made = loaded = 0
    failures: list[str] = []
    for seed in HUAWEI_SEEDS:
        text = seed.read_text(encoding="utf-8")
        doc = yaml.safe_load(text)
        for index in range(HUAWEI_PER_SEED):
            try:
                _, data = mutator.document(doc, text, index, marker=str(tmp_path / "pwned"))
            except (KeyError, IndexError, TypeError, ValueError):
                continue  # a Tencent-shaped mutation with nothing to mutate here
            made += 1
            path = tmp_path / f"{seed.stem}-{index}.yaml"
            path.write_bytes(data)
            try:
                with watchdog(WATCHDOG_S):
                    code, _, err = _validate(path)
                    if code == 0:
                        loaded += 1
                        Network(load(path)).run_checks(max_branches=8)
            except Hang as exc:
                failures.append(f"{path}: {exc}")
                continue
            except Exception as exc:
                failures.append(f"{path}: {exc!r}")
                continue
            if code not in (0, 2) or (code == 2 and (err.count("\n") != 1 or not err.startswith(f"vpcsim: {path}"))):
                failures.append(f"{path}: exit {code}: {err[:300]}")
    assert not (tmp_path / "pwned").exists()
    assert made >= 2 * HUAWEI_PER_SEED, made
    assert loaded >= 20, loaded
    assert not failures, "\n".join(failures[:20])
