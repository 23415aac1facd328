#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh Debian machine and run it: lint, types, tests.
# As root it installs the Debian packages the oracle tests use (tshark, iproute2, iptables).
# Arguments go to pytest, e.g. `bash scripts/test.sh -m "not kernel"` for the fast inner loop.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  command -v tshark >/dev/null || missing+=(tshark)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v iptables >/dev/null || missing+=(iptables)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
VPCSIM_EXTRAS="[dev]" source scripts/setup.sh
.venv/bin/ruff check src tests scenarios benchmarks
.venv/bin/ruff format --check src tests scenarios benchmarks
.venv/bin/mypy
.venv/bin/pytest "$@"
