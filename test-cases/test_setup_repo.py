"""scripts/setup_repo.sh: prerequisites, the fast no-change path, and the ExecuTorch clone plan.

Cloning needs GitHub, so the clone is tested through --dry-run: the exact git commands a
user's machine would run. The venv tests point SME2PROF_VENV at throw-away venvs (one
with our stamp, one broken) and never touch the repository's .venv.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SETUP = REPO_ROOT / "scripts" / "setup_repo.sh"
REQUIREMENTS = REPO_ROOT / "scripts" / "requirements.txt"
RUNNER_SUBMODULES = ["backends/xnnpack/third-party/XNNPACK", "backends/xnnpack/third-party/cpuinfo",
                     "backends/xnnpack/third-party/pthreadpool", "backends/xnnpack/third-party/FP16",
                     "backends/xnnpack/third-party/FXdiv", "third-party/flatbuffers",
                     "third-party/flatcc", "third-party/gflags"]


def run_setup(*args: str, venv: Path | None = None, env: dict | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    if venv is not None:
        full_env["SME2PROF_VENV"] = str(venv)
    full_env.update(env or {})
    return subprocess.run(["bash", str(SETUP), *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, cwd=str(REPO_ROOT))


@pytest.fixture(scope="module")
def current_venv(tmp_path_factory) -> Path:
    """A venv whose interpreter is the one running the tests (it has every pinned package)."""
    prefix = Path(sys.prefix)
    if prefix == Path(sys.base_prefix):
        pytest.skip("tests are not running inside a virtual environment")
    return prefix


def test_help_lists_options_and_examples():
    result = run_setup("--help")
    assert result.returncode == 0
    for text in ("--with-executorch", "--ref", "--dry-run", "bash scripts/setup_repo.sh --with-executorch"):
        assert text in result.stdout


def test_unknown_option_is_one_clear_error():
    result = run_setup("--frobnicate")
    assert result.returncode == 2
    assert result.stderr.startswith("error: unknown option '--frobnicate'")


def test_requirements_pin_exact_versions():
    pins = [line.split(";")[0].strip() for line in REQUIREMENTS.read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    assert all(re.fullmatch(r"[a-z0-9_-]+==[0-9][0-9.]*", pin) for pin in pins), pins
    names = {pin.split("==")[0] for pin in pins}
    assert {"torch", "executorch", "torchao", "numpy", "pandas", "matplotlib", "pytest",
            "hugo"} <= names
    assert "torch==2.13.0" in pins and "executorch==1.5.1" in pins


def test_dry_run_on_a_fresh_machine_plans_venv_and_install(tmp_path):
    venv = tmp_path / "venv"
    result = run_setup("--dry-run", venv=venv)
    assert result.returncode == 0, result.stderr
    assert re.search(rf"\[dry-run\] \S*python\S* -m venv {re.escape(str(venv))}\n", result.stdout)
    assert f"[dry-run] {venv}/bin/python -m pip install" in result.stdout
    assert f"-r {REQUIREMENTS}" in result.stdout
    assert not venv.exists(), "--dry-run must not create anything"


def test_prerequisites_are_reported(tmp_path):
    result = run_setup("--dry-run", venv=tmp_path / "venv")
    for tool in ("python", "git", "disk", "cmake", "ninja", "c++"):
        assert re.search(rf"^  {re.escape(tool)}\s+(ok|missing)", result.stdout, re.M), tool


def test_missing_prerequisites_each_get_a_message(tmp_path):
    """No Python in range and no git on PATH: one error + fix per missing tool, exit 1."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "df", "awk", "date", "cat", "head", "sort", "basename", "sed"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    fake_python = bin_dir / "python3"
    fake_python.write_text("#!/bin/sh\necho 3.8\n")      # answers like a Python 3.8
    fake_python.chmod(0o755)
    result = run_setup(venv=tmp_path / "venv", env={"PATH": str(bin_dir), "PYTHON": ""})
    assert result.returncode == 1
    assert "error: no Python 3.10-3.13 found (python3 is 3.8)" in result.stderr
    assert "error: git not found" in result.stderr
    assert result.stderr.count("  fix: ") == 2
    assert not (tmp_path / "venv").exists()


def test_not_enough_disk_is_refused(tmp_path):
    result = run_setup("--dry-run", venv=tmp_path / "venv", env={"SME2PROF_MIN_FREE_GB": "100000"})
    assert result.returncode == 1
    assert re.search(r"error: only \d+ GB free on the disk holding .*, 100000 GB needed", result.stderr)


