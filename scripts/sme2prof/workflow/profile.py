"""``profile_model.py``: from a model name to a validated report in one command.

The short path through the kit, made of the long path's own parts: the exporter (only
when the export is missing or stale by its record, see ``export/freshness.py``), the
runners the set-up checks find on this host (``runner_choice.py``), a config written to
``out/configs/`` and copied into the run (re-run or edit it with ``mac_pipeline.py``),
the host pipeline with its analysis, and ``validate_results.py``'s checks. Exit 0 only
when the run is complete and passes them.

Everything the command learns goes into one ``outcome`` dict, which ``--json`` prints as
is (plus ``exit_code``), so the text and the JSON can never tell different stories.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sme2prof.errors import UserError
from sme2prof.host_info import describe_host
from sme2prof.paths import OUT_DIR, display_path
from sme2prof.workflow import runner_choice
from sme2prof.workflow.stages import run_host_pipeline, validation, validation_line, write_config

CONFIG_DIR = OUT_DIR / "configs"
DEFAULT_RUNS = 20
DEFAULT_WARMUP = 3


@dataclass(frozen=True)
class ProfileRequest:
    model: str
    dtype: str = "fp32"
    runners: tuple[str, ...] = ()          # empty: auto
    threads: tuple[int, ...] = ()          # empty: runner_choice.default_threads
    runs: int = DEFAULT_RUNS
    warmup: int = DEFAULT_WARMUP
    model_args: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def label(self) -> str:
        return f"{self.model}-{self.dtype}"


def profile_model(request: ProfileRequest, outcome: dict) -> int:
    """Export if needed, run, analyse, validate; fills ``outcome`` as it goes; returns the exit code."""
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    try:
        return _profile(request, outcome, seconds)
    finally:
        outcome["seconds"] = {**seconds, "total": round(time.perf_counter() - started, 1)}


def _profile(request: ProfileRequest, outcome: dict, seconds: dict) -> int:
    outcome.update(model=request.model, dtype=request.dtype)
    host = describe_host()
    outcome["host"] = {"platform": host["platform"], "cpu_count": host["cpu_count"],
                       "sme2": bool(host["cpu_features"].get("sme2"))}
    t0 = time.perf_counter()
    pte = ensure_export(request, outcome)
    seconds["export"] = round(time.perf_counter() - t0, 1)
    threads = list(request.threads) or runner_choice.default_threads(host["cpu_count"])
    choice = choose_runners(request, host, threads)
    outcome.update(threads=threads, experiments=choice.experiments, skipped_runners=choice.skipped)
    config = profile_config(request, pte, choice)
    _print_plan(request, host, choice, threads)
    if request.dry_run:
        outcome["config"] = config
        print("dry run: nothing was exported, written or run")
        return 0

    config_path = write_config(CONFIG_DIR / f"{request.label}.json", config)
    code, run_dir = run_host_pipeline(config_path, analyze=True, seconds=seconds)
    if run_dir is None:     # the pipeline refused the config before making a run folder
        raise UserError("the pipeline made no run directory", "see the error above")
    outcome["run_dir"] = str(run_dir)
    outcome.update(_run_summary(run_dir, code))
    outcome["config"] = str(run_dir / "config.json")
    if code != 0:
        return _failed_run(outcome, run_dir, code)
    t0 = time.perf_counter()
    checked = validation(run_dir)
    seconds["validate"] = round(time.perf_counter() - t0, 1)
    outcome["validation"] = checked
    print(validation_line(checked))
    if not checked["ok"]:
        first = checked["failed"][0]
        outcome.update(error=f"the run did not pass validate_results: {first['name']}: {first['message']}",
                       fix=first["fix"] or f"python scripts/validate_results.py {display_path(run_dir)}")
        return 1
    print(f"profiled {request.model} {request.dtype}: run {display_path(run_dir)} passed validate_results")
    print(f"report: {display_path(Path(outcome['report']))}")
    return 0


def ensure_export(request: ProfileRequest, outcome: dict) -> Path:
    """The ``.pte`` the run uses: the existing export when its record matches the model as it
    is now, else a new export (the same files ``export_model.py`` writes)."""
    from sme2prof.export.artifacts import artifact_stem, default_out_dir
    from sme2prof.export.freshness import export_inputs, stale_reason
    from sme2prof.export.model_registry import get_model

    spec = get_model(request.model)           # unknown name: the error names the nearest ones
    pte = default_out_dir(spec.name) / f"{artifact_stem(spec.name, request.dtype)}.pte"
    reason = stale_reason(pte, export_inputs(spec.path, request.dtype, None, request.model_args))
    record = {"pte": str(pte), "exported": False, "reason": reason or "up to date"}
    outcome["export"] = record
    if reason is None:
        print(f"export: {display_path(pte)} is up to date (its record matches {display_path(spec.path)})")
        return pte
    if request.dry_run:
        print(f"export: would export {spec.name} {request.dtype}: {reason}")
        return pte
    print(f"export: exporting {spec.name} {request.dtype}: {reason}", flush=True)
    from sme2prof.export.cli import quiet_library_noise
    from sme2prof.export.exporter import export_model
    quiet_library_noise()
    result = export_model(spec.name, request.dtype, model_args=request.model_args,
                          progress=lambda line: print(f"  {line}", flush=True))
    record.update(exported=True, delegation_coverage=result.delegation_coverage,
                  export_seconds=result.record["export_seconds"])
    print(f"export: {display_path(result.pte_path)} in {result.record['export_seconds']:.0f} s, "
          f"XNNPACK coverage {result.delegation_coverage:.0%}")
    return Path(result.pte_path)


def choose_runners(request: ProfileRequest, host: dict, threads: list[int]) -> runner_choice.RunnerChoice:
    if request.runners:
        return runner_choice.choose_named(list(request.runners), host, request.runs, request.warmup, threads)
    checks = runner_choice.runner_checks(host)
    return runner_choice.choose_auto(host, checks, request.runs, request.warmup, threads)


def profile_config(request: ProfileRequest, pte: Path, choice: runner_choice.RunnerChoice) -> dict:
    """The config the run uses: an ordinary pipeline config (configs/readme.md)."""
    config: dict[str, Any] = {
        "description": f"profile_model.py --model {request.model} --dtype {request.dtype}: "
                       f"{', '.join(choice.names)}",
        "model": display_path(pte), "label": request.label, "experiments": choice.experiments}
    if choice.compare_pairs:
        config["analysis"] = {"compare_pairs": choice.compare_pairs}
    return config


def _print_plan(request: ProfileRequest, host: dict, choice: runner_choice.RunnerChoice,
                threads: list[int]) -> None:
    print(f"profile: {request.model} {request.dtype} on {host['platform']} ({host['cpu_count']} CPUs); "
          f"threads {', '.join(map(str, threads))}; experiments {', '.join(choice.names)}", flush=True)
    for skipped in choice.skipped:
        fix = f" (fix: {skipped['fix']})" if skipped["fix"] else ""
        print(f"  not used: {skipped['runner']}: {skipped['reason']}{fix}", flush=True)


def _run_summary(run_dir: Path, code: int) -> dict:
    """Status, per-result medians and report path, as ``mac_pipeline.py --json`` gives them."""
    from sme2prof.pipeline.cli import json_summary
    summary = json_summary({"run_dir": run_dir}, code)
    return {key: summary[key] for key in ("status", "results", "report")}


def _failed_run(outcome: dict, run_dir: Path, code: int) -> int:
    failed = [r for r in outcome.get("results", []) if r["status"] != "ok"]
    shown = display_path(run_dir)
    if failed:
        first = failed[0]
        headline = (first.get("error") or first["status"]).splitlines()[0]
        outcome["error"] = (f"{len(failed)} result(s) did not finish ok, first {first['experiment']} "
                            f"t{first['threads']}: {headline}")
        outcome["fix"] = (f"read {shown}/{first['experiment']}/t{first['threads']}/runner.log, then "
                          f"python scripts/mac_pipeline.py --resume {shown}")
    else:
        outcome["error"] = f"the analysis of {shown} failed (see the error above)"
        outcome["fix"] = f"python scripts/analyze_results.py {shown}"
    return code
