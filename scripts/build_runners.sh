#!/usr/bin/env bash
# Build ExecuTorch executor_runner variants (SME2 on/off, with or without XNNPACK kernel
# logging) from a source checkout into out/runners/<platform>-<variant>/.
# Thin wrapper: finds the kit's Python and calls sme2prof.runners.cli (run --help for options).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(dirname "$SCRIPT_DIR")"

if [[ -n "${SME2PROF_PYTHON:-}" ]]; then
  PY="$SME2PROF_PYTHON"
elif [[ -x "$REPO_ROOT/.venv/bin/python" ]]; then
  PY="$REPO_ROOT/.venv/bin/python"
elif command -v python3 >/dev/null 2>&1; then
  PY="$(command -v python3)"
else
  echo "error: no Python found (.venv or python3)" >&2
  echo "  fix: bash scripts/setup_repo.sh   # creates .venv" >&2
  exit 2
fi

exec "$PY" - "$SCRIPT_DIR" "$@" <<'PYCODE'
import sys
sys.path.insert(0, sys.argv[1])
from sme2prof.errors import run_entry_point
from sme2prof.runners.cli import build_runners_main as main
sys.exit(run_entry_point(main, sys.argv[2:]))
PYCODE
