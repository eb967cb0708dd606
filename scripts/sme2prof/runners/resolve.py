"""Turn a config's ``runner`` string into a ``ResolvedRunner`` and refuse misleading pairs.

Why a guard: XNNPACK has no runtime SME2 switch and logging changes timings, so the
runner *is* the experiment design. A timing experiment on a logging build, a kernel
trace from a runner that cannot log kernels, or "SME2 off" on a runner that will use
SME2 would all produce numbers that look right and mean something else. We refuse
them before anything runs, with the fix.

Resolution order for ``runner``: ``pybind``; ``wheel``; ``wheel-aarch64-emulated``;
a built variant name ``<platform>-<sme2-on|sme2-off>[-xnntrace]`` (folder in
``out/runners/``); otherwise a path to a binary. A built variant or a path whose experiment
sets ``"cpu"`` runs under ``qemu-aarch64 -cpu <cpu>`` (``emulation.emulate_binary_runner``).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sme2prof.errors import UserError
from sme2prof.fileio import read_json
from sme2prof.host_info import executorch_version
from sme2prof.paths import RUNNERS_DIR, SCRIPTS_DIR, resolve_repo_path
from sme2prof.runners.registry import (EMULATED_RUNNERS, KERNEL_LOG_LEVEL, PLATFORMS, PYBIND,
                                      TIMING_VARIANTS, WHEEL, default_variants, split_variant_name,
                                      variant_runner_name, variants_for)
from sme2prof.runners.spec import BUILD_INFO_NAME, ResolvedRunner

if TYPE_CHECKING:  # the pipeline's validated experiment; runners do not import the pipeline
    from sme2prof.pipeline.config import Experiment

EMULATED_KIND = "wheel-aarch64-emulated"   # ResolvedRunner.kind of the emulated wheel runner
BUILD_RUNNERS_FIX = "bash scripts/build_runners.sh --help (lists the variants it builds)"


def resolve_runner(experiment: Experiment, host: dict) -> ResolvedRunner:
    """Find the runner an experiment names; raises UserError with the fix when absent."""
    name = experiment.runner.strip()
    if name == PYBIND:
        return pybind_runner(host)
    if name == WHEEL:
        return _wheel_runner(host)
    if name in EMULATED_RUNNERS:
        return _emulated_runner(experiment)
    parts = split_variant_name(name)
    if parts:
        check_variant_platform(experiment, host)
        check_variant_exists(name, *parts)
        return _maybe_emulated(experiment, _built_variant(name, parts[0]))
    if "/" in name or os.sep in name or name.startswith("."):
        return _maybe_emulated(experiment, _runner_from_path(name))
    raise UserError(f"experiment {experiment.name!r}: unknown runner {name!r}",
                    f"use {PYBIND}, {WHEEL}, {', '.join(EMULATED_RUNNERS)}, a built runner such as "
                    "linux-x86_64-sme2-off (folder in out/runners/), or a path to a binary")


def pybind_runner(host: dict) -> ResolvedRunner:
    """The ExecuTorch Python runtime, in a fresh worker process per experiment and thread count."""
    et = executorch_version()
    # sme/sme2 None: the wheel's XNNPACK uses whatever the CPU has (no build-time switch).
    info = {"runner": "pybind", "kind": "pybind", "platform": host.get("platform"),
            "variant": "pip-wheel", "sme": None, "sme2": None,
            "xnntrace": False, "xnnpack_log_level": 0, "event_tracer": True,
            "executorch_version": et["version"], "executorch_commit": et["git_commit"],
            "python": sys.executable}
    pythonpath = os.pathsep.join(p for p in (str(SCRIPTS_DIR), os.environ.get("PYTHONPATH", "")) if p)
    return ResolvedRunner(name="pybind", kind="pybind",
                          command_prefix=[sys.executable, "-m", "sme2prof.runners.pybind_worker"],
                          build_info=info, env={"PYTHONPATH": pythonpath})


def _wheel_runner(host: dict) -> ResolvedRunner:
    from sme2prof.runners.wheel_build import find_wheel_runner  # UserError with the build command if missing

    binary = Path(find_wheel_runner(host["platform"]))
    info = _read_build_info(binary)
    _check_platform("wheel", info.get("platform", host["platform"]), host)
    return ResolvedRunner(name="wheel", kind="wheel", command_prefix=[str(binary)], build_info=info,
                          binary=binary, logs_kernels=False)


def _maybe_emulated(experiment: Experiment, runner: ResolvedRunner) -> ResolvedRunner:
    """The runner as is, or under qemu-aarch64 when the experiment names an emulated ``cpu``."""
    if experiment.cpu is None:
        return runner
    from sme2prof.runners.emulation import emulate_binary_runner  # probes qemu: only when asked for
    return emulate_binary_runner(runner, experiment.cpu)


def runs_emulated_here(experiment: Experiment, host: dict) -> bool:
    """A built runner for a platform this host emulates, with an emulated ``cpu`` named."""
    parts = split_variant_name(experiment.runner)
    wanted = PLATFORMS[parts[0]] if parts else None
    return (experiment.cpu is not None and wanted is not None and wanted.emulator is not None
            and host.get("platform") == "linux-x86_64")


def _emulated_runner(experiment: Experiment) -> ResolvedRunner:
    from sme2prof.runners.emulation import resolve_emulated_runner  # probes qemu: only when asked for
    return resolve_emulated_runner({"runner": experiment.runner, "cpu": experiment.cpu})


def check_variant_platform(experiment: Experiment, host: dict, config_path: str = "<this config>") -> None:
    """Refuse a built variant for another platform before asking whether it is built.

    Why first: "build it with build_runners.sh --variant macos-arm64-..." on Linux sends a
    user to a build that refuses too; the real fix is another machine or another runner.
    """
    parts = split_variant_name(experiment.runner)
    here = host.get("platform")
    if not parts or not here or parts[0] == here or runs_emulated_here(experiment, host):
        return
    wanted = parts[0]
    problem = (f"experiment {experiment.name!r}: runner {experiment.runner!r} is for {wanted}, "
               f"this host is {here}")
    if PLATFORMS[wanted].pipeline == "android":
        fix = f"profile on the phone: python scripts/android_pipeline.py --config {config_path}"
    elif here not in PLATFORMS or PLATFORMS[here].pipeline == "android":
        fix = f"use {_built_here(here)} runners, or profile on {wanted} with scripts/mac_pipeline.py"
    else:
        machine = "a Mac with Apple silicon" if wanted.startswith("macos") else f"a {wanted} machine"
        fix = (f"run this config on {machine}, or use runner pybind, wheel or {', '.join(EMULATED_RUNNERS)} here "
               f"(or {_built_here(here)}, built with scripts/build_runners.sh)")
        if PLATFORMS[wanted].emulator and here == "linux-x86_64":
            fix = (f"add \"cpu\": \"max\" to experiment {experiment.name!r} to run it under "
                   f"{PLATFORMS[wanted].emulator} (emulated: which kernels run, not how fast), or {fix}")
    raise UserError(problem, fix)


SME2_ON_OFF_ELSEWHERE = ("to see SME2 on against off from a Linux x86_64 host, run linux-aarch64-sme2-on and "
                         "linux-aarch64-sme2-off emulated (\"cpu\": \"max\"; which kernels run, not how fast), "
                         "or use a Mac with M4 or an SME2 Android phone")


def check_variant_exists(name: str, platform: str, variant: str) -> None:
    """Refuse a variant that build_runners.sh never builds (sme2-on for x86_64): "build it"
    would send the user to a build that refuses too."""
    if variant in variants_for(platform):
        return
    baseline = variant.replace("sme2-on", "sme2-off")
    raise UserError(f"runner {name!r} does not exist: {platform} has no SME/SME2, so no {variant} "
                    f"variant is built for it",
                    f"use {platform}-{baseline} on this CPU; {SME2_ON_OFF_ELSEWHERE}")


def _built_here(here: str) -> str:
    """The built runners that make sense on ``here`` (no sme2-on where there is no SME)."""
    variants = default_variants(here) if here in PLATFORMS else list(TIMING_VARIANTS)
    return " / ".join(variant_runner_name(here, v) for v in variants)


def _built_variant(name: str, platform: str) -> ResolvedRunner:
    binary = RUNNERS_DIR / name / "executor_runner"
    if not binary.is_file():
        raise UserError(f"runner {name!r} is not built (no {binary})",
                        f"build it: bash scripts/build_runners.sh --variant {name}")
    return _binary_runner(name, "executor_runner", binary, default_platform=platform)


def _runner_from_path(text: str) -> ResolvedRunner:
    binary = resolve_repo_path(text)
    if not binary.exists():
        raise UserError(f"runner binary not found: {binary}",
                        "correct the path, or use pybind / wheel / a built runner name")
    if binary.is_dir():
        candidates = [binary / n for n in ("executor_runner", "wheel_runner") if (binary / n).is_file()]
        if not candidates:
            raise UserError(f"runner path is a folder without executor_runner or wheel_runner: {binary}",
                            "point runner at the binary itself")
        binary = candidates[0]
    return _binary_runner(text, "path", binary, default_platform=None)


def _binary_runner(name: str, kind: str, binary: Path, default_platform: str | None) -> ResolvedRunner:
    if not os.access(binary, os.X_OK) or not binary.stat().st_mode & 0o111:
        raise UserError(f"runner is not executable: {binary}", f"chmod +x {binary}")
    info = _read_build_info(binary)
    if default_platform and "platform" not in info:
        info["platform"] = default_platform
    level = int(info.get("xnnpack_log_level") or 0)
    logs = bool(info.get("xnntrace")) or level >= KERNEL_LOG_LEVEL
    return ResolvedRunner(name=name, kind=kind, command_prefix=[str(binary)], build_info=info,
                          binary=binary, logs_kernels=logs)


def _read_build_info(binary: Path) -> dict:
    path = binary.parent / BUILD_INFO_NAME
    if not path.is_file():
        return {}
    try:
        info = read_json(path)
    except (OSError, ValueError) as exc:
        raise UserError(f"unreadable {path}: {exc}", "rebuild the runner with scripts/build_runners.sh") from None
    return info if isinstance(info, dict) else {}


def _check_platform(name: str, platform: str | None, host: dict) -> None:
    if not platform or platform == host.get("platform"):
        return
    if platform.startswith("android"):
        raise UserError(f"runner {name!r} is built for {platform}; it cannot run on this host",
                        "profile on the phone with scripts/android_pipeline.py --config <file>")
    raise UserError(f"runner {name!r} is built for {platform}, this host is {host.get('platform')}",
                    f"build one for this host ({host.get('platform')}-...) with scripts/build_runners.sh, "
                    "or use pybind / wheel")


def check_target(runner: ResolvedRunner, host: dict, target_platform: str | None = None) -> None:
    """Refuse a runner built for another platform than the one that will execute it."""
    if runner.kind in ("pybind", EMULATED_KIND) or runner.emulated:
        return
    expected = target_platform or host.get("platform")
    _check_platform(runner.name, runner.build_info.get("platform"), {"platform": expected})


def runner_sme2_state(runner: ResolvedRunner, cpu_features: dict) -> bool:
    """Whether XNNPACK in this runner can pick SME2 kernels on the CPU that runs it."""
    built_with = runner.build_info.get("sme2")
    cpu_has = bool(cpu_features.get("sme2"))
    return cpu_has if built_with is None else bool(built_with) and cpu_has


def guard_runner_mode(experiment: Experiment, runner: ResolvedRunner, cpu_features: dict | None) -> None:
    """Refuse runner/mode/SME2 combinations whose results would mislead.

    ``cpu_features`` None means the CPU is unknown (an Android dry run with no device
    contacted): only the runner's own build info is checked then.
    """
    name, mode, want = experiment.name, experiment.mode, experiment.sme2
    info = runner.build_info
    level = int(info.get("xnnpack_log_level") or 0)
    if mode == "timing" and (info.get("xnntrace") or level >= KERNEL_LOG_LEVEL):
        raise UserError(f"experiment {name!r}: mode timing on runner {runner.name!r}, which logs XNNPACK "
                        f"kernels (log level {level}); logging distorts timings",
                        "use a runner without -xnntrace for timing, or set \"mode\": \"xnntrace\"")
    if mode == "xnntrace" and not runner.logs_kernels:
        raise UserError(f"experiment {name!r}: mode xnntrace needs a runner built with XNNPACK kernel "
                        f"logging; {runner.name!r} ({runner.kind}) cannot name kernels",
                        "use a -xnntrace runner (bash scripts/build_runners.sh --variant <platform>-sme2-on-xnntrace)"
                        " or set \"mode\": \"timing\"")
    if want == "any":
        return
    built_with = info.get("sme2")
    where = "the emulated CPU" if runner.emulated else "this CPU"
    if want == "off":
        if runner.kind in ("executor_runner", "path") and built_with:
            raise UserError(f"experiment {name!r}: sme2 \"off\" but runner {runner.name!r} is built with SME2 on",
                            "use a -sme2-off runner, or set \"sme2\": \"on\"")
        if cpu_features is not None and runner_sme2_state(runner, cpu_features):
            raise UserError(f"experiment {name!r}: sme2 \"off\" but {runner.name!r} will use SME2 on {where}",
                            "use a -sme2-off runner (bash scripts/build_runners.sh) or set \"sme2\": \"any\"")
        return
    if built_with is False:
        platform = info.get("platform")
        if platform in PLATFORMS and not PLATFORMS[platform].arm:
            raise UserError(f"experiment {name!r}: sme2 \"on\" but runner {runner.name!r} is built without "
                            f"SME2 ({platform} has none)", f"set \"sme2\": \"off\"; {SME2_ON_OFF_ELSEWHERE}")
        raise UserError(f"experiment {name!r}: sme2 \"on\" but runner {runner.name!r} is built without SME2",
                        "use a -sme2-on runner, or set \"sme2\": \"off\"")
    if cpu_features is not None and not cpu_features.get("sme2"):
        if runner.emulated:
            target = runner.target or {}
            which = (f" ({target.get('emulator', 'qemu-aarch64')} {target['qemu_version']} -cpu {target.get('cpu')})"
                     if target.get("qemu_version") else "")
            raise UserError(f"experiment {name!r}: sme2 \"on\" but the emulated CPU has no SME2{which}",
                            "use \"cpu\": \"max\" with an emulator that has SME2 (QEMU 11.1+: "
                            "bash scripts/install_emulation_tools.sh), or set \"sme2\": \"any\"")
        raise UserError(f"experiment {name!r}: sme2 \"on\" but {where} has no SME2, results would show no SME2",
                        "run on an SME2 machine (Apple M4, SME2 Android phone) or set \"sme2\": \"any\"")
