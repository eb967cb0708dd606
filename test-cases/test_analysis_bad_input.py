"""Bad input: a clear message, a partial analysis where it still means something, no
traceback, and nothing written when nothing can be analysed."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from kit_helpers import run_script
from kit_helpers import exported
from analysis_helpers import TEXTBOOK_VIT, copy_run, toy_cnn_run


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
    from sme2prof.analysis.cli import analyze_main as main
    from sme2prof.errors import run_entry_point

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


def _etrecord_unverified(manifest: dict, etrecord: Path) -> None:
    """Point the run at another ETRecord as a run made before runs kept (and hashed) their own."""
    manifest["model"].update(etrecord=str(etrecord), etrecord_sha256=None)
    manifest["model"]["export"].pop("sha256", None)
    manifest["model"]["export"]["file_sizes"].pop("etrecord", None)


def test_etrecord_from_a_different_model(run_copy, capfd):
    """No hash to compare with: the Inspector itself finds that the ETRecord does not fit."""
    other = exported("vit_tiny", **TEXTBOOK_VIT).with_suffix(".etrecord")
    _edit_manifest(run_copy, lambda m: _etrecord_unverified(m, other))
    proc = _analyse(run_copy, capfd=capfd)
    assert proc.returncode == 0, proc.stderr
    first = _summary(run_copy)["results"][0]
    assert first["etrecord"] is None
    assert any("does not belong to this ETDump" in n for n in first["notes"])
    assert first["operators"], "operator rows still come from the ETDump"


def test_etrecord_that_is_not_the_runs_own_is_refused(run_copy, capfd):
    """The run's ETRecord replaced in place (same name, other bytes): its hash no longer matches
    what the run recorded, so it is not used, and the report says why (exit 1: partial)."""
    etrecord = run_copy / json.loads((run_copy / "manifest.json").read_text())["model"]["etrecord"]
    etrecord.unlink()                    # never write through a hard link to the session export
    etrecord.write_bytes(exported("vit_tiny", **TEXTBOOK_VIT).with_suffix(".etrecord").read_bytes())
    proc = _analyse(run_copy, capfd=capfd)
    assert proc.returncode == 1, proc.stderr
    summary = _summary(run_copy)
    assert all(r["etrecord"] is None for r in summary["results"])
    assert any("is not the one this run was made with" in p for p in summary["problems"]), summary["problems"]
    assert "is not the one this run was made with" in (run_copy / "analysis" / "report.md").read_text()


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
    from analysis_helpers import transformer_run

    run = copy_run(transformer_run(), tmp_path)
    other = exported("toy_cnn").with_suffix(".etrecord")
    _edit_manifest(run, lambda m: _etrecord_unverified(m, other))
    proc = _analyse(run, capfd=capfd)
    assert proc.returncode == 0, proc.stderr
    (res,) = _summary(run)["results"]
    assert res["etrecord"] is None
    assert any("does not belong to this ETDump" in n for n in res["notes"])
    assert not any(p["layers"] for p in res["partitions"]), "no layer names from a foreign ETRecord"


def _fixture_etdump() -> Path:
    from sme2prof.paths import REPO_ROOT
    return REPO_ROOT / "test-cases" / "fixtures" / "real-runs" / "x86-64" / "cnn-linear-fp32.etdump"


def _refused(proc: Outcome, message: str) -> None:
    """Bad input: exit 2, one 'error:' line naming the problem, a 'fix:' line."""
    assert proc.returncode == 2, proc.stderr
    assert f"error: {message}" in proc.stderr and "  fix: " in proc.stderr


@pytest.mark.parametrize("out", ["/proc/sme2prof-analysis", "FILE/sub"])
def test_unwritable_out_is_refused_before_parsing(out, run_copy, capfd):
    out = out.replace("FILE", str(run_copy / "manifest.json"))
    proc = _analyse(run_copy, "--out", out, capfd=capfd)
    _refused(proc, f"cannot create --out {out}" if out.startswith("/proc") else f"--out {out} cannot be created")
    assert "loading ExecuTorch's Inspector" not in proc.stderr, "refused before the slow part"


def test_analysis_path_that_is_a_file_is_named_as_such(run_copy, capfd):
    (run_copy / "analysis").write_text("not a folder")
    proc = _analyse(run_copy, capfd=capfd)
    _refused(proc, "the analysis folder")
    assert "is a file, not a folder" in proc.stderr and "--out " not in proc.stderr.split("fix:")[0]
    assert (run_copy / "analysis").read_text() == "not a folder"


def test_compare_a_result_with_itself_is_refused(run_copy, capfd):
    proc = _analyse(run_copy, "--compare", "first", "first", capfd=capfd)
    _refused(proc, "cannot compare first with itself")
    assert not (run_copy / "analysis").exists()


def test_same_run_twice_is_analysed_once(run_copy, tmp_path, capfd):
    from sme2prof.analysis.cli import analyze_main as main
    from sme2prof.errors import run_entry_point

    out = tmp_path / "twice"
    capfd.readouterr()
    code = run_entry_point(main, [str(run_copy), str(run_copy) + "/", "--out", str(out), "--no-charts"])
    err = capfd.readouterr().err
    assert code == 0 and "Traceback" not in err, err
    assert "is given twice; analysed once" in err
    names = [r["name"] for r in json.loads((out / "summary.json").read_text())["results"]]
    assert names == ["first", "second"]


def test_negative_warmup_is_refused(capfd):
    _refused(_analyse(_fixture_etdump(), "--warmup", "-1", capfd=capfd), "--warmup -1 is negative")


def test_named_etrecord_that_does_not_exist_is_refused(tmp_path, capfd):
    proc = _analyse(_fixture_etdump(), "--etrecord", str(tmp_path / "none.etrecord"),
                    "--out", str(tmp_path / "out"), capfd=capfd)
    _refused(proc, f"--etrecord {tmp_path / 'none.etrecord'} does not exist")
    assert not (tmp_path / "out").exists()


def test_named_etrecord_that_is_a_text_file_is_refused(tmp_path, capfd):
    text = tmp_path / "model.etrecord"
    text.write_text("not an etrecord")
    proc = _analyse(_fixture_etdump(), "--etrecord", str(text), "--out", str(tmp_path / "out"), capfd=capfd)
    _refused(proc, f"--etrecord {text} is not an ETRecord")


def test_named_etrecord_of_another_model_is_refused(run_copy, tmp_path, capfd):
    """Found next to the .pte it stays a note (test above); named with --etrecord it is an error."""
    other = exported("vit_tiny", **TEXTBOOK_VIT).with_suffix(".etrecord")
    proc = _analyse(run_copy / "first" / "t1" / "etdump.etdp", "--etrecord", str(other),
                    "--out", str(tmp_path / "out"), capfd=capfd)
    _refused(proc, f"--etrecord {other} does not belong to this ETDump")
    assert not (tmp_path / "out").exists(), "no half-written analysis left behind"


def test_named_kernel_trace_that_does_not_exist_is_refused(tmp_path, capfd):
    proc = _analyse(_fixture_etdump(), "--kernel-trace", str(tmp_path / "none.log"), capfd=capfd)
    _refused(proc, f"--kernel-trace {tmp_path / 'none.log'} does not exist")


def test_no_readable_etdump_skips_the_inspector(run_copy, capfd):
    """Nothing to parse: say so at once instead of loading the Inspector (~10 s) first."""
    def no_timings(m):
        for exp in m["experiments"]:
            exp["results"][0]["iterations_ms"] = []
    _edit_manifest(run_copy, no_timings)
    for exp in ("first", "second"):
        (run_copy / exp / "t1" / "etdump.etdp").write_bytes(b"")
    proc = _analyse(run_copy, capfd=capfd)
    _refused(proc, "nothing could be analysed")
    assert "loading ExecuTorch's Inspector" not in proc.stderr
    assert not (run_copy / "analysis").exists()
