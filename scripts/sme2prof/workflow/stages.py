"""The steps the end-to-end commands share: run a config through the host pipeline, check the
run as ``validate_results.py`` does.

Why in-process: ``profile_model.py`` and the smoke test must exercise the pipeline a user
runs, not a copy of it; calling ``run_pipeline`` with the host transport is that code,
without a second Python start and a second import of the analysis.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from sme2prof.fileio import write_json_atomic
from sme2prof.pipeline.config import validate_config
from sme2prof.pipeline.run import HostTransport, run_pipeline


def write_config(path: Path, config: dict) -> Path:
    """Validate ``config`` as the pipeline will, then write it where a user can re-run or edit it."""
    validate_config(config, str(path))
    return write_json_atomic(path, config)


def run_host_pipeline(config_path: Path, analyze: bool, seconds: dict | None = None) -> tuple[int, Path | None]:
    """The host pipeline on ``config_path``: its exit code and the run directory it made.

    ``seconds``, when given, receives the pipeline's own ``run`` and ``analysis`` times."""
    outcome: dict = {}
    code = run_pipeline(str(config_path), HostTransport(), analyze=analyze, outcome=outcome)
    if seconds is not None:
        seconds.update(outcome.get("seconds") or {})
    run_dir = outcome.get("run_dir")
    return code, Path(run_dir) if run_dir else None


def validation(run_dir: Path) -> dict:
    """``validate_results.py``'s checks of a run: ``ok``, how many passed, and the failures."""
    from sme2prof.analysis.validate import validate_run  # imports the analysis (and torch)

    checks = validate_run(run_dir)
    failed = [asdict(check) for check in checks if not check.ok]
    return {"ok": not failed, "passed": len(checks) - len(failed), "checks": len(checks),
            "failed": failed}


def validation_line(result: dict) -> str:
    return f"validate_results: {result['passed']}/{result['checks']} checks passed"
