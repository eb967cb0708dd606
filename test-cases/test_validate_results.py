"""validate_results.py on a real pipeline run: complete, then with parts removed."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit_helpers import run_script
from analysis_helpers import copy_run, toy_cnn_run


@pytest.fixture(scope="module")
def analysed_run(tmp_path_factory) -> Path:
    from sme2prof.analysis import analyze_runs

    run = copy_run(toy_cnn_run(), tmp_path_factory.mktemp("validate"))
    analyze_runs([run])
    return run


def _validate(run: Path, *args: str):
    from sme2prof.analysis.cli import validate_main as main
    from sme2prof.errors import run_entry_point

    return run_entry_point(main, [str(run), *args])


def test_complete_run_passes(analysed_run, capsys):
    assert _validate(analysed_run) == 0
    out = capsys.readouterr().out
    assert "MISSING" not in out and "checks passed" in out
    assert "latency.png 1280x" in out


def test_json_lists_checks(analysed_run, capsys):
    assert _validate(analysed_run, "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True
    assert any(c["name"] == "first t1 etdump" and c["ok"] for c in data["checks"])


def test_missing_analysis_and_etdump_say_how_to_fix(tmp_path, capsys):
    run = copy_run(toy_cnn_run(), tmp_path)          # copy without analysis/
    (run / "second" / "t1" / "etdump.etdp").unlink()
    assert _validate(run) == 1
    out = capsys.readouterr().out
    assert "MISSING second t1 etdump" in out
    assert f"fix: python scripts/mac_pipeline.py --resume" in out
    assert "MISSING analysis" in out and "fix: python scripts/analyze_results.py" in out


def test_stale_analysis_and_missing_chart(analysed_run, tmp_path, capsys):
    run = tmp_path / analysed_run.name
    import shutil
    shutil.copytree(analysed_run, run)
    (run / "analysis" / "categories.png").unlink()
    summary = json.loads((run / "analysis" / "summary.json").read_text())
    summary["results"] = summary["results"][:1]
    (run / "analysis" / "summary.json").write_text(json.dumps(summary))
    assert _validate(run) == 1
    out = capsys.readouterr().out
    assert "MISSING categories.png" in out
    assert "analysis does not cover: second t1" in out


def test_failed_result_reported(tmp_path, capsys):
    run = copy_run(toy_cnn_run(), tmp_path)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["status"] = "failed"
    manifest["experiments"][0]["results"][0].update(status="failed", error="runner exited with code 1")
    (run / "manifest.json").write_text(json.dumps(manifest))
    assert _validate(run) == 1
    out = capsys.readouterr().out
    assert "MISSING first t1 status: result status 'failed': runner exited with code 1" in out


def test_script_bad_input(tmp_path):
    proc = run_script("validate_results.py", str(tmp_path / "nope"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"error: {tmp_path / 'nope'} does not exist" in proc.stderr and "  fix: " in proc.stderr
    proc = run_script("validate_results.py", str(tmp_path), "--json")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "has no manifest.json: not a run directory" in proc.stderr and "  fix: " in proc.stderr


def test_truncated_etdump_fails_validation(analysed_run, tmp_path, capsys):
    """The analysis was fine, then the ETDump got cut short: the analysis would now be partial."""
    import shutil
    run = tmp_path / analysed_run.name
    shutil.copytree(analysed_run, run)
    etdump = run / "second" / "t1" / "etdump.etdp"
    etdump.write_bytes(etdump.read_bytes()[:100])
    assert _validate(run) == 1
    out = capsys.readouterr().out
    assert "MISSING second t1 etdump" in out and "truncated or not an ETDump" in out


def test_analysis_with_problems_fails_validation(analysed_run, tmp_path, capsys):
    import shutil
    run = tmp_path / analysed_run.name
    shutil.copytree(analysed_run, run)
    summary = json.loads((run / "analysis" / "summary.json").read_text())
    summary["problems"] = ["second: ETDump is empty (0 bytes)"]
    (run / "analysis" / "summary.json").write_text(json.dumps(summary))
    assert _validate(run) == 1
    out = capsys.readouterr().out
    assert "MISSING analysis complete: the analysis lists 1 problem(s), first: second: ETDump is empty" in out


def test_broken_manifest_is_a_failed_check(tmp_path, capsys):
    """A run folder whose manifest was cut short: a failed check (exit 1) naming the file."""
    (tmp_path / "manifest.json").write_text('{"schema": 1, "experi')
    assert _validate(tmp_path) == 1
    out = capsys.readouterr().out
    assert "MISSING manifest:" in out and "is not valid JSON" in out and "fix: " in out
