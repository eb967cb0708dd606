"""What the set-up needs before it changes anything, each missing piece with its fix.

Every problem is collected and shown at once (one ``error:``/``fix:`` pair each, exit 1),
so a user installs everything missing in one go instead of re-running once per tool.
The runner build tools (cmake, ninja, a C++ compiler) are only reported: pybind and the
wheel runner need none of them, and ``runners/prereqs.py``, whose checks are reused
here, refuses a source build that lacks one.
"""
from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from sme2prof.errors import UserError
from sme2prof.runners import prereqs
from sme2prof.setup.commands import NotReady
from sme2prof.setup.environment import EnvironmentSpec, Venv, supported

GIT_FIX = "install git (macOS: xcode-select --install; Debian/Ubuntu: sudo apt-get install git)"
BUILD_ONLY = "missing (needed only to build runners from source)"


def report(name: str, text: str) -> None:
    print(f"  {name:<11} {text}")


def check_prerequisites(spec: EnvironmentSpec, venv: Venv, venv_usable: bool,
                        disk_needs: list[tuple[Path, int]]) -> list[NotReady]:
    """Print one line per prerequisite; return the problems that block the set-up."""
    print("== prerequisites")
    problems = [*_python(venv, venv_usable)]
    if spec.runner_tools:
        problems += _git()
    problems += _disk(disk_needs, spec)
    if spec.runner_tools:
        _build_tools()
    return problems


def _python(venv: Venv, venv_usable: bool) -> list[NotReady]:
    version = platform.python_version()
    if venv_usable:
        report("python", f"ok: existing venv {version} ({venv.python})")
        return []
    if not supported(sys.version_info[:2]):
        report("python", f"missing: {sys.executable} is {version}")
        return [NotReady(f"{sys.executable} is Python {version}, not 3.10-3.13",
                         "pass an interpreter 3.10-3.13 with --python")]
    report("python", f"ok: {sys.executable} ({version})")
    if any(importlib.util.find_spec(module) is None for module in ("venv", "ensurepip")):
        return [NotReady(f"python's venv module is missing for {sys.executable}",
                         "install it (Debian/Ubuntu: sudo apt-get install python3-venv)")]
    return []


def _git() -> list[NotReady]:
    if shutil.which("git") is None:
        report("git", "missing")
        return [NotReady("git not found", GIT_FIX)]
    words = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.split()
    report("git", f"ok: {words[-1] if words else '?'}")
    return []


def _disk(needs: list[tuple[Path, int]], spec: EnvironmentSpec) -> list[NotReady]:
    """Free space on each disk the set-up writes to (needs on one disk add up)."""
    by_disk: dict[int, tuple[Path, int]] = {}
    for path, gb in needs:
        existing = nearest_existing(path)
        device = existing.stat().st_dev
        held, total = by_disk.get(device, (existing, 0))
        by_disk[device] = (held, total + gb)
    problems = []
    for folder, need in by_disk.values():
        have = shutil.disk_usage(folder).free // 2**30
        if have >= need:
            report("disk", f"ok: {have} GB free (need {need} GB now)")
            continue
        report("disk", f"missing: {have} GB free, {need} GB needed")
        problems.append(NotReady(f"only {have} GB free on the disk holding {folder}, {need} GB needed",
                                 f"free some space (or set {spec.venv_variable} to a venv path on a "
                                 "larger disk)"))
    return problems


def nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _build_tools() -> None:
    """cmake, ninja and a C++ compiler: reported, never blocking here."""
    cxx = next((c for c in (os.environ.get("CXX"), "c++", "clang++", "g++") if c and shutil.which(c)),
               "c++")
    for name, tool in (("cmake", "cmake"), ("ninja", "ninja"), ("c++", cxx)):
        try:
            output = prereqs.run_version([tool, "--version"])
        except UserError:
            report(name, BUILD_ONLY)
            continue
        report(name, f"ok: {(output.strip().splitlines() or ['?'])[0]}")
        if name == "cmake":
            try:
                prereqs.check_cmake_version(output)
            except UserError as exc:
                print(f"  note: {exc.message} (for runner builds from source; fix: {exc.fix})")
