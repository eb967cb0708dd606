"""Orchestration shared by the host pipeline and the Android pipeline.

Why one module for both: the only real difference between profiling on this machine
and on a phone is how a command reaches the CPU and how files come back. That lives in
a ``Transport`` (``transport.py``; ``HostTransport`` here, ``AndroidTransport`` in ``android.py``); the
steps around it, validate everything, resolve and guard runners, make a new run
directory, run warm-up + timed iterations per experiment and thread count, keep the
manifest current, survive Ctrl-C and crashes, resume, are the same code.
"""
from __future__ import annotations

import os
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sme2prof.pipeline import manifest as mf
from sme2prof.pipeline import run_layout
from sme2prof.errors import EXIT_INTERRUPTED
from sme2prof.pipeline.config import Config, Experiment, check_model_file, load_config, output_root, validate_config
from sme2prof.pipeline.transport import Job, Transport, TransportLost
from sme2prof.errors import UserError
from sme2prof.fileio import read_json, sha256_file, write_json_atomic, write_text_atomic
from sme2prof.host_info import describe_host, executorch_version
from sme2prof.paths import display_path
from sme2prof.runners.spec import ResolvedRunner, runner_flags
from sme2prof.runners.resolve import check_target, check_variant_platform, guard_runner_mode, resolve_runner

LOG_TAIL_LINES = 8
LOG_TAIL_LEAD = "; last log lines:"
EXIT_FAILED_RESULTS = 1
PIPELINE_SCRIPTS = {"host": "scripts/mac_pipeline.py", "android": "scripts/android_pipeline.py"}


class HostTransport:
    """Runs runners as child processes of this machine (a ``Transport``)."""

    kind = "host"
    script = PIPELINE_SCRIPTS[kind]

    def describe(self) -> dict:
        return describe_host()

    def check_runner_name(self, experiment: Experiment) -> None:
        """Every runner kind can run on the host; resolution checks the platform."""

    def check_runner(self, runner: ResolvedRunner, target: dict) -> None:
        check_target(runner, target)

    def prepare(self, runners: list[ResolvedRunner], model: Path, run_id: str) -> None:
        """Nothing to copy: the runner reads the model where it is."""

    def plan_lines(self, runners: list[ResolvedRunner], model: Path) -> list[str]:
        return []

    def command(self, job: Job, model: Path, result_dir: Path) -> list[str]:
        return job.runner.command_prefix + runner_flags(
            model, result_dir / run_layout.ETDUMP_NAME, job.num_executions, job.threads)

    def execute(self, job: Job, model: Path, result_dir: Path, log_file: Path) -> int:
        env = {**os.environ, **job.runner.env}
        return run_logged(self.command(job, model, result_dir), log_file, env,
                          job.experiment.timeout_seconds)

    def kernel_trace_extra(self, job: Job) -> str:
        return ""


def run_logged(argv: list[str], log_file: Path, env: dict | None, timeout: float) -> int:
    """Run argv with stdout+stderr into log_file; Ctrl-C and timeouts stop the child too."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        log.write(("$ " + shlex.join(argv) + "\n").encode())
        log.flush()
        try:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                    stdin=subprocess.DEVNULL)
        except OSError as exc:
            log.write(f"could not start runner: {exc}\n".encode())
            return 127
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(proc)
            log.write(f"\nstopped by the pipeline after {timeout} s (timeout_seconds)\n".encode())
            return -9
        except BaseException:
            _stop(proc)
            raise


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The runner's last lines; the ``$ command`` line ``run_logged`` writes first is not the runner's."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    printed = [line for line in text.strip().splitlines() if line.strip() and not line.startswith("$ ")]
    return "\n".join(printed[-lines:])


def with_log_tail(problem: str, log_file: Path) -> str:
    """A result's error: the problem on the first line, then what the runner printed last."""
    tail = log_tail(log_file)
    return f"{problem}{LOG_TAIL_LEAD}\n{tail}" if tail else f"{problem} (the runner printed nothing)"


@dataclass
class Plan:
    config: Config
    config_path: Path
    model: Path
    target: dict
    jobs: list[Job]
    runners: list[ResolvedRunner]


def build_plan(config: Config, config_path: Path, transport: Transport) -> Plan:
    """Everything checked before anything runs: runner platforms, model, runners, guards.

    Runner names are checked against the target first: a config for another machine
    is refused with that reason, not with "export the model" or "build the runner".
    """
    target = transport.describe()
    for experiment in config.experiments:
        transport.check_runner_name(experiment)
        check_variant_platform(experiment, target, display_path(config_path))
    model = check_model_file(config)
    jobs: list[Job] = []
    runners: list[ResolvedRunner] = []
    for experiment in config.experiments:
        runner = resolve_runner(experiment, target)
        transport.check_runner(runner, target)
        features = (runner.target or {}).get("cpu_features") or target.get("cpu_features")
        guard_runner_mode(experiment, runner, features)
        runners.append(runner)
        for threads in experiment.threads:
            jobs.append(Job(experiment, runner, threads, mf.pending_result(experiment, threads)))
    warn_about_threads(config, target, transport.kind)
    return Plan(config, config_path, model, target, jobs, runners)


