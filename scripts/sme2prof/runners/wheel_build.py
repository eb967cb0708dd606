"""Build the ``wheel`` runner: scripts/wheel_runner/wheel_runner.cpp against the pip wheel.

Why: the wheel already ships ExecuTorch's runtime, XNNPACK delegate, kernels, thread pool
and ETDump libraries with a CMake package, so a native runner is one small C++ file and a
few seconds of build instead of a five-minute source build. For ``linux-aarch64`` on an
x86_64 machine the same source is cross-compiled against the aarch64 wheel (see
:mod:`sme2prof.aarch64_wheel`) and runs under ``qemu-aarch64`` (:mod:`sme2prof.emulation`).

Layout::

    out/build/wheel_runner/<platform>/src/CMakeLists.txt   copy of scripts/wheel_runner/cmakelists.txt
    out/build/wheel_runner/<platform>/build/               the CMake tree, kept for fast rebuilds
    out/runners/wheel-<platform>/wheel_runner              the runner
    out/runners/wheel-<platform>/build_info.json           see sme2prof.runners.spec

The runner folder is written to a temporary sibling and renamed into place only after a
successful build, so a failed build never removes a runner that worked.
"""
from __future__ import annotations

import fcntl
import os
import platform as pyplatform
import re
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from sme2prof.runners import aarch64_wheel
from sme2prof.errors import UserError
from sme2prof.fileio import read_json, sha256_file, write_json_atomic
from sme2prof.host_info import executorch_version, host_platform
from sme2prof.paths import OUT_DIR, RUNNERS_DIR, SCRIPTS_DIR, display_path, installed_executorch_dir
from sme2prof.fileio import utc_now_iso
from sme2prof.runners.qemu import INSTALL_FIX
from sme2prof.runners.registry import PLATFORMS, wheel_platforms, wheel_runner_name
from sme2prof.runners.spec import BUILD_INFO_NAME

SOURCE_DIR = SCRIPTS_DIR / "wheel_runner"
SOURCE_FILES = {"wheel_runner.cpp": "wheel_runner.cpp", "cmakelists.txt": "CMakeLists.txt"}
BUILD_ROOT = OUT_DIR / "build" / "wheel_runner"
BINARY_NAME = "wheel_runner"
CROSS_COMPILERS = {"linux-aarch64": "aarch64-linux-gnu-g++"}
CROSS_PROCESSORS = {"linux-aarch64": "aarch64"}
BUILD_FIX = "bash scripts/build_runners.sh --wheel"
MIN_CMAKE = (3, 19)


def runner_dir(platform: str) -> Path:
    return RUNNERS_DIR / wheel_runner_name(platform)


def find_wheel_runner(platform: str | None = None) -> Path:
    """Path of the built wheel runner for ``platform`` (default: this host)."""
    platform = _check_platform(platform or host_platform())
    binary = runner_dir(platform) / BINARY_NAME
    if not binary.is_file():
        flag = "" if platform == host_platform() else f" --platform {platform}"
        raise UserError(f"the wheel runner for {platform} is not built (no {display_path(binary)})",
                        BUILD_FIX + flag)
    return binary


def build_wheel_runner(platform: str | None = None, jobs: int | None = None, dry_run: bool = False,
                       progress: Callable[[str], None] = print) -> Path:
    """Build (or bring up to date) the wheel runner; returns the runner folder.

    Seconds either way: the CMake tree is kept under out/build/, so an unchanged source
    is a no-op rebuild, and a first build compiles one file.
    """
    started = time.monotonic()
    host = host_platform()
    platform = _check_platform(platform or host)
    cross = platform != host
    builds_on = PLATFORMS[platform].wheel_builds_on
    if host not in builds_on or (cross and platform not in CROSS_COMPILERS):
        raise UserError(f"cannot build the wheel runner for {platform} on {host}",
                        f"build it on {' or '.join(builds_on)}")
    with _exclusive(BUILD_ROOT / f"{platform}.lock", enabled=not dry_run):
        return _build(platform, cross, jobs, dry_run, progress, started)


