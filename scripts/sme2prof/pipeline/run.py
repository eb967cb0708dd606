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
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sme2prof.pipeline import conditions, inputs, lock, rounds
from sme2prof.pipeline import manifest as mf
from sme2prof.pipeline import run_layout
from sme2prof.errors import (EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, UserError, describe_interrupt, finishing,
                             note_run_dir, signals_as_interrupts, silence_stdout, user_error_from_os_error)
from sme2prof.pipeline.affinity import check_affinity, job_affinity
from sme2prof.pipeline.config import Config, Experiment, check_model_file, load_config, output_root, validate_config
from sme2prof.pipeline.discipline import Discipline
from sme2prof.pipeline.transport import Job, Transport, TransportLost
from sme2prof.export.pte_check import check_pte
from sme2prof.fileio import read_json, write_json_atomic, write_text_atomic
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
    pins_cores = False

    def describe(self) -> dict:
        return describe_host()

    def check_runner_name(self, experiment: Experiment) -> None:
        """Every runner kind can run on the host (resolution checks the platform); pinning is for phones."""
        if experiment.cpu_affinity is not None:
            raise UserError(f"experiment {experiment.name!r} sets \"cpu_affinity\", which pins a phone's cores "
                            f"(scripts/android_pipeline.py); {self.script} does not pin",
                            f"remove \"cpu_affinity\" from experiment {experiment.name!r}, or run the config "
                            "with scripts/android_pipeline.py")

    def read_conditions(self) -> dict:
        if sys.platform != "linux":
            return conditions.unavailable(f"not read on {sys.platform} (Linux /sys only)")
        return conditions.read_local_snapshot()

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
    """Run argv with stdout+stderr into log_file; Ctrl-C, SIGTERM, SIGHUP and timeouts stop it too.

    The child gets a process group of its own, so stopping it stops whatever it started
    as well (a runner under an emulator, a worker's helpers) and a Ctrl-C in the terminal
    reaches only the pipeline, which then stops the child and saves the manifest. It
    inherits the run's lock (``lock.held_fds``): a runner that outlives a killed
    pipeline keeps the run locked until it ends.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        log.write(("$ " + shlex.join(argv) + "\n").encode())
        log.flush()
        try:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                    stdin=subprocess.DEVNULL, start_new_session=True,
                                    pass_fds=lock.held_fds())
        except OSError as exc:
            log.write(f"could not start runner: {exc}\n".encode())
            return 127
        try:
            lock.note_child(proc.pid, argv)
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(proc)
            log.write(f"\nstopped by the pipeline after {timeout} s (timeout_seconds)\n".encode())
            return -9
        except BaseException as exc:
            _stop(proc)
            if isinstance(exc, KeyboardInterrupt):
                log.write(f"\nstopped by the pipeline: interrupted ({describe_interrupt(exc)})\n".encode())
            raise


def _stop(proc: subprocess.Popen) -> None:
    """Stop the child's whole process group: SIGTERM, then SIGKILL after 5 s; wait for it."""
    with finishing():
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, None)):
            try:
                os.killpg(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        try:                               # the group may outlive its leader by a moment
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


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


def build_plan(config: Config, config_path: Path, transport: Transport, model: Path | None = None) -> Plan:
    """Everything checked before anything runs: runner platforms, model, runners, guards.

    Runner names are checked against the target first: a config for another machine
    is refused with that reason, not with "export the model" or "build the runner".
    ``model`` (a resumed run's own copy) replaces the config's model path.
    """
    target = transport.describe()
    for experiment in config.experiments:
        transport.check_runner_name(experiment)
        check_variant_platform(experiment, target, display_path(config_path))
    model = model or check_model_file(config)
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
    check_affinity(config, target)
    if transport.pins_cores:
        for job in jobs:
            job.cpu_affinity, job.affinity_source = job_affinity(job.experiment, job.threads, target)
    check_pte(model)                  # last: a config for another machine is refused for that first
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
    commands that would run) so a caller can report on the run without guessing its id,
    and ``seconds``: how long the runs and the analysis took, each timed where it happens.
    The run directory is locked (``lock.py``) from before its manifest is read until the
    analysis is written; the run's model is its own copy (``inputs.py``).
    """
    outcome = {} if outcome is None else outcome
    with signals_as_interrupts():
        if resume:
            run_dir = Path(resume).resolve()
            outcome["run_dir"] = run_dir
            note_run_dir(run_dir)
            if dry_run:
                return _resume(_resumable(run_dir, transport, outcome, dry_run), transport, dry_run, analyze)
            with lock.RunLock(run_dir, "resume"):
                return _resume(_resumable(run_dir, transport, outcome, dry_run), transport, dry_run, analyze)
        if not config_file:
            raise UserError("no config given", "pass --config FILE, e.g. --config configs/examples/linux_toy_cnn_fp32.json")
        config = load_config(config_file)
        plan = build_plan(config, Path(config_file).resolve(), transport)
        root = output_root(config)
        if dry_run:
            mf.check_output_root(root, create=False)
            print_plan(plan, transport, root / "<run-id>")
            outcome["plan"] = plan_commands(plan, transport, root / "<run-id>")
            return 0
        mf.check_output_root(root)
        run_id, run_dir = mf.create_run_dir(root, config.label)
        outcome["run_dir"] = run_dir
        note_run_dir(run_dir)
        with lock.RunLock(run_dir, "run"):
            model_block = inputs.take_inputs(plan.model, run_dir)
            for note in model_block.pop("notes"):
                print(f"warning: {note}", flush=True)
            plan.model = run_dir / model_block["pte"]
            write_json_atomic(run_dir / run_layout.CONFIG_COPY_NAME, config.to_json())
            manifest = _new_manifest(run_id, plan, transport, model_block)
            _attach_results(plan, manifest)
            mf.save(run_dir, manifest)
            return _execute(plan, run_dir, manifest, transport, analyze, outcome=outcome)


@dataclass
class Resumable:
    plan: Plan
    run_dir: Path
    manifest: dict


def _resumable(run_dir: Path, transport: Transport, outcome: dict, dry_run: bool) -> Resumable:
    """The stored run, checked: its manifest, its config copy (agreeing with the manifest), its model."""
    stored = mf.load(run_dir)
    if stored.get("pipeline", transport.kind) != transport.kind:
        raise UserError(f"run {stored.get('run_id')} was made by the {stored['pipeline']} pipeline",
                        f"python {PIPELINE_SCRIPTS.get(stored['pipeline'], 'the script that made it')} "
                        f"--resume {display_path(run_dir)}")
    config = _stored_config(run_dir, stored)
    own = inputs.run_model(run_dir, stored.get("model") or {})   # None: a run from before runs kept one
    if own is not None and not own.is_file():
        raise UserError(f"run {display_path(run_dir)} has lost its copy of the model ({own.name})",
                        "the results so far are kept; start a new run with --config")
    plan = build_plan(config, Path(stored.get("config_path") or run_dir), transport, model=own)
    inputs.check_unchanged(plan.model, (stored.get("model") or {}).get("sha256"), run_dir)
    if dry_run:
        outcome["plan"] = plan_commands(plan, transport, run_dir)
    return Resumable(plan, run_dir, stored)


def _stored_config(run_dir: Path, stored: dict) -> Config:
    """The run's config.json, validated, and naming the same experiments as the manifest."""
    path = run_dir / run_layout.CONFIG_COPY_NAME
    fix = (f"the run folder is incomplete or was edited; start a new run: python {PIPELINE_SCRIPTS['host']} "
           f"--config {stored.get('config_path') or '<config>'}")
    try:
        data = read_json(path)
    except FileNotFoundError:
        raise UserError(f"run {display_path(run_dir)} has no {run_layout.CONFIG_COPY_NAME}", fix) from None
    except (OSError, ValueError) as exc:
        raise UserError(f"unreadable {display_path(path)}: {exc}", fix) from None
    config = validate_config(data, display_path(path))
    stored_plan = [(e.get("name"), e.get("runner"), e.get("mode"), e.get("runs"), e.get("warmup"),
                    list(e.get("threads") or [])) for e in stored["experiments"]]
    config_plan = [(e.name, e.runner, e.mode, e.runs, e.warmup, list(e.threads)) for e in config.experiments]
    if stored_plan != config_plan:
        differ = next((f"{a[0]!r}" for a, b in zip(stored_plan, config_plan) if a != b), None) or \
            f"{len(config_plan)} experiments in {run_layout.CONFIG_COPY_NAME}, {len(stored_plan)} in the manifest"
        raise UserError(f"{display_path(path)} and the manifest of the run disagree ({differ}): "
                        "one of them was edited", fix)
    return config


