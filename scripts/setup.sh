# Sourced by demo.sh and test.sh: make a virtual environment with vpcsim installed.
#   VENV            where (default .venv)
#   VPCSIM_EXTRAS   extras to install, e.g. "[dev]"
#   VPCSIM_LATEST   1: ignore constraints.txt and take the newest releases pyproject.toml allows
# Every install, the build backend's isolated environment included, is pinned by constraints.txt.
# Works on a fresh Debian machine as root: installs python3-venv if the venv module is missing.
set -euo pipefail
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "vpcsim needs Python >= 3.11 (found: $("$PY" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  if ! "$PY" -m venv "$VENV" >/dev/null 2>&1; then
    rm -rf "$VENV"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      "$PY" -m venv "$VENV"
    else
      echo "cannot create a virtual environment: install python3-venv" >&2
      exit 1
    fi
  fi
fi
pip_install() { "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@"; }
if [ "${VPCSIM_LATEST:-0}" = 1 ]; then
  pip_install --upgrade pip setuptools
  pip_install --upgrade --upgrade-strategy eager -e ".${VPCSIM_EXTRAS:-}"
else
  # The venv's own pip may predate --build-constraint: pin pip first, then use it for the rest.
  pip_install -c constraints.txt pip setuptools
  pip_install -c constraints.txt --build-constraint constraints.txt -e ".${VPCSIM_EXTRAS:-}"
fi
