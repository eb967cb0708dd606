#!/usr/bin/env bash
# Install the sme2prof skill files for an AI coding assistant (run with --help).
# Only finds the kit's Python (SME2PROF_PYTHON, then .venv, then python3; the installer
# reads and writes YAML front matter with PyYAML, which .venv has) and runs install.py.
set -euo pipefail

kit="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$kit/../scripts/kit_python.sh"
exec_with_kit_python "$kit/install.py" "$@"
