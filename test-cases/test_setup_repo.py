"""scripts/setup_repo.sh: prerequisites, a real install and its fast re-run, the pins, and
the ExecuTorch clone plan.

Cloning needs GitHub, so the clone is tested through --dry-run: the exact git commands a
user's machine would run. The venv tests point SME2PROF_VENV at throw-away venvs (fresh,
broken, or one that sees this venv's packages through a .pth file so that pip has
nothing to download) and never touch the repository's .venv.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from sme2prof.setup.pins import pin_states, read_pins

REPO_ROOT = Path(__file__).resolve().parent.parent
SETUP = REPO_ROOT / "scripts" / "setup_repo.sh"
REQUIREMENTS = REPO_ROOT / "scripts" / "requirements.txt"
VISION_REQUIREMENTS = REPO_ROOT / "scripts" / "requirements-vision.txt"
VISION_PYTHON = REPO_ROOT / ".venv-vision" / "bin" / "python"
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
def venv_seeing_ours(tmp_path_factory) -> Path:
    """A new venv (with pip) that sees every package of the venv running the tests through
    a .pth file: the set-up installs into it for real with nothing to download, and its
    stamp is its own, so the repository's .venv (shared by other checkouts) is never touched."""
    if Path(sys.prefix) == Path(sys.base_prefix):
        pytest.skip("tests are not running inside a virtual environment")
    venv = tmp_path_factory.mktemp("kit") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    site = venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    (site / "kit-under-test.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def test_help_lists_options_and_examples():
    result = run_setup("--help")
    assert result.returncode == 0
    for text in ("--with-executorch", "--ref", "--dry-run", "bash scripts/setup_repo.sh --with-executorch"):
        assert text in result.stdout


def test_unknown_option_is_one_clear_error():
    result = run_setup("--frobnicate")
    assert result.returncode == 2
    assert result.stderr.startswith("error: unknown option '--frobnicate'")


def test_this_venv_has_exactly_the_pinned_versions():
    """What `make setup` promises a user: each pin that applies to this Python, installed at
    exactly that version (package metadata, as validate_setup.py reads it)."""
    pins = read_pins(REQUIREMENTS)
    assert all(len(pin.specifier) == 1 and str(pin.specifier).startswith("==") for pin in pins), pins
    states = pin_states(pins)
    assert [state.describe() for state in states if not state.ok] == []
    assert {"torch", "executorch", "torchao", "numpy", "pandas", "matplotlib", "pytest",
            "hugo"} <= {state.name for state in states}


def _pins_by_name(path: Path) -> dict[str, set[str]]:
    """Every line of a requirements file (markers included), grouped by package."""
    pins: dict[str, set[str]] = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            pins.setdefault(re.split(r"[=<>;\s]", line, maxsplit=1)[0].lower(), set()).add(line)
    return pins


def test_both_environments_pin_the_same_torch_executorch_and_torchao():
    """A .pte exported in .venv-vision runs on the kit's runtime and runners: same releases."""
    kit, vision = _pins_by_name(REQUIREMENTS), _pins_by_name(VISION_REQUIREMENTS)
    shared = set(kit) & set(vision)
    assert {"torch", "executorch", "torchao", "numpy", "pandas", "pytest"} <= shared
    assert {name: kit[name] for name in shared} == {name: vision[name] for name in shared}
    assert "torch==2.13.0" in kit["torch"] and "executorch==1.5.1" in kit["executorch"]


@pytest.mark.skipif(not VISION_PYTHON.exists(), reason="no .venv-vision (bash scripts/setup_vision_env.sh)")
def test_the_vision_venv_is_up_to_date_with_pypis_torch():
    """Its set-up finds every pin installed, and torch is PyPI's build (torchvision's match),
    not a local CPU-only build with a +cpu tag."""
    result = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "setup_vision_env.sh"), "--dry-run"],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "SME2PROF_VISION_VENV": str(VISION_PYTHON.parent.parent)})
    assert result.returncode == 0, result.stderr
    assert "up to date (scripts/requirements-vision.txt unchanged" in result.stdout, result.stdout
    assert re.search(r"^  torch\s+2\.13\.0$", result.stdout, re.M), result.stdout


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


