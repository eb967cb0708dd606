"""Find what to analyse: results of run directories (per run_layout) or bare ETDump files.

A "result" is one experiment at one thread count. Its name is what a user types after
``--compare``: ``<experiment>``, or ``<experiment>@t<threads>`` when the experiment ran
several thread counts, prefixed with ``<run-id>/`` when two run directories would
otherwise give the same name. A bare ETDump is named after its file (and its folder when
two files share a name), so the real-run fixtures compare as
``aarch64-qemu-cpu-max-sme/cnn-linear-fp32``.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from sme2prof.pipeline import run_layout
from sme2prof.pipeline.inputs import etrecord_problem
from sme2prof.pipeline.manifest_check import manifest_problems, read_manifest_json
from sme2prof.errors import UserError
from sme2prof.paths import display_path, resolve_repo_path
from sme2prof.analysis.etdump_reader import NAMED_ETRECORD_FIX

ETDUMP_SUFFIXES = (".etdp", ".etdump")
TRACE_SIBLINGS = (".xnntrace.log", ".kernel_trace.log")


@dataclass
class ResultSource:
    """Where one result's files are and what the manifest says about it."""

    name: str
    experiment: str
    threads: int | None
    status: str                       # ok | failed | interrupted | pending
    etdump: Path | None
    etrecord: Path | None
    kernel_trace: Path | None
    warmup: int | None = 0            # None: detect a cold first execution (bare ETDumps)
    etrecord_named: bool = False      # given with --etrecord: unusable is an error, not a note
    runs: int | None = None
    emulated: bool = False
    error: str | None = None
    iterations_ms: list[float] = field(default_factory=list)
    run_dir: Path | None = None
    run_id: str | None = None
    experiment_info: dict = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)


@dataclass
class Inputs:
    sources: list[ResultSource]
    run_dirs: list[Path]
    manifests: dict[str, dict]        # str(run dir) -> manifest
    compare_pairs: list[tuple[str, str]]
    problems: list[str]
    notes: list[str] = field(default_factory=list)    # said once on stderr, not problems


def _in_run(run_dir: Path, rel: str | None) -> Path | None:
    if not rel:
        return None
    p = Path(rel)
    return p if p.is_absolute() else run_dir / p


def _etrecord_for(run_dir: Path, manifest: dict) -> Path | None:
    rel = (manifest.get("model") or {}).get("etrecord")
    if not rel:
        return None
    candidate = _in_run(run_dir, rel)
    if candidate is not None and candidate.exists():
        return candidate
    return resolve_repo_path(rel)


def load_manifest(run_dir: Path) -> dict:
    manifest = read_manifest_json(
        run_dir,
        UserError(f"{display_path(run_dir)} has no {run_layout.MANIFEST_NAME}: not a run directory",
                  "pass a folder made by mac_pipeline.py/android_pipeline.py "
                  "(out/runs/<run-id>/) or an ETDump file"),
        "the pipeline was probably interrupted while writing it; run it again")
    path = run_layout.manifest_path(run_dir)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("experiments"), list):
        raise UserError(f"{display_path(path)} has no 'experiments' list",
                        "it does not follow the run layout (scripts/sme2prof/pipeline/run_layout.py); "
                        "run the pipeline again")
    problems = manifest_problems(manifest)
    if problems:
        raise UserError(f"{display_path(path)} is damaged: {'; '.join(problems)}",
                        "restore the manifest, or run those experiments again with the pipeline")
    return manifest


def sources_from_run(run_dir: Path, manifest: dict) -> list[ResultSource]:
    """One ResultSource per experiment x thread count listed in the manifest."""
    run_id = str(manifest.get("run_id") or run_dir.name)
    etrecord = _etrecord_for(run_dir, manifest)
    out: list[ResultSource] = []
    for exp in manifest["experiments"]:
        name = str(exp.get("name", "?"))
        results = exp.get("results") or []
        threads_listed = exp.get("threads") or [r.get("threads") for r in results]
        several = len(set(threads_listed)) > 1
        if not results:
            out.append(ResultSource(name=name, experiment=name, threads=None,
                                    status=str(exp.get("status", "pending")), etdump=None,
                                    etrecord=etrecord, kernel_trace=None,
                                    error=exp.get("error") or "the experiment has no results",
                                    run_dir=run_dir, run_id=run_id, experiment_info=exp,
                                    manifest=manifest))
            continue
        for res in results:
            threads = res.get("threads")
            etdump = _in_run(run_dir, res.get("etdump"))
            if etdump is None and threads is not None:
                etdump = run_layout.etdump_path(run_dir, name, threads)
            out.append(ResultSource(
                name=f"{name}@t{threads}" if several else name, experiment=name,
                threads=threads, status=str(res.get("status", "pending")), etdump=etdump,
                etrecord=etrecord, kernel_trace=_in_run(run_dir, res.get("kernel_trace")),
                warmup=int(exp.get("warmup") or 0), runs=exp.get("runs"),
                emulated=bool(exp.get("emulated")), error=res.get("error"),
                iterations_ms=[float(v) for v in res.get("iterations_ms") or []],
                run_dir=run_dir, run_id=run_id, experiment_info=exp, manifest=manifest))
    return out


