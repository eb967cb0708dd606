"""``make quickstart``: profile a real model on this host with the fastest runner it has, timed.

Why mobilenet_v3_small in fp32: its operators take tens to hundreds of microseconds at
1x3x224x224, well above the 1 us resolution of XNNPACK's operator timer, so the report's
shares and findings describe the network rather than timer noise (toy_cnn's ~20 us
inferences gave mostly 0 us operator samples). fp32 rather than fp16 because it runs the
fast path on every host the kit supports: x86_64 CPUs have no fp16 arithmetic and would
time conversions, while on an SME2 Mac fp32 already takes the packed PF32 kernels. It
exports in about half a minute and lowers to one XNNPACK partition.

Why the wheel runner first: it is a small C++ program built against the pip wheel in
seconds where a C++ compiler and CMake exist, and it starts in milliseconds; the pybind
runner (no build) is the fall-back, and the reason is printed.

The rest is ``profile_model.py``'s own path (export when missing or stale, run, analyse,
validate), so the quickstart is the command a user types next with another model.
"""
from __future__ import annotations

import time
from typing import Callable

from sme2prof.errors import UserError
from sme2prof.host_info import host_platform
from sme2prof.runners.registry import PYBIND, WHEEL
from sme2prof.workflow.profile import ProfileRequest, profile_model

MODEL = "mobilenet_v3_small"
DTYPE = "fp32"
THREADS = (1, 2)      # what the pages show on every host; profile_model.py picks by CPU count


def choose_runner(dry_run: bool, progress: Callable[[str], None] = print) -> tuple[str, float]:
    """``wheel`` when it is built or builds here, else ``pybind``; and the build's seconds."""
    from sme2prof.runners.wheel_build import build_wheel_runner

    started = time.perf_counter()
    try:
        build_wheel_runner(host_platform(), dry_run=dry_run,
                           progress=lambda line: progress(f"  {line}"))
    except UserError as exc:
        progress(f"runner: pybind (the wheel runner cannot be built here: {exc.message}; "
                 f"fix: {exc.fix})")
        return PYBIND, round(time.perf_counter() - started, 1)
    return WHEEL, round(time.perf_counter() - started, 1)


STAGES = (("runner build", "runner_build"), ("export", "export"), ("run", "run"), ("analysis", "analysis"),
          ("validate", "validate"))


def stage_times(seconds: dict) -> list[tuple[str, float]]:
    """(stage, seconds) of the stages that ran, in the order they ran."""
    return [(name, seconds[key]) for name, key in STAGES if key in seconds]


def quickstart(outcome: dict, dry_run: bool = False) -> int:
    started = time.perf_counter()
    print(f"quickstart: {MODEL} {DTYPE}, the wheel runner if it builds here, else pybind", flush=True)
    runner, build_seconds = choose_runner(dry_run)
    request = ProfileRequest(model=MODEL, dtype=DTYPE, runners=(runner,), threads=THREADS, dry_run=dry_run)
    try:
        code = profile_model(request, outcome)
    finally:
        if not dry_run:      # a dry run builds, exports and runs nothing: no stage times to show
            seconds = {"runner_build": build_seconds, **outcome.get("seconds", {})}
            rows = stage_times(seconds)
            rows.append(("total", round(time.perf_counter() - started, 1)))
            print("\nquickstart stages: " + ", ".join(f"{name} {value:.1f} s" for name, value in rows))
    return code


def quickstart_main(argv=None) -> int:
    from sme2prof.errors import OptionParser
    parser = OptionParser(prog="quickstart.py", description=(
        f"make quickstart: export {MODEL} {DTYPE} (when missing or stale), build the wheel runner "
        "(else use pybind), profile with 1 and 2 threads, analyse, validate; prints each stage's time."))
    parser.add_argument("--dry-run", action="store_true",
                        help="say what would be built, exported and run; change nothing")
    args = parser.parse_args(argv)
    return quickstart({}, dry_run=args.dry_run)
