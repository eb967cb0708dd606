"""The analysis stage's command lines: ``analyze_results.py``, ``validate_results.py`` and
``benchmark_analysis.py`` (argument parsing and printing; the work lives in the modules)."""
from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

from sme2prof.errors import OptionParser, print_json
from sme2prof.paths import display_path
from sme2prof.analysis.analyze import analyze_runs
from sme2prof.analysis.benchmark import DEFAULT_PTE, time_analysis
from sme2prof.analysis.validate import validate_run

EXIT_PARTIAL = 1
EPILOG = """examples:
  python scripts/analyze_results.py out/runs/20261121-163512
  python scripts/analyze_results.py out/runs/20261121-163512 --compare sme2_on sme2_off
  python scripts/analyze_results.py out/runs/RUN_A out/runs/RUN_B --compare RUN_A/baseline RUN_B/baseline --out out/analysis/a-vs-b
  python scripts/analyze_results.py test-cases/fixtures/real-runs/aarch64-qemu-cpu-max-sme/cnn-linear-fp32.etdump \\
      test-cases/fixtures/real-runs/aarch64-qemu-cpu-max-sme-off/cnn-linear-fp32.etdump \\
      --compare aarch64-qemu-cpu-max-sme/cnn-linear-fp32 aarch64-qemu-cpu-max-sme-off/cnn-linear-fp32

Result names: <experiment>, or <experiment>@t<threads> when an experiment ran several
thread counts; prefixed with <run-id>/ when two run directories share a name. A bare
ETDump is named after its file ('<folder>/<file>' when two files share a name).
--compare A B measures A against baseline B: speedup = B time / A time.
Output: one run directory -> <run>/analysis/; anything else -> --out, by default
out/analysis/<timestamp>/ (a new folder, so no other analysis is overwritten).
Exit status: 0 complete, 1 partial analysis (problems listed in the report), 2 bad input.
"""


def build_parser() -> argparse.ArgumentParser:
    p = OptionParser(
        prog="analyze_results.py", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Analyse profiling runs: latency statistics, operator table, categories, "
                    "SME path and kernels, comparisons; writes summary.json, CSV, PNG and report.md.")
    p.add_argument("inputs", nargs="+", type=Path, metavar="RUN_DIR",
                   help="run directory (with manifest.json) or an ETDump file")
    p.add_argument("--compare", nargs=2, action="append", metavar=("A", "B"), default=None,
                   help="compare result A against baseline B (repeatable); default: the "
                        "config's analysis.compare_pairs")
    p.add_argument("--out", type=Path, help="output folder (default: see below)")
    p.add_argument("--etrecord", type=Path, help="ETRecord for a single ETDump file argument")
    p.add_argument("--kernel-trace", type=Path,
                   help="XNNPACK log for a single ETDump file argument")
    p.add_argument("--warmup", type=int, default=None, metavar="N",
                   help="executions to drop from bare ETDump files (run dirs use the manifest); "
                        "default: drop the first when it is cold (above the others' median + 3×IQR)")
    p.add_argument("--no-charts", action="store_true", help="skip the PNG charts")
    p.add_argument("--json", action="store_true", help="print summary.json to stdout")
    return p


def analyze_main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result = analyze_runs(args.inputs, out_dir=args.out, compare=[tuple(c) for c in args.compare or []] or None,
                          etrecord=args.etrecord, kernel_trace=args.kernel_trace,
                          warmup=args.warmup, charts_enabled=not args.no_charts,
                          progress=not args.json)
    if args.json:
        problems = result.summary["problems"]
        failure = {"error": f"partial analysis: {len(problems)} problem(s); first: {problems[0]}",
                   "fix": f"see problems[] and the report's Problems section ({result.report_path})"} if problems else {}
        print_json({**result.summary, "report": str(result.report_path), **failure})
        return EXIT_PARTIAL if problems else 0
    summary = result.summary
    print(f"analysed {len(summary['results'])} result(s) in {summary['analysis_seconds']:.1f} s")
    for finding in summary["findings"]:
        print(f"  - {finding}")
    for problem in summary["problems"]:
        print(f"  problem: {problem}")
    print(f"report: {display_path(result.report_path)}")
    if summary["problems"]:
        print(f"partial analysis: {len(summary['problems'])} problem(s) above", file=sys.stderr)
        return EXIT_PARTIAL
    return 0


VALIDATE_EPILOG = """examples:
  python scripts/validate_results.py out/runs/20261121-163512
  python scripts/validate_results.py out/runs/20261121-163512 --json

Exit status: 0 when every check passes, 1 when something is missing, 2 on bad input.
"""


def validate_main(argv: Sequence[str] | None = None) -> int:
    parser = OptionParser(
        prog="validate_results.py", epilog=VALIDATE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Check a run directory (manifest, ETDumps, logs, kernel traces) and its "
                    "analysis (summary.json, report.md, CSV, charts); say how to produce what is missing.")
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    args = parser.parse_args(argv)
    checks = validate_run(args.run_dir)
    failed = [c for c in checks if not c.ok]
    if args.json:
        failure = {"error": f"{len(failed)} of {len(checks)} checks failed; first: {failed[0].name}: "
                            f"{failed[0].message.splitlines()[0] if failed[0].message else ''}",
                   "fix": failed[0].fix or "see checks[]"} if failed else {}
        print_json({"run_dir": str(args.run_dir), "ok": not failed,
                    "checks": [asdict(c) for c in checks], **failure})
    else:
        for c in checks:
            print(f"{'ok     ' if c.ok else 'MISSING'} {c.name}: {c.message}")
            if c.fix:
                print(f"        fix: {c.fix}")
        print(f"{len(checks) - len(failed)}/{len(checks)} checks passed")
    return 1 if failed else 0


BENCHMARK_EPILOG = """examples:
  python scripts/benchmark_analysis.py                      # make a 4 x 50 run of toy_cnn, time its analysis
  python scripts/benchmark_analysis.py --model out/artifacts/vit_tiny/vit_tiny_fp32.pte
  python scripts/benchmark_analysis.py out/runs/20261121-163512   # time the analysis of an existing run
"""


def benchmark_main(argv: Sequence[str] | None = None) -> int:
    parser = OptionParser(prog="benchmark_analysis.py", epilog=BENCHMARK_EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     description="Time the analysis of a run with several experiments.")
    parser.add_argument("run_dir", nargs="?", type=Path, help="existing run directory (default: make one)")
    parser.add_argument("--model", type=Path, default=DEFAULT_PTE, help="the .pte to run (default toy_cnn fp32)")
    parser.add_argument("--experiments", type=int, default=4)
    parser.add_argument("--runs", type=int, default=50, help="timed iterations per experiment")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    return time_analysis(args.run_dir, args.model, args.experiments, args.runs, args.json)
