"""Plans for building ExecuTorch's ``executor_runner`` variants from a source checkout.

XNNPACK has no runtime switch for SME2: it uses the kernels it was compiled with and
what the CPU reports. So a runner variant *is* an experiment condition, and the only
way to make "SME2 off" or "log the microkernels" mean what it says is to pin the CMake
cache variables that decide it. This module turns ``(platform, variant)`` into those
variables and into the exact ``cmake`` commands, without running anything, so a dry
run, the tests and the real build all use the same plan.

Option names were checked against ExecuTorch sources of the 1.5 line (commit e4576d0,
XNNPACK 92a7ad5): ``tools/cmake/preset/default.cmake``, ``CMakeLists.txt`` (the
executor_runner target), ``backends/xnnpack/CMakeLists.txt`` and ``cmake/Dependencies.cmake``,
XNNPACK's ``CMakeLists.txt`` and ``src/log.c``, ``third-party/CMakeLists.txt``.
"""
from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sme2prof.errors import UserError
from sme2prof.host_info import host_platform
from sme2prof.runners.registry import (PLATFORMS, VARIANTS, Variant, default_variants, split_variant_name,
                                      variant_runner_name, variants_for)
from sme2prof.runners.spec import BUILD_INFO_NAME

BINARY_NAME = "executor_runner"
BUILD_TYPE = "Release"
CMAKE_TARGET = "executor_runner"
DEFAULT_ANDROID_PLATFORM = "android-26"
ANDROID_ABI = "arm64-v8a"
AARCH64_CROSS_TRIPLE = "aarch64-linux-gnu"

# Cross compilers for linux-aarch64 on an x86_64 host (``build_runners.sh --cross-compiler``).
# clang is the default: GCC 12 (Debian 12's aarch64-linux-gnu-g++) stops with an internal
# compiler error on a KleidiAI source file and cannot build XNNPACK's SME/SME2 kernels at all,
# so "gcc" is only for NEON-only variants with a newer GCC. clang links with lld because the
# host's GNU ld is an x86_64 linker; it finds the GCC cross sysroot (/usr/aarch64-linux-gnu) by
# itself from --target.
CROSS_COMPILERS = ("clang", "gcc")
DEFAULT_CROSS_COMPILER = "clang"
CROSS_COMPILER_HELP = ("clang (default; links with lld against the aarch64-linux-gnu GCC sysroot) or "
                       "gcc (aarch64-linux-gnu-gcc). clang because GCC 12 hits an internal compiler "
                       "error on a KleidiAI file and GCC cannot build the SME2 kernels")


def find_clang() -> tuple[str, str]:
    """``clang``/``clang++``, or the newest versioned pair (Debian installs ``clang-19``)."""
    if shutil.which("clang") and shutil.which("clang++"):
        return "clang", "clang++"
    versions = []
    for directory in ("/usr/bin", "/usr/local/bin"):
        for path in Path(directory).glob("clang++-*"):
            match = re.fullmatch(r"clang\+\+-(\d+)", path.name)
            if match and shutil.which(f"clang-{match.group(1)}"):
                versions.append(int(match.group(1)))
    if versions:
        newest = max(versions)
        return f"clang-{newest}", f"clang++-{newest}"
    return "clang", "clang++"   # the compiler check then says how to install it


def cross_toolchain(choice: str) -> tuple[str, str]:
    """(C compiler, C++ compiler) for ``--cross-compiler choice``."""
    if choice not in CROSS_COMPILERS:
        raise UserError(f"unknown cross compiler '{choice}'", f"use one of: {', '.join(CROSS_COMPILERS)}")
    if choice == "gcc":
        return f"{AARCH64_CROSS_TRIPLE}-gcc", f"{AARCH64_CROSS_TRIPLE}-g++"
    return find_clang()


@dataclass
class BuildEnvironment:
    """Everything outside the (platform, variant) pair that shapes the cmake commands."""

    host_platform: str
    python: str
    runners_dir: Path
    build_root: Path
    android_ndk: Path | None = None
    android_platform: str = DEFAULT_ANDROID_PLATFORM
    kleidiai_dir: Path | None = None
    flatc: str | None = None
    flatcc: str | None = None
    cross_compiler: str = DEFAULT_CROSS_COMPILER   # "clang" or "gcc" (see CROSS_COMPILERS)
    cross_cc: str = "clang"
    cross_cxx: str = "clang++"
    compiler_launcher: str | None = None   # ccache: variants share most object files


