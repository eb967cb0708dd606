"""Running a runner build plan: prerequisites, cmake with a log, and a safe install.

Why the care: a build takes minutes, so the user sees each step with its elapsed time,
the full cmake output goes to a log (the tail is shown on failure), and the runner
folder under ``out/runners/`` is only replaced once a new binary exists, so a failed
rebuild never destroys the last good runner.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import deque
from datetime import datetime, timezone
from pathlib import Path

from sme2prof.runners import prereqs as prereqs
from sme2prof.errors import UserError
from sme2prof.fileio import write_json_atomic
from sme2prof.runners.source_build import (CMAKE_TARGET, BuildEnvironment, RunnerBuildPlan, build_info_skeleton,
                           shell_line)

PROGRESS_EVERY_S = 20.0
LOG_TAIL_LINES = 25


def say(message: str) -> None:
    print(message, flush=True)


def compiler_version_command(plan: RunnerBuildPlan, env: BuildEnvironment) -> list[str]:
    """The compiler cmake will use for this plan, as a ``--version`` command."""
    if plan.platform == "android-arm64" and env.android_ndk is not None:
        found = sorted(env.android_ndk.glob("toolchains/llvm/prebuilt/*/bin/clang++"))
        return [str(found[0]) if found else "clang++", "--version"]
    if "CMAKE_CXX_COMPILER" in plan.cache:
        return [plan.cache["CMAKE_CXX_COMPILER"], "--version"]
    return [os.environ.get("CXX", "c++"), "--version"]


def prerequisite_checks(plans: list[RunnerBuildPlan], env: BuildEnvironment):
    """(label, callable) pairs; each callable raises UserError with a fix, or returns text."""
    checks = [("cmake >= 3.24", lambda: "cmake " + ".".join(map(str, prereqs.check_cmake()))),
              ("ninja", lambda: "ninja " + prereqs.check_ninja())]
    if plans:
        et_dir = plans[0].executorch_dir
        checks.append(("ExecuTorch checkout", lambda: str(prereqs.check_executorch_dir(et_dir))))
        checks.append(("codegen Python (yaml, torchgen)",
                       lambda: prereqs.check_codegen_python(env.python) or env.python))
    if any(p.platform == "android-arm64" for p in plans) and env.android_ndk is not None:
        ndk = env.android_ndk
        checks.append(("Android NDK r27+", lambda: "NDK " + prereqs.check_ndk(ndk)))
    if any(p.platform == "linux-aarch64" and "CMAKE_C_COMPILER_TARGET" in p.cache for p in plans):
        checks.append(("aarch64 cross sysroot", prereqs.check_cross_sysroot))
    seen: set[tuple] = set()
    for plan in plans:
        cmd = compiler_version_command(plan, env)
        key = (cmd[0], plan.platform, plan.variant.needs_sme)
        if key in seen:
            continue
        seen.add(key)
        label = f"compiler for {plan.platform}{' (SME2 kernels)' if plan.variant.needs_sme else ''}"
        checks.append((label, lambda c=cmd, p=plan: prereqs.check_compiler(
            prereqs.run_version(c), p.platform, p.variant.needs_sme).text))
    return checks


def report_prerequisites(plans: list[RunnerBuildPlan], env: BuildEnvironment) -> list[dict]:
    """Run every check without stopping: the dry run shows all problems at once."""
    results = []
    for label, check in prerequisite_checks(plans, env):
        try:
            results.append({"check": label, "ok": True, "detail": check(), "fix": ""})
        except UserError as exc:
            results.append({"check": label, "ok": False, "detail": exc.message, "fix": exc.fix})
    return results


def require_prerequisites(plans: list[RunnerBuildPlan], env: BuildEnvironment) -> None:
    for label, check in prerequisite_checks(plans, env):
        detail = check()
        say(f"  ok  {label}: {detail}")


def launcher_environment(plan: RunnerBuildPlan) -> dict[str, str]:
    """ccache settings that let variants in different build folders share object files:
    paths under the common base are hashed relative to the build folder, whose depth
    is the same for every variant. The launcher also goes into the environment so the
    host flatc/flatcc sub-builds (ExternalProject, which ignores our cache variables)
    are cached too."""
    env = dict(os.environ)
    launcher = plan.cache.get("CMAKE_CXX_COMPILER_LAUNCHER", "")
    if launcher.endswith("ccache"):
        base = os.path.commonpath([plan.executorch_dir.resolve(), plan.build_dir.resolve()])
        env.setdefault("CCACHE_BASEDIR", base)
        env.setdefault("CCACHE_NOHASHDIR", "1")
        env.setdefault("CMAKE_C_COMPILER_LAUNCHER", launcher)
        env.setdefault("CMAKE_CXX_COMPILER_LAUNCHER", launcher)
    return env


def run_build_step(cmd: list[str], log_path: Path, step: str, started: float,
               env: dict[str, str] | None = None) -> None:
    """Run ``cmd``, append all output to ``log_path``, print progress every few seconds."""
    tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
    last_report = time.monotonic()
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(f"$ {shell_line(cmd)}\n")
        log.flush()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, errors="replace", env=env)
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            log.flush()   # users tail the log while a build runs
            tail.append(line.rstrip("\n"))
            now = time.monotonic()
            if now - last_report >= PROGRESS_EVERY_S:
                last_report = now
                step_match = re.match(r"\[(\d+)/(\d+)\]", line)
                where = f" {step_match.group(0)}" if step_match else ""
                say(f"    {step}{where} ... {now - started:.0f} s")
        code = proc.wait()
    if code != 0:
        print("\n".join(f"    | {line}" for line in failure_excerpt(log_path, tail)),
              file=sys.stderr)
        raise UserError(f"{step} failed (exit {code}); full log: {log_path}",
                        "read the log above; fix the cause and re-run build_runners.sh "
                        "(the previous runner, if any, was left untouched)")


ERROR_LINE = re.compile(r"CMake Error|FAILED:|error:|fatal error|No such file", re.I)


def failure_excerpt(log_path: Path, tail: deque[str], max_errors: int = 12) -> list[str]:
    """The first error lines of the log (where the cause usually is), then its tail."""
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    errors = []
    for index, line in enumerate(lines):
        if ERROR_LINE.search(line):
            errors.extend(lines[index:index + 4])
        if len(errors) >= max_errors:
            break
    tail_lines = [line for line in tail if line not in errors]
    return [*errors[:max_errors], *(["..."] if errors else []), *tail_lines[-10:]]


def read_compiler(build_dir: Path) -> dict | None:
    """Compiler id, version and path as CMake recorded them for this build."""
    for info_file in sorted(build_dir.glob("CMakeFiles/*/CMakeCXXCompiler.cmake")):
        text = info_file.read_text(encoding="utf-8", errors="replace")
        values = dict(re.findall(r'set\((CMAKE_CXX_COMPILER(?:_ID|_VERSION)?) "([^"]*)"\)', text))
        if values:
            return {"id": values.get("CMAKE_CXX_COMPILER_ID"),
                    "version": values.get("CMAKE_CXX_COMPILER_VERSION"),
                    "path": values.get("CMAKE_CXX_COMPILER")}
    return None


def executorch_commit(executorch_dir: Path) -> str | None:
    """HEAD of the checkout, or None when it is not a git checkout (say so, never guess)."""
    try:
        proc = subprocess.run(["git", "-C", str(executorch_dir), "rev-parse", "HEAD"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    commit = proc.stdout.strip()
    return commit if proc.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else None


def ndk_info(env: BuildEnvironment, plan: RunnerBuildPlan) -> dict | None:
    if plan.platform != "android-arm64" or env.android_ndk is None:
        return None
    props = env.android_ndk / "source.properties"
    revision = prereqs.parse_ndk_revision(props.read_text(encoding="utf-8"))
    return {"path": str(env.android_ndk), "version": ".".join(map(str, revision))}


def complete_build_info(plan: RunnerBuildPlan, env: BuildEnvironment, seconds: float) -> dict:
    info = build_info_skeleton(plan)
    version_file = plan.executorch_dir / "version.txt"
    commit = executorch_commit(plan.executorch_dir)
    info.update({
        "executorch_version": (version_file.read_text(encoding="utf-8").strip()
                               if version_file.is_file() else None),
        "executorch_commit": commit,
        "executorch_commit_note": None if commit else "source folder is not a git checkout",
        "compiler": read_compiler(plan.build_dir),
        "ndk": ndk_info(env, plan),
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "build_seconds": round(seconds, 1),
    })
    return info


def install_runner(plan: RunnerBuildPlan, info: dict) -> Path:
    """Stage binary + extra files + build_info.json in a temp folder, then swap it in."""
    plan.runner_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{plan.name}.", dir=plan.runner_dir.parent))
    staging.chmod(0o755)   # mkdtemp makes it private; a runner folder is adb-pushed and shared
    try:
        shutil.copy2(plan.built_binary, staging / plan.built_binary.name)
        for extra in plan.extra_files:
            if not extra.is_file():
                raise UserError(f"{extra} not found; the Android runner needs it next to the binary",
                                "check ANDROID_NDK points at a complete NDK r27+")
            shutil.copy2(extra, staging / extra.name)
        shutil.copy2(plan.log_path, staging / plan.log_path.name)
        write_json_atomic(staging / "build_info.json", info)
        previous = None
        if plan.runner_dir.exists():
            previous = plan.runner_dir.with_name(f".{plan.name}.previous")
            shutil.rmtree(previous, ignore_errors=True)
            plan.runner_dir.rename(previous)
        staging.rename(plan.runner_dir)
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return plan.runner_dir


def build_runner(plan: RunnerBuildPlan, env: BuildEnvironment, clean: bool = False) -> dict:
    """Configure, build and install one runner; returns its build_info."""
    if clean:
        shutil.rmtree(plan.build_dir, ignore_errors=True)
    plan.build_dir.mkdir(parents=True, exist_ok=True)
    plan.log_path.write_text("", encoding="utf-8")
    started = time.monotonic()
    say(f"[{plan.name}] configure (log: {plan.log_path})")
    tool_env = launcher_environment(plan)
    run_build_step(plan.configure_cmd, plan.log_path, f"[{plan.name}] configure", started, tool_env)
    say(f"[{plan.name}] configured in {time.monotonic() - started:.0f} s; building {CMAKE_TARGET}")
    run_build_step(plan.build_cmd, plan.log_path, f"[{plan.name}] build", started, tool_env)
    if not plan.built_binary.is_file():
        raise UserError(f"[{plan.name}] build finished but {plan.built_binary} is missing; "
                        f"log: {plan.log_path}",
                        "check that the checkout builds executor_runner (EXECUTORCH_BUILD_"
                        "EXECUTOR_RUNNER) and re-run")
    seconds = time.monotonic() - started
    info = complete_build_info(plan, env, seconds)
    install_runner(plan, info)
    say(f"[{plan.name}] done in {seconds:.0f} s -> {plan.runner_dir}")
    return info
