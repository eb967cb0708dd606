"""The set-up stage's commands: ``validate_setup.py`` and ``setup_repo.sh`` /
``setup_vision_env.sh`` (through ``setup_environment.py``).

``validate_setup.py``: which checks a stage needs, the report, the exit code.

Exit 0: everything the stage requires is ready (warnings allowed). Exit 1: something it
requires is missing; each such line carries its fix. Exit 2: bad input (an unknown
stage, an unreadable requirements file), as every entry point does. The set-up uses
the same codes: 1 when the machine is not ready for it, 2 for a bad command line.

The set-up command must run in a bare Python 3.10+ (it creates the venv), so nothing
this module imports at the top may need a third-party package.
"""
from __future__ import annotations

import argparse
import os
import sys
import textwrap
import time
from pathlib import Path
from typing import Sequence

from sme2prof.errors import OptionParser, UserError, print_json, print_user_error
from sme2prof.setup import checks as sc
from sme2prof.setup import environment, executorch_sources
from sme2prof.setup import tool_checks as tools
from sme2prof.host_info import describe_host
from sme2prof.paths import REPO_ROOT, SCRIPTS_DIR, display_path, resolve_repo_path
from sme2prof.setup.commands import EXIT_NOT_READY, CommandRunner, NotReady
from sme2prof.setup.pins import REQUIREMENTS_FILE
from sme2prof.setup.prerequisites import check_prerequisites