@dataclass
class RunnerBuildPlan:
    """One runner build, fully decided: the same object drives dry runs and builds."""

    name: str
    platform: str
    variant: Variant
    executorch_dir: Path
    build_dir: Path
    runner_dir: Path
    cache: dict[str, str]
    configure_cmd: list[str]
    build_cmd: list[str]
    extra_files: list[Path] = field(default_factory=list)   # copied next to the binary
    notes: list[str] = field(default_factory=list)

    @property
    def binary_path(self) -> Path:
        return self.runner_dir / BINARY_NAME

    @property
    def build_info_path(self) -> Path:
        return self.runner_dir / BUILD_INFO_NAME

    @property
    def built_binary(self) -> Path:
        return self.build_dir / BINARY_NAME

    @property
    def log_path(self) -> Path:
        return self.build_dir / "build.log"

    def as_json(self) -> dict:
        return {
            "runner": self.name, "platform": self.platform, "variant": self.variant.name,
            "executorch_dir": str(self.executorch_dir), "build_dir": str(self.build_dir),
            "runner_dir": str(self.runner_dir), "binary": str(self.binary_path),
            "build_info": str(self.build_info_path), "log": str(self.log_path),
            "cache": dict(self.cache), "configure": self.configure_cmd,
            "build": self.build_cmd, "extra_files": [str(p) for p in self.extra_files],
            "notes": list(self.notes),
        }


def buildable_host() -> str | None:
    """This machine as a platform name, or None when the kit builds no runner natively here."""
    here = host_platform()
    return here if here in PLATFORMS else None


def split_runner_name(name: str) -> tuple[str, str]:
    """``linux-x86_64-sme2-off-xnntrace`` -> (``linux-x86_64``, ``sme2-off-xnntrace``)."""
    parts = split_variant_name(name)
    if parts is None:
        raise UserError(f"'{name}' is not a runner name <platform>-<variant>",
                        f"platform one of {', '.join(PLATFORMS)}; variant one of {', '.join(VARIANTS)}")
    return parts


def check_platform(platform: str) -> str:
    if platform not in PLATFORMS:
        raise UserError(f"unknown platform '{platform}'",
                        f"use one of: {', '.join(PLATFORMS)}")
    return platform


def check_variant(platform: str, variant: str) -> Variant:
    """The variant, or a one-line refusal when the platform cannot honour it."""
    if variant not in VARIANTS:
        raise UserError(f"unknown variant '{variant}'", f"use any of: {', '.join(VARIANTS)}")
    chosen = VARIANTS[variant]
    if variant not in variants_for(platform):
        arm = sorted(name for name, p in PLATFORMS.items() if p.arm)
        raise UserError(
            f"{platform} has no SME/SME2, so variant '{variant}' would be a mislabelled "
            f"copy of {variant.replace('sme2-on', 'sme2-off')}",
            f"use --variants {','.join(variants_for(platform))} for {platform}; SME2 runners need "
            f"an Arm platform ({', '.join(arm)})")
    return chosen


def default_platforms(host: str | None, android_ndk: str | None) -> list[str]:
    platforms = [host] if host else []
    if android_ndk:
        platforms.append("android-arm64")
    if not platforms:
        raise UserError("this machine is not one of the platforms the kit builds runners on",
                        f"pass --platform (one of: {', '.join(PLATFORMS)}); android-arm64 "
                        "needs ANDROID_NDK")
    return platforms


