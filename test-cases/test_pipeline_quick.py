"""``run_quick_test.py`` as a user runs it: passes on a working host, fails loudly otherwise."""
from __future__ import annotations

import json
from pathlib import Path

from kit_helpers import run_script


def test_quick_test_passes_and_leaves_a_report(tmp_path: Path) -> None:
    proc = run_script("run_quick_test.py", "--out-dir", str(tmp_path), "--json", timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout[proc.stdout.index("{\n"):])
    assert result["ok"] and [c["ok"] for c in result["checks"]] == [True] * 5
    report = Path(result["report"])
    report = report if report.is_absolute() else Path(__file__).resolve().parent.parent / report
    assert report.is_file() and report.read_text().startswith("# ")
    assert any("XNNPACK operator rows" in c["detail"] for c in result["checks"])


def test_quick_test_fails_when_a_required_part_is_missing(tmp_path: Path) -> None:
    proc = run_script("run_quick_test.py", "--out-dir", str(tmp_path), "--require-wheel",
                      env={"SME2PROF_OUT_DIR": str(tmp_path / "empty-out")}, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAILED: wheel runner not available" in proc.stdout and "quick test FAILED" in proc.stdout
    assert "Traceback" not in proc.stderr