def _new_manifest(run_id: str, plan: Plan, transport: Transport, model_block: dict) -> dict:
    entries = []
    for experiment, runner in zip(plan.config.experiments, plan.runners):
        entries.append(mf.experiment_entry(experiment, runner))
    return {"schema": run_layout.SCHEMA_VERSION, "run_id": run_id, "status": "running",
            "pipeline": transport.kind, "started_at": run_layout.utc_now_iso(), "finished_at": None,
            "config_path": str(plan.config_path), "config": plan.config.to_json(),
            "model": model_block, "executorch": executorch_version(),
            "host": plan.target, "schedule": rounds.describe(plan.config), "conditions_baseline": None,
            "invocations": [], "experiments": entries, "analysis": {"status": "pending"}}


def _attach_results(plan: Plan, manifest: dict) -> None:
    """Point each job at its result dict inside the manifest, so updates land there."""
    by_name = {e["name"]: e for e in manifest["experiments"]}
    for job in plan.jobs:
        results = by_name[job.experiment.name]["results"]
        job.result = next(r for r in results if r["threads"] == job.threads)


def _resume(resumable: Resumable, transport: Transport, dry_run: bool, analyze: bool) -> int:
    plan, run_dir, manifest = resumable.plan, resumable.run_dir, resumable.manifest
    _attach_results(plan, manifest)
    damaged = {id(job): problem for job in plan.jobs if job.result["status"] == "ok"
               for problem in [result_files_problem(run_dir, job)] if problem}
    todo = [job for job in plan.jobs if job.result["status"] != "ok" or id(job) in damaged]
    redo_analysis = analyze and not todo and not analysis_done(run_dir, manifest)
    if dry_run:
        print_plan(plan, transport, run_dir, only=todo)
        return 0
    for job in todo:
        if id(job) in damaged:
            print(f"note: {job.label} was ok, but {damaged[id(job)]}: running it again", flush=True)
    if not todo and not redo_analysis:
        print(f"nothing to resume: every result in {display_path(run_dir)} is ok"
              + ("" if analyze or analysis_done(run_dir, manifest) else
                 " (the analysis is not done: run without --no-analyze, or analyze_results.py)"))
        return 0
    for job in todo:
        _keep_previous_attempt(run_dir, job)
        job.result.update(mf.pending_result(job.experiment, job.threads))
    manifest["status"] = "running"
    manifest.setdefault("resumed_at", []).append(run_layout.utc_now_iso())
    mf.save(run_dir, manifest)
    if todo:
        print(f"resuming {display_path(run_dir)}: {len(todo)} of {len(plan.jobs)} results to run", flush=True)
    else:
        print(f"resuming {display_path(run_dir)}: every result is ok; the analysis is missing or out of "
              "date: redoing it", flush=True)
    return _execute(plan, run_dir, manifest, transport, analyze, jobs=todo)


