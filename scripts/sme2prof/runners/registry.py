"""Every fact about runners, written once: platforms, variants, runner kinds, emulated runners.

Why one registry: the runner *is* the experiment design (XNNPACK has no runtime SME2
switch), so the names a config may use, the builds ``build_runners.sh`` offers, the
wheel platforms, the emulated runners and the guards that refuse misleading pairs all
have to agree. They all derive from the tables below. Adding a variant is one entry in
``VARIANTS`` (plus its test); adding a platform is one entry in ``PLATFORMS``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Platform:
    """Where a runner binary executes, and how the kit can get one for it."""

    name: str
    arm: bool                                  # SME/SME2 kernels can exist for it
    source_builds_on: tuple[str, ...]          # hosts that can build executor_runner for it
    wheel_builds_on: tuple[str, ...] = ()      # hosts that can build the wheel runner for it
    pipeline: str = "host"                     # "host" (mac_pipeline.py) or "android"
    emulator: str | None = None                # user-mode emulator that runs it on linux-x86_64


PLATFORMS: dict[str, Platform] = {p.name: p for p in (
    Platform("macos-arm64", arm=True, source_builds_on=("macos-arm64",), wheel_builds_on=("macos-arm64",)),
    Platform("android-arm64", arm=True, source_builds_on=("linux-x86_64", "linux-aarch64", "macos-arm64"),
             pipeline="android"),
    Platform("linux-aarch64", arm=True, source_builds_on=("linux-aarch64", "linux-x86_64"),
             wheel_builds_on=("linux-aarch64", "linux-x86_64"), emulator="qemu-aarch64"),
    Platform("linux-x86_64", arm=False, source_builds_on=("linux-x86_64",), wheel_builds_on=("linux-x86_64",)),
)}

# XNNPACK log levels (src/xnnpack/log.h): 0 none ... 4 info, 5 debug. 4 prints "Using gemm
# microkernel '...'" once per configuration; 5 also prints "running operator i:j (...)" on
# every run, which ties microkernels to operators. The price is a few log lines per
# operator per iteration, which is why timing variants stay at 0.
XNNTRACE_LOG_LEVEL = 5
TIMING_LOG_LEVEL = 0
KERNEL_LOG_LEVEL = 4   # from this level on XNNPACK names the microkernels it picked


@dataclass(frozen=True)
class Variant:
    """A source-built runner variant: what it compiles in and the question it answers."""

    name: str
    sme: bool
    sme2: bool
    xnntrace: bool
    answers: str                                         # shown by build_runners --help
    default: bool = False                                # built by a plain build_runners.sh
    extra_cache: tuple[tuple[str, str], ...] = field(default=())   # more CMake cache variables

    @property
    def xnnpack_log_level(self) -> int:
        return XNNTRACE_LOG_LEVEL if self.xnntrace else TIMING_LOG_LEVEL

    @property
    def needs_sme(self) -> bool:
        return self.sme or self.sme2

    @property
    def for_timing(self) -> bool:
        return not self.xnntrace

    def cmake_cache(self) -> dict[str, str]:
        """The cache variables that make the variant what its name says."""
        on_off = {True: "ON", False: "OFF"}
        return {"EXECUTORCH_XNNPACK_LOG_LEVEL": str(self.xnnpack_log_level),
                "XNNPACK_ENABLE_ARM_SME": on_off[self.sme],
                "XNNPACK_ENABLE_ARM_SME2": on_off[self.sme2],
                **dict(self.extra_cache)}


# "sme2-off" turns off SME as well: with only SME2 off, XNNPACK still picks the SME1
# kernels (e.g. xnn_pf32_gemm_minmax_ukernel_32x32__neonsme), which is not the NEON
# baseline a user means by "SME2 off".
VARIANTS: dict[str, Variant] = {v.name: v for v in (
    Variant("sme2-on", sme=True, sme2=True, xnntrace=False, default=True,
            answers="how fast with SME and SME2 kernels (Arm platforms only)"),
    Variant("sme2-off", sme=False, sme2=False, xnntrace=False, default=True,
            answers="how fast without them: the NEON baseline on Arm, the only variant on x86_64"),
    Variant("sme2-on-xnntrace", sme=True, sme2=True, xnntrace=True,
            answers="which microkernel each operator runs with SME2 on (kernel trace, not timing)"),
    Variant("sme2-off-xnntrace", sme=False, sme2=False, xnntrace=True,
            answers="which microkernel each operator runs without SME (kernel trace, not timing)"),
)}
TIMING_VARIANTS = tuple(v.name for v in VARIANTS.values() if v.for_timing)

# Runner names a config can use besides built variants and paths.
PYBIND = "pybind"
WHEEL = "wheel"


@dataclass(frozen=True)
class EmulatedRunner:
    """A named runner that is an aarch64 runner started under an emulator on this host."""

    name: str
    platform: str            # the platform whose binary runs emulated
    base: str                # "wheel": the wheel runner for that platform


EMULATED_RUNNERS: dict[str, EmulatedRunner] = {r.name: r for r in (
    EmulatedRunner("wheel-aarch64-emulated", platform="linux-aarch64", base=WHEEL),
)}
DEFAULT_EMULATED = "wheel-aarch64-emulated"

# ResolvedRunner.kind values, with what each means (docs and error messages use this).
RUNNER_KINDS: dict[str, str] = {
    PYBIND: "the ExecuTorch Python runtime from the pip wheel (nothing to build)",
    WHEEL: "a small C++ runner built against the pip wheel",
    "executor_runner": "ExecuTorch's executor_runner built from source (a variant)",
    "path": "a runner binary given by path",
    "emulated": "an aarch64 runner under qemu-aarch64 (dispatch evidence, not timings)",
}

VARIANT_RE = re.compile(
    r"^(?P<platform>" + "|".join(map(re.escape, PLATFORMS)) + r")"
    r"-(?P<variant>" + "|".join(map(re.escape, sorted(VARIANTS, key=len, reverse=True))) + r")$")


def split_variant_name(name: str) -> tuple[str, str] | None:
    """``linux-x86_64-sme2-off-xnntrace`` -> (``linux-x86_64``, ``sme2-off-xnntrace``); else None."""
    match = VARIANT_RE.match(name.strip())
    return (match["platform"], match["variant"]) if match else None


def variant_runner_name(platform: str, variant: str) -> str:
    return f"{platform}-{variant}"


def wheel_runner_name(platform: str) -> str:
    return f"wheel-{platform}"


def wheel_platforms() -> tuple[str, ...]:
    return tuple(name for name, p in PLATFORMS.items() if p.wheel_builds_on)


def emulated_platforms() -> tuple[str, ...]:
    return tuple(name for name, p in PLATFORMS.items() if p.emulator)


def variants_for(platform: str) -> tuple[str, ...]:
    """The variants that mean what they say on ``platform`` (no SME variants off Arm)."""
    arm = PLATFORMS[platform].arm
    return tuple(name for name, v in VARIANTS.items() if arm or not v.needs_sme)


def default_variants(platform: str) -> list[str]:
    """The variants a plain ``build_runners.sh`` builds for ``platform``."""
    return [name for name, v in VARIANTS.items() if v.default and name in variants_for(platform)]


def variant_help() -> str:
    """One line per variant for ``--help``: its name and the question it answers."""
    width = max(map(len, VARIANTS))
    return "\n".join(f"  {name:<{width}}  {v.answers}" for name, v in VARIANTS.items())