def common_cache(variant: Variant, python: str) -> dict[str, str]:
    """Cache variables every runner gets; the variant decides SME and XNNPACK logging.

    EXECUTORCH_ENABLE_LOGGING is ON for every variant (Release turns it off): the
    runner's ``Iteration i of N: X ms`` lines are ExecuTorch logs, a handful per run,
    outside the operators, so they cost nothing measurable. XNNPACK's own logging is
    per operator and stays at 0 in timing variants.
    """
    return {
        "CMAKE_BUILD_TYPE": BUILD_TYPE,
        "EXECUTORCH_BUILD_EXECUTOR_RUNNER": "ON",
        "EXECUTORCH_BUILD_XNNPACK": "ON",
        "EXECUTORCH_BUILD_DEVTOOLS": "ON",
        "EXECUTORCH_ENABLE_EVENT_TRACER": "ON",
        "EXECUTORCH_BUILD_EXTENSION_EVALUE_UTIL": "ON",
        "EXECUTORCH_BUILD_EXTENSION_RUNNER_UTIL": "ON",
        "EXECUTORCH_ENABLE_LOGGING": "ON",
        "EXECUTORCH_LOG_LEVEL": "Info",
        **variant.cmake_cache(),
        "PYTHON_EXECUTABLE": python,
    }


def android_ndk_libcxx(ndk: Path) -> list[Path]:
    """libc++_shared.so of every prebuilt host in the NDK (normally exactly one)."""
    pattern = "toolchains/llvm/prebuilt/*/sysroot/usr/lib/aarch64-linux-android/libc++_shared.so"
    return sorted(ndk.glob(pattern))


def platform_cache(platform: str, env: BuildEnvironment) -> tuple[dict[str, str], list[str]]:
    """Toolchain variables for ``platform`` as built from ``env.host_platform``; plus notes."""
    cache: dict[str, str] = {}
    notes: list[str] = []
    cross = platform != env.host_platform
    builds_on = PLATFORMS[platform].source_builds_on
    if env.host_platform not in builds_on:
        raise UserError(f"{platform} runners build on {' or '.join(builds_on)}, not on {env.host_platform}",
                        f"run build_runners.sh on a {builds_on[0]} machine, or pick "
                        f"--platform {env.host_platform}")
    if platform == "android-arm64":
        ndk = env.android_ndk
        if ndk is None:
            raise UserError("android-arm64 needs the Android NDK and ANDROID_NDK is not set",
                            "install NDK r27 or newer and export ANDROID_NDK=/path/to/ndk "
                            "(or pass --android-ndk PATH)")
        cache.update({
            "CMAKE_TOOLCHAIN_FILE": str(ndk / "build" / "cmake" / "android.toolchain.cmake"),
            "ANDROID_ABI": ANDROID_ABI,
            "ANDROID_PLATFORM": env.android_platform,
            # c++_shared so the runner matches what ExecuTorch's Android libraries use;
            # the build copies libc++_shared.so next to the binary for adb push.
            "ANDROID_STL": "c++_shared",
            # posix PAL: ExecuTorch's logs (the Iteration lines) go to stderr, not logcat.
            "EXECUTORCH_PAL_DEFAULT": "posix",
            # XNNPACK's log.c logs to logcat on Android unless XNN_LOG_TO_STDIO=1.
            "CMAKE_C_FLAGS": "-DXNN_LOG_TO_STDIO=1",
            "CMAKE_CXX_FLAGS": "-DXNN_LOG_TO_STDIO=1",
        })
    elif platform == "linux-aarch64" and cross:
        cache.update({
            "CMAKE_SYSTEM_NAME": "Linux",
            "CMAKE_SYSTEM_PROCESSOR": "aarch64",
            "CMAKE_C_COMPILER": env.cross_cc,
            "CMAKE_CXX_COMPILER": env.cross_cxx,
        })
        if env.cross_compiler == "clang":
            cache.update({
                "CMAKE_C_COMPILER_TARGET": AARCH64_CROSS_TRIPLE,
                "CMAKE_CXX_COMPILER_TARGET": AARCH64_CROSS_TRIPLE,
                # XNNPACK's hand-written .S kernels go through the ASM language, which
                # takes its own target (without it clang assembles them for x86_64).
                "CMAKE_ASM_COMPILER_TARGET": AARCH64_CROSS_TRIPLE,
                "CMAKE_EXE_LINKER_FLAGS": "-fuse-ld=lld",
            })
        notes.append(f"cross compiler: {env.cross_compiler} ({env.cross_cxx})")
    if cross:
        if env.flatc:
            cache["FLATC_EXECUTABLE"] = env.flatc
        if env.flatcc:
            cache["FLATCC_EXECUTABLE"] = env.flatcc
        if not (env.flatc and env.flatcc):
            notes.append("no host flatc/flatcc given (--flatc/--flatcc): ExecuTorch builds "
                         "them for the host as external projects")
    if env.compiler_launcher:
        cache["CMAKE_C_COMPILER_LAUNCHER"] = env.compiler_launcher
        cache["CMAKE_CXX_COMPILER_LAUNCHER"] = env.compiler_launcher
    if PLATFORMS[platform].arm:
        if env.kleidiai_dir:
            cache["KLEIDIAI_SOURCE_DIR"] = str(env.kleidiai_dir)
        else:
            notes.append("KleidiAI is downloaded at configure time (network needed); "
                         "pass --kleidiai-dir PATH to use a local copy")
    return cache, notes