def warn_about_threads(config: Config, target: dict, kind: str) -> None:
    """More threads than CPUs is allowed (a phone may have more cores than the host that
    validates its config) but measures contention, so say so when the CPU count is known."""
    cpus = target.get("cpu_count")
    if not cpus:
        return
    where = "this device" if kind == "android" else "this host"
    for experiment in config.experiments:
        most = max(experiment.threads)
        if most > cpus:
            print(f"warning: experiment {experiment.name!r} asks for {most} threads; {where} has {cpus} CPUs "
                  "(threads beyond the CPU count compete for cores and slow each other down)", flush=True)


def run_pipeline(config_file: str | None, transport: Transport, *, dry_run: bool = False,
                 resume: str | None = None, analyze: bool = True, outcome: dict | None = None) -> int:
    """Validate, run every experiment x thread count, write the run directory; return exit code.

    ``outcome``, when given, receives ``run_dir`` (or, for a dry run, ``plan``: the
    commands that would run) so a caller can report on the run without guessing its id.
    """
    outcome = {} if outcome is None else outcome
    if resume:
        run_dir = Path(resume).resolve()
        outcome["run_dir"] = run_dir
        stored = mf.load(run_dir)
        if stored.get("pipeline", transport.kind) != transport.kind:
            raise UserError(f"run {stored.get('run_id')} was made by the {stored['pipeline']} pipeline",
                            f"python {PIPELINE_SCRIPTS.get(stored['pipeline'], 'the script that made it')} "
                            f"--resume {display_path(run_dir)}")
        config = validate_config(read_json(run_dir / run_layout.CONFIG_COPY_NAME),
                                 display_path(run_dir / run_layout.CONFIG_COPY_NAME))
        plan = build_plan(config, Path(stored.get("config_path") or run_dir), transport)
        if dry_run:
            outcome["plan"] = plan_commands(plan, transport, run_dir)
        return _resume(plan, run_dir, stored, transport, dry_run, analyze)
    if not config_file:
        raise UserError("no config given", "pass --config FILE, e.g. --config configs/examples/linux_quickstart.json")
    config = load_config(config_file)
    plan = build_plan(config, Path(config_file).resolve(), transport)
    root = output_root(config)
    if dry_run:
        print_plan(plan, transport, root / "<run-id>")
        outcome["plan"] = plan_commands(plan, transport, root / "<run-id>")
        return 0
    mf.check_output_root(root)
    run_id, run_dir = mf.create_run_dir(root, config.label)
    outcome["run_dir"] = run_dir
    write_json_atomic(run_dir / run_layout.CONFIG_COPY_NAME, config.to_json())
    manifest = _new_manifest(run_id, plan, transport)
    _attach_results(plan, manifest)
    mf.save(run_dir, manifest)
    return _execute(plan, run_dir, manifest, transport, analyze)


def _new_manifest(run_id: str, plan: Plan, transport: Transport) -> dict:
    entries = []
    for experiment, runner in zip(plan.config.experiments, plan.runners):
        entries.append(mf.experiment_entry(experiment, runner))
    return {"schema": run_layout.SCHEMA_VERSION, "run_id": run_id, "status": "running",
            "pipeline": transport.kind, "started_at": run_layout.utc_now_iso(), "finished_at": None,
            "config_path": str(plan.config_path), "config": plan.config.to_json(),
            "model": mf.model_description(plan.model), "executorch": executorch_version(),
            "host": plan.target, "experiments": entries}


def _attach_results(plan: Plan, manifest: dict) -> None:
    """Point each job at its result dict inside the manifest, so updates land there."""
    by_name = {e["name"]: e for e in manifest["experiments"]}
    for job in plan.jobs:
        results = by_name[job.experiment.name]["results"]
        job.result = next(r for r in results if r["threads"] == job.threads)


