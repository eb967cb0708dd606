"""The workflow stage's command lines: commands that chain the other stages end to end
(``profile_model.py``, ``run_quick_test.py`` behind ``make smoke``).

Both print, with ``--json``, exactly one JSON object on stdout, success or failure (the
contract in ``errors.py``): progress goes to stderr, and a problem the user can fix
becomes ``{"exit_code": 2, "error", "fix"}`` plus whatever was known by then, such as
``run_dir``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Sequence

from sme2prof.errors import OptionParser, UserError, print_json, wants_json
from sme2prof.export.model_registry import ALL_DTYPES, parse_model_args
from sme2prof.workflow.profile import DEFAULT_RUNS, DEFAULT_WARMUP, ProfileRequest, profile_model

PROFILE_EPILOG = """examples:
  python scripts/profile_model.py --model mobilenet_v3_small --dtype fp16
  python scripts/profile_model.py --model vit_tiny --json
  python scripts/profile_model.py --model toy_cnn --runners pybind,wheel --threads 1,2 --runs 30
  python scripts/profile_model.py --model mobilenet_v3_small --dry-run --json   # the config it would run

What it does, in order:
  export    out/artifacts/<model>/<model>_<dtype>.pte, made again only when missing or
            stale: the export record (.export.json "inputs") no longer matches the model
            package's files, the --model-arg options or the installed torch/ExecuTorch
  runners   auto: pybind; wheel when built; this platform's built sme2-on/sme2-off
            variants (sme2-on only on an SME2 CPU; compared when both run) and its
            -xnntrace variant; on Linux x86_64 the emulated pair (SME visible/hidden)
            when qemu-aarch64 and the aarch64 wheel runner are there. The rest are listed
            as "not used" with the command that adds them.
  threads   default: 1 and the host's CPU count, at most 4
  run       out/configs/<model>-<dtype>.json through the host pipeline into
            out/runs/<run-id>/ (its config.json is the config to edit and re-run with
            scripts/mac_pipeline.py --config), then the analysis
  validate  the run's validate_results.py checks; exit 0 only when all pass

--json: one JSON object on stdout: exit_code, model, dtype, host, export {pte, exported,
reason}, threads, experiments, skipped_runners, config, run_dir, status, results
[{experiment, threads, status, error, median_ms_runner_clock}], report, validation {ok,
passed, checks, failed}, seconds; on failure also error and fix.
Exit status: 0 report validated, 1 a result, the analysis or a check failed, 2 bad input."""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise UserError(f"'{text}' is not a whole number above 0", "for example --runs 20 --threads 1,2")
    return value


def _listed(values: list[str]) -> list[str]:
    """``["1,2", "4"]`` -> ``["1", "2", "4"]``: lists may be given with commas or spaces."""
    return [item for value in values for item in value.split(",") if item]


def build_profile_parser() -> OptionParser:
    parser = OptionParser(prog="profile_model.py", epilog=PROFILE_EPILOG, allow_abbrev=False,
                          formatter_class=argparse.RawDescriptionHelpFormatter,
                          description="Profile a registered model on this host in one command: export "
                                      "(if missing or stale), run, analyse, validate; print the report path.")
    parser.add_argument("--model", required=True, help="model package name (export_model.py --list)")
    parser.add_argument("--dtype", type=str.lower, choices=ALL_DTYPES, default="fp32", help="default: fp32")
    parser.add_argument("--runners", nargs="+", default=["auto"], metavar="LIST",
                        help="auto (default), or runner names separated by commas: pybind, wheel, "
                             "wheel-aarch64-emulated, built variants such as linux-x86_64-sme2-off")
    parser.add_argument("--threads", nargs="+", default=[], metavar="LIST",
                        help="thread counts, e.g. 1,2 (default: 1 and the CPU count, at most 4)")
    parser.add_argument("--runs", type=_positive, default=DEFAULT_RUNS,
                        help=f"timed iterations per experiment and thread count (default {DEFAULT_RUNS})")
    parser.add_argument("--warmup", type=int, default=DEFAULT_WARMUP,
                        help=f"warm-up iterations before the timed ones (default {DEFAULT_WARMUP})")
    parser.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE",
                        help="option for the package's build_model(), as export_model.py takes it")
    parser.add_argument("--dry-run", action="store_true",
                        help="say what would be exported and run, and the config; change nothing")
    add_json_option(parser, "(see below)")
    return parser


def profile_request(args: argparse.Namespace) -> ProfileRequest:
    runners = _listed(args.runners)
    if "auto" in runners and runners != ["auto"]:
        raise UserError("--runners auto cannot be combined with runner names",
                        "give either --runners auto or a list such as --runners pybind,wheel")
    if args.warmup < 0:
        raise UserError(f"--warmup {args.warmup} is below 0", "for example --warmup 3")
    return ProfileRequest(model=args.model, dtype=args.dtype,
                          runners=tuple(r for r in runners if r != "auto"),
                          threads=tuple(_positive(t) for t in _listed(args.threads)),
                          runs=args.runs, warmup=args.warmup,
                          model_args=parse_model_args(args.model_arg), dry_run=args.dry_run)


def profile_main(argv: Sequence[str] | None = None) -> int:
    return with_json_output(argv, lambda args, outcome: profile_model(
        profile_request(build_profile_parser().parse_args(args)), outcome))


QUICK_TEST_EPILOG = """examples:
  make smoke                                  # set-up, then this with --json
  python scripts/run_quick_test.py            # pybind, plus the wheel runner when it is built
  python scripts/run_quick_test.py --json     # one JSON object on stdout: ready per stage

