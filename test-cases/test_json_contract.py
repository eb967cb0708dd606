"""The failure contract of every entry script (``sme2prof/errors.py``), enforced for each one.

Every script in ``scripts/`` that runs through ``run_entry_point`` is found here (a new
one, e.g. ``profile_model.py``, is covered without editing this file) and run as a user
would, with a bad input and ``--json``: stdout must be exactly one JSON object holding
``exit_code`` (equal to the process's), ``error`` and ``fix``; stderr keeps the
``error:``/``fix:`` lines and never a traceback. A bad command line without ``--json``
gets a ``fix:`` line too.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kit_helpers import SCRIPTS_DIR, run_script

ENTRY_SCRIPTS = sorted(p.name for p in SCRIPTS_DIR.glob("*.py") if "run_entry_point" in p.read_text())

# A bad input each script refuses after parsing its command line (exit 2, a UserError).
BAD_INPUT = {
    "export_model.py": ["--model", "no_such_model"],
    "mac_pipeline.py": ["--config", "/nonexistent/config.json"],
    "android_pipeline.py": ["--config", "/nonexistent/config.json", "--dry-run"],
    "analyze_results.py": ["/nonexistent/run"],
    "validate_results.py": ["/nonexistent/run"],
    "validate_setup.py": ["--stage", "no_such_stage"],
    "run_quick_test.py": ["--out-dir", "/proc/no/such/folder"],
    "build_runners.py": ["--jobs", "0"],
    "benchmark_pipeline.py": ["--runs", "0"],
    "benchmark_analysis.py": ["/nonexistent/run"],
    "site_tools.py": ["add-image", "/nonexistent.png", "x.png"],
    "profile_model.py": ["--model", "no_such_model"],
}


def one_json_object(proc: subprocess.CompletedProcess) -> dict:
    """stdout parses as exactly one JSON object (json.loads refuses trailing text)."""
    assert "Traceback" not in proc.stderr, proc.stderr
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(f"stdout is not one JSON object (exit {proc.returncode}): {proc.stdout[:300]!r}\n{proc.stderr}")
    assert isinstance(data, dict), data
    return data


def assert_failure_object(proc: subprocess.CompletedProcess, code: int = 2) -> dict:
    data = one_json_object(proc)
    assert proc.returncode == code, proc.stderr
    assert data["exit_code"] == proc.returncode
    assert isinstance(data.get("error"), str) and data["error"], data
    assert isinstance(data.get("fix"), str) and data["fix"], data
    return data


def test_every_entry_script_is_covered() -> None:
    """The table names only real scripts, and the discovery finds the documented ones."""
    assert set(BAD_INPUT) <= set(ENTRY_SCRIPTS)
    assert {"export_model.py", "mac_pipeline.py", "analyze_results.py", "build_runners.py"} <= set(ENTRY_SCRIPTS)


@pytest.mark.parametrize("script", ENTRY_SCRIPTS)
def test_argument_error_is_one_json_object_and_a_fix_line(script: str) -> None:
    proc = run_script(script, "--no-such-option", "--json", timeout=300)
    data = assert_failure_object(proc)
    # scripts with a required argument say that first ("the following arguments are required")
    assert ("--no-such-option" in data["error"] or "required" in data["error"]) and "--help" in data["fix"]
    plain = run_script(script, "--no-such-option", timeout=300)
    assert plain.returncode == 2 and plain.stdout == ""
    assert f"error: {data['error']}\n  fix: {data['fix']}\n" in plain.stderr, plain.stderr


@pytest.mark.parametrize("script", sorted(BAD_INPUT))
def test_bad_input_is_one_json_object(script: str) -> None:
    proc = run_script(script, *BAD_INPUT[script], "--json", timeout=300)
    data = assert_failure_object(proc)
    assert f"error: {data['error']}" in proc.stderr, "stderr keeps the human lines"


def test_build_runners_shell_script_keeps_the_contract(tmp_path: Path) -> None:
    """A checkout named with --executorch-dir that does not exist is a typo: refused, even in a dry run."""
    proc = subprocess.run(["bash", str(SCRIPTS_DIR / "build_runners.sh"), "--executorch-dir",
                           str(tmp_path / "nope"), "--dry-run", "--json"],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "SME2PROF_PYTHON": sys.executable})
    data = assert_failure_object(proc)
    assert f"--executorch-dir {tmp_path / 'nope'} does not exist" in data["error"]
    assert "setup_repo.sh --with-executorch" in data["fix"]


def test_success_is_one_json_object_with_exit_code_0() -> None:
    proc = run_script("export_model.py", "--list", "--json", timeout=300)
    data = one_json_object(proc)
    assert proc.returncode == 0 and data["exit_code"] == 0 and "error" not in data
    assert any(m["name"] == "toy_cnn" for m in data["models"])


def test_failure_inside_a_run_names_the_run_directory(tmp_path: Path) -> None:
    """A run that stops with a UserError after its folder exists: run_dir is in the object."""
    from pipeline_helpers import experiment, toy_cnn_pte, write_config

    config = write_config(tmp_path, toy_cnn_pte(), [experiment("a", "wheel")])
    proc = run_script("mac_pipeline.py", "--config", str(config), "--no-analyze", "--json", timeout=300)
    run_dir = one_json_object(proc)["run_dir"]
    assert proc.returncode == 0, proc.stderr
    (Path(run_dir) / "config.json").unlink()
    manifest = json.loads((Path(run_dir) / "manifest.json").read_text())
    manifest["experiments"][0]["results"][0]["status"] = "interrupted"
    (Path(run_dir) / "manifest.json").write_text(json.dumps(manifest))
    proc = run_script("mac_pipeline.py", "--resume", run_dir, "--no-analyze", "--json", timeout=300)
    data = assert_failure_object(proc)
    assert data["run_dir"] == run_dir and "has no config.json" in data["error"]


def test_help_with_json_is_still_one_object() -> None:
    proc = run_script("validate_results.py", "--help", "--json", timeout=120)
    data = one_json_object(proc)
    assert proc.returncode == 0 and data == {"exit_code": 0}
    assert "usage:" in proc.stderr, "the help text goes to stderr"
