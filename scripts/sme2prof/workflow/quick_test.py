"""Prove in about a minute that everything a user needs works here.

Why it exists: before spending an afternoon on a real model, a user (or an agent)
wants one command that exercises the whole chain on this machine: real export, the
host pipeline as a user runs it, ETDumps the Inspector can read, the analysis report.
It writes into ``out/quick-test/<id>/`` and never touches ``out/artifacts`` or
``out/runs``; exit 0 only when every check passed.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Callable

from sme2prof.pipeline import run_layout
from sme2prof.errors import UserError, print_json
from sme2prof.fileio import ensure_writable_dir
from sme2prof.paths import OUT_DIR, SCRIPTS_DIR, display_path
from sme2prof.runners.spec import ResolvedRunner

EXIT_CHECK_FAILED = 1
class CheckFailed(Exception):
    """One of the quick test's checks did not hold; the message says which."""


def run_quick_test(args: argparse.Namespace) -> int:
    """Every check in order; stops at the first that fails."""
    started = time.perf_counter()
    out_dir = args.out_dir or OUT_DIR / "quick-test" / run_layout.new_run_id()
    ensure_writable_dir(out_dir, "--out-dir")
    checks: list[dict] = []

    def step(name: str, fn: Callable[[], str]) -> None:
        t0 = time.perf_counter()
        print(f"[{len(checks) + 1}] {name} ...", flush=True)
        try:
            detail = fn()
        except CheckFailed as exc:
            checks.append({"check": name, "ok": False, "detail": str(exc)})
            print(f"    FAILED: {exc}", flush=True)
            raise
        checks.append({"check": name, "ok": True, "detail": detail,
                       "seconds": round(time.perf_counter() - t0, 2)})
        print(f"    ok ({time.perf_counter() - t0:.1f} s): {detail}", flush=True)

    state: dict = {}
    warnings.simplefilter("ignore")  # library deprecation chatter would bury the check lines
    try:
        step("choose runners", lambda: _runners(args.require_wheel, state))
        step("export toy_cnn fp32", lambda: _export(out_dir, state))
        step("run the host pipeline", lambda: _pipeline(out_dir, state))
        step("parse ETDumps with the Inspector", lambda: _inspect(state))
        step("analyse the run", lambda: _analyze(state))
    except CheckFailed:
        _finish(args.json, checks, started, ok=False)
        return EXIT_CHECK_FAILED
    _finish(args.json, checks, started, ok=True, report=state.get("report"))
    return 0


def _export(out_dir: Path, state: dict) -> str:
    from sme2prof.export.exporter import export_model
    try:
        result = export_model("toy_cnn", "fp32", out_dir=out_dir / "artifacts", progress=lambda _m: None)
    except UserError as exc:
        raise CheckFailed(f"export failed: {exc.message} (fix: {exc.fix})") from None
    state["pte"] = Path(result.pte_path)
    state["out_dir"] = out_dir
    coverage = result.delegation_coverage
    if coverage <= 0:
        raise CheckFailed("nothing was delegated to XNNPACK: the executorch wheel lacks the backend")
    return f"{display_path(result.pte_path)}, XNNPACK coverage {coverage:.0%}"


def _runners(require_wheel: bool, state: dict) -> str:
    runners = ["pybind"]
    note = ""
    try:
        from sme2prof.runners.wheel_build import find_wheel_runner
        find_wheel_runner()
        runners.append("wheel")
    except (UserError, ImportError) as exc:
        if require_wheel:
            raise CheckFailed(f"wheel runner not available: {exc}") from None
        note = " (wheel runner not built: optional; bash scripts/build_runners.sh --wheel)"
    state["runners"] = runners
    return ", ".join(runners) + note


def _pipeline(out_dir: Path, state: dict) -> str:
    config = {"model": str(state["pte"]), "output_root": str(out_dir / "runs"), "label": "quick-test",
              "experiments": [{"name": r, "runner": r, "runs": 5, "warmup": 1, "threads": [1]}
                              for r in state["runners"]]}
    if len(state["runners"]) == 2:
        config["analysis"] = {"compare_pairs": [["pybind", "wheel"]]}
    config_path = out_dir / "quick_test_config.json"
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, str(SCRIPTS_DIR / "mac_pipeline.py"), "--config", str(config_path),
                           "--no-analyze"], capture_output=True, text=True)
    runs = sorted(p for p in (out_dir / "runs").glob("*") if p.is_dir()) if (out_dir / "runs").is_dir() else []
    if proc.returncode != 0 or not runs:
        tail = "\n      ".join((proc.stdout + proc.stderr).strip().splitlines()[-6:])
        raise CheckFailed(f"mac_pipeline.py exited {proc.returncode}:\n      {tail}")
    run_dir = runs[-1]
    manifest = json.loads(run_layout.manifest_path(run_dir).read_text())
    if manifest["status"] != "complete":
        raise CheckFailed(f"run {run_dir} ended with status {manifest['status']}")
    state["run_dir"], state["manifest"] = run_dir, manifest
    medians = []
    for exp in manifest["experiments"]:
        timed = sorted(exp["results"][0]["iterations_ms"][exp["warmup"]:])
        medians.append(f"{exp['name']} median {timed[len(timed) // 2]:.3f} ms")
    return f"{display_path(run_dir)}; " + ", ".join(medians)


def _inspect(state: dict) -> str:
    from executorch.devtools import Inspector
    manifest, run_dir = state["manifest"], state["run_dir"]
    found = []
    for exp in manifest["experiments"]:
        for result in exp["results"]:
            frame = Inspector(etdump_path=str(run_dir / result["etdump"]),
                              etrecord=str(run_dir / manifest["model"]["etrecord"])).to_dataframe()
            rows = frame[(frame.event_block_name == "Execute") & frame.is_delegated_op]
            if rows.empty:
                raise CheckFailed(f"{result['etdump']}: no XNNPACK operator rows in the ETDump")
            found.append(f"{exp['name']}: {len(rows)} XNNPACK operator rows")
    return "; ".join(found)


def _analyze(state: dict) -> str:
    try:
        from sme2prof.analysis import analyze_runs
    except ModuleNotFoundError as exc:
        raise CheckFailed(f"the analysis package is missing ({exc.name})") from None
    try:
        result = analyze_runs([state["run_dir"]], charts_enabled=True)
    except UserError as exc:
        raise CheckFailed(f"analysis failed: {exc.message}") from None
    if not Path(result.report_path).is_file():
        raise CheckFailed(f"no report at {result.report_path}")
    state["report"] = display_path(result.report_path)
    return state["report"]


def _finish(as_json: bool, checks: list[dict], started: float, ok: bool, report: str | None = None) -> None:
    seconds = time.perf_counter() - started
    if as_json:
        failed = next((c for c in checks if not c["ok"]), None)
        result = {"ok": ok, "seconds": round(seconds, 1), "checks": checks, "report": report}
        if failed:
            result.update(error=f"quick test check '{failed['check']}' failed: {failed['detail'].splitlines()[0]}",
                          fix="see the check's detail (and stderr); fix it, then run the quick test again")
        print_json(result)
    elif ok:
        print(f"quick test passed in {seconds:.0f} s; report: {report}")
    else:
        print(f"quick test FAILED after {seconds:.0f} s (see the FAILED line above)")
