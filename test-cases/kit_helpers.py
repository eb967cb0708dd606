"""Helpers the tests share: run an entry script as a user would."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPTS_DIR = REPO_ROOT / "scripts"


def run_script(script: str, *args: str, env: dict | None = None, cwd: Path | None = None,
               timeout: float = 900):
    """Run one of the kit's entry scripts as a user would; returns CompletedProcess."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run([sys.executable, str(SCRIPTS_DIR / script), *args],
                          capture_output=True, text=True, env=full_env,
                          cwd=str(cwd or REPO_ROOT), timeout=timeout)
