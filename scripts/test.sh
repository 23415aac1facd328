#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh Debian machine and run it: lint, types, tests.
# As root it installs the Debian packages the oracle tests use (tshark, iproute2, iptables, dnsmasq).
#   bash scripts/test.sh                  the locked suite (constraints.txt), in .venv: what CI runs
#   bash scripts/test.sh --latest         the same suite in a throw-away venv with the newest releases
#                                         pyproject.toml allows, no constraints
#   bash scripts/test.sh -m "not kernel"  other arguments go to pytest (here: skip the kernel oracle)
#   VPCSIM_TEST_WORKERS=0 bash scripts/test.sh   one process (pytest-xdist off)
set -euo pipefail
cd "$(dirname "$0")/.."
export VENV=.venv VPCSIM_LATEST=0
if [ "${1:-}" = "--latest" ]; then
  shift
  VENV=$(mktemp -d)/venv VPCSIM_LATEST=1
  trap 'rm -rf "$(dirname "$VENV")"' EXIT
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  command -v tshark >/dev/null || missing+=(tshark)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v iptables >/dev/null || missing+=(iptables)
  command -v dnsmasq >/dev/null || missing+=(dnsmasq-base)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
VPCSIM_EXTRAS="[dev]" source scripts/setup.sh
# Subprocesses the tests start (vpcsim, python) come from the same venv.
export PATH="$(cd "$VENV/bin" && pwd):$PATH"
if [ "$VPCSIM_LATEST" = 1 ]; then
  echo "latest releases: $("$VENV/bin/python" -m pip freeze --all --exclude-editable | tr '\n' ' ')"
fi
"$VENV/bin/ruff" check src tests scenarios benchmarks
"$VENV/bin/ruff" format --check src tests scenarios benchmarks
"$VENV/bin/mypy"
# Two test files at a time per core: the fuzz corpus and the kernel oracle run beside the rest.
"$VENV/bin/pytest" -n "${VPCSIM_TEST_WORKERS:-auto}" --dist loadfile "$@"
