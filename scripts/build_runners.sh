#!/usr/bin/env bash
# Build ExecuTorch runners into out/runners/ (run with --help for the options).
# Only finds the kit's Python (SME2PROF_PYTHON, then .venv, then python3) and runs
# scripts/build_runners.py with it: the runner build needs torch and pyyaml from .venv.
set -euo pipefail

scripts="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ -n "${SME2PROF_PYTHON:-}" ]]; then
  python="$SME2PROF_PYTHON"
elif [[ -x "$scripts/../.venv/bin/python" ]]; then
  python="$scripts/../.venv/bin/python"
elif ! python="$(command -v python3)"; then
  echo "error: no Python found (.venv or python3)" >&2
  echo "  fix: bash scripts/setup_repo.sh   # creates .venv" >&2
  exit 2
fi
exec "$python" "$scripts/build_runners.py" "$@"
