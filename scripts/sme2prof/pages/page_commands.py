"""Run the shell commands the pages show, in page order, in a fresh copy of the repository.

Why: a learning path whose commands do not work loses its reader at the first step.
Each page runs as one shell session (as a reader would type it: ``cd`` and
``source`` carry over between its blocks), starting in the copy's root, which is the
learning path folder of a sparse checkout. Blocks marked ``# needs: ...`` are counted,
not run.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sme2prof.pages.page_blocks import CodeBlock, page_blocks

MARK = "::sme2prof-page-block::"


@dataclass
class PageRun:
    """What happened when one page's runnable blocks were executed."""
    page: str
    ran: list[CodeBlock] = field(default_factory=list)
    marked: list[CodeBlock] = field(default_factory=list)
    returncode: int = 0
    failed_block: CodeBlock | None = None
    output: str = ""
    seconds: float = 0.0

    def block_outputs(self) -> list[str]:
        """What each ran block printed (stdout and stderr interleaved), in block order."""
        chunks: list[str] = []
        for line in self.output.splitlines(keepends=True):
            if line.startswith(MARK):
                chunks.append("")
            elif chunks:
                chunks[-1] += line
        return chunks


def copy_working_tree(repo: Path, dest: Path) -> None:
    """A fresh clone of ``repo`` with the working tree's current files laid over it.

    Cloning gives what CI gets; laying the working tree over it tests pages that are
    being edited and not yet committed. Ignored files (out/, .venv/) are not copied.
    """
    subprocess.run(["git", "clone", "--quiet", str(repo), str(dest)], check=True)
    listed = subprocess.run(["git", "-C", str(repo), "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], check=True, capture_output=True).stdout
    for rel in filter(None, listed.decode().split("\0")):
        src = repo / rel
        if src.is_file() and not rel.startswith(".venv"):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def link_venv(dest: Path, venv: Path, vision_venv: Path | None = None) -> None:
    """Reuse existing virtual environments instead of installing torch again.

    ``.venv`` is the kit's environment; ``.venv-vision`` (timm, torchvision) is linked
    too when the source repository has one, else the page's own setup command creates it.
    """
    for name, source in ((".venv", venv), (".venv-vision", vision_venv)):
        target = dest / name
        if source is not None and source.is_dir() and not target.exists():
            target.symlink_to(source, target_is_directory=True)


def kit_venv(repo: Path) -> Path | None:
    """The environment to reuse: the repository's own ``.venv`` (made by setup_repo.sh),
    else the virtual environment running this process, else None.

    The repository's own comes first because the pages run ``setup_repo.sh``, which
    leaves a venv it set up alone and would install into any other one.
    """
    if (repo / ".venv" / "pyvenv.cfg").is_file():
        return (repo / ".venv").resolve()
    return Path(sys.prefix) if sys.prefix != sys.base_prefix else None


def session_script(blocks: list[CodeBlock]) -> str:
    """One bash session: activate .venv when present, then each block after a marker."""
    parts = ["set -euo pipefail", "exec 2>&1",
             'if [ -f .venv/bin/activate ]; then source .venv/bin/activate; fi']
    for index, block in enumerate(blocks):
        parts.append(f"echo {shlex.quote(MARK + str(index))}")
        parts.append(block.code)
    return "\n".join(parts) + "\n"


def run_page(clone: Path, page: Path, timeout: float, env: dict[str, str] | None = None) -> PageRun:
    """Run ``page``'s unmarked shell blocks in ``clone``; stop at the first failure."""
    blocks = [b for b in page_blocks(page) if b.is_shell]
    result = PageRun(page.name, ran=[b for b in blocks if not b.needs],
                     marked=[b for b in blocks if b.needs])
    if not result.ran:
        return result
    started = time.monotonic()
    proc = subprocess.run(["bash", "-c", session_script(result.ran)], cwd=clone,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    result.seconds = time.monotonic() - started
    result.returncode = proc.returncode
    result.output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        reached = [int(line[len(MARK):]) for line in proc.stdout.splitlines()
                   if line.startswith(MARK)]
        result.failed_block = result.ran[reached[-1]] if reached else result.ran[0]
    return result


def run_all_pages(repo: Path, venv: Path | None, pages_rel: Path,
                  on_page: Callable[[PageRun], None] | None = None,
                  timeout: float = 1200) -> list[PageRun]:
    """Run every content page's commands, in page order, in one fresh copy of ``repo``.

    Pages share the copy (page 3 uses what page 2 exported), as a reader's folder would;
    HOME points to an empty folder so that nothing lands in the real home. Stops after
    the first page whose commands fail.
    """
    from sme2prof.pages.layout import content_pages

    runs: list[PageRun] = []
    with tempfile.TemporaryDirectory(prefix="sme2prof-pages-") as tmp:
        clone, home = Path(tmp) / "sme-executorch-profiling", Path(tmp) / "home"
        home.mkdir()
        copy_working_tree(repo, clone)
        if venv is not None:
            link_venv(clone, venv, repo / ".venv-vision")
        for page in content_pages(clone / pages_rel):
            run = run_page(clone, page, timeout=timeout, env={"HOME": str(home)})
            runs.append(run)
            if on_page:
                on_page(run)
            if run.returncode:
                break
    return runs


def _normalised(line: str) -> str:
    """A line with what legitimately changes between runs (numbers, paths) blanked out."""
    line = re.sub(r"/tmp/sme2prof-pages-[^/\s]+/sme-executorch-profiling|"
                  r"/path/to/sme-executorch-profiling", "<repo>", line)
    return " ".join(re.sub(r"\d+(\.\d+)?", "#", line).split())


def gate_mismatches(page: Path, run: PageRun, min_share: float = 0.8) -> list[str]:
    """"What you should see" blocks that the real output of their command does not match.

    Each ``output`` block is checked against the shell block(s) just before it (all
    tabs of a tabpane count as one): at least ``min_share`` of its lines, with numbers
    and paths blanked out, must appear in what the command really printed. Lines
    ``...`` mark an excerpt and are skipped.
    """
    outputs = dict(zip((b.where for b in run.ran), run.block_outputs()))
    problems: list[str] = []
    preceding: list[CodeBlock] = []
    for block in page_blocks(page):
        if block.is_shell:
            same_pane = preceding and block.tab and preceding[-1].tab
            preceding = preceding + [block] if same_pane else [block]
            continue
        if block.language != "output" or not preceding or preceding[0].needs:
            continue
        actual = {_normalised(line) for b in preceding
                  for line in outputs.get(b.where, "").splitlines()}
        expected = [_normalised(line) for line in block.code.splitlines()
                    if line.strip() and line.strip() != "..."]
        missing = [line for line in expected if line not in actual]
        if expected and len(missing) > (1 - min_share) * len(expected):
            problems.append(f"{block.where}: {len(missing)} of {len(expected)} lines differ from "
                            f"what {preceding[0].where} printed, e.g. {missing[0]!r}")
    return problems
