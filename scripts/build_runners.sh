#!/usr/bin/env bash
# Build ExecuTorch runners into out/runners/ (run with --help for the options).
# Only finds the kit's Python (SME2PROF_PYTHON, then .venv, then python3) and runs
# scripts/build_runners.py with it: the runner build needs torch and pyyaml from .venv.
set -euo pipefail

scripts="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$scripts/kit_python.sh"
exec_with_kit_python "$scripts/build_runners.py" "$@"
