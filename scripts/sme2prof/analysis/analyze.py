"""Run the whole analysis: sources → per-result numbers → comparisons → files.

Partial analysis is the rule, not the exception: a failed experiment, an unreadable
ETDump or a foreign ETRecord becomes a line under "Problems" and every other result is
still analysed. Only when nothing at all can be analysed does it stop with a UserError.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from sme2prof.pipeline import run_layout
from sme2prof.pipeline.lock import RunLock
from sme2prof.errors import UserError
from sme2prof.fileio import read_json, write_json_atomic, write_text_atomic
from sme2prof.paths import OUT_DIR, display_path
from sme2prof.analysis import charts
from sme2prof.analysis.compare import check_same_model, compare as compare_results, resolve_pairs
from sme2prof.analysis.exports import write_exports
from sme2prof.analysis.etdump_reader import NamedFileUnusable, etdump_problem, read_etdump
from sme2prof.analysis.findings import comparison_findings, partition_findings, result_findings
from sme2prof.analysis import kernel_diff
from sme2prof.analysis.kernel_trace import parse_file
from sme2prof.analysis.records import to_json
from sme2prof.analysis.report import render_report
from sme2prof.analysis.run_conditions import run_conditions_lines
from sme2prof.analysis.result_analysis import ResultAnalysis, analyse_result
from sme2prof.analysis.rows import ChartFile, RunEntry, Summary, SummaryFiles
from sme2prof.analysis.sources import Inputs, ResultSource, collect_inputs
from sme2prof.analysis.tables import write_tables

SUMMARY_NAME = "summary.json"
REPORT_NAME = "report.md"
SUMMARY_SCHEMA = 1


@dataclass
class AnalysisResult:
    """What analyze_runs produced; ``summary`` is exactly what summary.json holds (its JSON form)."""

    out_dir: Path
    summary: dict
    report_path: Path
    files: list[Path] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return self.summary["problems"]


def _say(progress: bool, text: str) -> None:
    if progress:
        print(text, file=sys.stderr, flush=True)


def _analyse_source(src: ResultSource, problems: list[str]) -> ResultAnalysis:
    if src.status != "ok":
        problems.append(f"{src.name}: experiment status '{src.status}'"
                        + (f" ({src.error})" if src.error else "")
                        + " — left out; run that experiment again to include it")
        return analyse_result(src, None, None)
    data = None
    try:
        data = read_etdump(src.etdump, src.etrecord, src.warmup, src.etrecord_named)
    except NamedFileUnusable:
        raise
    except UserError as exc:
        problems.append(f"{src.name}: {exc.message} — {exc.fix}")
    trace = None
    if src.kernel_trace is not None:
        if src.kernel_trace.is_file():
            trace = parse_file(src.kernel_trace)
            if not trace.kernels:
                problems.append(f"{src.name}: kernel trace {display_path(src.kernel_trace)} names no "
                                f"microkernel — the runner needs XNNPACK logging at level 4 or more "
                                f"(an '-xnntrace' runner build)")
        else:
            problems.append(f"{src.name}: kernel trace {display_path(src.kernel_trace)} is missing")
    return analyse_result(src, data, trace)


def _export_info(run_dir: Path, model: dict) -> dict:
    export = model.get("export")
    if isinstance(export, dict):
        return export
    if isinstance(export, str):
        for candidate in (run_dir / export, Path(export)):
            if candidate.is_file():
                try:
                    return read_json(candidate)
                except (ValueError, OSError):
                    return {}
    return {}


def _run_entries(inputs: Inputs) -> list[RunEntry]:
    """Provenance of each run directory, straight from its manifest."""
    entries = []
    for run_dir in inputs.run_dirs:
        m = inputs.manifests[str(run_dir)]
        model = dict(m.get("model") or {})
        model["export"] = _export_info(run_dir, model)
        entries.append(RunEntry(run_id=m.get("run_id") or run_dir.name, run_dir=str(run_dir),
                                status=m.get("status"), started_at=m.get("started_at"),
                                finished_at=m.get("finished_at"), model=model,
                                executorch=m.get("executorch"), host=m.get("host")))
    return entries


def default_analysis_dir(inputs: Inputs) -> Path:
    """One run dir: <run>/analysis/. Anything else: out/analysis/<timestamp>/ (never shared)."""
    if len(inputs.run_dirs) == 1 and all(s.run_dir == inputs.run_dirs[0] for s in inputs.sources):
        return run_layout.analysis_dir(inputs.run_dirs[0])
    base = OUT_DIR / "analysis" / run_layout.new_run_id()
    candidate, n = base, 1
    while candidate.exists():          # two analyses in one second: never share a folder
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def _out_label(out_dir: Path, named_by_user: bool) -> str:
    """Name the folder as the user knows it: the --out they typed, or the default they got."""
    return f"--out {out_dir}" if named_by_user else f"the analysis folder {display_path(out_dir)}"


def check_out_dir(out_dir: Path, run_dirs: list[Path], named_by_user: bool = True) -> None:
    """Refuse to write where files that are not an earlier analysis already live."""
    label = _out_label(out_dir, named_by_user)
    elsewhere = "pass another folder with --out" if named_by_user else \
        "move or rename it, or write the analysis elsewhere with --out out/analysis/<name>"
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{label} is a file, not a folder", elsewhere)
    blocker = next((d for d in out_dir.parents if d.exists()), None)
    if not out_dir.exists() and blocker is not None and not blocker.is_dir():
        raise UserError(f"{label} cannot be created: {blocker} is a file", elsewhere)
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / SUMMARY_NAME).exists():
        raise UserError(f"{display_path(out_dir)} already holds files that are not an analysis",
                        "pass an empty or new folder with --out")
    for run_dir in run_dirs:
        if out_dir.resolve() == run_dir.resolve():
            raise UserError("--out must not be a run directory itself",
                            f"use {display_path(run_layout.analysis_dir(run_dir))} or a new folder")


def make_out_dir(out_dir: Path, named_by_user: bool) -> list[Path]:
    """Create the output folder now (before minutes of parsing); return the folders created.

    Why this early: an unwritable --out (a read-only disk, /proc, no permission) must fail
    in a second, not after the whole analysis.
    """
    created = [d for d in (out_dir, *out_dir.parents) if not d.exists()]
    label = _out_label(out_dir, named_by_user)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create {label}: {exc.strerror or exc}",
                        "pass a folder you can write to with --out, e.g. --out out/analysis/mine") from None
    if not os.access(out_dir, os.W_OK):
        raise UserError(f"cannot write into {label}: permission denied",
                        "pass a folder you can write to with --out, e.g. --out out/analysis/mine")
    return created


def remove_created(created: list[Path]) -> None:
    """Undo make_out_dir when nothing was written: a failed analysis leaves no empty folder."""
    for folder in created:           # deepest first
        try:
            folder.rmdir()
        except OSError:
            return


def _earlier_analysis_files(out: Path) -> set[str]:
    """Files an earlier analysis in ``out`` wrote (from its summary.json), to replace them."""
    try:
        files = read_json(out / SUMMARY_NAME).get("files") or {}
    except (OSError, ValueError, AttributeError):
        return set()
    names = set(files.get("tables") or []) | {c.get("file") for c in files.get("charts") or []}
    return {n for n in names if isinstance(n, str) and "/" not in n and n}


def analyze_runs(run_dirs: list[Path], compare_pairs: list[tuple[str, str]] | None = None,
                 out_dir: Path | None = None, *, etrecord: Path | None = None,
                 kernel_trace: Path | None = None, warmup: int | None = None,
                 charts_enabled: bool = True, progress: bool = False,
                 compare: list[tuple[str, str]] | None = None) -> AnalysisResult:
    """Analyse run directories (or ETDump files) and write summary, CSVs, charts, report.

    ``compare`` (or ``compare_pairs``) lists (A, B) result names; A is measured against
    baseline B. Without it, the manifest's ``analysis.compare_pairs`` are used.
    ``warmup`` applies to bare ETDump files (run directories use their manifest's);
    None drops a cold first execution when there is one (``stats.cold_first``).
    """
    started = time.perf_counter()
    inputs = collect_inputs([Path(p) for p in run_dirs], etrecord, kernel_trace, warmup)
    pairs = compare if compare is not None else compare_pairs
    names = [s.name for s in inputs.sources]
    experiments: dict[str, list[tuple[str, int | None]]] = {}
    for s in inputs.sources:
        experiments.setdefault(s.experiment, []).append((s.name, s.threads))
    resolved = resolve_pairs(list(pairs) if pairs else inputs.compare_pairs, names, experiments)
    runs = _run_entries(inputs)     # reads each run's export record once, for the check and the summary
    exports = {r.run_id: r.model.get("export") or {} for r in runs}
    run_of = {s.name: s.run_id for s in inputs.sources}
    for a, b in resolved:           # before minutes of parsing: refuse a meaningless ratio now
        check_same_model(a, run_of[a], b, run_of[b], exports)
    out = Path(out_dir) if out_dir else default_analysis_dir(inputs)
    check_out_dir(out, inputs.run_dirs, named_by_user=out_dir is not None)
    for note in inputs.notes:
        _say(progress, note)

    with _lock_run_of(out, inputs.run_dirs):
        earlier_files = _earlier_analysis_files(out)
        if earlier_files:
            _say(progress, f"replacing the earlier analysis in {display_path(out)}")
        created = make_out_dir(out, named_by_user=out_dir is not None)
        try:
            return _analyse_and_write(inputs, runs, exports, resolved, out, earlier_files, charts_enabled, progress,
                                      started)
        except BaseException:
            remove_created(created)
            raise


def _lock_run_of(out: Path, run_dirs: list[Path]) -> contextlib.AbstractContextManager:
    """Writing <run>/analysis/ is writing into the run: hold its lock (pipeline/lock.py), so an
    analysis never replaces files a running pipeline (or another analysis) is writing."""
    for run_dir in run_dirs:
        if out.resolve() == run_layout.analysis_dir(run_dir).resolve():
            return RunLock(run_dir, "analysis")
    return contextlib.nullcontext()


def _has_readable_etdump(src: ResultSource) -> bool:
    return src.status == "ok" and src.etdump is not None and etdump_problem(src.etdump) is None


def _analyse_and_write(inputs: Inputs, runs: list[RunEntry], exports: dict[str | None, dict],
                       resolved: list[tuple[str, str]], out: Path,
                       earlier_files: set[str], charts_enabled: bool, progress: bool,
                       started: float) -> AnalysisResult:
    problems: list[str] = list(inputs.problems)
    if any(_has_readable_etdump(s) for s in inputs.sources):   # else the Inspector is not needed
        t0 = time.perf_counter()
        _say(progress, "loading ExecuTorch's Inspector (once per process) ...")
        import executorch.devtools  # noqa: F401  (the slow part of a first analysis)
        _say(progress, f"loaded in {time.perf_counter() - t0:.1f} s")
    analyses: list[ResultAnalysis] = []
    for i, src in enumerate(inputs.sources, 1):
        t0 = time.perf_counter()
        analyses.append(_analyse_source(src, problems))
        _say(progress, f"[{i}/{len(inputs.sources)}] {src.name}: {time.perf_counter() - t0:.2f} s")
    if not any(a.data is not None or a.latency.count for a in analyses):
        raise UserError("nothing could be analysed: " + "; ".join(problems),
                        "fix the problems above (usually: run the failed experiments again)")
    by_name = {a.name: a for a in analyses}
    comparisons = []
    diff_lines = []
    for a, b in resolved:
        if by_name[a].data is None or by_name[b].data is None:
            problems.append(f"comparison {a} vs {b} skipped: one side has no ETDump data")
            continue
        t0 = time.perf_counter()
        comparisons.append(compare_results(by_name[a], by_name[b]))
        diff_lines += kernel_diff.kernel_diff(comparisons[-1], by_name[a], by_name[b])
        _say(progress, f"compared {a} with {b} (intervals: bootstrap) in {time.perf_counter() - t0:.2f} s")
    for a in analyses:
        if a.data is not None and a.data.warmup_note:
            _say(progress, f"{a.name}: {a.data.warmup_note}")

    results = [a.summary(exports.get(a.source.run_id, {}).get("model")) for a in analyses]
    findings = [f for r in results for f in result_findings(r)]
    findings += [f for r in results for f in partition_findings(r, exports.get(r.run_id))]
    findings += [f for c in comparisons for f in comparison_findings(c)]

    chart_files = []
    if charts_enabled:
        for fname, title, fn in (("latency.png", "End-to-end latency", charts.latency_chart),
                                 ("categories.png", "Operator time by category", charts.category_chart),
                                 ("top_operators.png", "Top operators", charts.top_operators_chart)):
            if fn(results, out / fname):
                chart_files.append(ChartFile(file=fname, title=title))
        for i, c in enumerate(comparisons, 1):
            fname = f"compare_{i}.png"
            if charts.comparison_chart(c, out / fname):
                chart_files.append(ChartFile(file=fname, title=f"{c.a} vs {c.b}"))
    tables = write_tables(results, comparisons, out, {a.name: a.latency_values for a in analyses}) \
        + write_exports(analyses, out)
    diff_csv = kernel_diff.write_kernel_diff(diff_lines, out)
    tables += [diff_csv] if diff_csv else []
    summary = Summary(
        schema=SUMMARY_SCHEMA, generated_at=run_layout.utc_now_iso(),
        analysis_seconds=0.0, runs=runs, results=results,
        comparisons=comparisons, findings=findings, problems=problems,
        files=SummaryFiles(tables=[p.name for p in tables], charts=chart_files,
                           report=REPORT_NAME, summary=SUMMARY_NAME))
    summary.analysis_seconds = time.perf_counter() - started
    report_path = write_text_atomic(out / REPORT_NAME,
                                    render_report(summary, run_conditions_lines(runs, inputs.manifests),
                                                  kernel_diff.report_section(diff_lines)))
    summary_json = to_json(summary)
    summary_path = write_json_atomic(out / SUMMARY_NAME, summary_json)
    files = [summary_path, report_path, *tables, *[out / c.file for c in chart_files]]
    for stale in earlier_files - {f.name for f in files}:
        (out / stale).unlink(missing_ok=True)     # e.g. compare_3.png of a pair no longer asked for
    return AnalysisResult(out_dir=out, summary=summary_json, report_path=report_path, files=files)
