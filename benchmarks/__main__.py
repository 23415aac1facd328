"""``python -m benchmarks``: every benchmark, one JSON object (``--no-kernel`` skips the namespaces)."""

from __future__ import annotations

import json
import platform
import sys
from datetime import UTC, datetime

from benchmarks import checks, scale


def main(argv: list[str]) -> None:
    out = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.processor() or 'unknown CPU'}, Linux {platform.release()}",
        "python": platform.python_version(),
        "checks": checks.run(kernel="--no-kernel" not in argv),
        **scale.run(),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
