"""Where things live: the repository root and the generated-files tree under ``out/``.

Every default points into ``out/`` and every path can be overridden; relative paths
given by a user (in a config or on a command line) resolve against the repository
root so a config means the same thing whatever the current directory is.
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from sme2prof.errors import UserError

SCRIPTS_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = SCRIPTS_DIR.parent
OUT_DIR = Path(os.environ.get("SME2PROF_OUT_DIR", REPO_ROOT / "out"))
ARTIFACTS_DIR = OUT_DIR / "artifacts"
RUNNERS_DIR = OUT_DIR / "runners"
RUNS_DIR = OUT_DIR / "runs"
MODELS_DIR = REPO_ROOT / "models"


def resolve_repo_path(path: str | os.PathLike[str], base: Path | None = None) -> Path:
    """Resolve ``path`` against ``base`` (default: the repository root) unless absolute."""
    p = Path(os.path.expanduser(os.fspath(path)))
    if p.is_absolute():
        return p
    return ((base or REPO_ROOT) / p).resolve()


def display_path(path: Path) -> str:
    """A path as a user would type it: relative to the repository root when inside it."""
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def installed_executorch_dir() -> Path:
    """The installed executorch package's folder, found without importing it.

    Why not import: ``import executorch`` costs 10-15 s here, and the callers only need
    files the package ships (flatc and the ETDump schema, the C++ libraries).
    """
    spec = importlib.util.find_spec("executorch")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("the executorch pip package is not installed in this Python",
                        "bash scripts/setup_repo.sh (or: pip install executorch==1.5.1)")
    return Path(next(iter(spec.submodule_search_locations)))