@contextmanager
def _exclusive(lock_path: Path, enabled: bool):
    """One build per platform at a time: two test sessions or terminals share out/build/."""
    if not enabled:
        yield
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build(platform: str, cross: bool, jobs: int | None, dry_run: bool,
           progress: Callable[[str], None], started: float) -> Path:
    """Package, tools, configure (only when its inputs changed), build, install."""
    if cross:
        # The same release as the exporter installed here, so runtime and .pte match.
        package = aarch64_wheel.ensure_platform_package(platform, executorch_version()["version"],
                                                        dry_run, progress)
    else:
        package = _installed_package_dir()
    et = aarch64_wheel.package_identity(package)  # of the libraries actually linked
    tools = _find_tools(platform, cross, dry_run)
    work = BUILD_ROOT / platform
    configure = _configure_command(work, package, platform, cross, tools, et)
    build = [tools["cmake"], "--build", str(work / "build"), "--parallel", str(jobs or os.cpu_count() or 2)]
    if dry_run:
        progress(f"would copy {display_path(SOURCE_DIR)} -> {display_path(work / 'src')} (cmakelists.txt -> CMakeLists.txt)")
        progress("would run: " + " ".join(configure))
        progress("would run: " + " ".join(build))
        progress(f"would install {BINARY_NAME} and {BUILD_INFO_NAME} into {display_path(runner_dir(platform))}")
        return runner_dir(platform)

    _stage_sources(work / "src")
    key = {"configure": configure, "cmake_version": tools["cmake_version"]}
    key_path = work / "configure.json"
    if not (work / "build" / "CMakeCache.txt").is_file() or _read_key(key_path) != key:
        shutil.rmtree(work / "build", ignore_errors=True)
        progress(f"configuring the wheel runner for {platform} (CMake {tools['cmake_version']}) ...")
        _run(configure, "CMake configure", platform)
        write_json_atomic(key_path, key)
    progress(f"building the wheel runner for {platform} ...")
    _run(build, "build", platform)
    binary = work / "build" / BINARY_NAME
    cache = _read_cmake_cache(work / "build" / "CMakeCache.txt")
    info = _build_info(platform, cross, package, tools, cache, et, binary)
    final = runner_dir(platform)
    if _up_to_date(final, info):
        progress(f"wheel runner for {platform} is up to date: {display_path(final / BINARY_NAME)} "
                 f"({time.monotonic() - started:.1f} s)")
        return final
    info["build_seconds"] = round(time.monotonic() - started, 2)
    _install(final, binary, info)
    progress(f"built {display_path(final / BINARY_NAME)} in {info['build_seconds']:.1f} s")
    return final


def _check_platform(platform: str) -> str:
    if platform not in wheel_platforms():
        raise UserError(f"unknown platform {platform!r} for the wheel runner",
                        f"use one of: {', '.join(wheel_platforms())}")
    return platform


def _installed_package_dir() -> Path:
    package = installed_executorch_dir()
    if not (package / "share" / "cmake" / "executorch-config.cmake").is_file():
        raise UserError(f"the installed executorch has no C++ package ({package}/share/cmake)",
                        "pip install executorch==1.5.1 (its wheel ships the C++ libraries)")
    return package


def _find_tools(platform: str, cross: bool, dry_run: bool) -> dict:
    cmake = shutil.which("cmake")
    if cmake is None:
        if dry_run:
            return {"cmake": "cmake", "cmake_version": "?", "cxx": "c++", "generator": "Ninja"}
        raise UserError("cmake is not installed", "apt-get install cmake (macOS: brew install cmake), "
                        "or pip install cmake")
    version_text = subprocess.run([cmake, "--version"], capture_output=True, text=True).stdout
    match = re.search(r"version (\d+)\.(\d+)\.(\d+)", version_text)
    version = tuple(int(x) for x in match.groups()) if match else (0, 0, 0)
    if version[:2] < MIN_CMAKE:
        raise UserError(f"cmake {'.'.join(map(str, version))} is too old (need 3.19 or newer)",
                        "pip install 'cmake>=3.28' (3.28+ uses the wheel's imported targets)")
    cxx_name = CROSS_COMPILERS[platform] if cross else os.environ.get("CXX", "c++")
    cxx = shutil.which(cxx_name)
    if cxx is None and not dry_run:
        fix = INSTALL_FIX if cross else "apt-get install g++ (macOS: xcode-select --install)"
        raise UserError(f"C++ compiler {cxx_name} not found", fix)
    generator = "Ninja" if shutil.which("ninja") else "Unix Makefiles"
    return {"cmake": cmake, "cmake_version": ".".join(map(str, version)), "cxx": cxx or cxx_name,
            "generator": generator}


