"""Built aarch64 runners under the emulator: a config says "cpu" and the runner runs in qemu-aarch64.

Checked here without an ExecuTorch source build: the refusals (a binary for another
architecture given as emulated; "sme2": "on" on an emulated CPU without SME2), made before
anything runs. The real runs of the three source-built variants are kept as fixtures
(test-cases/fixtures/real-runs/sme2-emulated/) and tested in test_sme2_fixtures.py.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from kit_helpers import exported, run_script

from sme2prof.host_info import host_platform
from sme2prof.runners import qemu as qemu_tools

needs_linux_x86 = pytest.mark.skipif(host_platform() != "linux-x86_64",
                                     reason="user-mode qemu-aarch64 emulation is set up for Linux x86_64 hosts")


def _pipeline(tmp_path: Path, experiment: dict, env: dict | None = None) -> subprocess.CompletedProcess:
    config = {"model": str(exported("toy_cnn", "fp32")), "output_root": str(tmp_path / "runs"),
              "experiments": [{"name": "emulated", "runs": 1, "warmup": 0, **experiment}]}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return run_script("mac_pipeline.py", "--config", str(path), "--dry-run", env=env, timeout=300)


def _one_error(result: subprocess.CompletedProcess) -> tuple[str, str]:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    at = lines.index(errors[0])
    return errors[0], lines[at + 1]


@needs_linux_x86
def test_a_runner_for_another_architecture_given_as_emulated_is_one_line(tmp_path: Path) -> None:
    x86_binary = shutil.which("true")
    error, fix = _one_error(_pipeline(tmp_path, {"runner": x86_binary, "cpu": "max"}))
    assert f"runner '{x86_binary}' is built for x86_64, so it cannot run under qemu-aarch64" in error
    assert fix.startswith("  fix: give an aarch64 runner")
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())


@needs_linux_x86
def test_sme2_on_under_an_emulated_cpu_without_sme2_is_refused(tmp_path: Path) -> None:
    aarch64_binary = str(qemu_tools.probe_binary())     # a real static aarch64 program
    error, fix = _one_error(_pipeline(tmp_path, {"runner": aarch64_binary, "cpu": "max,sme=off", "sme2": "on"}))
    assert "sme2 \"on\" but the emulated CPU has no SME2 (qemu-aarch64 " in error and "-cpu max,sme=off)" in error
    assert "bash scripts/install_emulation_tools.sh" in fix


@needs_linux_x86
def test_sme2_on_with_a_system_qemu_without_sme2_names_the_newer_emulator(tmp_path: Path) -> None:
    system = shutil.which("qemu-aarch64")
    if system is None or qemu_tools.has_sme2(system):
        pytest.skip("no system qemu-aarch64 without SME2 on this machine (QEMU 10 or older)")
    aarch64_binary = str(qemu_tools.probe_binary())
    result = _pipeline(tmp_path, {"runner": aarch64_binary, "cpu": "max", "sme2": "on"},
                       env={qemu_tools.QEMU_VARIABLE: system})
    error, fix = _one_error(result)
    assert "has no SME2" in error and qemu_tools.qemu_version(system) in error
    assert "QEMU 11.1+: bash scripts/install_emulation_tools.sh" in fix


@needs_linux_x86
def test_an_sme2_on_runner_for_x86_64_is_refused_with_what_is_true(tmp_path: Path) -> None:
    """build_runners.sh builds no linux-x86_64-sme2-on, so the pipeline must not say "build it"."""
    error, fix = _one_error(_pipeline(tmp_path, {"runner": "linux-x86_64-sme2-on", "sme2": "on"}))
    assert "runner 'linux-x86_64-sme2-on' does not exist: linux-x86_64 has no SME/SME2" in error
    assert "build_runners.sh --variant linux-x86_64-sme2-on" not in fix
    assert "use linux-x86_64-sme2-off on this CPU" in fix
    assert "run linux-aarch64-sme2-on and linux-aarch64-sme2-off emulated" in fix
