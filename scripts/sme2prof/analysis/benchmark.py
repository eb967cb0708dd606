"""How long the analysis takes on a realistic run.

Default workload: 4 experiments x 50 timed iterations (+2 warm-up) of a real .pte run by
the host pipeline on the pybind runner, then the full analysis (Inspector once per
ETDump, tables, charts, report). The import of ExecuTorch's devtools is timed apart
because it is a fixed cost paid once per process, not per run.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sme2prof.errors import UserError, print_json
from sme2prof.fileio import write_json_atomic
from sme2prof.paths import ARTIFACTS_DIR, OUT_DIR, SCRIPTS_DIR, display_path
from sme2prof.pipeline.run_layout import new_run_id

DEFAULT_PTE = ARTIFACTS_DIR / "toy_cnn" / "toy_cnn_fp32.pte"


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


def time_analysis(run_dir: Path | None, model: Path, experiments: int, runs: int, as_json: bool) -> int:
    """Make a run unless one is given, then time the import and the analysis apart."""
    (OUT_DIR / "benchmarks").mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"analysis-{new_run_id()}-", dir=OUT_DIR / "benchmarks"))
    run_dir = run_dir or make_run(model, experiments, runs, work)
    t0 = time.perf_counter()
    import executorch.devtools  # noqa: F401  (fixed cost, timed on its own)
    import_seconds = time.perf_counter() - t0
    from sme2prof.analysis.analyze import analyze_runs

    t1 = time.perf_counter()
    result = analyze_runs([run_dir], out_dir=work / "analysis", progress=not as_json)
    analysis_seconds = time.perf_counter() - t1
    results = result.summary["results"]
    report = {"run_dir": str(run_dir), "results": len(results),
              "iterations_per_result": [r["latency"]["count"] for r in results],
              "import_seconds": round(import_seconds, 3),
              "analysis_seconds": round(analysis_seconds, 3),
              "per_result_seconds": round(analysis_seconds / max(1, len(results)), 3),
              "output": str(result.out_dir)}
    write_json_atomic(work / "benchmark.json", report)
    if as_json:
        print_json(report)
    else:
        print(f"analysis of {len(results)} results x {report['iterations_per_result']} iterations: "
              f"{analysis_seconds:.2f} s (+ {import_seconds:.1f} s one-time ExecuTorch import)")
        print(f"benchmark written to {display_path(work / 'benchmark.json')}")
    return 0
