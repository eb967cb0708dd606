"""``install_emulation_tools.sh``'s Python half: make sure a ``qemu-aarch64`` with SME2 is there.

Order: the kit's own copy in ``out/tools/qemu/`` when it is the pinned package and exposes SME2;
else the system's ``qemu-aarch64`` when a probe run under it sees SME2; else the static binary
from Debian's ``qemu-user`` package (see ``qemu_package``). A dry run probes in a temporary
folder and prints what it would fetch, changing nothing under ``out/``.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from sme2prof.errors import OptionParser, UserError
from sme2prof.fileio import read_json
from sme2prof.paths import display_path
from sme2prof.runners.qemu import (CROSS_CC, KIT_QEMU, KIT_QEMU_DIR, KIT_QEMU_RECORD, PROBE_DIR, QEMU,
                                   probe_cpu, qemu_version)
from sme2prof.setup.qemu_package import PackageSource, fetch_and_install


def build_parser() -> argparse.ArgumentParser:
    parser = OptionParser(prog="install_emulation_tools.sh (emulator step)",
                          description="Provide a qemu-aarch64 whose -cpu max exposes SME2.")
    parser.add_argument("--dry-run", action="store_true", help="print what would be fetched, change nothing")
    parser.add_argument("--from-package", action="store_true",
                        help="use the binary from Debian's qemu-user package even when the system QEMU has SME2")
    return parser


def _kit_copy_current(source: PackageSource) -> bool:
    if not (KIT_QEMU.is_file() and KIT_QEMU_RECORD.is_file()):
        return False
    try:
        return read_json(KIT_QEMU_RECORD).get("sha256") == source.sha256
    except (OSError, ValueError):
        return False


def describe(qemu: str, seen: dict, version: str) -> str:
    f = seen["cpu_features"]
    return (f"{qemu} (QEMU {version}): -cpu max shows sme={int(f['sme'])} sme2={int(f['sme2'])}, "
            f"streaming vector length {seen['sme_vector_length_bits']} bits by default")


def _with_sme2(qemu: str, probe_dir: Path) -> dict | None:
    """One probe run under ``-cpu max``: what it saw when that includes SME2, else None."""
    seen = probe_cpu(qemu, "max", probe_dir)
    return seen if seen["cpu_features"].get("sme2") else None


def ensure_emulator(dry_run: bool, from_package: bool = False) -> int:
    source = PackageSource.pinned()
    with tempfile.TemporaryDirectory() as scratch:
        probe_dir = Path(scratch) if dry_run else PROBE_DIR
        if _kit_copy_current(source):
            seen = _with_sme2(str(KIT_QEMU), probe_dir)
            if seen:
                print(f"emulator present: {describe(str(KIT_QEMU), seen, qemu_version(str(KIT_QEMU)))}")
                return 0
        system = shutil.which(QEMU)
        version = qemu_version(system) if system else None
        if system and not from_package:
            if dry_run and shutil.which(CROSS_CC) is None:
                # The probe needs the cross compiler the shell part of a real run installs first.
                print(f"would probe the system {QEMU} (QEMU {version}) for SME2 after installing {CROSS_CC}; "
                      "if it has none:")
            else:
                seen = _with_sme2(system, probe_dir)
                if seen:
                    print(f"emulator present (system): {describe(system, seen, version)}")
                    return 0
        why = ("--from-package" if from_package else
               f"the system {QEMU} (QEMU {version}) has no SME2 under -cpu max"
               if system else f"no {QEMU} on PATH")
        print(f"{why}: taking the static qemu-aarch64 out of Debian's qemu-user {source.version}")
        print(f"  fetch  {source.url}")
        print(f"  sha256 {source.sha256}")
        print(f"  into   {display_path(KIT_QEMU_DIR)}/ (qemu-aarch64 + {KIT_QEMU_RECORD.name}; no system change)")
        if dry_run:
            print("dry run: nothing changed")
            return 0
        binary, _ = fetch_and_install(source, KIT_QEMU_DIR)
        seen = _with_sme2(str(binary), probe_dir)
        if not seen:
            raise UserError(f"{binary} runs but its -cpu max shows no SME2",
                            f"set SME2PROF_QEMU_DEB_URL/SME2PROF_QEMU_DEB_SHA256 to a qemu-user package "
                            f"of QEMU 11.1 or newer and re-run")
        print(f"installed: {describe(str(binary), seen, qemu_version(str(binary)))}")
    return 0


def emulator_main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return ensure_emulator(args.dry_run, args.from_package)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(emulator_main())
