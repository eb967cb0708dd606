"""Which runners ``profile_model.py`` uses on this host, and the experiments they become.

Why from the set-up checks: ``validate_setup.py`` already asks the runner folders, the
emulator and the CPU what is there (``sme2prof.setup``); choosing from its answers means
"auto" can never pick a runner the set-up check calls missing, and every runner it leaves
out comes with the check's own reason and fix.

``auto`` takes, on this host:

* ``pybind`` always (nothing to build);
* ``wheel`` when the wheel runner for this platform is built;
* each built timing variant of this platform: ``sme2-off`` everywhere, ``sme2-on`` only
  where the CPU has SME2 (elsewhere it would measure nothing SME2 does), compared with
  each other when both are there; the ``-xnntrace`` variant when built, for kernel names;
* on Linux x86_64, the emulated pair (``wheel-aarch64-emulated`` with SME visible and
  hidden) when the emulator, its sysroot and the aarch64 wheel runner are all there.

Kernel traces and emulated runs get a few iterations: their timings are not results.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sme2prof.errors import UserError
from sme2prof.runners.registry import (DEFAULT_EMULATED, EMULATED_RUNNERS, PYBIND, VARIANTS, WHEEL,
                                       split_variant_name, variant_runner_name, variants_for,
                                       wheel_runner_name)
from sme2prof.setup.checks import OK, Check

EMULATED_CPUS = (("emulated_sme", "max"), ("emulated_sme_off", "max,sme=off"))
EMULATED_HOST = "linux-x86_64"
FEW_RUNS = {"xnntrace": (2, 0), "emulated": (5, 1)}   # (runs, warmup): evidence, not timings
MAX_DEFAULT_THREADS = 4


@dataclass
class RunnerChoice:
    """The experiments of a profile, the pairs to compare, and what was left out and why."""

    experiments: list[dict] = field(default_factory=list)
    compare_pairs: list[list[str]] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)

    def skip(self, runner: str, reason: str, fix: str = "") -> None:
        self.skipped.append({"runner": runner, "reason": reason, "fix": fix})

    @property
    def names(self) -> list[str]:
        return [e["name"] for e in self.experiments]


def default_threads(cpu_count: int) -> list[int]:
    """1 thread, and as many as the host has CPUs up to 4 (more threads than CPUs only
    measures contention; 4 is where the examples stop)."""
    most = min(max(cpu_count, 1), MAX_DEFAULT_THREADS)
    return [1] if most == 1 else [1, most]


def runner_checks(host: dict) -> list[Check]:
    """The set-up checks that decide which runners this host has (validate_setup's own)."""
    from sme2prof.setup import tool_checks

    platform = host["platform"]
    emulate = platform == EMULATED_HOST
    checks = tool_checks.runner_checks(platform, wheel_required=False, emulate=emulate)
    if emulate:
        checks += tool_checks.emulation_checks(platform, required=False)
    return checks


def choose_auto(host: dict, checks: list[Check], runs: int, warmup: int, threads: list[int]) -> RunnerChoice:
    """Every runner this host can use, from the set-up checks (see the module docstring)."""
    by_name = {check.name: check for check in checks}
    platform = host["platform"]
    choice = RunnerChoice()
    add = _adder(choice, host, runs, warmup, threads)
    add(PYBIND)
    wheel = by_name.get(f"runner {wheel_runner_name(platform)}")
    if wheel is not None and wheel.status == OK:
        add(WHEEL)
    elif wheel is not None:
        choice.skip(WHEEL, wheel.detail, wheel.fix)
    for variant in variants_for(platform):
        check = by_name.get(f"runner {variant_runner_name(platform, variant)}")
        if check is None:
            continue
        if check.status != OK:
            choice.skip(check.name.removeprefix("runner "), check.detail, check.fix)
        elif VARIANTS[variant].sme2 and not host["cpu_features"].get("sme2"):
            choice.skip(check.name.removeprefix("runner "), "this CPU has no SME2: an SME2-on runner "
                        "would measure nothing SME2 does", "run on an SME2 machine (Apple M4, an SME2 "
                        "Android phone) or compare emulated runners")
        else:
            add(variant_runner_name(platform, variant))
    if platform == EMULATED_HOST:
        _choose_emulated(choice, by_name, add)
    _pair_sme2_variants(choice)
    return choice


def _choose_emulated(choice: RunnerChoice, by_name: dict[str, Check], add) -> None:
    emulated = EMULATED_RUNNERS[DEFAULT_EMULATED]
    needed = ["qemu-aarch64", "aarch64 sysroot", f"runner {wheel_runner_name(emulated.platform)}"]
    missing = [by_name[name] for name in needed if name in by_name and by_name[name].status != OK]
    if any(name not in by_name for name in needed[:2]):
        return
    if missing:
        first = missing[0]
        choice.skip(DEFAULT_EMULATED, f"{first.name}: {first.detail}", first.fix)
        return
    add(DEFAULT_EMULATED)


def choose_named(names: list[str], host: dict, runs: int, warmup: int, threads: list[int]) -> RunnerChoice:
    """The runners the user named; the pipeline checks each one exists before anything runs."""
    choice = RunnerChoice()
    add = _adder(choice, host, runs, warmup, threads)
    for name in names:
        if name not in (PYBIND, WHEEL) and name not in EMULATED_RUNNERS and not split_variant_name(name):
            raise UserError(f"unknown runner {name!r} in --runners",
                            f"use auto, or a comma-separated list of {PYBIND}, {WHEEL}, "
                            f"{', '.join(EMULATED_RUNNERS)} and built runner names such as "
                            f"{variant_runner_name(host['platform'], 'sme2-off')} "
                            "(python scripts/validate_setup.py --stage pipeline lists what is built)")
        add(name)
    if len(set(choice.names)) != len(choice.names):
        raise UserError(f"--runners names a runner twice: {','.join(names)}", "name each runner once")
    _pair_sme2_variants(choice)
    return choice


def _adder(choice: RunnerChoice, host: dict, runs: int, warmup: int, threads: list[int]):
    """``add(runner)``: append the runner's experiment(s), named after what they measure."""
    def add(runner: str) -> None:
        if runner in EMULATED_RUNNERS:
            few_runs, few_warmup = FEW_RUNS["emulated"]
            for name, cpu in EMULATED_CPUS:
                choice.experiments.append(_experiment(name, runner, min(runs, few_runs), few_warmup,
                                                      [1], cpu=cpu))
            choice.compare_pairs.append([name for name, _ in EMULATED_CPUS])
            return
        parts = split_variant_name(runner)
        if parts is None:
            choice.experiments.append(_experiment(runner, runner, runs, warmup, threads))
            return
        variant = VARIANTS[parts[1]]
        name = parts[1].replace("-", "_")
        sme2 = "on" if variant.sme2 else "off"
        if variant.xnntrace:
            few_runs, few_warmup = FEW_RUNS["xnntrace"]
            choice.experiments.append(_experiment(name, runner, few_runs, few_warmup, [1],
                                                  mode="xnntrace", sme2=sme2))
        else:
            choice.experiments.append(_experiment(name, runner, runs, warmup, threads, sme2=sme2))
    return add


def _experiment(name: str, runner: str, runs: int, warmup: int, threads: list[int], **keys) -> dict:
    return {"name": name, "runner": runner, "mode": keys.pop("mode", "timing"), "runs": runs,
            "warmup": warmup, "threads": list(threads), "sme2": keys.pop("sme2", "any"), **keys}


def _pair_sme2_variants(choice: RunnerChoice) -> None:
    """SME2 on against off when both timing variants run: the comparison the kit exists for."""
    on, off = "sme2_on", "sme2_off"
    if on in choice.names and off in choice.names:
        choice.compare_pairs.insert(0, [on, off])
