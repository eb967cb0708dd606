#!/usr/bin/env bash
# Install what the emulated Armv9 check needs on Debian/Ubuntu x86_64:
#   qemu-aarch64 (user-mode QEMU; a release with SME, from bookworm-backports on Debian 12),
#   an aarch64 cross C++ toolchain and its sysroot (g++-aarch64-linux-gnu pulls
#   libc6-dev-arm64-cross and libstdc++ for arm64 into /usr/aarch64-linux-gnu),
#   cmake and ninja for building the wheel runner.
# Idempotent: when everything is present it only checks and exits in well under a second.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: scripts/install_emulation_tools.sh [--dry-run] [--help]

Installs the tools for `make emulate`: qemu-aarch64 with SME support (QEMU 7.1 or newer;
on Debian 12 "bookworm" from bookworm-backports, added as an apt source if missing),
the aarch64 cross compiler g++-aarch64-linux-gnu with its sysroot, cmake and ninja.
Does nothing when they are already installed. Needs root (or sudo) for apt.

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

QEMU_MIN_MAJOR=8            # the kit is checked with QEMU 10; bookworm's own 7.2 is older than anything tested
BACKPORTS_LIST=/etc/apt/sources.list.d/sme2prof-backports.sources

qemu_major() {
  command -v qemu-aarch64 >/dev/null 2>&1 || { echo 0; return; }
  qemu-aarch64 --version | sed -n 's/.*version \([0-9]*\)\..*/\1/p' | head -n1
}

missing=()
[ "$(qemu_major)" -ge "$QEMU_MIN_MAJOR" ] || missing+=(qemu-user)
command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || missing+=(g++-aarch64-linux-gnu)
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || missing+=(libc6-dev-arm64-cross)
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v ninja >/dev/null 2>&1 || missing+=(ninja-build)

if [ "${#missing[@]}" -eq 0 ]; then
  echo "emulation tools present: $(qemu-aarch64 --version | head -n1); $(aarch64-linux-gnu-g++ --version | head -n1)"
  exit 0
fi
echo "missing: ${missing[*]}"

if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: no apt-get here; this script knows Debian and Ubuntu only" >&2
  echo "  fix: install qemu-user (QEMU >= $QEMU_MIN_MAJOR), an aarch64 cross g++ with its sysroot, cmake and ninja with your package manager" >&2
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

. /etc/os-release
qemu_from=()
if [[ " ${missing[*]} " == *" qemu-user "* ]] && [ "${VERSION_CODENAME:-}" = "bookworm" ]; then
  # bookworm's own qemu-user is 7.2, older than anything the kit was checked with; the
  # backports suite carries QEMU 10, on which the SME/sme=off pair was measured.
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "adding the bookworm-backports apt source: $BACKPORTS_LIST"
    if [ "$DRY_RUN" -eq 0 ]; then
      printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        | $SUDO tee "$BACKPORTS_LIST" >/dev/null
    fi
  fi
  qemu_from=(-t bookworm-backports)
fi

start=$(date +%s)
APT=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
run $SUDO "${APT[@]}" update -qq
if [[ " ${missing[*]} " == *" qemu-user "* ]]; then
  run $SUDO "${APT[@]}" install -y -qq --no-install-recommends "${qemu_from[@]}" qemu-user
fi
others=()
for pkg in "${missing[@]}"; do [ "$pkg" = qemu-user ] || others+=("$pkg"); done
if [ "${#others[@]}" -gt 0 ]; then
  run $SUDO "${APT[@]}" install -y -qq --no-install-recommends "${others[@]}"
fi
if [ "$DRY_RUN" -eq 1 ]; then
  echo "dry run: nothing changed"
  exit 0
fi
if [ "$(qemu_major)" -lt "$QEMU_MIN_MAJOR" ]; then
  echo "error: qemu-aarch64 is $(qemu-aarch64 --version | head -n1), older than $QEMU_MIN_MAJOR" >&2
  echo "  fix: install a newer qemu-user (Debian 12: apt-get install -t bookworm-backports qemu-user)" >&2
  exit 2
fi
echo "installed in $(( $(date +%s) - start )) s: $(qemu-aarch64 --version | head -n1); $(aarch64-linux-gnu-g++ --version | head -n1)"
