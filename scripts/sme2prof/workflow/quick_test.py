"""The smoke test (``make smoke``): prove in about a minute that everything a user needs works here.

Why it exists: before spending an afternoon on a real model, a user (or an assistant)
wants one command that exercises the whole chain on this machine, each stage with the
kit's own code: the set-up checks of ``validate_setup.py``, a real export of the tiny
``toy_cnn``, a short run through the host pipeline, the analysis (ExecuTorch's Inspector
reads the ETDumps), and ``validate_results.py``'s checks. The answer is one line per
stage, ``ready`` or ``not ready`` with the fix, later stages ``not run``; with ``--json``
one JSON object. It writes into ``out/quick-test/<id>/`` and never touches
``out/artifacts`` or ``out/runs``; exit 0 only when every stage is ready.
"""
from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path
from typing import Callable

from sme2prof.errors import UserError
from sme2prof.fileio import ensure_writable_dir
from sme2prof.paths import OUT_DIR, display_path, resolve_repo_path
from sme2prof.pipeline import run_layout
from sme2prof.workflow.stages import run_host_pipeline, validation, validation_line, write_config

EXIT_NOT_READY = 1
READY, NOT_READY, NOT_RUN = "ready", "not ready", "not run"
STAGES = ("set-up", "export", "run", "analysis", "validate_results")
MODEL, DTYPE = "toy_cnn", "fp32"


class NotReady(Exception):
    """A stage failed; ``fix`` says what to do about it."""

    def __init__(self, detail: str, fix: str) -> None:
        super().__init__(detail)
        self.fix = fix


def run_quick_test(args: argparse.Namespace, outcome: dict) -> int:
    """Every stage in order; stops at the first that is not ready. Fills ``outcome``."""
    started = time.perf_counter()
    out_dir = resolve_repo_path(args.out_dir, base=Path.cwd()) if args.out_dir else \
        OUT_DIR / "quick-test" / run_layout.new_run_id()
    ensure_writable_dir(out_dir, "--out-dir")
    stages = [{"stage": name, "status": NOT_RUN} for name in STAGES]
    outcome.update(ready=False, out_dir=str(out_dir), stages=stages)
    state: dict = {"out_dir": out_dir, "require_wheel": args.require_wheel}
    steps: dict[str, Callable[[dict], str]] = {
        "set-up": _setup, "export": _export, "run": _run, "analysis": _analysis,
        "validate_results": _validate}
    warnings.simplefilter("ignore")  # library deprecation chatter would bury the stage lines
    for index, entry in enumerate(stages, 1):
        print(f"[{index}/{len(stages)}] {entry['stage']} ...", flush=True)
        t0 = time.perf_counter()
        try:
            detail = steps[entry["stage"]](state)
        except NotReady as exc:
            entry.update(status=NOT_READY, detail=str(exc), fix=exc.fix,
                         seconds=round(time.perf_counter() - t0, 1))
            print(f"    NOT READY: {exc}\n    fix: {exc.fix}", flush=True)
            break
        entry.update(status=READY, detail=detail, seconds=round(time.perf_counter() - t0, 1))
        print(f"    ready ({entry['seconds']:.1f} s): {detail}", flush=True)
        outcome.update({key: str(state[key]) for key in ("run_dir", "report") if key in state})
    seconds = round(time.perf_counter() - started, 1)
    ready = all(entry["status"] == READY for entry in stages)
    outcome.update(ready=ready, seconds=seconds)
    if ready:
        print(f"smoke test: every stage ready in {seconds:.0f} s; report: {display_path(state['report'])}")
        return 0
    failed = next(entry for entry in stages if entry["status"] == NOT_READY)
    outcome.update(error=f"stage {failed['stage']} not ready: {failed['detail']}", fix=failed["fix"])
    print(f"smoke test: NOT ready after {seconds:.0f} s (stage {failed['stage']}; see its fix above)")
    return EXIT_NOT_READY