def result_files_problem(run_dir: Path, job: Job) -> str | None:
    """Why an ok result's files cannot be trusted any more (deleted, truncated), or None."""
    from sme2prof.analysis.etdump_reader import etdump_problem   # header check only: no Inspector

    result = job.result
    for key in ("log", "kernel_trace") if job.experiment.mode == "xnntrace" else ("log",):
        path = run_dir / result[key] if result.get(key) else None
        if path is None or not path.is_file():
            return f"its {key.replace('_', ' ')} {result.get(key)} is missing"
    problem = etdump_problem(run_dir / result["etdump"])
    return problem.message.replace(str(run_dir) + os.sep, "") if problem else None


def analysis_done(run_dir: Path, manifest: dict) -> bool:
    """Did an analysis of this run finish? (Runs made before the manifest recorded it: summary.json.)"""
    state = (manifest.get("analysis") or {}).get("status")
    summary = run_layout.analysis_dir(run_dir) / "summary.json"
    return summary.is_file() and state in (None, "complete")


def _keep_previous_attempt(run_dir: Path, job: Job) -> None:
    """Move an unfinished attempt's files aside (never delete anything) before re-running it."""
    folder = run_layout.result_dir(run_dir, job.experiment.name, job.threads)
    files = [p for p in folder.glob("*") if p.is_file() or p.name.startswith("round-")] if folder.is_dir() else []
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
    return [{"experiment": job.experiment.name, "threads": job.threads, "round": job.round, "rounds": job.rounds,
             "cpu_affinity": job.cpu_affinity, "env": dict(job.runner.env),
             "command": transport.command(job, plan.model, rounds.invocation_dir(run_dir, job))}
            for job in rounds.schedule(plan.jobs, plan.config)]


