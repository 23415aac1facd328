"""Benchmark entry point: one reachability check against the kernel; prints one JSON object.

See :mod:`benchmarks.checks` for what each figure is. ``python -m benchmarks`` runs this and the
scale benchmark together.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from benchmarks.checks import run

if __name__ == "__main__":
    print(json.dumps(run()))
