"""The smoke test (``run_quick_test.py``, behind ``make smoke``) as a user runs it: every
stage ready on a working host; a stage that is not ready says so, with its fix, and the
later stages are not run; with --json, stdout is one JSON object either way."""
from __future__ import annotations

import json
from pathlib import Path

from kit_helpers import run_script

STAGES = ["set-up", "export", "run", "analysis", "validate_results"]


def test_smoke_test_passes_and_leaves_a_validated_report(tmp_path: Path) -> None:
    proc = run_script("run_quick_test.py", "--out-dir", str(tmp_path), "--json", timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)                  # the whole of stdout: one object
    assert result["exit_code"] == 0 and result["ready"] is True
    assert [s["stage"] for s in result["stages"]] == STAGES
    assert [s["status"] for s in result["stages"]] == ["ready"] * len(STAGES)
    report = Path(result["report"])
    assert report.is_file() and report.read_text().startswith("# ")
    assert Path(result["run_dir"]).parent == tmp_path / "runs", "nothing outside --out-dir"
    analysis = next(s for s in result["stages"] if s["stage"] == "analysis")
    assert "operators" in analysis["detail"]
    assert "validate_results:" in result["stages"][-1]["detail"]
    assert "[5/5] validate_results ..." in proc.stderr, "progress goes to stderr"


def test_a_stage_not_ready_stops_the_rest_with_its_fix(tmp_path: Path) -> None:
    proc = run_script("run_quick_test.py", "--out-dir", str(tmp_path), "--require-wheel", "--json",
                      env={"SME2PROF_OUT_DIR": str(tmp_path / "empty-out")}, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert result["ready"] is False and result["exit_code"] == 1
    statuses = {s["stage"]: s["status"] for s in result["stages"]}
    assert statuses == {"set-up": "not ready", "export": "not run", "run": "not run",
                        "analysis": "not run", "validate_results": "not run"}
    assert "wheel runner not available" in result["error"]
    assert result["fix"] == "bash scripts/build_runners.sh --wheel"
    assert "Traceback" not in proc.stderr


def test_bad_input_is_one_json_object_too(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    proc = run_script("run_quick_test.py", "--out-dir", str(blocker), "--json", timeout=120)
    assert proc.returncode == 2
    result = json.loads(proc.stdout)
    assert result["exit_code"] == 2 and "is a file, not a folder" in result["error"] and result["fix"]
    assert "error: " in proc.stderr and "Traceback" not in proc.stderr


def test_make_smoke_ends_in_json_even_when_the_set_up_fails() -> None:
    """There is no venv to run the smoke test in then, so the Makefile prints the object."""
    import re
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    text = re.search(r"^SMOKE_SETUP_FAILED := (.+)$", makefile, re.MULTILINE)[1]
    failed = json.loads(text)
    assert failed["exit_code"] == 1 and failed["ready"] is False and failed["fix"] == "make setup"
    assert failed["stages"] == [{"stage": "set-up", "status": "not ready"}]
    assert "'" not in text, "the recipe echoes it inside single quotes"
    recipe = makefile[makefile.index("\nsmoke:"):].split("\n\n")[0]
    assert "setup_repo.sh >&2 || { echo '$(SMOKE_SETUP_FAILED)'; exit 1; }" in recipe
    assert "scripts/run_quick_test.py --json" in recipe


def test_quickstart_profiles_a_real_model_with_the_fastest_runner_and_times_each_stage(tmp_path: Path) -> None:
    """make quickstart's script: mobilenet_v3_small fp32, the wheel runner (a compiler is
    here), a validated report whose sub-microsecond operator rows are marked, stage times."""
    import re
    proc = run_script("quickstart.py", env={"SME2PROF_OUT_DIR": str(tmp_path / "out")}, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "quickstart: mobilenet_v3_small fp32" in out
    assert "experiments wheel" in out, "the wheel runner builds on this host and is used"
    stages = re.search(r"^quickstart stages: (.+)$", out, re.MULTILINE)[1]
    assert [s.split(" ")[0] for s in stages.split(", ")] == [
        "runner", "export", "run", "analysis", "validate", "total"]
    report = Path(re.findall(r"^report: (\S+)$", out, re.MULTILINE)[-1])
    report = report if report.is_absolute() else Path(__file__).resolve().parent.parent / report
    text = report.read_text()
    assert text.startswith("# Profiling report: mobilenet_v3_small")
    assert "Convolution (NHWC, F32) DWConv" in text
    for line in text.split("## Top operators")[1].split("## ")[0].splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) != 7 or "†" in cells[5]:
            continue
        try:
            median_ms = float(cells[5])
        except ValueError:
            continue                                  # the header row, or "—"
        assert median_ms >= 0.001, f"a row below the timer resolution is not marked: {line}"


def test_make_quickstart_runs_the_quickstart_script() -> None:
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    recipe = makefile[makefile.index("\nquickstart:"):].split("\n\n")[0]
    assert "scripts/quickstart.py" in recipe and "toy_cnn" not in recipe