def _resume(plan: Plan, run_dir: Path, manifest: dict, transport: Transport, dry_run: bool,
            analyze: bool) -> int:
    sha = sha256_file(plan.model)
    if manifest.get("model", {}).get("sha256") != sha:
        raise UserError(f"the model file changed since run {manifest.get('run_id')} started: {plan.model}",
                        "start a new run (without --resume); a run must use one model")
    _attach_results(plan, manifest)
    todo = [job for job in plan.jobs if job.result["status"] != "ok"]
    if dry_run:
        print_plan(plan, transport, run_dir, only=todo)
        return 0
    if not todo:
        print(f"nothing to resume: every result in {display_path(run_dir)} is ok")
        return 0
    for job in todo:
        _keep_previous_attempt(run_dir, job)
        job.result.update(mf.pending_result(job.experiment, job.threads))
    manifest["status"] = "running"
    manifest.setdefault("resumed_at", []).append(run_layout.utc_now_iso())
    mf.save(run_dir, manifest)
    print(f"resuming {display_path(run_dir)}: {len(todo)} of {len(plan.jobs)} results to run")
    return _execute(plan, run_dir, manifest, transport, analyze, jobs=todo)


def _keep_previous_attempt(run_dir: Path, job: Job) -> None:
    """Move an unfinished attempt's files aside (never delete anything) before re-running it."""
    folder = run_layout.result_dir(run_dir, job.experiment.name, job.threads)
    files = [p for p in folder.glob("*") if p.is_file()] if folder.is_dir() else []
    if not files:
        return
    n = 1
    while (folder / f"attempt-{n}").exists():
        n += 1
    keep = folder / f"attempt-{n}"
    keep.mkdir()
    for path in files:
        path.rename(keep / path.name)


def plan_commands(plan: Plan, transport: Transport, run_dir: Path) -> list[dict]:
    """The runner command of every job, as data (for --json dry runs)."""
    return [{"experiment": job.experiment.name, "threads": job.threads, "env": dict(job.runner.env),
             "command": transport.command(job, plan.model,
                                          run_layout.result_dir(run_dir, job.experiment.name, job.threads))}
            for job in plan.jobs]


def print_plan(plan: Plan, transport: Transport, run_dir: Path, only: list[Job] | None = None) -> None:
    jobs = plan.jobs if only is None else only
    print(f"plan: {len(jobs)} runner invocations on {plan.target.get('description') or plan.target.get('platform')}, "
          f"model {display_path(plan.model)} (dry run: nothing is written)")
    for line in transport.plan_lines(plan.runners, plan.model):
        print(f"  {line}")
    for job in jobs:
        folder = run_layout.result_dir(run_dir, job.experiment.name, job.threads)
        print(f"  [{job.label}] {job.experiment.warmup} warm-up + {job.experiment.runs} timed:")
        env = "".join(f"{key}={shlex.quote(value)} " for key, value in job.runner.env.items())
        print(f"    {env}{shlex.join(transport.command(job, plan.model, folder))}")


def _execute(plan: Plan, run_dir: Path, manifest: dict, transport: Transport, analyze: bool,
             jobs: list[Job] | None = None) -> int:
    jobs = plan.jobs if jobs is None else jobs
    print(f"run {manifest['run_id']}: {len(jobs)} runner invocations -> {display_path(run_dir)}", flush=True)
    started = time.perf_counter()
    try:
        transport.prepare(plan.runners, plan.model, manifest["run_id"])
        for index, job in enumerate(jobs, 1):
            _run_job(job, index, len(jobs), plan.model, run_dir, transport)
            mf.save(run_dir, manifest)
    except KeyboardInterrupt:
        for job in jobs:
            if job.result["status"] in ("pending", "running"):
                job.result["status"] = "interrupted"
                job.result["error"] = job.result["error"] or "interrupted by Ctrl-C"
        _finish(run_dir, manifest, "interrupted")
        print(f"\ninterrupted: finished results kept in {display_path(run_dir)}", flush=True)
        print(f"  continue with: python {transport.script} --resume {display_path(run_dir)}", flush=True)
        return EXIT_INTERRUPTED
    except TransportLost as exc:
        for job in jobs:
            if job.result["status"] == "running":
                log_file = run_dir / job.result["log"]
                job.result["status"] = "failed"
                job.result["error"] = with_log_tail(str(exc), log_file)
                print(f"{job.label}: FAILED ({exc})", flush=True)
            elif job.result["status"] == "pending":
                job.result["status"] = "failed"
                job.result["error"] = f"not run: {exc}"
        _finish(run_dir, manifest, "failed")
        print(f"error: {exc}; earlier results kept in {display_path(run_dir)}", flush=True)
        print(f"  fix: reconnect, then python {transport.script} --resume {display_path(run_dir)}", flush=True)
        return EXIT_FAILED_RESULTS
    failures = mf.failed_results(manifest)
    _finish(run_dir, manifest, "failed" if failures else "complete")
    _print_summary(manifest, run_dir, time.perf_counter() - started)
    code = EXIT_FAILED_RESULTS if failures else 0
    if analyze:
        code = max(code, _analyze(run_dir))
    return code


