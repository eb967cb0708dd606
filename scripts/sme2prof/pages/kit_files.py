"""The files of the repository a user would get: tracked or new, never ignored ones."""
from __future__ import annotations

import subprocess
from pathlib import Path

from sme2prof.errors import UserError


def repository_files(repo: Path) -> list[Path]:
    """Paths (relative to ``repo``) that git tracks or would track; out/ and .venv/ excluded."""
    try:
        listed = subprocess.run(["git", "-C", str(repo), "ls-files", "-z", "--cached",
                                 "--others", "--exclude-standard"],
                                check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise UserError(f"cannot list the repository's files ({exc})",
                        "run this from a git clone of the kit with git installed") from None
    return [Path(p) for p in listed.decode().split("\0")
            if p and not p.startswith(".venv") and (repo / p).is_file()]
