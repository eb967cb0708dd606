#!/usr/bin/env bash
# Create or update .venv-vision: the environment for models that need timm + torchvision
# (models/edgetam_image_encoder). Separate from .venv because torchvision must match the
# exact torch build it was compiled against, and the kit's .venv may hold a different one.
# Idempotent: when the pinned requirements are already installed it checks and exits in seconds.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: scripts/setup_vision_env.sh [--dry-run] [--help]

Creates .venv-vision at the repository root (override with SME2PROF_VISION_VENV=path) and installs
scripts/requirements-vision.txt into it from PyPI: torch, the matching torchvision, timm,
executorch, numpy, pandas, pytest. pip runs with --isolated so that a local pip
configuration (for example a wheel folder holding a CPU-only torch build that PyPI's
torchvision cannot load against) does not change what is installed. On Linux x86_64,
PyPI's torch pulls CUDA libraries: expect a few GB and a few minutes the first time.
A second run with nothing changed only verifies the imports.

  --dry-run   print what would be done, change nothing
  --help      this text

Environment: PYTHON (interpreter for the venv, default python3; 3.10 to 3.13),
SME2PROF_VISION_VENV (where the venv lives).

example:
  bash scripts/setup_vision_env.sh
  .venv-vision/bin/python scripts/export_model.py --model edgetam_image_encoder --dtype fp32
USAGE
}

DRY_RUN=0
for arg in "$@"; do
  if [[ "$arg" == "--dry-run" ]]; then
    DRY_RUN=1
  elif [[ "$arg" == "-h" || "$arg" == "--help" ]]; then
    usage
    exit 0
  else
    echo "error: unknown option '$arg'" >&2
    echo "  fix: bash scripts/setup_vision_env.sh --help lists the options" >&2
    exit 2
  fi
done

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQUIREMENTS="$REPO_ROOT/scripts/requirements-vision.txt"
VENV="${SME2PROF_VISION_VENV:-$REPO_ROOT/.venv-vision}"
PYTHON="${PYTHON:-python3}"
STAMP="$VENV/.requirements-vision.sha256"
IMPORT_CHECK='import torch, torchvision, timm, executorch; from executorch.runtime import Runtime'
# Fast check (no torch import): every pinned distribution is installed at its pinned version.
PINS_CHECK='
import sys
from importlib.metadata import PackageNotFoundError, version
from pip._vendor.packaging.requirements import Requirement
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    wanted = Requirement(line)
    if wanted.marker is not None and not wanted.marker.evaluate():
        continue
    try:
        have = version(wanted.name)
    except PackageNotFoundError:
        sys.exit(f"{wanted.name} missing")
    if not wanted.specifier.contains(have.split("+")[0]):
        sys.exit(f"{wanted.name} {have} does not satisfy {wanted.specifier}")
'

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "error: no '$PYTHON' interpreter found" >&2
  echo "  fix: install Python 3.10 to 3.13, or set PYTHON=/path/to/python3.11" >&2
  exit 2
fi
if ! "$PYTHON" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 13))'; then
  echo "error: $("$PYTHON" --version 2>&1) is not supported; torch 2.13 + executorch 1.5.1 need Python 3.10 to 3.13" >&2
  echo "  fix: set PYTHON=/path/to/python3.11 (any 3.10 to 3.13) and re-run" >&2
  exit 2
fi

wanted="$( { cat "$REQUIREMENTS"; "$PYTHON" --version; } | sha256sum | cut -d' ' -f1)"
if [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$wanted" ] \
   && "$VENV/bin/python" -c "$PINS_CHECK" "$REQUIREMENTS"; then
  echo "vision environment up to date: $VENV (pins in $(basename "$REQUIREMENTS") installed)"
  exit 0
fi

if [ "$DRY_RUN" -eq 1 ]; then
  [ -x "$VENV/bin/python" ] || echo "would run: $PYTHON -m venv $VENV"
  echo "would run: $VENV/bin/python -m pip install --isolated -r $REQUIREMENTS"
  echo "would write: $STAMP"
  exit 0
fi

started=$SECONDS
if [ ! -x "$VENV/bin/python" ]; then
  echo "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
echo "installing $(grep -cv '^\s*\(#\|$\)' "$REQUIREMENTS") pinned packages into $VENV (first run: a few GB)"
"$VENV/bin/python" -m pip install --isolated --disable-pip-version-check -r "$REQUIREMENTS"
"$VENV/bin/python" -c "$IMPORT_CHECK"
echo "$wanted" > "$STAMP.tmp" && mv "$STAMP.tmp" "$STAMP"
echo "vision environment ready in $((SECONDS - started)) s: $VENV"
