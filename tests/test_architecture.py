"""Data flows one way: no stage imports a later one.

scenario file → model → control plane → compile (IR) → sim (walk) → probes → report → cli
(lint reads the model and the control plane beside that flow, for cli's warnings)
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "vpcsim"

# What each part may import from vpcsim (besides itself). `trace` is the vocabulary of answers
# (steps, reasons), used by every stage that explains a decision.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "trace": set(),
    "model": {"errors"},
    "scenario": {"errors", "model", "trace"},
    "control": {"model"},
    # Warnings read the validated model with its file positions and, for time, the control plane.
    "lint": {"errors", "model", "scenario", "control"},
    "compile": {"model", "control", "trace"},
    "sim": {"compile", "trace"},
    "probes": {"errors", "model", "scenario", "compile", "sim", "trace"},
    "report": {"probes", "trace", "sim"},
    "testing": {"probes", "scenario", "trace", "report"},
    "pytest_plugin": {"probes"},
    "emulate": {"errors", "model", "scenario", "control", "compile", "sim", "trace", "probes", "report", "cli"},
    "cli": {"errors", "probes", "report", "scenario", "emulate", "lint"},
    "__init__": {"errors", "model", "probes", "scenario", "testing", "trace"},
    "__main__": {"cli"},
}


def part_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def imported_parts(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
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
    """sim/ imports nothing of the cloud model (model, scenario, control): it reads the compiled IR.

    This checks imports only; cloud rules written into sim/ itself are not caught here.
    """
    for path in (PACKAGE / "sim").rglob("*.py"):
        assert not imported_parts(path) & {"model", "scenario", "control"}, path


def test_loading_a_scenario_never_imports_scapy_or_simpy() -> None:
    import subprocess
    import sys

    code = (
        "import sys, vpcsim.scenario as s; s.load(sys.argv[1]); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('scapy', 'simpy')))"
    )
    seed = PACKAGE.parent.parent / "scenarios" / "chengdu_chongqing.yaml"
    out = subprocess.run([sys.executable, "-c", code, str(seed)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
