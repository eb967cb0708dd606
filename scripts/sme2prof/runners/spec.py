"""What the pipeline needs to know about a runner, whatever kind it is.

Every runner speaks the flags of ExecuTorch's ``executor_runner`` (``--model_path``,
``--etdump_path``, ``--num_executions``, ``--cpu_threads``), so a pipeline treats the
pybind worker, the wheel runner, a source-built ``executor_runner`` and an emulated
aarch64 runner the same way: ``command_prefix + runner_flags(...)``. Kinds differ only in
how that prefix is found and in what their build info promises (SME/SME2, kernel logs).

``build_info.json`` (written next to every built runner binary) holds at least::

    runner, kind ("executor_runner" | "wheel"), platform, variant, binary (file name),
    sme, sme2, xnntrace (bool), xnnpack_log_level (int), event_tracer (bool),
    build_type, cmake_cache {name: value}, executorch_version, executorch_commit,
    compiler, ndk (or null), built_at, build_seconds
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

BUILD_INFO_NAME = "build_info.json"


@dataclass
class ResolvedRunner:
    """A runner ready to execute: how to start it and what it promises."""

    name: str                                  # as written in the config
    kind: str                                  # pybind | wheel | executor_runner | path | wheel-aarch64-emulated
    command_prefix: list[str]                  # argv before the executor_runner-style flags
    build_info: dict = field(default_factory=dict)
    binary: Path | None = None
    logs_kernels: bool = False                 # XNNPACK log level high enough to name microkernels
    env: dict[str, str] = field(default_factory=dict)
    target: dict | None = None                 # where the code really runs, when not this host
                                               # (emulated CPU features, Android device)
    emulated: bool = False                     # timings mean nothing when True


def runner_flags(model_path: Path | str, etdump_path: Path | str, num_executions: int,
                 threads: int) -> list[str]:
    """The executor_runner-compatible flags every runner kind accepts."""
    return ["--model_path", str(model_path), "--etdump_path", str(etdump_path),
            "--num_executions", str(num_executions), "--cpu_threads", str(threads)]
