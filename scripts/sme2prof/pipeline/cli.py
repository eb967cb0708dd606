"""The pipeline stage's command lines: the host and Android pipelines (same options, different
transport) and ``benchmark_pipeline.py``."""
from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
from pathlib import Path
from typing import Sequence

from sme2prof.pipeline import run_layout
from sme2prof.errors import OptionParser, UserError, print_json
from sme2prof.fileio import read_json
from sme2prof.paths import display_path
from sme2prof.pipeline.run import PIPELINE_SCRIPTS, HostTransport, run_pipeline
from sme2prof.pipeline.transport import Transport

HOST_EPILOG = """examples:
  python scripts/mac_pipeline.py --config configs/examples/linux_toy_cnn_fp32.json
  python scripts/mac_pipeline.py --config configs/examples/mac_mobilenet_fp16.json --dry-run
  python scripts/mac_pipeline.py --resume out/runs/20261121-163512

Each experiment runs warmup + runs iterations per thread count in one runner process with
ETDump on; results go to a new <output_root>/<run-id>/ (manifest.json, ETDumps, logs).
Ctrl-C keeps finished results; --resume RUN_DIR runs the rest."""

ANDROID_EPILOG = """examples:
  python scripts/android_pipeline.py --config configs/examples/android_mobilenet_fp16.json
  python scripts/android_pipeline.py --config configs/examples/android_mobilenet_fp16.json --serial R5CX --dry-run
  python scripts/android_pipeline.py --resume out/runs/20261121-163512

Pushes the .pte and the android-arm64-* runner (+ libc++_shared.so) to
/data/local/tmp/sme2prof/ with adb, runs it there, pulls the ETDump and log back.
adb is taken from --adb, then $ADB, then PATH. --dry-run works without adb or a phone
(the plan then says that no device was contacted)."""


def build_parser(prog: str, description: str, epilog: str) -> argparse.ArgumentParser:
    """The options both pipelines share."""
    parser = OptionParser(prog=prog, description=description, epilog=epilog,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="pipeline config (JSON); see configs/templates/")
    parser.add_argument("--dry-run", action="store_true",
                        help="validate and print every command that would run; write nothing")
    parser.add_argument("--resume", metavar="RUN_DIR",
                        help="finish an interrupted or failed run: re-run only results that are not ok")
    parser.add_argument("--no-analyze", action="store_true", help="skip the analysis after the run")
    parser.add_argument("--json", action="store_true",
                        help="progress goes to stderr; stdout gets one JSON object: run directory, "
                             "status, per-result status and median, report path (or the plan, with --dry-run)")
    return parser


def run_with_optional_json(args: argparse.Namespace, transport: Transport) -> int:
    """Run the pipeline; with --json keep stdout for one machine-readable summary (for agents)."""
    if not args.json:
        return run_pipeline(args.config, transport, dry_run=args.dry_run, resume=args.resume,
                            analyze=not args.no_analyze)
    outcome: dict = {}
    with contextlib.redirect_stdout(sys.stderr):
        code = run_pipeline(args.config, transport, dry_run=args.dry_run, resume=args.resume,
                            analyze=not args.no_analyze, outcome=outcome)
    print_json(json_summary(outcome, code, transport.script))
    return code


def json_summary(outcome: dict, exit_code: int, script: str = PIPELINE_SCRIPTS["host"]) -> dict:
    """What an agent needs after a run, read back from the manifest the run wrote; with
    ``error`` and ``fix`` when the exit code is not 0 (the failure contract in errors.py)."""
    if "plan" in outcome:
        return {"dry_run": True, "exit_code": exit_code, "plan": outcome["plan"]}
    run_dir = Path(outcome["run_dir"])
    manifest = read_json(run_layout.manifest_path(run_dir))
    latency = _analysed_latency(run_dir)
    results = []
    for exp in manifest["experiments"]:
        for result in exp["results"]:
            timed = (result.get("iterations_ms") or [])[exp["warmup"]:]
            results.append({"experiment": exp["name"], "threads": result["threads"],
                            "status": result["status"], "error": result.get("error"),
                            "latency_ms": latency.get((exp["name"], result["threads"])),
                            "median_ms_runner_clock": statistics.median(timed) if timed else None})
    report = run_layout.analysis_dir(run_dir) / "report.md"
    summary = {"exit_code": exit_code, "run_dir": str(run_dir), "status": manifest["status"],
               "results": results, "report": str(report) if report.is_file() else None,
               "analysis": (manifest.get("analysis") or {}).get("status")}
    if exit_code != 0:
        summary.update(_failure(manifest, results, display_path(run_dir), script))
    return summary