def _run_job(job: Job, index: int, total: int, model: Path, run_dir: Path, transport: Transport) -> None:
    exp = job.experiment
    folder = run_layout.result_dir(run_dir, exp.name, job.threads)
    folder.mkdir(parents=True, exist_ok=True)
    log_file = folder / run_layout.LOG_NAME
    print(f"[{index}/{total}] {job.label}: {job.runner.name}, {exp.warmup} warm-up + {exp.runs} "
          f"timed iterations ...", flush=True)
    job.result["status"] = "running"
    job.result["started_at"] = run_layout.utc_now_iso()
    start = time.perf_counter()
    try:
        returncode = transport.execute(job, model, folder, log_file)
    finally:
        job.result["wall_seconds"] = round(time.perf_counter() - start, 4)
        job.result["finished_at"] = run_layout.utc_now_iso()
    job.result["returncode"] = returncode
    log_text = log_file.read_text(encoding="utf-8", errors="replace") if log_file.is_file() else ""
    job.result["iterations_ms"] = mf.parse_iterations(log_text)
    if exp.mode == "xnntrace":
        trace = [line for line in log_text.splitlines() if "XNNPACK" in line]
        write_text_atomic(folder / run_layout.KERNEL_TRACE_NAME,
                          "\n".join(trace) + "\n" + transport.kernel_trace_extra(job))
    job.result["error"] = _result_problem(job, returncode, folder, log_file)
    job.result["status"] = "failed" if job.result["error"] else "ok"
    if job.result["error"]:
        first, *tail = job.result["error"].splitlines()
        print(f"[{index}/{total}] {job.label}: FAILED ({error_headline(first)}); "
              f"log {display_path(log_file)}", flush=True)
        if tail:
            print("    last log lines:\n" + "\n".join(f"    | {line}" for line in tail), flush=True)
    else:
        timed = job.result["iterations_ms"][exp.warmup:]
        print(f"[{index}/{total}] {job.label}: ok, median {statistics.median(timed):.3f} ms (runner clock) "
              f"over {len(timed)} timed iterations (wall {job.result['wall_seconds']:.1f} s)", flush=True)


def _result_problem(job: Job, returncode: int, folder: Path, log_file: Path) -> str | None:
    etdump = folder / run_layout.ETDUMP_NAME
    found = len(job.result["iterations_ms"])
    if returncode != 0:
        problem = f"runner exited with code {returncode}"
    elif not etdump.is_file() or etdump.stat().st_size == 0:
        problem = "runner finished but wrote no ETDump"
    elif found != job.num_executions:
        problem = f"expected {job.num_executions} 'Iteration i of N' lines in the log, found {found}"
    else:
        return None
    return with_log_tail(problem, log_file)


def error_headline(error: str) -> str:
    """The first line of a result's error, without the lead-in to the log lines below it."""
    return error.splitlines()[0].removesuffix(LOG_TAIL_LEAD)


def _finish(run_dir: Path, manifest: dict, status: str) -> None:
    manifest["status"] = status
    manifest["finished_at"] = run_layout.utc_now_iso()
    mf.save(run_dir, manifest)


def _print_summary(manifest: dict, run_dir: Path, seconds: float) -> None:
    print(f"\nsummary ({seconds:.1f} s):")
    for exp in manifest["experiments"]:
        for result in exp["results"]:
            timed = result["iterations_ms"][exp["warmup"]:]
            detail = (f"median {statistics.median(timed):.3f} ms (runner clock)" if result["status"] == "ok" and timed
                      else error_headline(result["error"]) if result["error"] else "")
            print(f"  {exp['name']:<24} t{result['threads']:<3} {result['status']:<11} {detail}")
    print(f"run directory: {display_path(run_dir)} (status {manifest['status']})", flush=True)


def _analyze(run_dir: Path) -> int:
    """Analyse the finished run; the report path is the last line printed."""
    from sme2prof.analysis import analyze_runs  # here, not at the top: --no-analyze runs never pay for it
    print("analysing the run (ETDumps -> operator tables, charts, report) ...", flush=True)
    started = time.perf_counter()
    try:
        result = analyze_runs([run_dir])
    except UserError as exc:
        print(f"error: analysis failed: {exc.message}", file=sys.stderr)
        if exc.fix:
            print(f"  fix: {exc.fix}", file=sys.stderr)
        return EXIT_FAILED_RESULTS
    print(f"analysis done in {time.perf_counter() - started:.1f} s", flush=True)
    print(f"report: {display_path(result.report_path)}", flush=True)
    return 0
