"""The benchmark's own environment, ``.venv-bench``: the peers and vpcsim compiled.

It holds the pinned peer simulators (ns-3, ns.py) and matplotlib from ``requirements.txt``, and
vpcsim itself built with its engine compiled by mypyc (``VPCSIM_COMPILE=1``, see setup.py) at the
pins of constraints.txt. The benchmark makes it on first use, re-installs the peers when
``requirements.txt`` changes and rebuilds vpcsim when its source changes. It is never the project's
environment: vpcsim never imports ns-3, and CI never installs any of it. ns-py 0.4.3 (the last
release for Python < 3.13) needs Python 3.10-3.12; the first such interpreter found is used.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
VENV = ROOT / ".venv-bench"
PYTHON = VENV / "bin" / "python"
REQUIREMENTS = Path(__file__).resolve().parent / "requirements.txt"
CONSTRAINTS = ROOT / "constraints.txt"
BUILD_TOOLS = ("setuptools", "mypy", "types-PyYAML", "types-netaddr")
"""What compiling vpcsim needs beside its own dependencies (mypyc comes with mypy)."""


def _interpreter() -> str | None:
    if (3, 10) <= sys.version_info[:2] <= (3, 12):
        return sys.executable
    for name in ("python3.12", "python3.11", "python3.10"):
        found = shutil.which(name)
        if found:
            return found
    return None


def source_digest() -> str:
    """A digest of what the compiled build is made from (vpcsim's source and build files)."""
    digest = hashlib.sha256()
    files = sorted((ROOT / "src" / "vpcsim").rglob("*.py"))
    for path in [*files, ROOT / "setup.py", ROOT / "pyproject.toml", CONSTRAINTS]:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _stamp(name: str) -> Path:
    return VENV / f".stamp-{name}"


def _run(args: list[str], what: str, env: dict[str, str] | None = None) -> str | None:
    done = subprocess.run(args, capture_output=True, text=True, check=False, cwd=ROOT, env=env)
    return None if done.returncode == 0 else f"{what} failed: {(done.stderr or done.stdout).strip()[-400:]}"


def ensure() -> tuple[Path | None, str]:
    """The benchmark environment's Python, made or brought up to date first; or None and why not."""
    peers = REQUIREMENTS.read_text(encoding="utf-8")
    if not (PYTHON.exists() and _stamp("peers").exists() and _stamp("peers").read_text(encoding="utf-8") == peers):
        base = _interpreter()
        if base is None:
            return None, "no Python 3.10-3.12 found for ns-py 0.4.3"
        pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        failed = (
            _run([base, "-m", "venv", "--clear", str(VENV)], "python -m venv")
            or _run([*pip, "-r", str(REQUIREMENTS)], "installing the peers")
            or _run([*pip, "-c", str(CONSTRAINTS), *BUILD_TOOLS], "installing the build tools")
        )
        if failed:
            return None, failed
        _stamp("peers").write_text(peers, encoding="utf-8")
    digest = source_digest()
    built = _stamp("vpcsim")
    if not (built.exists() and built.read_text(encoding="utf-8") == digest):
        pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c", str(CONSTRAINTS)]
        # Its dependencies first: compiling type-checks the engine against them.
        needs = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
        env = {**os.environ, "VPCSIM_COMPILE": "1"}
        failed = _run([*pip, *needs], "installing vpcsim's dependencies") or _run(
            [*pip, "--no-build-isolation", "--force-reinstall", "--no-deps", "."], "compiling vpcsim", env
        )
        if failed:
            return None, failed
        built.write_text(digest, encoding="utf-8")
        return PYTHON, "ready (vpcsim compiled)"
    return PYTHON, "ready"


def ready() -> bool:
    """Whether the environment is made and current (the peers as pinned, vpcsim built from this source)."""
    peers, built = _stamp("peers"), _stamp("vpcsim")
    return (
        PYTHON.exists()
        and peers.exists()
        and peers.read_text(encoding="utf-8") == REQUIREMENTS.read_text(encoding="utf-8")
        and built.exists()
        and built.read_text(encoding="utf-8") == source_digest()
    )


def versions(python: Path) -> dict[str, str]:
    """The benchmark environment's packages as installed."""
    code = (
        "import json, importlib.metadata as m; "
        "print(json.dumps({p: m.version(p) for p in ('ns3', 'ns.py', 'cppyy', 'simpy', 'matplotlib', 'mypy', 'vpcsim')}))"
    )
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False, cwd="/")
    return dict(json.loads(out.stdout)) if out.returncode == 0 else {"error": out.stderr.strip()[-300:]}