def _bin_with(tmp_path: Path, *tools: str) -> Path:
    """A PATH folder holding only these tools (and what the shell script itself uses)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", *tools):
        if shutil.which(tool):
            (bin_dir / tool).symlink_to(shutil.which(tool))
    return bin_dir


def test_no_python_in_range_is_one_error_with_the_fix(tmp_path):
    """No Python 3.10-3.13 at all: the shell script says so (nothing else can run), exit 1."""
    bin_dir = _bin_with(tmp_path)
    fake_python = bin_dir / "python3"
    fake_python.write_text("#!/bin/sh\necho 3.8\n")      # answers like a Python 3.8
    fake_python.chmod(0o755)
    result = run_setup(venv=tmp_path / "venv", env={"PATH": str(bin_dir), "PYTHON": ""})
    assert result.returncode == 1
    assert result.stderr.startswith("error: no Python 3.10-3.13 found (python3 is 3.8)\n  fix: install")
    assert not (tmp_path / "venv").exists()


def test_missing_prerequisites_are_all_reported_at_once(tmp_path):
    """A Python but no git and too little disk: one error + fix for each, exit 1, nothing made."""
    bin_dir = _bin_with(tmp_path)
    (bin_dir / "python3").symlink_to(Path(sys.executable).resolve())
    result = run_setup(venv=tmp_path / "venv",
                       env={"PATH": str(bin_dir), "PYTHON": "", "SME2PROF_MIN_FREE_GB": "100000"})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "error: git not found\n  fix: install git" in result.stderr
    assert re.search(r"error: only \d+ GB free on the disk holding .*, 100000 GB needed\n  fix: ",
                     result.stderr)
    assert result.stderr.count("  fix: ") == 2 and "Traceback" not in result.stderr
    assert not (tmp_path / "venv").exists()


def test_a_python_outside_3_10_to_3_13_is_refused_as_bad_input(tmp_path):
    fake_python = tmp_path / "python3.9"
    fake_python.write_text("#!/bin/sh\necho 3.9 /opt/python3.9\n")
    fake_python.chmod(0o755)
    result = run_setup("--python", str(fake_python), venv=tmp_path / "venv")
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {fake_python} is Python 3.9; torch 2.13")
    assert "  fix: pass --python" in result.stderr


def test_the_set_up_runs_in_a_bare_python():
    """It creates the venv, so it must start in a Python without any third-party package."""
    base = Path(sys.executable).resolve()
    code = f"import sys; sys.path.insert(0, {str(REPO_ROOT / 'scripts')!r}); import sme2prof.setup.cli"
    proc = subprocess.run([str(base), "-S", "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_not_enough_disk_is_refused(tmp_path):
    result = run_setup("--dry-run", venv=tmp_path / "venv", env={"SME2PROF_MIN_FREE_GB": "100000"})
    assert result.returncode == 1
    assert re.search(r"error: only \d+ GB free on the disk holding .*, 100000 GB needed", result.stderr)


def test_install_then_rerun_with_nothing_changed_takes_about_a_second(venv_seeing_ours):
    """The real install path (pip, the import check, the stamp), then the re-run a user
    waits for after every `make setup`: no pip, about a second."""
    installed = run_setup(venv=venv_seeing_ours, timeout=600)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert f"+ {venv_seeing_ours}/bin/python -m pip install -r {REQUIREMENTS}" in installed.stdout
    assert re.search(r"^  installed in \d+ s$", installed.stdout, re.M)
    assert (venv_seeing_ours / ".sme2prof-setup.stamp").is_file()

    started = time.monotonic()
    result = run_setup(venv=venv_seeing_ours)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert "pip install" not in result.stdout
    assert f"python      ok: existing venv {sys.version.split()[0]} ({venv_seeing_ours}/bin/python)" \
        in result.stdout
    assert re.search(r"executorch\s+1\.5\.1\S* \(commit [0-9a-f]{40}\)", result.stdout)
    assert elapsed < 5, f"no-change re-run took {elapsed:.1f} s"


def test_a_failed_clone_is_one_error_with_the_fix_and_leaves_nothing(venv_seeing_ours, tmp_path):
    """The real clone path with an unreachable remote (as GitHub is from a closed network)."""
    dest = tmp_path / "executorch"
    result = run_setup("--with-executorch", "--dest", str(dest), venv=venv_seeing_ours, timeout=600,
                       env={"SME2PROF_EXECUTORCH_URL": str(tmp_path / "no-such-remote.git")})
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"+ git clone --depth 1 --branch v1.5.1 {tmp_path}/no-such-remote.git {dest}" in result.stdout
    assert result.stderr.rstrip().endswith("error: cloning v1.5.1 failed (the lines above say why)\n"
                                           "  fix: check that github.com is reachable (or set "
                                           "SME2PROF_EXECUTORCH_URL to a mirror), then rerun")
    assert not dest.exists()


def test_changed_requirements_or_a_changed_pin_trigger_a_reinstall(venv_seeing_ours, tmp_path):
    """A stale stamp (requirements edited since), or a pin the venv does not have, makes
    the set-up install again (dry run); a working venv is reused, not recreated."""
    stamp = venv_seeing_ours / ".sme2prof-setup.stamp"
    saved = stamp.read_text() if stamp.exists() else None
    stamp.write_text("stale\n")
    try:
        result = run_setup("--dry-run", venv=venv_seeing_ours)
    finally:
        stamp.unlink()
        if saved is not None:
            stamp.write_text(saved)
    assert result.returncode == 0, result.stderr
    assert "reinstalling: scripts/requirements.txt or the interpreter changed" in result.stdout
    assert f"[dry-run] {venv_seeing_ours}/bin/python -m pip install" in result.stdout
    assert "-m venv" not in result.stdout, "a working venv must be reused, not recreated"


def test_a_linked_venv_is_used_through_its_real_path(venv_seeing_ours, tmp_path):
    """pip writes the venv's path into every script it installs: through the link, those
    scripts would break when the linking checkout goes away."""
    link = tmp_path / "linked-venv"
    link.symlink_to(venv_seeing_ours)
    result = run_setup("--dry-run", "--force", venv=link)
    assert result.returncode == 0, result.stderr
    assert f"== python environment: {venv_seeing_ours}\n" in result.stdout
    assert f"[dry-run] {venv_seeing_ours}/bin/python -m pip install" in result.stdout


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
