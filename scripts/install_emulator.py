#!/usr/bin/env python3
"""Provide a qemu-aarch64 whose -cpu max exposes SME2 (the system one if it does, otherwise the
static binary from Debian's qemu-user package, into out/tools/qemu/).

Thin entry point, run by scripts/install_emulation_tools.sh; the logic lives in
sme2prof/setup/emulator_cli.py, sme2prof/setup/qemu_package.py and sme2prof/runners/qemu.py.
Standard library only, so it runs before .venv exists.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sme2prof.errors import run_entry_point  # noqa: E402
from sme2prof.setup.emulator_cli import emulator_main as main  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_entry_point(main))
