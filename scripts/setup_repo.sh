#!/usr/bin/env bash
# Set up the kit: check the prerequisites, create .venv with the pinned Python
# dependencies, print the versions; optionally clone the ExecuTorch sources a runner build
# needs. Run with --help for the options. A re-run with nothing changed takes about a second.
#
# This script only finds a Python 3.10-3.13 (--python PY or $PYTHON, else the first of
# python3, python3.13 ... python3.10, python) and starts scripts/setup_environment.py with
# it; that program does the work and moves into the venv once the venv works.
set -euo pipefail

scripts="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
choice="${PYTHON:-}"
previous=""
for arg in "$@"; do
  [[ "$previous" == "--python" ]] && choice="$arg"
  [[ "$arg" == --python=* ]] && choice="${arg#--python=}"
  previous="$arg"
done

version_of() {  # prints "3.11 /path/to/the/real/python3.11", or nothing if $1 is no Python
  "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2], sys.executable)' 2>/dev/null || true
}
python=""
if [[ -n "$choice" ]]; then
  if ! command -v "$choice" >/dev/null 2>&1; then
    echo "error: no '$choice' interpreter found" >&2
    echo "  fix: install Python 3.10 to 3.13, or pass --python /path/to/python3.12" >&2
    exit 2
  fi
  read -r version python <<<"$(version_of "$choice")"
  if [[ ! "$version" =~ ^3\.1[0-3]$ ]]; then
    echo "error: $choice is Python ${version:-of unknown version}; torch 2.13 and executorch 1.5.1 need Python 3.10 to 3.13" >&2
    echo "  fix: pass --python /path/to/python3.12 (any 3.10 to 3.13)" >&2
    exit 2
  fi
  python="${python:-$choice}"
else
  for candidate in python3 python3.13 python3.12 python3.11 python3.10 python; do
    command -v "$candidate" >/dev/null 2>&1 || continue
    read -r version found <<<"$(version_of "$candidate")"
    if [[ "$version" =~ ^3\.1[0-3]$ ]]; then python="${found:-$candidate}"; break; fi
  done
fi
if [[ -z "$python" ]]; then
  python3_version="$(version_of python3)"
  python3_version="${python3_version%% *}"
  echo "error: no Python 3.10-3.13 found (python3 is ${python3_version:-absent})" >&2
  echo "  fix: install Python 3.12 (macOS: brew install python@3.12; Debian/Ubuntu: sudo apt-get install python3) or pass --python PATH" >&2
  exit 1
fi
export SME2PROF_SETUP_STARTED="${EPOCHREALTIME:-}"  # bash 5: the set-up reports the time waited
exec "$python" "$scripts/setup_environment.py" "$@"
