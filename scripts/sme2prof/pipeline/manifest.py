"""Create, update and read ``manifest.json`` (schema in ``run_layout``).

Why its own module: the manifest is the record a user (and the analysis) trusts after
the fact, so it is written atomically after every state change. A crash or Ctrl-C
therefore always leaves a manifest that says what finished and what did not, which is
what ``--resume`` reads.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sme2prof.pipeline import run_layout
from sme2prof.errors import UserError
from sme2prof.fileio import writable_dir_problem, write_json_atomic
from sme2prof.paths import display_path
from sme2prof.pipeline.config import Experiment
from sme2prof.pipeline.manifest_check import manifest_problems, read_manifest_json
from sme2prof.runners.spec import ResolvedRunner

ITERATION_RE = re.compile(r"Iteration (\d+) of (\d+): ([0-9.eE+-]+) ms")


def experiment_entry(experiment: Experiment, runner: ResolvedRunner) -> dict:
    entry: dict[str, Any] = {
        "name": experiment.name, "runner": experiment.runner, "runner_kind": runner.kind,
        "runner_path": str(runner.binary) if runner.binary else " ".join(runner.command_prefix),
        "build_info": runner.build_info, "mode": experiment.mode, "runs": experiment.runs,
        "warmup": experiment.warmup, "threads": list(experiment.threads),
        "sme2": experiment.sme2, "emulated": runner.emulated, "target": runner.target,
        "status": "pending", "results": []}
    if experiment.cpu is not None:
        entry["cpu"] = experiment.cpu
    for threads in experiment.threads:
        entry["results"].append(pending_result(experiment, threads))
    return entry


def pending_result(experiment: Experiment, threads: int) -> dict:
    rel = Path(experiment.name) / f"t{threads}"
    return {"threads": threads, "status": "pending",
            "etdump": str(rel / run_layout.ETDUMP_NAME), "log": str(rel / run_layout.LOG_NAME),
            "kernel_trace": str(rel / run_layout.KERNEL_TRACE_NAME) if experiment.mode == "xnntrace" else None,
            "iterations_ms": [], "wall_seconds": None, "returncode": None, "error": None,
            "started_at": None, "finished_at": None}


def parse_iterations(log_text: str) -> list[float]:
    """Every ``Iteration i of N: X ms`` line, in order (warm-up included)."""
    return [float(m.group(3)) for m in ITERATION_RE.finditer(log_text)]


def refresh_statuses(manifest: dict) -> None:
    """Experiment status from its results: ok only when all are ok."""
    for exp in manifest["experiments"]:
        states = {r["status"] for r in exp["results"]}
        for state in ("interrupted", "failed", "pending"):
            if state in states:
                exp["status"] = state
                break
        else:
            exp["status"] = "ok"


def failed_results(manifest: dict) -> list[tuple[str, dict]]:
    return [(e["name"], r) for e in manifest["experiments"] for r in e["results"] if r["status"] != "ok"]


def save(run_dir: Path, manifest: dict) -> None:
    refresh_statuses(manifest)
    write_json_atomic(run_layout.manifest_path(run_dir), manifest)


def load(run_dir: Path) -> dict:
    manifest = read_manifest_json(
        run_dir,
        UserError(f"not a run directory (no manifest.json): {run_dir}",
                  "pass a folder under out/runs/ that an earlier pipeline run created"),
        "resume only runs whose manifest.json is intact; start a new run instead")
    path = run_layout.manifest_path(run_dir)
    problems = manifest_problems(manifest)
    if problems:
        raise UserError(f"{display_path(path)} is damaged: {'; '.join(problems)}",
                        "resume only runs whose manifest.json is intact (restore it, or start a new run "
                        "with --config)")
    if manifest.get("schema") != run_layout.SCHEMA_VERSION:
        raise UserError(f"{display_path(path)} has manifest schema {manifest.get('schema')!r}, "
                        f"this kit writes {run_layout.SCHEMA_VERSION}", "start a new run instead of --resume")
    return manifest


def check_output_root(root: Path, create: bool = True) -> None:
    """Fail before running anything when the output root cannot hold a run directory.

    A dry run (``create=False``) checks the same without creating the folder.
    """
    problem = writable_dir_problem(root, create=create)
    if problem is not None:
        raise UserError(f"output root is not writable: {root} ({problem})",
                        "set \"output_root\" in the config to a writable folder, e.g. out/runs")


def create_run_dir(root: Path, label: str = "") -> tuple[str, Path]:
    """A brand-new run folder; never reuses one, even for two runs in the same second."""
    base = run_layout.new_run_id(label=label)
    for attempt in range(1000):
        run_id = base if attempt == 0 else f"{base}-{attempt + 1}"
        path = root / run_id
        try:
            path.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            continue
        return run_id, path
    raise UserError(f"could not create a new run folder under {root}", "remove stale test folders from it")
