"""The run-directory contract shared by the pipelines (writers) and the analysis (reader).

A run directory is ``<output_root>/<run-id>/`` and is never overwritten::

    manifest.json                       see MANIFEST_* below
    config.json                         the config exactly as validated
    model/<stem>.pte, .etrecord, .export.json   the run's own copy of the export (pipeline/inputs.py)
    .lock                               while a process works on the run (pipeline/lock.py)
    <experiment>/t<threads>/etdump.etdp  ETDump: warm-up + timed executions, in order
    <experiment>/t<threads>/runner.log   the runner's stdout and stderr
    <experiment>/t<threads>/kernel_trace.log   only for mode "xnntrace" (XNNPACK log lines)
    <experiment>/t<threads>/round-<k>/   interleaved runs: each round's ETDump and log (rounds.py)
    analysis/                            written by analyze_results.py

Every runner executes ``warmup + runs`` iterations in one process with the ETDump
enabled, so the ETDump holds every execution; the analysis drops the first ``warmup``
ones. That keeps all runners (pybind worker, wheel runner, source-built
``executor_runner``, which has no warm-up flag) on one code path.

manifest.json (schema 1) holds::

    schema, run_id, status ("running" | "complete" | "interrupted" | "failed"),
    started_at, finished_at (ISO 8601 UTC), config_path, config (copy),
    model: {path (the export it came from), sha256, size_bytes, pte (the run's copy),
            etrecord (the run's copy, or null), etrecord_sha256, export (export.json or null),
            export_json, kept_as ("hard link" | "copy")},
    executorch: {version, git_commit},
    host: {os, os_version, machine, cpu_model, cpu_count, cpu_features: {sme, sme2, sve, ...},
           cpu_features_source},
    experiments: [ {name, runner, runner_kind, runner_path, build_info, mode, runs, warmup,
                    threads: [..], cpu (emulated only), emulated (bool), target (host description
                    when the code runs elsewhere: device or emulator), status,
                    results: [ {threads, status, etdump, log, kernel_trace, iterations_ms,
                                wall_seconds, returncode, error, conditions} ] } ],
    schedule: {kind ("blocked" | "interleaved"), rounds, pairs, how},
    cooldown: {max_seconds, margin_c}, conditions_baseline (the run's first reading),
    invocations: [ {index, experiment, threads, round, rounds, timed_runs, started_at,
                    cpu_affinity, affinity_source, cooldown, before, after, returncode,
                    wall_seconds} ]   (pipeline/discipline.py; readings: pipeline/conditions.py)
    analysis: {status ("pending" | "running" | "complete" | "failed" | "interrupted" |
               "skipped"), error, report}   (runs made before it existed lack this key)

Paths inside the manifest are relative to the run directory (``model.path`` and
``export_json`` name where the export came from; runs made before the run kept its own
copy hold absolute paths in ``model.etrecord``). ``status`` of a result and of an
experiment is one of ``pending``, ``running``, ``ok``, ``failed``, ``interrupted``; the
manifest is saved at every change (``pipeline/manifest_check.py`` checks its types).
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sme2prof.fileio import utc_now_iso  # noqa: F401  (re-exported: writers stamp manifests with it)

MANIFEST_NAME = "manifest.json"
CONFIG_COPY_NAME = "config.json"
ETDUMP_NAME = "etdump.etdp"
LOG_NAME = "runner.log"
KERNEL_TRACE_NAME = "kernel_trace.log"
ANALYSIS_DIR_NAME = "analysis"
SCHEMA_VERSION = 1


def new_run_id(now: datetime | None = None, label: str = "") -> str:
    """Sortable, unique-enough run id: ``20261121-163512`` (+ ``-label``)."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{label}" if label else stamp


def result_dir(run_dir: Path, experiment: str, threads: int) -> Path:
    return Path(run_dir) / experiment / f"t{threads}"


def etdump_path(run_dir: Path, experiment: str, threads: int) -> Path:
    return result_dir(run_dir, experiment, threads) / ETDUMP_NAME


def manifest_path(run_dir: Path) -> Path:
    return Path(run_dir) / MANIFEST_NAME


def analysis_dir(run_dir: Path) -> Path:
    return Path(run_dir) / ANALYSIS_DIR_NAME