def source_from_etdump(path: Path, etrecord: Path | None, kernel_trace: Path | None,
                       warmup: int | None) -> ResultSource:
    """A bare ETDump (no manifest): pick up '<stem>.etrecord' / '<stem>.xnntrace.log' next to it."""
    etrecord_named = etrecord is not None
    stem = path.name
    for suffix in ETDUMP_SUFFIXES:
        stem = stem.removesuffix(suffix)
    if etrecord is None and (path.parent / f"{stem}.etrecord").is_file():
        etrecord = path.parent / f"{stem}.etrecord"
    if kernel_trace is None:
        for suffix in TRACE_SIBLINGS:
            if (path.parent / f"{stem}{suffix}").is_file():
                kernel_trace = path.parent / f"{stem}{suffix}"
                break
    return ResultSource(name=stem, experiment=stem, threads=None, status="ok", etdump=path,
                        etrecord=etrecord, kernel_trace=kernel_trace, warmup=warmup,
                        etrecord_named=etrecord_named)


def _deduplicate(sources: list[ResultSource]) -> None:
    """Prefix names that collide with their run id (or the ETDump's folder)."""
    seen: dict[str, int] = {}
    for s in sources:
        seen[s.name] = seen.get(s.name, 0) + 1
    for s in sources:
        if seen[s.name] > 1:
            prefix = s.run_id or (s.etdump.parent.name if s.etdump else "")
            s.name = f"{prefix}/{s.name}"


def check_named_files(etrecord: Path | None, kernel_trace: Path | None, warmup: int | None) -> None:
    """Refuse options the user typed that cannot work, before any slow parsing starts."""
    if warmup is not None and warmup < 0:
        raise UserError(f"--warmup {warmup} is negative",
                        "pass the number of executions to drop, 0 or more (e.g. --warmup 2)")
    if etrecord is not None:
        if not etrecord.is_file():
            raise UserError(f"--etrecord {etrecord} " + ("is a folder" if etrecord.is_dir() else "does not exist"),
                            NAMED_ETRECORD_FIX)
        if not zipfile.is_zipfile(etrecord):       # every ETRecord is a zip archive
            raise UserError(f"--etrecord {etrecord} is not an ETRecord (not a zip archive)",
                            NAMED_ETRECORD_FIX)
    if kernel_trace is not None and not kernel_trace.is_file():
        raise UserError(f"--kernel-trace {kernel_trace} "
                        + ("is a folder" if kernel_trace.is_dir() else "does not exist"),
                        "pass the XNNPACK log of an '-xnntrace' runner (xnntrace.log in a result "
                        "folder), or leave --kernel-trace out")


def _unique_paths(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Drop paths naming the same file or folder twice (their results would be doubled)."""
    seen: dict[Path, Path] = {}
    notes = []
    for path in paths:
        key = path.resolve()
        if key in seen:
            twice = "is given twice" if str(path) == str(seen[key]) else f"is the same as {seen[key]}"
            notes.append(f"note: {path} {twice}; analysed once")
            continue
        seen[key] = path
    return list(seen.values()), notes


def collect_inputs(paths: list[Path], etrecord: Path | None = None,
                   kernel_trace: Path | None = None, warmup: int | None = None) -> Inputs:
    """Turn command-line paths into result sources; bad paths raise UserError."""
    if not paths:
        raise UserError("nothing to analyse", "pass a run directory (out/runs/<run-id>) or an ETDump file")
    check_named_files(etrecord, kernel_trace, warmup)
    paths, notes = _unique_paths(paths)
    sources: list[ResultSource] = []
    run_dirs: list[Path] = []
    manifests: dict[str, dict] = {}
    pairs: list[tuple[str, str]] = []
    etdump_files = [p for p in paths if p.is_file()]
    if (etrecord or kernel_trace) and len(etdump_files) != 1:
        raise UserError("--etrecord/--kernel-trace apply to exactly one ETDump file argument",
                        "pass one ETDump file, or put '<name>.etrecord' / '<name>.xnntrace.log' "
                        "next to each ETDump")
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            manifest = load_manifest(path)
            run_dirs.append(path)
            manifests[str(path)] = manifest
            from_run = sources_from_run(path, manifest)
            problem = _etrecord_refused(from_run, manifest)
            if problem:
                problems.append(problem)
            sources.extend(from_run)
            config_pairs = ((manifest.get("config") or {}).get("analysis") or {}).get("compare_pairs") or []
            pairs.extend((str(a), str(b)) for a, b in config_pairs)
        elif path.is_file():
            sources.append(source_from_etdump(path, etrecord, kernel_trace, warmup))
        else:
            raise UserError(f"{path} does not exist",
                            "pass a run directory (out/runs/<run-id>) or an ETDump file; "
                            "ls out/runs/ lists the runs")
    _deduplicate(sources)
    return Inputs(sources=sources, run_dirs=run_dirs, manifests=manifests,
                  compare_pairs=list(dict.fromkeys(pairs)), problems=problems, notes=notes)


def _etrecord_refused(sources: list[ResultSource], manifest: dict) -> str | None:
    """A run's ETRecord that is not the one the run was made with is not used (see pipeline/inputs.py)."""
    etrecord = next((s.etrecord for s in sources if s.etrecord is not None), None)
    problem = etrecord_problem(etrecord, manifest.get("model") or {}) if etrecord and etrecord.is_file() else None
    if problem:
        for source in sources:
            source.etrecord = None
    return problem