def print_plan(plan: Plan, transport: Transport, run_dir: Path, only: list[Job] | None = None) -> None:
    jobs = rounds.schedule(plan.jobs if only is None else only, plan.config)
    print(f"plan: {len(jobs)} runner invocations on {plan.target.get('description') or plan.target.get('platform')}, "
          f"model {display_path(plan.model)} (dry run: nothing is written)")
    if plan.config.analysis.interleave_rounds > 1:
        print(f"  schedule: {rounds.describe(plan.config)['how']}")
    for line in transport.plan_lines(plan.runners, plan.model):
        print(f"  {line}")
    for job in jobs:
        folder = rounds.invocation_dir(run_dir, job)
        pinned = f", pinned to cores {job.cpu_affinity}" if job.cpu_affinity is not None else ""
        print(f"  [{job.label}] {job.experiment.warmup} warm-up + {job.timed_runs} "
              f"timed{pinned}:")
        env = "".join(f"{key}={shlex.quote(value)} " for key, value in job.runner.env.items())
        print(f"    {env}{shlex.join(transport.command(job, plan.model, folder))}")


def _execute(plan: Plan, run_dir: Path, manifest: dict, transport: Transport, analyze: bool,
             jobs: list[Job] | None = None, outcome: dict | None = None) -> int:
    """Run the jobs (then the analysis), saving the manifest at every change of state.

    However it ends, the manifest says so: Ctrl-C/SIGTERM/SIGHUP and a closed stdout
    stop the runner and save "interrupted"; a lost phone, a changed model file, a full
    disk stop the run with the results so far kept and the way to continue.
    """
    jobs = plan.jobs if jobs is None else jobs
    hint = f"python {transport.script} --resume {display_path(run_dir)}"
    try:
        started = time.perf_counter()
        invocations = rounds.schedule(jobs, plan.config)
        discipline = Discipline(transport, plan.config, manifest)
        manifest.setdefault("schedule", rounds.describe(plan.config))   # runs made before it was recorded
        if jobs:
            print(f"run {manifest['run_id']}: {len(invocations)} runner invocations -> {display_path(run_dir)}",
                  flush=True)
            transport.prepare(plan.runners, plan.model, manifest["run_id"])
        for index, job in enumerate(invocations, 1):
            inputs.check_unchanged(plan.model, (manifest.get("model") or {}).get("sha256"), run_dir)
            if job.round == 1:
                job.result["status"] = "running"
                job.result["started_at"] = run_layout.utc_now_iso()
                job.result["wall_seconds"] = None
            elif job.result["status"] != "running":
                continue                                  # an earlier round failed: the result is failed
            record = discipline.before(job)
            mf.save(run_dir, manifest)
            returncode, seconds = _run_job(job, index, len(invocations), plan.model, run_dir, transport)
            discipline.after(job, record, returncode, seconds)
            mf.save(run_dir, manifest)
        failures = mf.failed_results(manifest)
        if not analyze:
            manifest["analysis"] = {"status": "skipped"}
        _finish(run_dir, manifest, "failed" if failures else "complete")
        seconds = {"run": round(time.perf_counter() - started, 1)}
        if outcome is not None:
            outcome["seconds"] = seconds
        if jobs:
            _print_summary(manifest, run_dir, seconds["run"])
        code = EXIT_FAILED_RESULTS if failures else 0
        if analyze:
            analysis_started = time.perf_counter()
            code = max(code, _analyze(run_dir, manifest))
            seconds["analysis"] = round(time.perf_counter() - analysis_started, 1)
        return code
    except KeyboardInterrupt as exc:
        _stopped(run_dir, manifest, jobs, f"interrupted by {describe_interrupt(exc)}")
        _say(f"\ninterrupted ({describe_interrupt(exc)}): finished results kept in {display_path(run_dir)}",
             f"  continue with: {hint}")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _stopped(run_dir, manifest, jobs, "interrupted: the output pipe was closed")
        silence_stdout()
        print(f"interrupted: stdout was closed (a '| head'?); finished results kept in {display_path(run_dir)}\n"
              f"  continue with: {hint}", file=sys.stderr, flush=True)
        return EXIT_BROKEN_PIPE
    except TransportLost as exc:
        for job in jobs:
            if job.result["status"] == "running":
                log_file = run_dir / job.result["log"]
                job.result["status"] = "failed"
                job.result["error"] = with_log_tail(str(exc), log_file)
                _say(f"{job.label}: FAILED ({exc})")
            elif job.result["status"] == "pending":
                job.result["status"] = "failed"
                job.result["error"] = f"not run: {exc}"
        _finish(run_dir, manifest, "failed")
        _say(f"error: {exc}; earlier results kept in {display_path(run_dir)}",
             f"  fix: reconnect, then {hint}")
        return EXIT_FAILED_RESULTS
    except inputs.ModelChanged:
        _stopped(run_dir, manifest, jobs, "not run: the model file changed", status="failed")
        raise
    except OSError as exc:
        error = user_error_from_os_error(exc)
        if error is None:
            raise
        try:
            _stopped(run_dir, manifest, jobs, f"stopped: {error.message}")
        except OSError:
            pass                                   # the disk is still full: the last saved manifest stands
        raise UserError(f"{error.message}; the run stopped, finished results are kept in {display_path(run_dir)}",
                        f"{error.fix.removesuffix(', then run the command again')}, then {hint}") from None