Stages, each "ready", "not ready" (with its fix) or "not run" (an earlier one failed):
  set-up            Python, the kit's venv and the pinned packages (validate_setup.py's
                    checks), and the runners: pybind, and wheel when built
  export            toy_cnn fp32 with the kit's exporter; XNNPACK must take part of it
  run               a short run through the host pipeline (pybind, and wheel when built)
  analysis          the ETDumps parsed by ExecuTorch's Inspector into the report
  validate_results  the run's validate_results.py checks
Writes only into out/quick-test/<id>/ (never out/artifacts or out/runs).
Exit status: 0 every stage ready, 1 a stage not ready, 2 bad input."""


def build_quick_test_parser() -> OptionParser:
    parser = OptionParser(prog="run_quick_test.py", epilog=QUICK_TEST_EPILOG, allow_abbrev=False,
                          formatter_class=argparse.RawDescriptionHelpFormatter,
                          description="The smoke test: set-up, export, run, analysis and validation of "
                                      "a tiny model on this host, in about a minute.")
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="where to write (default out/quick-test/<id>/)")
    parser.add_argument("--require-wheel", action="store_true",
                        help="fail when the wheel runner is not built (default: use it when built)")
    add_json_option(parser, "with every stage")
    return parser


def quick_test_main(argv: Sequence[str] | None = None) -> int:
    from sme2prof.workflow.quick_test import run_quick_test
    return with_json_output(argv, lambda args, outcome: run_quick_test(
        build_quick_test_parser().parse_args(args), outcome))


def add_json_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--json", action="store_true",
                        help=f"progress to stderr; one JSON object on stdout {what}")


def with_json_output(argv: Sequence[str] | None, command: Callable[[list[str], dict], int]) -> int:
    """Run ``command(argv, outcome)``; with ``--json`` in argv, ``outcome`` is the one JSON object
    (``run_entry_point`` adds ``exit_code``, and ``error``/``fix`` of a UserError), whatever happens."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not wants_json(args):
        return command(args, {})
    outcome: dict = {}
    try:
        return command(args, outcome)
    except KeyboardInterrupt:
        if outcome.get("run_dir"):
            outcome.setdefault("fix", f"python scripts/mac_pipeline.py --resume {outcome['run_dir']}")
        raise
    finally:
        print_json(outcome)