def configure_command(executorch_dir: Path, build_dir: Path, cache: dict[str, str]) -> list[str]:
    return ["cmake", "-S", str(executorch_dir), "-B", str(build_dir), "-G", "Ninja",
            *[f"-D{key}={value}" for key, value in cache.items()]]


def build_command(build_dir: Path, jobs: int) -> list[str]:
    return ["cmake", "--build", str(build_dir), "--target", CMAKE_TARGET, "-j", str(jobs)]


def plan_runner_build(platform: str, variant_name: str, executorch_dir: Path,
                      env: BuildEnvironment, jobs: int) -> RunnerBuildPlan:
    """The complete, checked plan for one runner (raises UserError on a refused pair)."""
    check_platform(platform)
    variant = check_variant(platform, variant_name)
    name = variant_runner_name(platform, variant_name)
    extra_cache, notes = platform_cache(platform, env)
    cache = {**common_cache(variant, env.python), **extra_cache}
    build_dir = env.build_root / name
    extra_files: list[Path] = []
    if platform == "android-arm64" and env.android_ndk is not None:
        found = android_ndk_libcxx(env.android_ndk)
        extra_files = found[:1] or [env.android_ndk / "toolchains/llvm/prebuilt/<host>/sysroot/"
                                    "usr/lib/aarch64-linux-android/libc++_shared.so"]
    return RunnerBuildPlan(
        name=name, platform=platform, variant=variant, executorch_dir=executorch_dir,
        build_dir=build_dir, runner_dir=env.runners_dir / name, cache=cache,
        configure_cmd=configure_command(executorch_dir, build_dir, cache),
        build_cmd=build_command(build_dir, jobs), extra_files=extra_files, notes=notes)


def plan_builds(platforms: list[str], variants: list[str] | None, executorch_dir: Path,
                env: BuildEnvironment, jobs: int) -> list[RunnerBuildPlan]:
    """Plans for every requested pair; any refused pair stops everything before a build."""
    plans = []
    for platform in platforms:
        for variant in (variants or default_variants(check_platform(platform))):
            plans.append(plan_runner_build(platform, variant, executorch_dir, env, jobs))
    return plans


def build_info_skeleton(plan: RunnerBuildPlan) -> dict:
    """The build_info.json fields known before building (see runner_spec's docstring)."""
    variant = plan.variant
    return {
        "runner": plan.name,
        "kind": "executor_runner",
        "platform": plan.platform,
        "variant": variant.name,
        "binary": BINARY_NAME,
        "sme": variant.sme,
        "sme2": variant.sme2,
        "xnntrace": variant.xnntrace,
        "xnnpack_log_level": variant.xnnpack_log_level,
        "event_tracer": plan.cache["EXECUTORCH_ENABLE_EVENT_TRACER"] == "ON",
        "executorch_logging": plan.cache["EXECUTORCH_ENABLE_LOGGING"] == "ON",
        "build_type": plan.cache["CMAKE_BUILD_TYPE"],
        "cmake_cache": dict(plan.cache),
        "extra_files": [p.name for p in plan.extra_files],
        "executorch_dir": str(plan.executorch_dir),
        "executorch_version": None,
        "executorch_commit": None,
        "compiler": None,
        "ndk": None,
        "built_at": None,
        "build_seconds": None,
    }


def shell_line(cmd: list[str]) -> str:
    """A command exactly as a user could paste it into a shell."""
    return shlex.join(cmd)