EPILOG = """stages (what each one requires; the other checks are reported as warnings):
  export    Python 3.10-3.13, the pinned packages, ExecuTorch runtime with XNNPACK, models
  pipeline  Python, the pinned packages, ExecuTorch runtime with XNNPACK
  runners   Python, torch/executorch/cmake pins, cmake >= 3.24, ninja, a C++ compiler,
            the Android NDK when ANDROID_NDK is set, the wheel runner for this host
  emulate   as pipeline, plus qemu-aarch64 and the aarch64 cross compiler (Linux x86_64)
  site      Python and the pinned Hugo
  all       every check; requires what `make setup` provides (default)

examples:
  python scripts/validate_setup.py
  python scripts/validate_setup.py --stage export
  python scripts/validate_setup.py --json --stage pipeline     # a gate for AI agents

--json prints {"stage", "ready", "seconds", "counts", "checks": [{"name", "status"
(ok|warn|missing), "detail", "fix", "data", "seconds"}]}; exit 0 ready, 1 not ready.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = OptionParser(
        prog="validate_setup.py", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Check in seconds that this machine is ready for a stage of the workflow; "
                    "print one line per check (ok / warn / missing) with the fix for each problem.")
    parser.add_argument("--stage", default="all", metavar="STAGE",
                        help=f"one of {', '.join(sc.STAGES)} (default: all)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--requirements", type=Path, default=REQUIREMENTS_FILE, metavar="FILE",
                        help="pins to compare with the installed packages "
                             "(default: scripts/requirements.txt)")
    return parser


def run_checks(stage: str, requirements: Path) -> list[sc.Check]:
    """Every check the stage shows, in report order; the runtime loads in parallel."""
    checks = [sc.python_check(), sc.venv_check(), sc.packages_check(stage, requirements)]
    runtime = sc.start_runtime_probe() if stage in sc.RUNTIME_STAGES else None
    started = time.monotonic()
    host = describe_host()
    platform = host["platform"]
    later: list[sc.Check] = []
    if stage != "site":
        later.append(sc.cpu_check(host))
    if stage in ("export", "all"):
        later.append(_timed(sc.models_check))
    if stage in ("export", "pipeline", "emulate", "all"):
        later.append(sc.artifacts_check(required=False))
    if stage in ("pipeline", "runners", "emulate", "all"):
        later += tools.runner_checks(platform, wheel_required=stage == "runners",
                                     emulate=stage in ("emulate", "all") and platform == "linux-x86_64")
    if stage in ("runners", "all"):
        later += tools.build_tool_checks(platform, required=stage == "runners")
    if stage in ("emulate", "all"):
        later += tools.emulation_checks(platform, required=stage == "emulate")
    if stage in ("pipeline", "all"):
        adb = tools.adb_check()
        later += [adb] if adb else []
    if stage in ("site", "all"):
        later.append(tools.hugo_check(required=True))
    if runtime is not None:
        checks.append(sc.finish_runtime_probe(runtime, started))
    return checks + later


def _timed(check) -> sc.Check:
    started = time.monotonic()
    result = check()
    result.seconds = round(time.monotonic() - started, 2)
    return result


def report(stage: str, checks: list[sc.Check], seconds: float) -> dict:
    counts = {status: sum(c.status == status for c in checks) for status in (sc.OK, sc.WARN, sc.MISSING)}
    return {"stage": stage, "ready": counts[sc.MISSING] == 0, "seconds": round(seconds, 2),
            "counts": counts, "checks": [c.as_json() for c in checks]}


def print_report(data: dict) -> None:
    print(f"validate_setup: stage {data['stage']}")
    for check in data["checks"]:
        print(f"{check['status']:<8} {check['name']}: {check['detail']}")
        if check["status"] != sc.OK and check["fix"]:
            print(f"         fix: {check['fix']}")
    counts = data["counts"]
    verdict = "ready" if data["ready"] else "NOT ready"
    print(f"{verdict} for {data['stage']}: {counts['missing']} missing, {counts['warn']} warning(s), "
          f"{counts['ok']} ok in {data['seconds']:.1f} s")


def validate_setup_main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    stage = sc.check_stage(args.stage)
    requirements = resolve_repo_path(args.requirements, base=Path.cwd())
    started = time.monotonic()
    data = report(stage, run_checks(stage, requirements), time.monotonic() - started)
    if args.json:
        missing = [c for c in data["checks"] if c["status"] == sc.MISSING]
        failure = {"error": f"not ready for {stage}: {len(missing)} missing: "
                            + ", ".join(c["name"] for c in missing),
                   "fix": missing[0]["fix"] or "see checks[]"} if missing else {}
        print_json({**data, **failure})
    else:
        print_report(data)
    return 0 if data["ready"] else EXIT_NOT_READY


# ---------------------------------------------------------------- setup_repo.sh, setup_vision_env.sh

SETUP_ENTRY = SCRIPTS_DIR / "setup_environment.py"
SETUP_EXAMPLES = {
    "kit": ["bash scripts/setup_repo.sh", "bash scripts/setup_repo.sh --with-executorch --dry-run",
            "bash scripts/setup_repo.sh --with-executorch --ref v1.5.1"],
    "vision": ["bash scripts/setup_vision_env.sh",
               ".venv-vision/bin/python scripts/export_model.py --model edgetam_image_encoder --dtype fp32"],
}


def build_setup_parser(spec: environment.EnvironmentSpec) -> OptionParser:
    index = (f", {spec.extra_index_variable} (extra pip index for torch, e.g. a CPU-only wheel "
             "index on Linux x86_64)" if spec.extra_index_variable else "")
    variables = (f"environment: {spec.venv_variable} (venv path, default "
                 f"{spec.default_venv.relative_to(REPO_ROOT)}){index}, PYTHON (the interpreter to "
                 f"create the venv with, like --python), {environment.MIN_FREE_GB_VARIABLE} (free "
                 "GB to require).")
    stamp = (f"A re-run with nothing changed takes about a second: a stamp in the venv holds the "
             f"hash of {display_path(spec.requirements)} and the interpreter.")
    examples = "\n".join(f"  {example}" for example in SETUP_EXAMPLES[spec.name])
    parser = OptionParser(
        prog=spec.command, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="\n\n".join(textwrap.fill(text, 88) for text in
                                 (spec.summary.format(gb=spec.min_free_gb), stamp)),
        epilog=f"{textwrap.fill(variables, 88)}\n\nexamples:\n{examples}\n")
    parser.add_argument("--environment", choices=sorted(environment.ENVIRONMENTS), default="kit",
                        help=argparse.SUPPRESS)
    if spec.runner_tools:
        parser.add_argument("--with-executorch", action="store_true",
                            help="also clone the ExecuTorch sources with the submodules a runner "
                                 "build needs into executorch/ (for scripts/build_runners.sh)")
        parser.add_argument("--ref", metavar="REF",
                            help="tag, branch or full commit to clone (default: v<pinned executorch "
                                 "version>, the release the pip wheel was built from)")
        parser.add_argument("--dest", metavar="DIR", default=str(REPO_ROOT / "executorch"),
                            help="where to clone (default: executorch/ in the repository; the "
                                 "folder must be named executorch)")
    parser.add_argument("--python", metavar="PY",
                        help="interpreter to create the venv with (default: the first of python3, "
                             "python3.13 ... python3.10 that is 3.10-3.13; the shell script "
                             "starts this program with it)")
    parser.add_argument("--force", action="store_true",
                        help="reinstall the dependencies even if nothing changed")
    parser.add_argument("--dry-run", action="store_true", help="print what would be done, change nothing")
    return parser


def setup_environment_main(argv: Sequence[str] | None = None) -> int:
    """Set up one environment; moves into its venv first when that venv works."""
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = OptionParser(add_help=False)
    chosen.add_argument("--environment", choices=sorted(environment.ENVIRONMENTS), default="kit")
    spec = environment.ENVIRONMENTS[chosen.parse_known_args(argv)[0].environment]
    args = build_setup_parser(spec).parse_args(argv)
    with_executorch = getattr(args, "with_executorch", False)
    if getattr(args, "ref", None) and not with_executorch:
        raise UserError("--ref only applies with --with-executorch", "add --with-executorch")
    venv = environment.locate_venv(spec)
    venv_python = environment.usable_venv_python(venv)
    if venv_python is not None and not venv.is_running:
        sys.stdout.flush()
        os.execv(venv_python, [str(venv_python), str(SETUP_ENTRY), *argv])
    dest = resolve_repo_path(args.dest, base=Path.cwd()) if with_executorch else None
    try:
        return set_up(spec, venv, venv_python is not None, dest, args)
    except NotReady as exc:
        print_user_error(exc)
        return EXIT_NOT_READY


def set_up(spec: environment.EnvironmentSpec, venv: environment.Venv, venv_usable: bool,
           dest: Path | None, args: argparse.Namespace) -> int:
    """Prerequisites, the venv (unless up to date), the versions, the ExecuTorch sources."""
    started = _started()
    runner = CommandRunner(args.dry_run)
    disk_needs = [(venv.path, 0 if venv_usable else environment.min_free_gb(spec))]
    if dest is not None and executorch_sources.needs_clone(dest):
        disk_needs.append((dest, executorch_sources.SOURCE_FREE_GB))
    problems = check_prerequisites(spec, venv, venv_usable, disk_needs)
    for problem in problems:
        print_user_error(problem)
    if problems:
        return EXIT_NOT_READY

    print(f"== python environment: {venv.path}")
    if not venv_usable:
        environment.prepare_venv(spec, venv, runner)
        environment.install(spec, venv, runner)
    elif reason := "--force" if args.force else environment.reinstall_reason(spec, venv):
        print(f"  reinstalling: {reason}")
        environment.install(spec, venv, runner)
    else:
        print(f"  up to date ({display_path(spec.requirements)} unchanged since the last set-up)")
    if venv_usable or not args.dry_run:
        print("== versions")
        environment.print_versions(spec, venv)

    if dest is not None:
        ref = args.ref or f"v{environment.pinned(spec.requirements)['executorch']}"
        wheel_commit = None if args.dry_run else environment.executorch_commit(venv)
        executorch_sources.clone_executorch(ref, dest, runner, wheel_commit)
    note = " (dry run: nothing was changed)" if args.dry_run else ""
    print(f"== set-up done in {time.time() - started:.1f} s{note}")
    print(f"   next: {spec.next_step.format(venv=venv.shown())}")
    return 0


def _started() -> float:
    """When the user's command started: the shell script notes it (bash 5), so the time
    reported includes finding a Python and moving into the venv."""
    noted = os.environ.get("SME2PROF_SETUP_STARTED", "").replace(",", ".")
    try:
        return float(noted)
    except ValueError:
        return time.time()
