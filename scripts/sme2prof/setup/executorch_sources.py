"""Clone the ExecuTorch sources a runner build needs (``setup_repo.sh --with-executorch``).

Only the release the pip wheel was built from makes runners that match the exporter,
so the default ref is ``v<pinned executorch version>`` and an existing checkout at
another commit is refused, never moved. Only the submodules an executor_runner build
with XNNPACK and the ETDump needs are fetched, shallowly: XNNPACK and its helpers,
flatbuffers/flatcc for the program and ETDump formats, gflags for the runner's flags.
The rest (Arm, Vulkan, LLM tokenizers, buck2, test frameworks) would cost minutes and GB.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from sme2prof.setup.commands import CommandRunner, NotReady

EXECUTORCH_URL_VARIABLE = "SME2PROF_EXECUTORCH_URL"
EXECUTORCH_URL = "https://github.com/pytorch/executorch.git"
SOURCE_FREE_GB = 4          # ExecuTorch sources + runner submodules
RUNNER_SUBMODULES = (
    "backends/xnnpack/third-party/XNNPACK",
    "backends/xnnpack/third-party/cpuinfo",
    "backends/xnnpack/third-party/pthreadpool",
    "backends/xnnpack/third-party/FP16",
    "backends/xnnpack/third-party/FXdiv",
    "third-party/flatbuffers",
    "third-party/flatcc",
    "third-party/gflags",
)
_FULL_COMMIT = re.compile(r"[0-9a-f]{40}")


def needs_clone(dest: Path) -> bool:
    return not (dest / ".git").is_dir()


def clone_executorch(ref: str, dest: Path, runner: CommandRunner, wheel_commit: str | None) -> None:
    """Check out ``ref`` into ``dest`` with the runner submodules (or only print the plan)."""
    if dest.name != "executorch":
        raise NotReady(f"--dest {dest}: the ExecuTorch source folder must be named executorch",
                       "pass a path ending in /executorch")
    print(f"== ExecuTorch sources ({ref}) in {dest}")
    url = os.environ.get(EXECUTORCH_URL_VARIABLE) or EXECUTORCH_URL
    if not needs_clone(dest):
        current = _git_output(dest, "rev-parse", "HEAD")
        if current != _git_output(dest, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}"):
            raise NotReady(f"{dest} is a checkout of {current[:12]}, not of {ref}",
                           f"remove {dest} to clone {ref}, or pass --ref {current} to keep it")
        print(f"  already checked out at {ref} ({current[:12]}); updating the runner submodules")
    elif dest.exists():
        raise NotReady(f"{dest} exists but is not a git checkout",
                       "move it away, or pass --dest elsewhere/executorch")
    elif _FULL_COMMIT.fullmatch(ref):
        _must(runner, ["git", "init", "-q", dest], "git init")
        _must(runner, ["git", "-C", dest, "remote", "add", "origin", url], "git remote add")
        _must(runner, ["git", "-C", dest, "fetch", "--depth", "1", "origin", ref], f"fetching {ref}")
        _must(runner, ["git", "-C", dest, "checkout", "-q", "--detach", "FETCH_HEAD"], "git checkout")
    else:
        _must(runner, ["git", "clone", "--depth", "1", "--branch", ref, url, dest], f"cloning {ref}")
    # Shallow submodules keep XNNPACK's long history out; fall back to the full history if
    # the server refuses to serve a pinned commit shallowly.
    update = ["git", "-C", dest, "submodule", "update", "--init", "--recursive"]
    if not runner.run([*update, "--depth", "1", "--", *RUNNER_SUBMODULES]):
        _must(runner, [*update, "--", *RUNNER_SUBMODULES], "fetching the runner submodules")
    if runner.dry_run:
        return
    current = _git_output(dest, "rev-parse", "HEAD")
    if wheel_commit and current != wheel_commit:
        print(f"  warning: {dest} is at {current[:12]} but the installed executorch wheel was built "
              f"from {wheel_commit[:12]}; runners built from it may not match the exporter "
              f"(use --ref {wheel_commit})")
    else:
        print(f"  ExecuTorch sources at {current[:12]}")


def _must(runner: CommandRunner, command: list, what: str) -> None:
    if not runner.run(command):
        raise NotReady(f"{what} failed (the lines above say why)",
                       "check that github.com is reachable (or set SME2PROF_EXECUTORCH_URL to a "
                       "mirror), then rerun")


def _git_output(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True).stdout.strip()