def _setup(state: dict) -> str:
    """validate_setup.py's own checks of what every later stage imports, and the runners."""
    from sme2prof.setup import checks
    from sme2prof.setup.pins import REQUIREMENTS_FILE

    found = [checks.python_check(), checks.venv_check(), checks.packages_check("pipeline", REQUIREMENTS_FILE)]
    missing = [check for check in found if check.status == checks.MISSING]
    if missing:
        raise NotReady("; ".join(f"{c.name}: {c.detail}" for c in missing), missing[0].fix)
    state["runners"] = _runners(state["require_wheel"])
    return "; ".join(f"{c.name} {c.status}" for c in found) + f"; runners {', '.join(state['runners'])}"


def _export(state: dict) -> str:
    from sme2prof.export.exporter import export_model
    try:
        result = export_model(MODEL, DTYPE, out_dir=state["out_dir"] / "artifacts", progress=lambda _m: None)
    except UserError as exc:
        raise NotReady(f"export failed: {exc.message}", exc.fix) from None
    if result.delegation_coverage <= 0:
        raise NotReady("nothing was delegated to XNNPACK: the executorch package lacks the backend",
                       "make setup (if it says up to date: bash scripts/setup_repo.sh --force)")
    state["pte"] = Path(result.pte_path)
    return f"{display_path(result.pte_path)}, XNNPACK coverage {result.delegation_coverage:.0%}"


def _runners(require_wheel: bool) -> list[str]:
    from sme2prof.runners.wheel_build import find_wheel_runner
    try:
        find_wheel_runner()
    except UserError as exc:
        if require_wheel:
            raise NotReady(f"wheel runner not available: {exc.message}", exc.fix) from None
        return ["pybind"]
    return ["pybind", "wheel"]


def _run(state: dict) -> str:
    runners = state["runners"]
    out_dir = state["out_dir"]
    config = {"model": str(state["pte"]), "output_root": str(out_dir / "runs"), "label": "quick-test",
              "experiments": [{"name": r, "runner": r, "runs": 5, "warmup": 1, "threads": [1]}
                              for r in runners]}
    if len(runners) == 2:
        config["analysis"] = {"compare_pairs": [runners]}
    try:
        code, run_dir = run_host_pipeline(write_config(out_dir / "quick_test_config.json", config),
                                          analyze=False)
    except UserError as exc:
        raise NotReady(f"the pipeline refused the run: {exc.message}", exc.fix) from None
    if run_dir is not None:
        state["run_dir"] = run_dir
    if code != 0 or run_dir is None:
        where = display_path(run_dir) if run_dir else "out/quick-test"
        raise NotReady(f"the host pipeline exited {code} (its FAILED line above says why)",
                       f"read the runner.log files under {where}; python scripts/validate_setup.py "
                       "--stage pipeline")
    return f"{display_path(run_dir)}: {', '.join(runners)}, 1 warm-up + 5 timed iterations each"


def _analysis(state: dict) -> str:
    from sme2prof.analysis import analyze_runs
    try:
        result = analyze_runs([state["run_dir"]], progress=False)
    except UserError as exc:
        raise NotReady(f"analysis failed: {exc.message}", exc.fix) from None
    summary = result.summary
    empty = [r["name"] for r in summary["results"] if not r["operators"]]
    if summary["problems"] or empty:
        problem = summary["problems"][0] if summary["problems"] else f"no operator rows for {', '.join(empty)}"
        raise NotReady(f"analysis incomplete: {problem}",
                       f"see 'Problems' in {display_path(result.report_path)}")
    state["report"] = result.report_path
    rows = ", ".join(f"{r['name']} {len(r['operators'])} operators" for r in summary["results"])
    return f"{display_path(result.report_path)} ({rows})"


def _validate(state: dict) -> str:
    checked = validation(state["run_dir"])
    if not checked["ok"]:
        first = checked["failed"][0]
        raise NotReady(f"{first['name']}: {first['message']}",
                       first["fix"] or f"python scripts/validate_results.py {display_path(state['run_dir'])}")
    return validation_line(checked)
