"""The `wheel` runner: built in seconds against the pip wheel, it runs a real .pte on the
real ExecuTorch runtime, speaks executor_runner's flags and writes an ETDump the
Inspector reads. Builds go through `scripts/build_runners.sh --wheel`, as a user runs it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kit_helpers import REPO_ROOT, exported

from sme2prof.runners import wheel_build as wrb
from sme2prof.errors import UserError
from sme2prof.fileio import read_json
from sme2prof.host_info import host_platform

HOST = host_platform()
pytestmark = pytest.mark.skipif(HOST not in wrb.PLATFORMS, reason=f"no wheel runner for {HOST}")


def build_runners(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "SME2PROF_PYTHON": sys.executable, **(env or {})}
    return subprocess.run(["bash", str(REPO_ROOT / "scripts" / "build_runners.sh"), *args],
                          capture_output=True, text=True, env=full_env, cwd=REPO_ROOT, timeout=600)


@pytest.fixture(scope="session")
def wheel_runner() -> Path:
    result = build_runners("--wheel")
    assert result.returncode == 0, result.stdout + result.stderr
    return wrb.find_wheel_runner()


@pytest.fixture(scope="session")
def toy_cnn_fp32() -> Path:
    return exported("toy_cnn", "fp32")


def run_runner(binary: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=300)


def execute_events(etdump: Path) -> dict[str, int]:
    """Operator name -> number of recorded executions, from the Inspector."""
    from executorch.devtools import Inspector
    inspector = Inspector(etdump_path=str(etdump))
    return {event.name: len(event.perf_data.raw) for block in inspector.event_blocks
            if block.name == "Execute" for event in block.events if event.perf_data}


def test_build_info_describes_the_runner(wheel_runner: Path) -> None:
    info = read_json(wheel_runner.parent / "build_info.json")
    from executorch import version
    assert info["kind"] == "wheel" and info["platform"] == HOST and info["binary"] == "wheel_runner"
    assert info["sme"] is None and info["sme2"] is None  # whatever the CPU has
    assert info["xnntrace"] is False and info["xnnpack_log_level"] == 0 and info["event_tracer"] is True
    assert info["executorch_commit"] == version.git_version
    assert info["cmake_cache"]["CMAKE_BUILD_TYPE"] == "Release"
    assert info["build_seconds"] > 0


def test_rebuild_without_changes_takes_seconds_and_keeps_the_binary(wheel_runner: Path) -> None:
    before = wheel_runner.stat().st_mtime_ns
    started = time.monotonic()
    result = build_runners("--wheel")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 20
    assert "up to date" in result.stdout
    assert wheel_runner.stat().st_mtime_ns == before


def test_dry_run_prints_the_cmake_commands_and_builds_nothing(tmp_path: Path) -> None:
    result = build_runners("--wheel", "--dry-run", env={"SME2PROF_OUT_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "would run: " in result.stdout
    assert "-DCMAKE_PREFIX_PATH=" in result.stdout
    assert not any(tmp_path.iterdir())


def test_runs_a_model_with_executor_runner_flags_and_writes_an_etdump(
        wheel_runner: Path, toy_cnn_fp32: Path, tmp_path: Path) -> None:
    etdump = tmp_path / "toy.etdp"
    result = run_runner(wheel_runner, "--model_path", str(toy_cnn_fp32), "--etdump_path", str(etdump),
                        "--num_executions", "3", "--cpu_threads", "1", "--method_name", "forward")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("wheel_runner: executorch 1.5.1 (")
    assert "\ncpu_features: " in out and " sme=" in out and " sme2=" in out
    for i in (1, 2, 3):
        assert f"Iteration {i} of 3: " in out
    events = execute_events(etdump)
    convolutions = [n for n in events if n.startswith("Convolution (NHWC")]
    assert convolutions, events
    # every execution is recorded, so the analysis can drop warm-up ones later
    assert events["Method::execute"] == 3 and all(events[n] == 3 for n in convolutions)


def test_cpu_threads_resizes_the_thread_pool(wheel_runner: Path, toy_cnn_fp32: Path, tmp_path: Path) -> None:
    result = run_runner(wheel_runner, "--model_path", str(toy_cnn_fp32), "--etdump_path",
                        str(tmp_path / "t.etdp"), "--num_executions=1", "--cpu_threads=2")
    assert result.returncode == 0, result.stderr
    assert "threads: 2\n" in result.stdout


@pytest.mark.parametrize("args, expected", [
    (["--model_path"], "missing value for --model_path"),
    (["--num_executions", "0"], "--num_executions needs a whole number >= 1"),
    (["--cpu_threads", "many"], "--cpu_threads needs -1"),
    (["--bogus", "1"], "unknown flag --bogus"),
])
def test_bad_flags_say_what_is_wrong(wheel_runner: Path, args: list[str], expected: str) -> None:
    result = run_runner(wheel_runner, *args)
    assert result.returncode == 2
    assert expected in result.stderr and "usage:" in result.stderr


def test_missing_or_invalid_model_fails_cleanly(wheel_runner: Path, tmp_path: Path) -> None:
    missing = run_runner(wheel_runner, "--model_path", str(tmp_path / "nope.pte"))
    assert missing.returncode == 1 and "cannot open the model" in missing.stderr
    junk = tmp_path / "junk.pte"
    junk.write_bytes(b"not a program" * 10)
    invalid = run_runner(wheel_runner, "--model_path", str(junk), "--etdump_path", str(tmp_path / "x.etdp"))
    assert invalid.returncode == 1 and "not a loadable ExecuTorch program" in invalid.stderr
    assert not (tmp_path / "x.etdp").exists()


def test_find_wheel_runner_names_the_build_command_when_missing(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(wrb, "RUNNERS_DIR", tmp_path)
    with pytest.raises(UserError) as err:
        wrb.find_wheel_runner()
    assert "not built" in err.value.message
    assert err.value.fix == "bash scripts/build_runners.sh --wheel"
    with pytest.raises(UserError) as err:
        wrb.find_wheel_runner("windows-x86")
    assert "unknown platform" in err.value.message


def _isolated_builder(monkeypatch, tmp_path: Path, source: Path) -> None:
    monkeypatch.setattr(wrb, "RUNNERS_DIR", tmp_path / "runners")
    monkeypatch.setattr(wrb, "BUILD_ROOT", tmp_path / "build")
    monkeypatch.setattr(wrb, "SOURCE_DIR", source)


def test_failed_build_keeps_the_earlier_runner(monkeypatch, tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(wrb.SOURCE_DIR, source)
    _isolated_builder(monkeypatch, tmp_path, source)
    runner = wrb.build_wheel_runner(progress=lambda _msg: None)
    good = (runner / "wheel_runner").read_bytes()
    (source / "wheel_runner.cpp").write_text("int main( { this is not C++\n")
    with pytest.raises(UserError) as err:
        wrb.build_wheel_runner(progress=lambda _msg: None)
    assert "build of the wheel runner" in err.value.message
    assert (runner / "wheel_runner").read_bytes() == good
    assert read_json(runner / "build_info.json")["kind"] == "wheel"


def _newer_cmake() -> str | None:
    """A CMake >= 3.28 (imported-target route): the one pip installs next to this Python."""
    candidate = Path(sys.executable).parent / "cmake"
    if not candidate.is_file():
        return None
    out = subprocess.run([str(candidate), "--version"], capture_output=True, text=True).stdout
    major, minor = (int(x) for x in out.split()[2].split(".")[:2])
    return str(candidate.parent) if (major, minor) >= (3, 28) else None


@pytest.mark.parametrize("route", ["variables", "targets"])
def test_both_cmake_package_routes_build_a_working_runner(monkeypatch, tmp_path: Path, route: str,
                                                          toy_cnn_fp32: Path) -> None:
    """Below CMake 3.28 the wheel offers EXECUTORCH_* variables, from 3.28 executorch:: targets."""
    path_dirs = [d for d in os.environ["PATH"].split(os.pathsep) if d != str(Path(sys.executable).parent)]
    if route == "targets":
        newer = _newer_cmake()
        if newer is None:
            pytest.skip("no CMake >= 3.28 next to this Python (pip install 'cmake==3.31.*')")
        path_dirs.insert(0, newer)
    monkeypatch.setenv("PATH", os.pathsep.join(path_dirs))
    version = subprocess.run(["cmake", "--version"], capture_output=True, text=True).stdout.split()[2]
    if route == "variables" and tuple(int(x) for x in version.split(".")[:2]) >= (3, 28):
        pytest.skip(f"the cmake on PATH is {version}; the variables route needs one below 3.28")
    _isolated_builder(monkeypatch, tmp_path, wrb.SOURCE_DIR)
    runner = wrb.build_wheel_runner(progress=lambda _msg: None)
    info = read_json(runner / "build_info.json")
    assert info["cmake_version"] == version
    assert info["cmake_link_route"].startswith("imported targets" if route == "targets" else "EXECUTORCH_*")
    result = run_runner(runner / "wheel_runner", "--model_path", str(toy_cnn_fp32), "--etdump_path",
                        str(tmp_path / "r.etdp"), "--num_executions", "1", "--cpu_threads", "2")
    assert result.returncode == 0, result.stderr
    assert "threadpool yes" in result.stdout and "threads: 2" in result.stdout
