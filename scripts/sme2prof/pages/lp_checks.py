"""The learning-paths repository's pull-request checks, run from a checkout on our branch.

Its pull-request workflow (``.github/workflows/test-lp.yml``) runs, in this order: a
Hugo build of the whole site (with Hugo 0.130.0), a file-name check, then for every
changed Markdown file under ``content/`` (added, copied, modified or renamed; not
deleted) ``tools/verify_index_fields.py`` and ``tools/test_lp.sh``; the job fails when
a step fails or the test output says ``Tests failed in test suite``.

Here: the file-name rule is ours, written from that workflow's description (every path
that ``git diff --name-only <base>...HEAD`` lists under ``content/`` must have a base
name, its last extension stripped, without capital letters or white space); the two
tools run from the checkout when it has them, with this Python first on PATH (they need
PyYAML, which the kit's environment has). The Hugo build is not run: it needs the
repository's theme and Hugo 0.130.0, which is not on PyPI (see the README).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sme2prof.pages.pull_request import git

VERIFY = "tools/verify_index_fields.py"
TEST_LP = "tools/test_lp.sh"
FAILED_MARK = "Tests failed in test suite"
_BAD_BASE = re.compile(r"[A-Z]|\s")


@dataclass(frozen=True)
class CheckResult:
    """One check: its name, whether it passed (None: not run), and what it printed."""
    name: str
    passed: bool | None
    detail: str
    output: str = ""

    def line(self) -> str:
        state = {True: "pass", False: "FAIL", None: "not run"}[self.passed]
        return f"{state:8} {self.name}: {self.detail}"


def bad_names(paths: list[str]) -> list[str]:
    """Paths under content/ whose base name (last extension stripped) has A-Z or a space."""
    return [p for p in paths if p.startswith("content/")
            and _BAD_BASE.search(os.path.basename(p).rsplit(".", 1)[0])]


def check_file_names(paths: list[str], what: str) -> CheckResult:
    bad = bad_names(paths)
    count = sum(1 for p in paths if p.startswith("content/"))
    if bad:
        return CheckResult("file names", False, f"{len(bad)} of {count} {what} under content/ have "
                           "a capital letter or a space: " + ", ".join(bad[:10]))
    return CheckResult("file names", True, f"{count} {what} under content/, none with a capital "
                       "letter or a space")


def changed_markdown(checkout: Path, base: str) -> list[str]:
    """Changed .md files under content/ as the workflow's changed-files step lists them."""
    listed = git(checkout, "diff", "--name-only", "--diff-filter=ACMR", f"{base}...HEAD")
    return [p for p in listed.splitlines() if p.startswith("content/") and p.endswith(".md")]


def _run_tool(checkout: Path, cmd: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(cmd, cwd=checkout, capture_output=True, text=True, env=env)


def run_verify_index_fields(checkout: Path, markdown: list[str]) -> CheckResult:
    if not (checkout / VERIFY).is_file():
        return CheckResult(VERIFY, None, "not in this checkout")
    proc = _run_tool(checkout, [sys.executable, VERIFY, *markdown])
    output = proc.stdout + proc.stderr
    return CheckResult(VERIFY, proc.returncode == 0, f"exit {proc.returncode}", output)


def run_test_lp(checkout: Path, markdown: list[str]) -> CheckResult:
    if not (checkout / TEST_LP).is_file():
        return CheckResult(TEST_LP, None, "not in this checkout")
    proc = _run_tool(checkout, ["bash", "-o", "pipefail", TEST_LP, *markdown])
    output = proc.stdout + proc.stderr
    off = output.count("maintenance is turned off")
    no_index = output.count("No _index.md found")
    passed = proc.returncode == 0 and FAILED_MARK not in output
    detail = (f"exit {proc.returncode}; {off} folder(s) with maintenance turned off, "
              f"{no_index} without an _index.md")
    if "ModuleNotFoundError" in output:
        detail += f"; a Python module is missing (pip install -r {checkout}/tools/requirements.txt)"
    return CheckResult(TEST_LP, passed, detail, output)


def run_checks(checkout: Path, base: str) -> list[CheckResult]:
    """The workflow's checks on the commits after ``base``, in its order."""
    changed = git(checkout, "diff", "--name-only", f"{base}...HEAD").splitlines()
    markdown = changed_markdown(checkout, base)
    return [CheckResult("hugo build", None, "run `hugo` in the checkout with Hugo 0.130.0 "
                        "(the repository's CI version)"),
            check_file_names(changed, "changed paths"),
            run_verify_index_fields(checkout, markdown),
            run_test_lp(checkout, markdown)]
