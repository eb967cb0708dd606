"""Run the commands that change the machine, or only show them (``--dry-run``), and the
set-up's "not ready" error.

Why one runner: the set-up's dry run must print exactly what a real run would do, so
both go through the same call: ``+ cmd`` then the command, or ``[dry-run] cmd`` alone.
Each line is a shell command a user can copy.
"""
from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Sequence

from sme2prof.errors import UserError


class NotReady(UserError):
    """The machine cannot be set up as it is (a tool missing, a folder in the way, a failed
    download): exit 1 like ``validate_setup.py``'s "not ready", not 2 (bad input)."""


EXIT_NOT_READY = 1


class CommandRunner:
    """Echo and run each command, or with ``dry_run`` only echo it."""

    def __init__(self, dry_run: bool) -> None:
        self.dry_run = dry_run

    def run(self, command: Sequence[str | Path]) -> bool:
        """True when the command succeeded (always in a dry run); output goes to the user."""
        words = [str(word) for word in command]
        if self.dry_run:
            print(f"[dry-run] {shlex.join(words)}")
            return True
        print(f"+ {shlex.join(words)}", flush=True)
        return subprocess.run(words).returncode == 0

    def remove_tree(self, path: Path) -> None:
        if self.dry_run:
            print(f"[dry-run] rm -rf {shlex.quote(str(path))}")
            return
        print(f"+ rm -rf {shlex.quote(str(path))}", flush=True)
        shutil.rmtree(path)
