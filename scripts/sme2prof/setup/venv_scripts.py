"""Find console scripts of a virtual environment whose ``#!`` interpreter no longer exists.

Why: pip writes the absolute path of the installing Python into every script it puts
in ``<venv>/bin`` (``cmake``, ``pytest``, ...). Move or rename the folder, or install
through a linked copy of the venv that is later deleted, and those scripts fail with
"cannot execute: required file not found" while every package still imports fine;
reinstalling the owning distributions rewrites them. Nothing here imports a package.
"""
from __future__ import annotations

from importlib.metadata import distributions
from pathlib import Path

_MAX_SHEBANG = 512


def broken_scripts(bin_dir: Path) -> dict[str, str]:
    """``{script name: missing interpreter}`` for the scripts in ``bin_dir``."""
    broken: dict[str, str] = {}
    for script in sorted(bin_dir.iterdir()) if bin_dir.is_dir() else []:
        try:
            with script.open("rb") as handle:
                first = handle.readline(_MAX_SHEBANG)
        except OSError:          # a folder or an unreadable file: not a script
            continue
        words = first[2:].decode("utf-8", "replace").split() if first.startswith(b"#!") else []
        if words and words[0].startswith("/") and not Path(words[0]).exists():
            broken[script.name] = words[0]
    return broken


def owning_distributions(script_names: set[str]) -> list[str]:
    """``name==version`` of the installed distributions that ship these scripts."""
    owners = set()
    for dist in distributions():
        for file in dist.files or []:
            if file.parent.name == "bin" and file.name in script_names:
                owners.add(f"{dist.metadata['Name']}=={dist.version}")
                break
    return sorted(owners)
