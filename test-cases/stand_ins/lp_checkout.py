"""A stand-in checkout of the learning-paths repository, for testing `make pr` offline.

Everything in it is made here: a category with another learning path, an old learning
path of our own making at the folder ours replaces (pages, an image, a kit folder with a
``Makefile`` and a ``README.md`` as the old upstream kit had), a ``.wordlist.txt``, and,
when asked, the stand-in tools of ``lp_tools/`` at ``tools/``. One commit on ``main``.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

PATH = "content/learning-paths/embedded-and-microcontrollers/sme-executorch-profiling"
OLD_INDEX = """---
title: An old path about profiling
minutes_to_complete: 60
who_is_this_for: Readers of the old path.
learning_objectives:
    - Read an old page.
prerequisites:
    - None.
author: Old Author
skilllevels: Advanced
subjects: ML
armips:
    - Cortex-A
tools_software_languages:
    - Python
operatingsystems:
    - macOS
further_reading:
    - resource:
        title: Old reading
        link: https://example.com/
        type: website
weight: 1
layout: "learningpathall"
learning_path_main_page: "yes"
---
"""
OLD_FILES = {
    "_index.md": OLD_INDEX,
    "01-old-overview.md": "---\ntitle: Old overview\nweight: 2\nlayout: learningpathall\n---\n\n"
                          "The old first page.\n" + "An old line of text.\n" * 20,
    "02-old-setup.md": "---\ntitle: Old setup\nweight: 3\nlayout: learningpathall\n---\n\n"
                       "The old second page.\n" + "Another old line.\n" * 20,
    "images/old-diagram.png": "not really a PNG, but a file the old pages used\n",
    "old_kit/Makefile": "all:\n\techo old kit\n",
    "old_kit/README.md": "# The old kit\n\nHow the old kit was used.\n" + "Old kit notes.\n" * 10,
}
OTHER_PATH = "content/learning-paths/embedded-and-microcontrollers/another-path"


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                          text=True).stdout


def make_checkout(root: Path, with_tools: bool = True) -> Path:
    """Write the stand-in checkout at ``root`` and commit it; return ``root``."""
    files = {f"{PATH}/{rel}": text for rel, text in OLD_FILES.items()}
    files["content/learning-paths/embedded-and-microcontrollers/_index.md"] = (
        "---\ntitle: Embedded and microcontrollers\nweight: 1\n---\n")
    files[f"{OTHER_PATH}/_index.md"] = OLD_INDEX.replace("An old path", "Another path")
    files[".wordlist.txt"] = "ExecuTorch\nXNNPACK\nbackend\n"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    if with_tools:
        (root / "tools").mkdir(exist_ok=True)
        for tool in (Path(__file__).parent / "lp_tools").iterdir():
            shutil.copy2(tool, root / "tools" / tool.name)
    _git(root, "init", "--quiet", "--initial-branch=main")
    _git(root, "config", "user.name", "Stand-in Tester")
    _git(root, "config", "user.email", "tester@example.com")
    _git(root, "add", "--all")
    _git(root, "commit", "--quiet", "-m", "the repository before our pull request")
    return root
