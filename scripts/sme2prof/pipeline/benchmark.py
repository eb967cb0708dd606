"""What the pipeline costs, and whether the runners agree.

Two numbers a user should know before trusting a profile, both measured in one run:

* pipeline overhead: the whole pipeline's wall time against the sum of the iterations
  it measured (process start, model load, torch import for pybind, ETDump writing);
* runner agreement: the ``pybind`` runner's per-iteration median against the ``wheel``
  runner's on the same model, same thread count (Python call overhead per iteration).

Not a test: it times things. Results go to ``out/benchmarks/pipeline-<id>.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sme2prof.pipeline import run_layout
from sme2prof.errors import UserError
from sme2prof.fileio import write_json_atomic
from sme2prof.host_info import describe_host
from sme2prof.paths import ARTIFACTS_DIR, OUT_DIR, SCRIPTS_DIR, display_path

def ensure_model(model: str, dtype: str) -> Path:
    pte = ARTIFACTS_DIR / model / f"{model}_{dtype}.pte"
    if not pte.is_file():
        from sme2prof.export.exporter import export_model
        print(f"exporting {model} {dtype} (not found at {display_path(pte)}) ...", flush=True)
        pte = Path(export_model(model, dtype).pte_path)
    return pte


def benchmark_pipeline(args: argparse.Namespace) -> int:
    """Run the interleaved pybind/wheel config once and summarise what it cost."""
    from sme2prof.runners.wheel_build import find_wheel_runner
    find_wheel_runner()  # UserError with the build command when it is missing: the ratio needs it
    pte = ensure_model(args.model, args.dtype)
    bench_dir = OUT_DIR / "benchmarks"
    bench_id = run_layout.new_run_id()
    work = bench_dir / f"pipeline-{bench_id}"
    work.mkdir(parents=True, exist_ok=True)
    config = {"model": str(pte), "output_root": str(work / "runs"), "label": "benchmark",
              "experiments": [{"name": f"{r}_r{i}", "runner": r, "runs": args.runs, "warmup": args.warmup,
                               "threads": [args.threads]}
                              for i in range(1, args.rounds + 1) for r in ("pybind", "wheel")]}
    config_path = work / "config.json"
    write_json_atomic(config_path, config)
    print(f"running the pipeline on {display_path(pte)}: {args.rounds} x (pybind, wheel), {args.warmup} "
          f"warm-up + {args.runs} timed, {args.threads} thread(s) ...", flush=True)
    load_before = _load_average()
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, str(SCRIPTS_DIR / "mac_pipeline.py"), "--config", str(config_path),
                           "--no-analyze"], text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise UserError(f"the pipeline failed (exit {proc.returncode})", "see its output above")
    run_dir = next(p for p in sorted((work / "runs").iterdir()) if p.is_dir())
    manifest = json.loads(run_layout.manifest_path(run_dir).read_text())
    result = summarize(manifest, wall, pte, args)
    result["load_average_1min"] = {"before": load_before, "after": _load_average()}
    out = args.out or bench_dir / f"pipeline-{bench_id}.json"
    write_json_atomic(out, result)
    print_result(result)
    print(f"written: {display_path(out)}")
    return 0


def summarize(manifest: dict, wall: float, pte: Path, args: argparse.Namespace) -> dict:
    timed: dict[str, list[float]] = {"pybind": [], "wheel": []}
    process_seconds: dict[str, float] = {"pybind": 0.0, "wheel": 0.0}
    all_iterations = 0.0
    for exp in manifest["experiments"]:
        res = exp["results"][0]
        timed[exp["runner"]] += res["iterations_ms"][exp["warmup"]:]
        process_seconds[exp["runner"]] += res["wall_seconds"]
        all_iterations += sum(res["iterations_ms"])
    runners = {name: {"median_ms": statistics.median(values), "min_ms": min(values),
                      "timed_iterations": len(values),
                      "process_wall_seconds": round(process_seconds[name], 3)}
               for name, values in timed.items()}
    return {"benchmark": "pipeline", "model": str(pte), "dtype": args.dtype, "runs": args.runs,
            "warmup": args.warmup, "threads": args.threads, "rounds": args.rounds,
            "run_id": manifest["run_id"], "host": describe_host(),
            "pipeline_wall_seconds": round(wall, 3),
            "iterations_sum_seconds": round(all_iterations / 1000.0, 6),
            "wall_over_iterations": round(wall / (all_iterations / 1000.0), 1) if all_iterations else None,
            "pybind_median_over_wheel_median": round(runners["pybind"]["median_ms"] / runners["wheel"]["median_ms"], 3),
            "runners": runners}


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def print_result(result: dict) -> None:
    print(f"\npipeline wall time        {result['pipeline_wall_seconds']:.2f} s")
    print(f"sum of measured iterations {result['iterations_sum_seconds']:.4f} s "
          f"(wall / iterations = {result['wall_over_iterations']}x)")
    for name, r in result["runners"].items():
        print(f"{name:<7} median {r['median_ms']:.4f} ms over {r['timed_iterations']} timed iterations, "
              f"runner processes {r['process_wall_seconds']:.2f} s")
    load = result.get("load_average_1min") or {}
    print(f"load average (1 min) before/after: {load.get('before')} / {load.get('after')} "
          "(ratios from a busy machine are noisy)")
    print(f"pybind median / wheel median = {result['pybind_median_over_wheel_median']}")
