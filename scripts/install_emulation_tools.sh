#!/usr/bin/env bash
# Install what the emulated Armv9 check needs on Debian/Ubuntu x86_64:
#   an aarch64 cross C++ toolchain and its sysroot (g++-aarch64-linux-gnu pulls
#   libc6-dev-arm64-cross and libstdc++ for arm64 into /usr/aarch64-linux-gnu),
#   cmake and ninja for building the wheel runner (apt, root or sudo: only when missing);
#   then a qemu-aarch64 whose -cpu max exposes SME2: the kit's own copy in out/tools/qemu/ when
#   it is the pinned package, else the system one when a probe run under it sees SME2,
#   otherwise the static binary from Debian's qemu-user 11.1 package, checked
#   against a pinned sha256 and placed in out/tools/qemu/ (no root, no system change;
#   scripts/install_emulator.py does that part).
# Idempotent: when everything is present it only checks and exits in about a second.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: scripts/install_emulation_tools.sh [--dry-run] [--help]

Installs the tools for `make emulate`: the aarch64 cross compiler g++-aarch64-linux-gnu
with its sysroot, cmake and ninja (apt; needs root or sudo, only when one is missing), and a
qemu-aarch64 with SME2: the system one when it exposes SME2 under -cpu max (probed, not
guessed from the version), otherwise the statically linked qemu-aarch64 from Debian's
qemu-user 11.1 package, downloaded, checked against its pinned sha256 and put in
out/tools/qemu/ (no root needed, nothing installed system-wide).
Does nothing when everything is already there.

  --dry-run   print what would be installed and the commands, change nothing
  --help      this text

example:
  sudo bash scripts/install_emulation_tools.sh
  bash scripts/install_emulation_tools.sh --dry-run
USAGE
}

DRY_RUN=0
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown option '$arg'" >&2; echo "  fix: run with --help to see the options" >&2; exit 2 ;;
  esac
done

scripts="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$scripts/kit_python.sh"
emulator_step() {   # the qemu-aarch64 with SME2 (Python, standard library only)
  local flags=()
  [ "$DRY_RUN" -eq 1 ] && flags+=(--dry-run)
  exec_with_kit_python "$scripts/install_emulator.py" "${flags[@]}"
}

missing=()
command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || missing+=(g++-aarch64-linux-gnu)
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || missing+=(libc6-dev-arm64-cross)
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v ninja >/dev/null 2>&1 || missing+=(ninja-build)

if [ "${#missing[@]}" -eq 0 ]; then
  echo "cross tools present: $(aarch64-linux-gnu-g++ --version | head -n1); $(cmake --version | head -n1)"
  emulator_step
fi
echo "missing: ${missing[*]}"

if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: no apt-get here; this script knows Debian and Ubuntu only" >&2
  echo "  fix: install an aarch64 cross g++ with its sysroot (static libc included), cmake and ninja with your package manager" >&2
  exit 2
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && [ "$DRY_RUN" -eq 0 ]; then
    SUDO="sudo"
    echo "not root: using sudo for apt (you may be asked for your password)"
  elif [ "$DRY_RUN" -eq 0 ]; then
    echo "error: installing ${missing[*]} needs root and sudo is not available" >&2
    echo "  fix: run as root: su -c 'bash scripts/install_emulation_tools.sh'" >&2
    exit 2
  fi
fi

run() {
  echo "+ $*"
  if [ "$DRY_RUN" -eq 0 ]; then "$@"; fi
}

start=$(date +%s)
APT=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
run $SUDO "${APT[@]}" update -qq
run $SUDO "${APT[@]}" install -y -qq --no-install-recommends "${missing[@]}"
if [ "$DRY_RUN" -eq 0 ]; then
  echo "installed in $(( $(date +%s) - start )) s: $(aarch64-linux-gnu-g++ --version | head -n1)"
fi
emulator_step
