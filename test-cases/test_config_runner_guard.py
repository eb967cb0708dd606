"""The runner/mode/SME2 guard on CPUs this CI does not have (SME2 Mac or phone, emulated SME).

The end-to-end refusals are tested through the script in test_config.py; here the guard
is called directly with the CPU features such machines report, because an x86_64 host
can never reach the "this CPU has SME2" branches for real.
"""
from __future__ import annotations

import pytest

from sme2prof.pipeline.config import Experiment, validate_config
from sme2prof.errors import UserError
from sme2prof.runners.spec import ResolvedRunner
from sme2prof.runners.resolve import guard_runner_mode, runner_sme2_state

SME2_CPU = {"sme": True, "sme2": True}
SME_ONLY_CPU = {"sme": True, "sme2": False}


def exp(**keys) -> Experiment:
    return validate_config({"model": "m.pte", "experiments": [{"name": "e", "runner": "x", **keys}]}).experiments[0]


def runner(kind: str, **info) -> ResolvedRunner:
    logs = bool(info.get("xnntrace"))
    return ResolvedRunner(name=kind, kind=kind, command_prefix=["r"], build_info=info, logs_kernels=logs)


def test_pybind_on_an_sme2_cpu_cannot_promise_sme2_off() -> None:
    with pytest.raises(UserError, match="will use SME2 on this CPU"):
        guard_runner_mode(exp(sme2="off"), runner("pybind", sme2=None), SME2_CPU)
    guard_runner_mode(exp(sme2="on"), runner("pybind", sme2=None), SME2_CPU)


def test_built_sme2_off_runner_is_fine_on_an_sme2_cpu() -> None:
    guard_runner_mode(exp(sme2="off"), runner("executor_runner", sme=False, sme2=False), SME2_CPU)
    assert not runner_sme2_state(runner("executor_runner", sme2=False), SME2_CPU)


def test_emulated_cpu_with_sme_but_no_sme2() -> None:
    emulated = runner("wheel-aarch64-emulated", sme2=None)
    emulated.emulated = True
    guard_runner_mode(exp(sme2="off"), emulated, SME_ONLY_CPU)
    with pytest.raises(UserError, match="the emulated CPU has no SME2"):
        guard_runner_mode(exp(sme2="on"), emulated, SME_ONLY_CPU)


def test_trace_runner_can_trace_but_not_time() -> None:
    trace = runner("executor_runner", sme2=True, xnntrace=True, xnnpack_log_level=5)
    guard_runner_mode(exp(mode="xnntrace", sme2="on"), trace, SME2_CPU)
    with pytest.raises(UserError, match="logging distorts timings"):
        guard_runner_mode(exp(mode="timing"), trace, SME2_CPU)
