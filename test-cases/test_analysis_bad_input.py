"""Bad input: a clear message, a partial analysis where it still means something, no
traceback, and nothing written when nothing can be analysed."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from kit_helpers import run_script
from test_analysis_support import copy_run, exported, toy_cnn_run


def _edit_manifest(run: Path, change) -> None:
    path = run / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def _analyse(run: Path, *args: str, capfd) -> Outcome:
    """The entry point in-process (same code path as the script, without ~20 s of imports)."""
    from sme2prof.analysis.cli import main
    from sme2prof.cli import run_entry_point

    capfd.readouterr()
    code = run_entry_point(main, [str(run), "--no-charts", *args])
    out, err = capfd.readouterr()
    assert "Traceback" not in err and "Usage: " not in out + err, err
    return Outcome(code, out, err)


@pytest.fixture()
def run_copy(tmp_path) -> Path:
    return copy_run(toy_cnn_run(), tmp_path)


def _summary(run: Path) -> dict:
    return json.loads((run / "analysis" / "summary.json").read_text())


def test_empty_etdump_gives_partial_analysis(run_copy, capfd):
    (run_copy / "second" / "t1" / "etdump.etdp").write_bytes(b"")
    proc = _analyse(run_copy, capfd=capfd)
    assert proc.returncode == 1
    assert "ETDump is empty" in proc.stdout and "partial analysis" in proc.stderr
    summary = _summary(run_copy)
    first = next(r for r in summary["results"] if r["name"] == "first")
    assert first["operators"], "the intact experiment is still analysed"
    assert any("comparison first vs second skipped" in p for p in summary["problems"])


def test_truncated_etdump_gives_partial_analysis(run_copy, capfd):
    etdump = run_copy / "second" / "t1" / "etdump.etdp"
    etdump.write_bytes(etdump.read_bytes()[:700])
    proc = _analyse(run_copy, capfd=capfd)
    assert proc.returncode == 1
    assert "truncated or not an ETDump" in proc.stdout
    assert "run that experiment again" in proc.stdout


def test_failed_experiment_is_listed_and_rest_analysed(run_copy, capfd):
    def fail_second(m):
        res = m["experiments"][1]["results"][0]
        res["status"], res["error"] = "failed", "runner exited with code 1"
        m["experiments"][1]["status"] = "failed"
    _edit_manifest(run_copy, fail_second)
    proc = _analyse(run_copy, capfd=capfd)
    assert proc.returncode == 1
    assert "second: experiment status 'failed' (runner exited with code 1)" in proc.stdout
    report = (run_copy / "analysis" / "report.md").read_text()
    assert "## Problems" in report and "| first |" in report


def test_etdump_without_etrecord(run_copy, capfd):
    _edit_manifest(run_copy, lambda m: m["model"].update(etrecord=None))
    proc = _analyse(run_copy, capfd=capfd)
    assert proc.returncode == 0, proc.stderr
    first = _summary(run_copy)["results"][0]
    assert first["operators"] and first["etrecord"] is None
    assert "no ETRecord: operator-to-model-layer mapping unavailable" in first["notes"]


def test_etrecord_from_a_different_model(run_copy, capfd):
    other = exported("vit_tiny").with_suffix(".etrecord")
    _edit_manifest(run_copy, lambda m: m["model"].update(etrecord=str(other)))
    proc = _analyse(run_copy, capfd=capfd)
    assert proc.returncode == 0, proc.stderr
    first = _summary(run_copy)["results"][0]
    assert first["etrecord"] is None
    assert any("does not belong to this ETDump" in n for n in first["notes"])
    assert first["operators"], "operator rows still come from the ETDump"


def test_unknown_compare_name_writes_nothing(run_copy, capfd):
    proc = _analyse(run_copy, "--compare", "first", "sme2_off", capfd=capfd)
    assert proc.returncode == 2
    assert "error: cannot compare first with sme2_off: no result named 'sme2_off'" in proc.stderr
    assert "fix: use two of: first, second" in proc.stderr
    assert not (run_copy / "analysis").exists()


def test_all_etdumps_empty_keeps_manifest_latency(run_copy, capfd):
    for exp in ("first", "second"):
        (run_copy / exp / "t1" / "etdump.etdp").write_bytes(b"")
    proc = _analyse(run_copy, capfd=capfd)
    assert proc.returncode == 1
    first = _summary(run_copy)["results"][0]
    assert first["latency_source"] == "manifest iterations_ms"
    assert first["latency"]["count"] == 8 and not first["operators"]


def test_nothing_analysable_is_an_error(run_copy, capfd):
    def fail_all(m):
        for exp in m["experiments"]:
            exp["results"][0]["status"] = "failed"
    _edit_manifest(run_copy, fail_all)
    proc = _analyse(run_copy, capfd=capfd)
    assert proc.returncode == 2
    assert "\nerror: nothing could be analysed: first: experiment status 'failed'" in "\n" + proc.stderr
    assert not (run_copy / "analysis").exists()


def test_script_truncated_etdump_no_traceback(run_copy):
    """The real script as a user runs it: flatc's noise stays hidden, one clear problem line."""
    etdump = run_copy / "second" / "t1" / "etdump.etdp"
    etdump.write_bytes(etdump.read_bytes()[:700])
    proc = run_script("analyze_results.py", str(run_copy), "--no-charts")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "Usage:" not in proc.stdout + proc.stderr
    assert "second: ETDump" in proc.stdout and "truncated or not an ETDump" in proc.stdout


def test_not_a_run_directory(tmp_path, capfd):
    proc = _analyse(tmp_path, capfd=capfd)
    assert proc.returncode == 2
    assert "has no manifest.json: not a run directory" in proc.stderr


def test_out_folder_with_foreign_files_is_refused(run_copy, tmp_path, capfd):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    proc = _analyse(run_copy, "--out", str(foreign), capfd=capfd)
    assert proc.returncode == 2 and "not an analysis" in proc.stderr
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_transformer_etdump_with_toy_cnn_etrecord(tmp_path, capfd):
    """The other direction: portable kernels in the ETDump, an ETRecord of another model."""
    from test_analysis_support import transformer_run

    run = copy_run(transformer_run(), tmp_path)
    other = exported("toy_cnn").with_suffix(".etrecord")
    _edit_manifest(run, lambda m: m["model"].update(etrecord=str(other)))
    proc = _analyse(run, capfd=capfd)
    assert proc.returncode == 0, proc.stderr
    (res,) = _summary(run)["results"]
    assert res["etrecord"] is None
    assert any("does not belong to this ETDump" in n for n in res["notes"])
    assert not any(p["layers"] for p in res["partitions"]), "no layer names from a foreign ETRecord"
