"""Data flows one way: no stage imports a later one; the engine and the IR know no cloud.

scenario file → model → control plane → front-end lowers to the IR → sim → (branches) probes → report → cli
(lint reads the model and the control plane beside that flow, for cli's warnings)
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "vpcsim"

# What each part may import from vpcsim (besides itself). `trace` is the vocabulary of answers
# (steps, reasons), used by every stage that explains a decision.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "trace": set(),
    "model": {"errors"},
    # Reading files whatever the cloud; what a document means is a front-end's business.
    "scenario": {"errors", "model"},
    "control": {"model"},
    # Warnings read the validated model with its file positions and, for time, the control plane.
    "lint": {"errors", "model", "scenario", "control", "frontends"},
    "ir": {"trace"},
    # A cloud's schema, rules and lowering: it reads files with scenario/ and validates timelines
    # by running control/.
    "frontends": {"errors", "model", "scenario", "control", "ir", "trace"},
    "sim": {"ir", "trace"},
    # report renders steps for probes' explanations; it names probes' result types only for typing
    "report": {"trace", "sim"},
    # Exploring branches runs whatever one branch is; it knows choices (trace) and pins only.
    "branches": {"errors", "trace"},
    # A hand-made packet walked through the engine: Scapy in, Scapy out.
    "send": {"errors", "ir", "sim", "trace"},
    # Many connections and one bulk transfer run on the engine as probes do, in their own simulations.
    "transfer": {"branches", "ir", "scenario", "sim", "trace"},
    "load": {"ir", "scenario", "sim", "trace"},
    "probes": {
        "errors",
        "model",
        "scenario",
        "frontends",
        "ir",
        "sim",
        "trace",
        "report",
        "branches",
        "send",
        "transfer",
        "load",
    },
    "testing": {"probes", "scenario", "trace", "report"},
    "pytest_plugin": {"probes"},
    # The kernel oracle: its plan from the model alone; the runner asks the simulator; the CLI loads files.
    "emulate": {"errors", "model", "scenario", "frontends", "trace", "probes", "report", "cli"},
    "cli": {"errors", "probes", "report", "scenario", "frontends", "emulate", "lint"},
    "__init__": {"errors", "model", "probes", "scenario", "frontends", "testing", "trace", "send", "transfer", "load"},
    "__main__": {"cli"},
}


def part_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imported_parts(path: Path) -> set[str]:
    """The parts of vpcsim a module imports at run time (``if TYPE_CHECKING:`` imports are for
    type checkers only: they create no dependency)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        if _type_checking_only(node):
            continue
        todo.extend(ast.iter_child_nodes(node))
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            if name == "vpcsim" or name.startswith("vpcsim."):
                parts = name.split(".")
                found.add(parts[1] if len(parts) > 1 else "__init__")
    return found


def test_every_module_belongs_to_a_known_stage() -> None:
    parts = {part_of(p) for p in PACKAGE.rglob("*.py")}
    assert parts <= set(ALLOWED), parts - set(ALLOWED)


def test_no_stage_imports_a_later_one() -> None:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        part = part_of(path)
        bad = imported_parts(path) - ALLOWED[part] - {part}
        if bad:
            problems.append(f"{path.relative_to(PACKAGE)} imports {sorted(bad)}")
    assert not problems, "\n".join(problems)


def test_sim_imports_no_cloud_model() -> None:
    """sim/ imports nothing of the cloud model (model, scenario, control, front-ends): it reads the IR."""
    for path in (PACKAGE / "sim").rglob("*.py"):
        assert not imported_parts(path) & {"model", "scenario", "control", "frontends"}, path


CLOUD_WORDS = re.compile(
    r"tencent|huawei|ccn|clb|elb|vpcep|private ?link|whitelist|admission|endpoint service|cvm|\becs\b"
    r"|11\.163|198\.19\.128|100\.64\.0\.0",
    re.IGNORECASE,
)


@pytest.mark.parametrize("part", ["sim", "ir"])
def test_the_engine_and_the_ir_hold_no_cloud_word_or_constant(part: str) -> None:
    """Every line of sim/ and ir/, docstrings and comments included: a cloud's words, rules and
    constants live in its front-end, so a second cloud lowers to the same IR unchanged."""
    hits = [
        f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}"
        for path in sorted((PACKAGE / part).rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if CLOUD_WORDS.search(line)
    ]
    assert not hits, "\n".join(hits)


def test_the_cloud_word_scan_finds_the_front_ends_words() -> None:
    """The scan above is only worth something if its pattern matches where the words do live."""
    front_end = "\n".join(p.read_text(encoding="utf-8") for p in (PACKAGE / "frontends").rglob("*.py"))
    found = {m.group(0).lower() for m in CLOUD_WORDS.finditer(front_end)}
    assert {"tencent", "ccn", "11.163", "private link"} <= found, found


def test_loading_a_scenario_never_imports_scapy_or_simpy() -> None:
    import subprocess
    import sys

    code = (
        "import sys, vpcsim.frontends as f; f.load(sys.argv[1]); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('scapy', 'simpy')))"
    )
    seed = PACKAGE.parent.parent / "scenarios" / "chengdu_chongqing.yaml"
    out = subprocess.run([sys.executable, "-c", code, str(seed)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


ORACLE = ("plan.py", "plan_control.py", "kernel.py", "nflog.py")
"""The kernel oracle's modules: what they build must come from the validated model alone."""


def _imported_modules(path: Path) -> set[str]:
    """Every ``vpcsim...`` module a file imports, type-checking imports included (a shared type is
    shared code too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("vpcsim")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vpcsim"):
            if node.module == "vpcsim.emulate":  # ``from vpcsim.emulate import nflog``: the module
                found |= {f"{node.module}.{a.name}" for a in node.names}
            else:
                found.add(node.module)
    return found


@pytest.mark.parametrize("name", ORACLE)
def test_the_kernel_oracle_shares_nothing_with_the_simulator_but_the_model(name: str) -> None:
    """The kernel plan is derived from the model and the timeline by its own code: importing the
    control plane, a front-end, the IR or the engine would build the simulator's bugs into both
    sides of the comparison."""
    allowed = {f"vpcsim.emulate.{m.removesuffix('.py')}" for m in ORACLE}
    bad = {
        m
        for m in _imported_modules(PACKAGE / "emulate" / name)
        if m not in allowed and not m.startswith(("vpcsim.model", "vpcsim.scenario"))
    }
    assert not bad, f"emulate/{name} imports {sorted(bad)}"


def test_only_the_runner_asks_the_simulator() -> None:
    askers = sorted(
        path.name
        for path in (PACKAGE / "emulate").glob("*.py")
        if any(m.startswith("vpcsim.probes") for m in _imported_modules(path))
    )
    assert askers == ["runner.py"]