def _analysed_latency(run_dir: Path) -> dict[tuple[str, int], float]:
    """(experiment, threads) -> "the" latency (the report's: median of the ETDump's
    Method::execute), from the run's summary.json; empty before the analysis ran."""
    try:
        summary = read_json(run_layout.analysis_dir(run_dir) / "summary.json")
    except (OSError, ValueError):
        return {}
    return {(r.get("experiment"), r.get("threads")): (r.get("latency") or {}).get("median_ms")
            for r in summary.get("results") or [] if isinstance(r, dict)}


def _failure(manifest: dict, results: list[dict], run_dir: str, script: str) -> dict:
    """One-line ``error`` and ``fix`` for a run that did not end well."""
    resume = f"python {script} --resume {run_dir}"
    not_ok = [r for r in results if r["status"] != "ok"]
    if manifest["status"] == "interrupted":
        return {"error": f"the run was interrupted; {len(not_ok)} of {len(results)} results not done"
                         + ("" if not_ok else " (the analysis was not finished)"),
                "fix": f"continue it: {resume}"}
    if not_ok:
        first = not_ok[0]
        headline = (first["error"] or first["status"]).splitlines()[0]
        return {"error": f"{len(not_ok)} of {len(results)} results failed; first: {first['experiment']} "
                         f"t{first['threads']}: {headline}",
                "fix": f"see results[].error and each result's runner.log; after fixing the cause: {resume}"}
    analysis = manifest.get("analysis") or {}
    if analysis.get("status") == "failed":
        return {"error": f"the analysis failed: {analysis.get('error')}",
                "fix": f"see the error above, then python scripts/analyze_results.py {run_dir}"}
    return {}


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    args = parser.parse_args(argv)
    if bool(args.config) == bool(args.resume):
        parser.error("give exactly one of --config FILE or --resume RUN_DIR")
    return args


def host_main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser("mac_pipeline.py", "Profile a .pte on this machine (macOS or Linux) with the "
                          "runners a config names.", HOST_EPILOG)
    args = parse(parser, argv)
    return run_with_optional_json(args, HostTransport())


def android_main(argv: Sequence[str] | None = None) -> int:
    from sme2prof.pipeline.android import AndroidTransport, find_adb

    parser = build_parser("android_pipeline.py", "Profile a .pte on an Android phone over adb with the "
                          "runners a config names.", ANDROID_EPILOG)
    parser.add_argument("--serial", help="adb serial of the phone (needed when several are connected)")
    parser.add_argument("--adb", help="adb executable (default: $ADB, then adb on PATH)")
    args = parse(parser, argv)
    # A dry run is the check before a session: it works without adb or a phone (commands say "adb").
    adb = find_adb(args.adb, required=not args.dry_run)
    return run_with_optional_json(args, AndroidTransport(adb, args.serial, dry_run=args.dry_run))


BENCHMARK_EPILOG = """examples:
  python scripts/benchmark_pipeline.py                          # toy_cnn fp32, 50 runs, 1 thread
  python scripts/benchmark_pipeline.py --model mobilenet_v3_small --runs 30 --threads 2"""


def _benchmark_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = OptionParser(prog="benchmark_pipeline.py", epilog=BENCHMARK_EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     description="Pipeline wall time vs measured iterations; "
                                                 "pybind vs wheel per-iteration median.")
    parser.add_argument("--model", default="toy_cnn", help="model package name (exported when missing)")
    parser.add_argument("--dtype", default="fp32", choices=("fp32", "fp16", "int8"))
    parser.add_argument("--runs", type=int, default=50, help="timed iterations per runner")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3,
                        help="pybind/wheel pairs, interleaved, so load drift hits both runners alike")
    parser.add_argument("--out", type=Path, default=None, help="JSON result (default out/benchmarks/...)")
    args = parser.parse_args(argv)
    if args.runs <= 0 or args.threads <= 0 or args.rounds <= 0 or args.warmup < 0:
        raise UserError("--runs, --threads and --rounds must be > 0, --warmup >= 0",
                        "for example --runs 50 --threads 1 --rounds 3")
    return args


def benchmark_main(argv: Sequence[str] | None = None) -> int:
    from sme2prof.pipeline.benchmark import benchmark_pipeline  # imports torch only when run
    return benchmark_pipeline(_benchmark_args(argv))
