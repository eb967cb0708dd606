"""Is a run directory complete, and is its analysis up to date?

Each check says what is missing and the command that produces it, so a person (or an
agent following a skill file) can fix a run without reading the code.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from sme2prof.pipeline import run_layout
from sme2prof.errors import UserError
from sme2prof.fileio import read_json
from sme2prof.paths import display_path
from sme2prof.analysis.analyze import REPORT_NAME, SUMMARY_NAME
from sme2prof.analysis.etdump_reader import etdump_problem
from sme2prof.analysis.sources import load_manifest
from sme2prof.pipeline.manifest_check import manifest_problems

MAX_CHART_BYTES = 200_000
MAX_CHART_WIDTH = 1280


@dataclass
class RunCheck:
    name: str
    ok: bool
    message: str
    fix: str = ""


def png_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from a PNG header, or None when the file is not a PNG."""
    with open(path, "rb") as handle:
        head = handle.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


def _run_checks(run_dir: Path, manifest: dict) -> list[RunCheck]:
    shown = display_path(run_dir)
    resume = f"python scripts/mac_pipeline.py --resume {shown} (android_pipeline.py for a phone run)"
    checks = [RunCheck("manifest", True, f"{run_layout.MANIFEST_NAME} readable (schema {manifest.get('schema')})")]
    missing_keys = [k for k in ("schema", "run_id", "status", "config", "model", "experiments")
                    if k not in manifest]
    if missing_keys:
        checks.append(RunCheck("manifest keys", False, f"manifest lacks {', '.join(missing_keys)}",
                            "the run was made by an older or interrupted pipeline; run it again"))
    for problem in manifest_problems(manifest, strict=True):
        checks.append(RunCheck("manifest fields", False, problem,
                            "the manifest was edited or damaged: restore it, or run the experiment again"))
    status = manifest.get("status")
    checks.append(RunCheck("run status", status == "complete", f"run status is '{status}'",
                        "" if status == "complete" else resume))
    if not (run_dir / run_layout.CONFIG_COPY_NAME).is_file():
        checks.append(RunCheck("config copy", False, f"{run_layout.CONFIG_COPY_NAME} missing",
                            "the pipeline writes it at the start of a run; run the pipeline again"))
    for exp in manifest.get("experiments") or []:
        name = exp.get("name", "?")
        results = exp.get("results") or []
        if not results:
            checks.append(RunCheck(f"{name}", False, "experiment has no results", resume))
        for res in results:
            label = f"{name} t{res.get('threads')}"
            if res.get("status") != "ok":
                err = f": {res['error']}" if res.get("error") else ""
                checks.append(RunCheck(f"{label} status", False, f"result status '{res.get('status')}'{err}", resume))
                continue
            for key, required in (("etdump", True), ("log", True),
                                  ("kernel_trace", exp.get("mode") == "xnntrace")):
                rel = res.get(key)
                if not rel and not required:
                    continue
                path = run_dir / rel if rel else None
                ok = bool(path and path.is_file() and path.stat().st_size > 0)
                what = display_path(path) if path else f"{key} (not recorded)"
                message = f"{what} {'present' if ok else 'missing or empty'}"
                if ok and key == "etdump":      # the analysis' own check: header and size
                    problem = etdump_problem(path)
                    ok = problem is None
                    message = f"{what} present and complete" if ok else problem.message
                checks.append(RunCheck(f"{label} {key}", ok, message, "" if ok else resume))
    return checks


def _analysis_checks(run_dir: Path, manifest: dict) -> list[RunCheck]:
    out = run_layout.analysis_dir(run_dir)
    fix = f"python scripts/analyze_results.py {display_path(run_dir)}"
    summary_path = out / SUMMARY_NAME
    if not summary_path.is_file():
        return [RunCheck("analysis", False, f"{display_path(summary_path)} missing", fix)]
    try:
        summary = read_json(summary_path)
    except (ValueError, OSError):
        return [RunCheck("analysis", False, f"{display_path(summary_path)} unreadable", fix)]
    checks = [RunCheck("summary.json", True, "summary.json readable")]
    files = summary.get("files") or {}
    for name in [REPORT_NAME, *files.get("tables", [])]:
        ok = (out / name).is_file()
        checks.append(RunCheck(name, ok, f"{name} {'present' if ok else 'missing'}", "" if ok else fix))
    for chart in files.get("charts", []):
        path = out / chart["file"]
        if not path.is_file():
            checks.append(RunCheck(chart["file"], False, f"{chart['file']} missing", fix))
            continue
        size = path.stat().st_size
        dims = png_size(path)
        ok = dims is not None and dims[0] <= MAX_CHART_WIDTH and size <= MAX_CHART_BYTES
        checks.append(RunCheck(chart["file"], ok,
                            f"{chart['file']} {dims[0] if dims else '?'}x{dims[1] if dims else '?'} px, "
                            f"{size / 1000:.0f} KB (limits {MAX_CHART_WIDTH} px, {MAX_CHART_BYTES // 1000} KB)",
                            "" if ok else fix))
    analysed = {(r.get("experiment"), r.get("threads")) for r in summary.get("results", [])}
    ok_results = {(e.get("name"), r.get("threads")) for e in manifest.get("experiments") or []
                  for r in e.get("results") or [] if r.get("status") == "ok"}
    stale = sorted(f"{n} t{t}" for n, t in ok_results - analysed)
    checks.append(RunCheck("analysis up to date", not stale,
                        "analysis covers every ok result" if not stale else
                        f"analysis does not cover: {', '.join(stale)}", "" if not stale else fix))
    problems = summary.get("problems") or []
    checks.append(RunCheck("analysis complete", not problems,
                        "the analysis lists no problems" if not problems else
                        f"the analysis lists {len(problems)} problem(s), first: {problems[0]}",
                        "" if not problems else
                        f"see 'Problems' in {display_path(out / REPORT_NAME)}; fix them, then {fix}"))
    return checks


def validate_run(run_dir: Path) -> list[RunCheck]:
    """All checks of one run directory; input that is not a run directory raises UserError."""
    if not run_dir.exists():
        raise UserError(f"{run_dir} does not exist",
                        "pass a run directory, e.g. out/runs/<run-id> (ls out/runs/)")
    if not run_dir.is_dir():
        raise UserError(f"{run_dir} is not a folder",
                        "pass a run directory, e.g. out/runs/<run-id> (ls out/runs/)")
    try:
        manifest = load_manifest(run_dir)       # the analysis' own reader: same messages
    except UserError as exc:
        if not run_layout.manifest_path(run_dir).is_file():
            raise                               # not a run directory: bad input, exit 2
        # a broken manifest is a failed check of a run directory (exit 1), not bad input
        return [RunCheck("manifest", False, exc.message, exc.fix)]
    return _run_checks(run_dir, manifest) + _analysis_checks(run_dir, manifest)
