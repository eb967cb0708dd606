"""An xnntrace experiment through the real pipeline and analysis: the kernel trace is
captured into the run directory and the analysis names the microkernels per operator.

The logging runner is a stand-in (see stand_ins/xnntrace_runner.py) around the real
wheel runner, because a source-built -xnntrace executor_runner cannot be built in a
test run; its build_info.json says what a real build_runners.sh build would say.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REAL_RUNS_DIR
from kit_helpers import SCRIPTS_DIR
from pipeline_helpers import experiment, toy_cnn_pte, wheel_runner, write_config

from sme2prof.host_info import host_platform

STAND_IN = Path(__file__).resolve().parent / "stand_ins" / "xnntrace_runner.py"
X86_TRACE = REAL_RUNS_DIR / "x86-64" / "cnn-linear-fp32.xnntrace.log"

pytestmark = pytest.mark.skipif(host_platform() != "linux-x86_64",
                                reason="replays the x86-64 fixture's kernel log; needs a linux-x86_64 host")


def logging_runner(folder: Path, xnntrace: bool) -> Path:
    """A runner folder as build_runners.sh lays it out: the binary and its build_info.json."""
    variant = "sme2-off-xnntrace" if xnntrace else "sme2-off"
    runner_dir = folder / f"linux-x86_64-{variant}"
    runner_dir.mkdir(parents=True)
    binary = runner_dir / "executor_runner"
    binary.write_text(f"#!/bin/sh\nexec {sys.executable} {STAND_IN} \"$@\"\n")
    binary.chmod(0o755)
    (runner_dir / "build_info.json").write_text(json.dumps({
        "runner": runner_dir.name, "kind": "executor_runner", "platform": "linux-x86_64",
        "variant": variant, "binary": "executor_runner", "sme": False, "sme2": False,
        "xnntrace": xnntrace, "xnnpack_log_level": 5 if xnntrace else 0, "event_tracer": True}))
    return binary


def run(config: Path, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, XNNTRACE_STAND_IN_RUNNER=str(wheel_runner()),
               XNNTRACE_STAND_IN_LOG=str(X86_TRACE))
    return subprocess.run([sys.executable, str(SCRIPTS_DIR / "mac_pipeline.py"), "--config", str(config),
                           *extra], capture_output=True, text=True, env=env, timeout=900)


def test_kernel_trace_is_captured_and_analysed(tmp_path: Path) -> None:
    binary = logging_runner(tmp_path / "runners", xnntrace=True)
    config = write_config(tmp_path, toy_cnn_pte(),
                          [experiment("trace", str(binary), mode="xnntrace", runs=2, warmup=0, sme2="off")])
    proc = run(config)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run_dir = next((tmp_path / "runs").iterdir())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    result = manifest["experiments"][0]["results"][0]
    trace = (run_dir / result["kernel_trace"]).read_text()
    assert "Using igemm microkernel 'xnn_f32_igemm_minmax_ukernel_7x32__avx512f_broadcast'" in trace
    assert "Iteration 1 of 2" not in trace  # only XNNPACK's lines go into the kernel trace

    summary = json.loads((run_dir / "analysis" / "summary.json").read_text())
    kernels = summary["results"][0]["kernels"]
    names = json.dumps(kernels)
    assert "xnn_f32_igemm_minmax_ukernel_7x32__avx512f_broadcast" in names
    assert "Convolution (NHWC, F32) IGEMM" in names  # matched to the operator that ran it
    report = (run_dir / "analysis" / "report.md").read_text()
    assert "avx512f" in report


def test_timing_on_the_logging_runner_is_refused(tmp_path: Path) -> None:
    binary = logging_runner(tmp_path / "runners", xnntrace=True)
    config = write_config(tmp_path, toy_cnn_pte(), [experiment("t", str(binary), mode="timing")])
    proc = run(config, "--no-analyze")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ") and "fix: " in proc.stderr
    assert "timing" in proc.stderr and "xnntrace" in proc.stderr  # says why: logging distorts timing
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_kernel_trace_on_a_timing_runner_is_refused(tmp_path: Path) -> None:
    binary = logging_runner(tmp_path / "runners", xnntrace=False)
    config = write_config(tmp_path, toy_cnn_pte(), [experiment("t", str(binary), mode="xnntrace")])
    proc = run(config, "--no-analyze")
    assert proc.returncode == 2 and "xnntrace" in proc.stderr and "Traceback" not in proc.stderr