def _stopped(run_dir: Path, manifest: dict, jobs: list[Job], reason: str, status: str = "interrupted") -> None:
    """Mark what did not finish (jobs, the analysis) and save the manifest, whatever signal comes next."""
    with finishing():
        for job in jobs:
            if job.result["status"] in ("pending", "running"):
                job.result["status"] = "interrupted"
                job.result["error"] = job.result["error"] or reason
        if (manifest.get("analysis") or {}).get("status") == "running":
            manifest["analysis"] = {"status": "interrupted", "error": reason}
        _finish(run_dir, manifest, status)


def _say(*lines: str) -> None:
    """Print to stdout, or to stderr once stdout is gone (a closed pipe)."""
    for line in lines:
        try:
            print(line, flush=True)
        except BrokenPipeError:
            silence_stdout()
            print(line, file=sys.stderr, flush=True)


def _run_job(job: Job, index: int, total: int, model: Path, run_dir: Path,
             transport: Transport) -> tuple[int, float]:
    """Run one invocation (a result, or one round of it) and update its result; (exit code, seconds)."""
    exp = job.experiment
    folder = rounds.invocation_dir(run_dir, job)
    folder.mkdir(parents=True, exist_ok=True)
    log_file = folder / run_layout.LOG_NAME
    timed_runs = job.timed_runs
    pinned = f", cores {job.cpu_affinity}" if job.cpu_affinity is not None else ""
    print(f"[{index}/{total}] {job.label}: {job.runner.name}, {exp.warmup} warm-up + {timed_runs} "
          f"timed iterations{pinned} ...", flush=True)
    start = time.perf_counter()
    try:
        returncode = transport.execute(job, model, folder, log_file)
    finally:
        seconds = round(time.perf_counter() - start, 4)
        job.result["wall_seconds"] = round((job.result.get("wall_seconds") or 0) + seconds, 4)
        job.result["finished_at"] = run_layout.utc_now_iso()
    job.result["returncode"] = returncode
    log_text = log_file.read_text(encoding="utf-8", errors="replace") if log_file.is_file() else ""
    iterations = mf.parse_iterations(log_text)
    job.result["iterations_ms"] = iterations
    if exp.mode == "xnntrace":
        trace = [line for line in log_text.splitlines() if "XNNPACK" in line]
        write_text_atomic(folder / run_layout.KERNEL_TRACE_NAME,
                          "\n".join(trace) + "\n" + transport.kernel_trace_extra(job))
    job.result["error"] = _result_problem(job, returncode, folder, log_file)
    if job.result["error"] is None and job.round < job.rounds:
        print(f"[{index}/{total}] {job.label}: ok, median {statistics.median(iterations[exp.warmup:]):.3f} ms "
              f"(runner clock) over {timed_runs} timed iterations", flush=True)
        return returncode, seconds                     # the result stays "running" until its last round
    if job.result["error"] is None and job.rounds > 1:
        try:
            job.result["iterations_ms"] = rounds.join_rounds(run_dir, job)
        except (OSError, RuntimeError, ValueError) as exc:  # a round's files unreadable, flatc failed
            job.result["error"] = f"could not join the {job.rounds} rounds into one ETDump: {exc}"
    job.result["status"] = "failed" if job.result["error"] else "ok"
    if job.result["error"]:
        first, *tail = job.result["error"].splitlines()
        print(f"[{index}/{total}] {job.label}: FAILED ({error_headline(first)}); "
              f"log {display_path(log_file)}", flush=True)
        if tail:
            print("    last log lines:\n" + "\n".join(f"    | {line}" for line in tail), flush=True)
    else:
        timed = job.result["iterations_ms"][exp.warmup:]
        joined = f", {job.rounds} rounds joined" if job.rounds > 1 else ""
        print(f"[{index}/{total}] {job.label}: ok, median {statistics.median(timed):.3f} ms (runner clock) "
              f"over {len(timed)} timed iterations{joined} (wall {job.result['wall_seconds']:.1f} s)", flush=True)
    return returncode, seconds


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


