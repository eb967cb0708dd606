# Sourced (not run) by the shell scripts that only start a Python program of the kit:
#   exec_with_kit_python PROGRAM [ARGS...]
# runs PROGRAM with SME2PROF_PYTHON, else the kit's .venv/bin/python, else python3.
# Why .venv first: the programs need its packages (torch for runner builds, PyYAML).

exec_with_kit_python() {
  local venv_python
  venv_python="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv/bin/python"
  if [[ -n "${SME2PROF_PYTHON:-}" ]]; then
    exec "$SME2PROF_PYTHON" "$@"
  elif [[ -x "$venv_python" ]]; then
    exec "$venv_python" "$@"
  elif command -v python3 >/dev/null 2>&1; then
    exec python3 "$@"
  fi
  echo "error: no Python found (.venv or python3)" >&2
  echo "  fix: bash scripts/setup_repo.sh   # creates .venv" >&2
  exit 2
}