def test_rerun_with_nothing_changed_takes_seconds(current_venv):
    """A venv whose stamp matches the requirements is left alone: no pip, seconds."""
    fingerprint = subprocess.run(
        [sys.executable, "-", str(REQUIREMENTS), os.environ.get("SME2PROF_TORCH_INDEX", "")],
        input=_fingerprint_code(), capture_output=True, text=True, check=True).stdout
    with _stamp_set_to(current_venv, fingerprint):
        started = time.monotonic()
        result = run_setup(venv=current_venv)
        elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert "pip install" not in result.stdout
    assert re.search(r"executorch\s+1\.5\.1\S* \(commit [0-9a-f]{40}\)", result.stdout)
    assert elapsed < 15, f"no-change re-run took {elapsed:.1f} s"


@contextlib.contextmanager
def _stamp_set_to(venv: Path, text: str):
    """Give ``venv`` a set-up stamp for the duration of a test, then restore the old state."""
    stamp = venv / ".sme2prof-setup.stamp"
    saved = stamp.read_text() if stamp.exists() else None
    stamp.write_text(text)
    try:
        yield
    finally:
        if saved is None:
            stamp.unlink()
        else:
            stamp.write_text(saved)


def _fingerprint_code() -> str:
    """The fingerprint program, read out of setup_repo.sh so the test cannot drift from it."""
    text = SETUP.read_text()
    return text.split("<<'EOF'\n", 1)[1].split("\nEOF\n", 1)[0] + "\n"


def test_changed_requirements_trigger_a_reinstall(current_venv, tmp_path):
    """A stale stamp (requirements edited since) makes the set-up install again (dry run)."""
    with _stamp_set_to(current_venv, "stale\n"):
        result = run_setup("--dry-run", venv=current_venv)
    assert result.returncode == 0, result.stderr
    assert f"[dry-run] {current_venv}/bin/python -m pip install" in result.stdout
    assert "-m venv" not in result.stdout, "a working venv must be reused, not recreated"


def test_broken_venv_is_recreated(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /gone\n")
    result = run_setup("--dry-run", venv=venv)
    assert result.returncode == 0, result.stderr
    assert f"[dry-run] rm -rf {venv}" in result.stdout
    assert f"-m venv {venv}" in result.stdout


def test_with_executorch_dry_run_prints_the_exact_git_commands(tmp_path):
    dest = tmp_path / "executorch"
    result = run_setup("--with-executorch", "--dest", str(dest), "--dry-run", venv=tmp_path / "venv")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("[dry-run] git")]
    assert lines == [
        f"[dry-run] git clone --depth 1 --branch v1.5.1 https://github.com/pytorch/executorch.git {dest}",
        f"[dry-run] git -C {dest} submodule update --init --recursive --depth 1 -- "
        + " ".join(RUNNER_SUBMODULES),
    ]
    assert not dest.exists()


def test_with_executorch_ref_commit_fetches_that_commit(tmp_path):
    commit = "3b60683923245cf472b7323426920e15623ba361"
    dest = tmp_path / "executorch"
    result = run_setup("--with-executorch", "--ref", commit, "--dest", str(dest), "--dry-run",
                       venv=tmp_path / "venv")
    assert result.returncode == 0, result.stderr
    assert f"[dry-run] git -C {dest} fetch --depth 1 origin {commit}" in result.stdout
    assert f"[dry-run] git -C {dest} checkout -q --detach FETCH_HEAD" in result.stdout


def test_with_executorch_ref_branch_or_tag(tmp_path):
    dest = tmp_path / "executorch"
    result = run_setup("--with-executorch", "--ref", "release/1.5", "--dest", str(dest),
                       "--dry-run", venv=tmp_path / "venv")
    assert f"git clone --depth 1 --branch release/1.5 https://github.com/pytorch/executorch.git {dest}" \
        in result.stdout


def test_existing_checkout_at_another_commit_is_not_touched(tmp_path):
    """A local git repo stands in for an old ExecuTorch checkout: refused, left as it was."""
    dest = tmp_path / "executorch"
    dest.mkdir()
    git = ["git", "-C", str(dest), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    (dest / "file.txt").write_text("old checkout")
    subprocess.run([*git, "add", "file.txt"], check=True)
    subprocess.run([*git, "commit", "-qm", "old"], check=True)
    result = run_setup("--with-executorch", "--dest", str(dest), "--dry-run", venv=tmp_path / "venv")
    assert result.returncode == 1
    assert f"error: {dest} is a checkout of" in result.stderr and "not of v1.5.1" in result.stderr
    assert "  fix: remove" in result.stderr
    assert (dest / "file.txt").read_text() == "old checkout"


def test_dest_must_be_named_executorch(tmp_path):
    result = run_setup("--with-executorch", "--dest", str(tmp_path / "et"), "--dry-run",
                       venv=tmp_path / "venv")
    assert result.returncode == 1
    assert "must be named executorch" in result.stderr


def test_ref_without_with_executorch_is_refused():
    result = run_setup("--ref", "v1.5.1", "--dry-run")
    assert result.returncode == 2
    assert "--ref only applies with --with-executorch" in result.stderr