def _configure_command(work: Path, package: Path, platform: str, cross: bool, tools: dict,
                       et: dict) -> list[str]:
    command = [tools["cmake"], "-S", str(work / "src"), "-B", str(work / "build"), "-G", tools["generator"],
               "-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_CXX_COMPILER={tools['cxx']}",
               f"-DCMAKE_PREFIX_PATH={package}", f"-DWHEEL_RUNNER_PLATFORM={platform}",
               f"-DWHEEL_RUNNER_ET_VERSION={aarch64_wheel.release_version(et['version'])}",
               f"-DWHEEL_RUNNER_ET_COMMIT={et['git_commit'] or 'unknown'}"]
    if cross:
        command += ["-DCMAKE_SYSTEM_NAME=Linux", f"-DCMAKE_SYSTEM_PROCESSOR={CROSS_PROCESSORS[platform]}"]
    return command


def _stage_sources(dest: Path) -> None:
    """Copy the lower-case sources; CMake's required name exists only under out/."""
    dest.mkdir(parents=True, exist_ok=True)
    for source, target in SOURCE_FILES.items():
        data = (SOURCE_DIR / source).read_bytes()
        out = dest / target
        if not out.is_file() or out.read_bytes() != data:  # keep mtimes: no needless recompiles
            out.write_bytes(data)


def _run(command: list[str], what: str, platform: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise UserError(f"{what} of the wheel runner for {platform} failed:\n{tail}",
                        "fix the cause above and rerun " + BUILD_FIX
                        + ("" if platform == host_platform() else f" --platform {platform}"))


def _read_key(path: Path) -> dict | None:
    try:
        return read_json(path)
    except (OSError, ValueError):
        return None


def _read_cmake_cache(path: Path) -> dict[str, str]:
    wanted = ("CMAKE_BUILD_TYPE", "CMAKE_CXX_COMPILER", "CMAKE_PREFIX_PATH", "CMAKE_GENERATOR",
              "CMAKE_SYSTEM_NAME", "CMAKE_SYSTEM_PROCESSOR", "WHEEL_RUNNER_PLATFORM", "executorch_DIR")
    cache: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        name, sep, value = line.partition("=")
        name = name.split(":", 1)[0]
        if sep and name in wanted:
            cache[name] = value
    return cache


def _compiler_version(cxx: str) -> str:
    try:
        out = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout
    except OSError:
        return cxx
    return (out.splitlines() or [cxx])[0]


def _build_info(platform: str, cross: bool, package: Path, tools: dict, cache: dict, et: dict,
                binary: Path) -> dict:
    targets = tuple(int(x) for x in tools["cmake_version"].split(".")[:2]) >= (3, 28)
    wheel = aarch64_wheel.wheel_record(package) if cross else None
    return {
        "runner": wheel_runner_name(platform), "kind": "wheel", "platform": platform, "variant": "wheel",
        "binary": BINARY_NAME,
        # The wheel's XNNPACK carries SME/SME2 kernels; which run depends on the CPU.
        "sme": None, "sme2": None,
        "xnntrace": False, "xnnpack_log_level": 0, "event_tracer": True,
        "build_type": cache.get("CMAKE_BUILD_TYPE", "Release"), "cmake_cache": cache,
        "cmake_version": tools["cmake_version"],
        "cmake_link_route": "imported targets" if targets else "EXECUTORCH_* variables (CMake < 3.28)",
        "executorch_version": aarch64_wheel.release_version(et["version"]),
        "executorch_commit": et["git_commit"],
        "executorch_package_dir": str(package), "executorch_lib_dir": str(package / "lib"),
        "wheel": wheel, "cross_compiled": cross,
        "threadpool": any((package / "lib").glob("libexecutorch_threadpool.*")),
        "compiler": _compiler_version(tools["cxx"]), "ndk": None,
        "host": f"{host_platform()} ({pyplatform.node()})",
        "source_sha256": {name: sha256_file(SOURCE_DIR / name) for name in SOURCE_FILES},
        "binary_sha256": sha256_file(binary),
        "built_at": utc_now_iso(), "build_seconds": None,
    }


def _up_to_date(final: Path, info: dict) -> bool:
    """True when the installed runner is this very binary from the same inputs."""
    try:
        old = read_json(final / BUILD_INFO_NAME)
    except (OSError, ValueError):
        return False
    same = ("binary_sha256", "source_sha256", "cmake_cache", "executorch_package_dir", "compiler", "cmake_version")
    return (final / BINARY_NAME).is_file() and all(old.get(k) == info.get(k) for k in same)


def _install(final: Path, binary: Path, info: dict) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    old = final.with_name(f".{final.name}.old")
    try:
        staging.chmod(0o755)
        shutil.copy2(binary, staging / BINARY_NAME)
        write_json_atomic(staging / BUILD_INFO_NAME, info)
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            final.rename(old)
        try:
            staging.rename(final)
        except OSError:
            if old.exists() and not final.exists():
                old.rename(final)  # put the earlier good runner back
            raise
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
