"""``benchmark_analysis.py``: how long the analysis takes on a realistic run.

Default workload: 4 experiments x 50 timed iterations (+2 warm-up) of a real .pte run by
the host pipeline on the pybind runner, then the full analysis (Inspector once per
ETDump, tables, charts, report). The import of ExecuTorch's devtools is timed apart
because it is a fixed cost paid once per process, not per run.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

from ..errors import UserError
from ..fileio import write_json_atomic
from ..paths import ARTIFACTS_DIR, OUT_DIR, SCRIPTS_DIR, display_path
from ..run_layout import new_run_id

DEFAULT_PTE = ARTIFACTS_DIR / "toy_cnn" / "toy_cnn_fp32.pte"
EPILOG = """examples:
  python scripts/benchmark_analysis.py                      # make a 4 x 50 run of toy_cnn, time its analysis
  python scripts/benchmark_analysis.py --model out/artifacts/vit_tiny/vit_tiny_fp32.pte
  python scripts/benchmark_analysis.py out/runs/20261121-163512   # time the analysis of an existing run
"""


def make_run(pte: Path, experiments: int, runs: int, work: Path) -> Path:
    """A real pipeline run: ``experiments`` pybind experiments of ``runs`` iterations each."""
    if not pte.is_file():
        raise UserError(f"model {display_path(pte)} not found",
                        "python scripts/export_model.py --model toy_cnn --dtype fp32 "
                        "(or pass --model PATH.pte)")
    config = {"model": str(pte), "output_root": str(work / "runs"),
              "experiments": [{"name": f"exp{i + 1}", "runner": "pybind", "mode": "timing",
                               "runs": runs, "warmup": 2, "threads": [1]}
                              for i in range(experiments)]}
    cfg = write_json_atomic(work / "benchmark_config.json", config)
    print(f"running the pipeline: {experiments} experiments x {runs} iterations ...", flush=True)
    proc = subprocess.run([sys.executable, str(SCRIPTS_DIR / "mac_pipeline.py"), "--config",
                           str(cfg), "--no-analyze"], text=True)
    if proc.returncode != 0:
        raise UserError("the benchmark's pipeline run failed (output above)",
                        "check that scripts/mac_pipeline.py runs with the pybind runner")
    return sorted(p for p in (work / "runs").iterdir() if p.is_dir())[-1]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmark_analysis.py", epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     description="Time the analysis of a run with several experiments.")
    parser.add_argument("run_dir", nargs="?", type=Path, help="existing run directory (default: make one)")
    parser.add_argument("--model", type=Path, default=DEFAULT_PTE, help="the .pte to run (default toy_cnn fp32)")
    parser.add_argument("--experiments", type=int, default=4)
    parser.add_argument("--runs", type=int, default=50, help="timed iterations per experiment")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    (OUT_DIR / "benchmarks").mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"analysis-{new_run_id()}-", dir=OUT_DIR / "benchmarks"))
    run_dir = args.run_dir or make_run(args.model, args.experiments, args.runs, work)
    t0 = time.perf_counter()
    import executorch.devtools  # noqa: F401  (fixed cost, timed on its own)
    import_seconds = time.perf_counter() - t0
    from .analyze import analyze_runs

    t1 = time.perf_counter()
    result = analyze_runs([run_dir], out_dir=work / "analysis", progress=not args.json)
    analysis_seconds = time.perf_counter() - t1
    results = result.summary["results"]
    report = {"run_dir": str(run_dir), "results": len(results),
              "iterations_per_result": [r["latency"]["count"] for r in results],
              "import_seconds": round(import_seconds, 3),
              "analysis_seconds": round(analysis_seconds, 3),
              "per_result_seconds": round(analysis_seconds / max(1, len(results)), 3),
              "output": str(result.out_dir)}
    write_json_atomic(work / "benchmark.json", report)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"analysis of {len(results)} results x {report['iterations_per_result']} iterations: "
              f"{analysis_seconds:.2f} s (+ {import_seconds:.1f} s one-time ExecuTorch import)")
        print(f"benchmark written to {display_path(work / 'benchmark.json')}")
    return 0
