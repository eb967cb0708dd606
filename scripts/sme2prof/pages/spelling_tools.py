"""Install the spell checker the learning-paths repository uses: aspell with American English.

Why a step of its own: pyspelling (pinned in requirements.txt, installed by ``make setup``)
is only a driver; the words are checked by the ``aspell`` program and its ``en_US``
dictionary, which come from the system's package manager. ``make test`` runs this step
before the tests; when both are present it only checks and returns in milliseconds.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time

from sme2prof.errors import UserError

DICTIONARY = "en_US"
APT_PACKAGES = ("aspell", "aspell-en")
APT = ("env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-o", "DPkg::Lock::Timeout=600")
MANUAL_FIX = ("install aspell and its English dictionary with your package manager "
              "(Debian/Ubuntu: apt-get install aspell aspell-en; macOS: brew install aspell)")


def aspell_dictionaries() -> list[str] | None:
    """The dictionaries aspell offers, or None when aspell is not installed."""
    binary = shutil.which("aspell")
    if binary is None:
        return None
    proc = subprocess.run([binary, "dump", "dicts"], capture_output=True, text=True)
    return proc.stdout.split() if proc.returncode == 0 else []


def missing_packages() -> list[str]:
    """The Debian packages still needed for ``aspell -d en_US`` (empty when it works)."""
    dictionaries = aspell_dictionaries()
    if dictionaries is None:
        return list(APT_PACKAGES)
    return [] if DICTIONARY in dictionaries else ["aspell-en"]


def require_aspell() -> str:
    """The aspell binary, or a UserError naming the step that installs it."""
    if missing_packages():
        raise UserError(f"aspell with its {DICTIONARY} dictionary is not installed",
                        "run `python scripts/site_tools.py install-spelling-tools` "
                        "(make test runs it), or " + MANUAL_FIX)
    return shutil.which("aspell") or "aspell"


def install_commands(packages: list[str], dry_run: bool = False) -> list[list[str]]:
    """The apt commands that install ``packages``, with sudo when not root."""
    if not shutil.which("apt-get"):
        raise UserError(f"{', '.join(packages)} missing and there is no apt-get here", MANUAL_FIX)
    prefix: list[str] = []
    if os.geteuid() != 0:
        if not shutil.which("sudo") and not dry_run:
            raise UserError(f"installing {', '.join(packages)} needs root and sudo is not available",
                            "run as root: su -c 'python3 scripts/site_tools.py install-spelling-tools'"
                            ", or " + MANUAL_FIX)
        prefix = ["sudo"]
    return [[*prefix, *APT, "update", "-qq"],
            [*prefix, *APT, "install", "-y", "-qq", "--no-install-recommends", *packages]]


def install(dry_run: bool = False) -> str:
    """Install aspell + en_US when missing; return one line saying what is there or was done."""
    packages = missing_packages()
    if not packages:
        return f"spell checker present: aspell with {DICTIONARY}"
    commands = install_commands(packages, dry_run)
    for cmd in commands:
        print("+ " + " ".join(cmd), flush=True)
    if dry_run:
        return f"dry run: would install {' '.join(packages)}; nothing changed"
    started = time.monotonic()
    for cmd in commands:
        if subprocess.run(cmd).returncode != 0:
            raise UserError(f"`{' '.join(cmd)}` failed", MANUAL_FIX)
    if missing_packages():
        raise UserError(f"aspell still has no {DICTIONARY} dictionary after installing", MANUAL_FIX)
    return f"installed {' '.join(packages)} in {time.monotonic() - started:.0f} s"
