#!/usr/bin/env bash
# Set up vpcsim in .venv and run the bundled Chengdu/Chongqing scenario (the Tencent seed):
# both telnet tests of its step 5, then every check in the scenario file.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
.venv/bin/python scenarios/chengdu_chongqing.py
echo
.venv/bin/vpcsim check scenarios/chengdu_chongqing.yaml
