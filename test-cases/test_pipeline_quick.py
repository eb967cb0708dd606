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