def _analyze(run_dir: Path, manifest: dict) -> int:
    """Run the analysis, its state kept in the manifest; the report path is the last line printed.

    An analysis cut short (Ctrl-C) leaves ``analysis.status`` "interrupted" (and the run
    "interrupted"), so ``--resume`` redoes it.
    """
    from sme2prof.analysis import analyze_runs  # here, not at the top: --no-analyze runs never pay for it
    manifest["analysis"] = {"status": "running", "started_at": run_layout.utc_now_iso()}
    mf.save(run_dir, manifest)
    print("analysing the run (ETDumps -> operator tables, charts, report) ...", flush=True)
    started = time.perf_counter()
    try:
        result = analyze_runs([run_dir])
    except UserError as exc:
        manifest["analysis"] = {"status": "failed", "error": exc.message}
        mf.save(run_dir, manifest)
        print(f"error: analysis failed: {exc.message}", file=sys.stderr)
        if exc.fix:
            print(f"  fix: {exc.fix}", file=sys.stderr)
        return EXIT_FAILED_RESULTS
    manifest["analysis"] = {"status": "complete", "report": str(Path(result.report_path).relative_to(run_dir)),
                            "problems": len(result.problems), "finished_at": run_layout.utc_now_iso()}
    mf.save(run_dir, manifest)
    print(f"analysis done in {time.perf_counter() - started:.1f} s", flush=True)
    for res in result.summary["results"]:       # "the" latency, as the report and --json give it
        latency = (res.get("latency") or {}).get("median_ms")
        if latency is not None:
            print(f"  {res['name']:<24} latency {latency:.3f} ms (median of the ETDump's Method::execute)",
                  flush=True)
    print(f"report: {display_path(result.report_path)}", flush=True)
    return 0
