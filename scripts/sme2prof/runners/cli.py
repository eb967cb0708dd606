"""Command line of ``build_runners.sh``: which runners to build, and how.

Parsing only; the plan comes from ``source_build`` and the work from ``build_run``,
so ``--dry-run`` prints exactly the commands a real build would run.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Sequence

from sme2prof.errors import OptionParser, UserError, print_json
from sme2prof.paths import OUT_DIR, RUNNERS_DIR, display_path, resolve_repo_path
from sme2prof.runners.registry import PLATFORMS, VARIANTS, variant_help
from sme2prof.runners.source_build import (CROSS_COMPILER_HELP, CROSS_COMPILERS, DEFAULT_ANDROID_PLATFORM,
                                          DEFAULT_CROSS_COMPILER, BuildEnvironment, RunnerBuildPlan,
                                          buildable_host, build_info_skeleton, cross_toolchain,
                                          default_platforms, plan_builds, plan_runner_build, shell_line,
                                          split_runner_name)

EPILOG_EXAMPLES = """examples:
  bash scripts/build_runners.sh                       # this host's sme2-on + sme2-off
  bash scripts/build_runners.sh --platform android-arm64 --variants sme2-on,sme2-off-xnntrace
  bash scripts/build_runners.sh --platform linux-x86_64 --variants sme2-off,sme2-off-xnntrace --dry-run
  bash scripts/build_runners.sh --wheel               # the small runner against the pip wheel
  bash scripts/build_runners.sh --platform linux-aarch64 --cross-compiler clang \
      --variants sme2-on,sme2-off,sme2-on-xnntrace    # cross-build on x86_64, run under qemu-aarch64

"""
DEFAULT_EXECUTORCH_DIR = "executorch"
EPILOG = (EPILOG_EXAMPLES + "\nvariants (the question each answers):\n" + variant_help()
          + "\n\nRunners land in out/runners/<platform>-<variant>/ with build_info.json.\n")


def _csv(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = OptionParser(
        prog="build_runners.sh", description="Build ExecuTorch executor_runner variants "
        "(SME2 on/off, with or without XNNPACK kernel logging) from a source checkout.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--executorch-dir", default=None,
                        help="ExecuTorch checkout (default: executorch/ from "
                             "setup_repo.sh --with-executorch)")
    parser.add_argument("--platform", type=_csv, default=None,
                        help=f"one or more of {', '.join(PLATFORMS)} (comma-separated; default: "
                             "this host, plus android-arm64 when ANDROID_NDK is set)")
    parser.add_argument("--variants", type=_csv, default=None,
                        help=f"comma-separated subset of {', '.join(VARIANTS)} "
                             "(default: the timing variants the platform can honour)")
    parser.add_argument("--variant", type=_csv, default=None, metavar="RUNNER",
                        help="full runner name(s) instead of --platform/--variants, "
                             "e.g. linux-x86_64-sme2-off-xnntrace (as the pipeline's hints say)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2,
                        help="parallel compile jobs (default: CPU count)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print every cmake command and the build_info.json it would write")
    parser.add_argument("--json", action="store_true",
                        help="stdout gets one JSON object: the plan (with --dry-run), what was built, "
                             "or the error")
    parser.add_argument("--clean", action="store_true", help="delete the build tree first")
    parser.add_argument("--out-dir", default=str(RUNNERS_DIR),
                        help="where runner folders go (default: out/runners)")
    parser.add_argument("--build-root", default=str(OUT_DIR / "build" / "executor_runner"),
                        help="cmake build trees, kept for fast rebuilds (default: out/build/executor_runner)")
    parser.add_argument("--android-ndk", default=os.environ.get("ANDROID_NDK"),
                        help="Android NDK r27+ (default: $ANDROID_NDK)")
    parser.add_argument("--android-platform", default=DEFAULT_ANDROID_PLATFORM,
                        help=f"ANDROID_PLATFORM (default: {DEFAULT_ANDROID_PLATFORM})")
    parser.add_argument("--kleidiai-dir", default=os.environ.get("KLEIDIAI_SOURCE_DIR"),
                        help="local KleidiAI sources for Arm builds (avoids the configure-time "
                             "download; default: $KLEIDIAI_SOURCE_DIR)")
    parser.add_argument("--cross-compiler", choices=CROSS_COMPILERS, default=DEFAULT_CROSS_COMPILER,
                        help="compiler for linux-aarch64 runners built on x86_64: " + CROSS_COMPILER_HELP)
    parser.add_argument("--flatc", default=None, help="host flatc for cross builds")
    parser.add_argument("--flatcc", default=None, help="host flatcc for cross builds")
    parser.add_argument("--ccache", choices=("auto", "on", "off"), default="auto",
                        help="compile through ccache (auto: when installed). Variants differ in "
                             "few files, so the second variant then builds in minutes")
    parser.add_argument("--wheel", action="store_true",
                        help="build the small C++ runner against the pip wheel instead")
    return parser


def named_executorch_dir(option: str | None) -> Path:
    """The checkout to build from. One named with --executorch-dir must exist (a typo is bad
    input, even in a dry run); the default executorch/ may be missing: a dry run then shows it
    as a missing prerequisite with the command that clones it."""
    path = resolve_repo_path(option or DEFAULT_EXECUTORCH_DIR)
    if option is not None and not path.exists():
        raise UserError(f"--executorch-dir {option} does not exist ({path})",
                        "pass the folder of an ExecuTorch checkout, or clone one into executorch/: "
                        "bash scripts/setup_repo.sh --with-executorch")
    return path


def _host_tool(explicit: str | None, name: str) -> str | None:
    return explicit or shutil.which(name)


def compiler_launcher(choice: str) -> str | None:
    found = shutil.which("ccache")
    if choice == "on" and not found:
        raise UserError("--ccache on, but ccache is not installed",
                        "apt-get install ccache (or brew install ccache), or use --ccache off")
    return found if choice != "off" else None


def make_environment(args: argparse.Namespace, host: str) -> BuildEnvironment:
    ndk = Path(args.android_ndk).expanduser().resolve() if args.android_ndk else None
    kleidiai = Path(args.kleidiai_dir).expanduser().resolve() if args.kleidiai_dir else None
    if kleidiai is not None and not (kleidiai / "CMakeLists.txt").is_file():
        raise UserError(f"--kleidiai-dir {kleidiai} is not a KleidiAI source tree",
                        "point it at a KleidiAI checkout (the folder with CMakeLists.txt)")
    cross_cc, cross_cxx = cross_toolchain(args.cross_compiler)
    return BuildEnvironment(
        cross_compiler=args.cross_compiler, cross_cc=cross_cc, cross_cxx=cross_cxx,
        host_platform=host, python=sys.executable,
        runners_dir=resolve_repo_path(args.out_dir), build_root=resolve_repo_path(args.build_root),
        android_ndk=ndk, android_platform=args.android_platform, kleidiai_dir=kleidiai,
        flatc=_host_tool(args.flatc, "flatc"), flatcc=_host_tool(args.flatcc, "flatcc"),
        compiler_launcher=compiler_launcher(args.ccache))


def print_dry_run(plans: list[RunnerBuildPlan], checks: list[dict], as_json: bool) -> None:
    if as_json:
        print_json({"plans": [{**p.as_json(), "build_info": build_info_skeleton(p)} for p in plans],
                    "prerequisites": checks})
        return
    for plan in plans:
        variant = plan.variant
        print(f"# {plan.name}: sme={variant.sme} sme2={variant.sme2} "
              f"xnnpack_log_level={variant.xnnpack_log_level} -> {display_path(plan.runner_dir)}/")
        for note in plan.notes:
            print(f"# note: {note}")
        print(shell_line(plan.configure_cmd))
        print(shell_line(plan.build_cmd))
        print(f"# then: copy {display_path(plan.built_binary)}"
              + "".join(f" + {p.name}" for p in plan.extra_files)
              + f" and write {display_path(plan.build_info_path)}")
        print()
    for check in checks:
        state = "ok " if check["ok"] else "MISSING"
        fix = f"  (fix: {check['fix']})" if check["fix"] else ""
        print(f"# prerequisite {state} {check['check']}: {check['detail']}{fix}")


def run_wheel(args: argparse.Namespace) -> int:
    """Hand ``--wheel`` to the wheel-runner builder (imported only when asked for)."""
    from sme2prof.runners.wheel_build import build_wheel_runner  # noqa: PLC0415 - optional part
    platform = args.platform[0] if args.platform else None
    path = build_wheel_runner(platform, args.jobs, args.dry_run)
    print(path)
    if args.json:
        print_json({"wheel_runner": str(path), "dry_run": args.dry_run})
    return 0


def build_runners_main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.jobs < 1:
        raise UserError(f"--jobs must be 1 or more, not {args.jobs}", "use e.g. --jobs 2")
    if args.wheel:
        return run_wheel(args)
    from sme2prof.runners import build_run  # noqa: PLC0415 - keeps --help fast
    host = buildable_host()
    env = make_environment(args, host or "unsupported-host")
    executorch_dir = named_executorch_dir(args.executorch_dir)
    if args.variant:
        if args.platform or args.variants:
            raise UserError("--variant names whole runners; it cannot be combined with "
                            "--platform/--variants", "use either --variant linux-x86_64-sme2-off "
                            "or --platform linux-x86_64 --variants sme2-off")
        plans = [plan_runner_build(*split_runner_name(name), executorch_dir, env, args.jobs)
                 for name in args.variant]
    else:
        platforms = args.platform or default_platforms(host, args.android_ndk)
        plans = plan_builds(platforms, args.variants, executorch_dir, env, args.jobs)
    if args.dry_run:
        print_dry_run(plans, build_run.report_prerequisites(plans, env), args.json)
        return 0
    print(f"checking prerequisites for {len(plans)} runner(s)")
    build_run.require_prerequisites(plans, env)
    started = time.monotonic()
    built = []
    for index, plan in enumerate(plans, 1):
        print(f"== {index}/{len(plans)} {plan.name}")
        for note in plan.notes:
            print(f"   note: {note}")
        info = build_run.build_runner(plan, env, clean=args.clean)
        built.append((plan, info))
    print(f"built {len(built)} runner(s) in {time.monotonic() - started:.0f} s:")
    for plan, info in built:
        print(f"  {display_path(plan.runner_dir)}/  ({info['build_seconds']} s, "
              f"compiler {(info['compiler'] or {}).get('id')} {(info['compiler'] or {}).get('version')})")
    if args.json:
        print_json({"built": [{"runner": plan.name, "runner_dir": str(plan.runner_dir),
                               "build_seconds": info["build_seconds"]} for plan, info in built]})
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(build_runners_main())
