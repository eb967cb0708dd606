"""Interleaved A/B on this host, for real: toy_cnn on the wheel runner, two sides in rounds.

What a user would notice: with ``analysis.interleave_rounds`` the pipeline runs A B, B A
(each side first equally often, a fresh runner process per round, recorded in that order in the manifest), each result
still holds ``warmup`` + ``runs`` iterations in one ETDump the analysis reads, and the
report says how the comparison was run. The host's CPU conditions are recorded where
``/sys`` has them and marked unavailable where it does not, never failing the run.
"""
from __future__ import annotations

import json

from executorch.devtools import Inspector

from kit_helpers import run_script
from pipeline_helpers import experiment, toy_cnn_pte, wheel_runner, write_config


def test_interleaved_rounds_run_alternately_and_join(tmp_path) -> None:
    wheel_runner()                      # the small C++ runner: a fresh process per round costs little
    config = write_config(tmp_path, toy_cnn_pte(),
                          [experiment("a", "wheel", runs=5, warmup=1), experiment("b", "wheel", runs=5, warmup=1)],
                          analysis={"compare_pairs": [["a", "b"]], "interleave_rounds": 2})
    proc = run_script("mac_pipeline.py", "--config", str(config), timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "a t1 round 1/2" in proc.stdout and "a t1 round 2/2" in proc.stdout
    run_dir = next((tmp_path / "runs").iterdir())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert [(r["experiment"], r["round"], r["timed_runs"]) for r in manifest["invocations"]] == \
        [("a", 1, 3), ("b", 1, 3), ("b", 2, 2), ("a", 2, 2)]
    assert manifest["schedule"]["kind"] == "interleaved" and manifest["schedule"]["rounds"] == 2
    for exp in manifest["experiments"]:
        result = exp["results"][0]
        assert result["status"] == "ok" and len(result["iterations_ms"]) == 1 + 5
        assert (run_dir / exp["name"] / "t1" / "round-2" / "etdump.etdp").is_file()
        frame = Inspector(etdump_path=str(run_dir / result["etdump"])).to_dataframe()
        execute = frame[frame.event_name == "Method::execute"]
        assert len(execute.raw.iloc[0]) == 1 + 5, "round 2's warm-up is left out of the joined ETDump"
        assert "round 2 of 2" in (run_dir / result["log"]).read_text()
    baseline = manifest["conditions_baseline"]
    assert isinstance(baseline["available"], bool)
    if not baseline["available"]:
        assert baseline["reason"] and manifest["invocations"][0]["after"]["available"] is False
    report = (run_dir / "analysis" / "report.md").read_text()
    assert "How the comparisons ran: **interleaved**: each compare pair ran in 2 rounds (A B, B A, A B, ...: each side first equally often)" in report
    assert "### a vs b (baseline)" in report


def test_one_thread_count_each_interleaves_two_against_one(tmp_path) -> None:
    """The thread comparison of page 3 (two_threads [2] against one_thread [1]) interleaves too."""
    wheel_runner()
    config = write_config(tmp_path, toy_cnn_pte(),
                          [experiment("two", "wheel", runs=4, warmup=1, threads=[2]),
                           experiment("one", "wheel", runs=4, warmup=1, threads=[1])],
                          analysis={"compare_pairs": [["two", "one"]], "interleave_rounds": 2})
    proc = run_script("mac_pipeline.py", "--config", str(config), timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run_dir = next((tmp_path / "runs").iterdir())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert [(r["experiment"], r["threads"], r["round"]) for r in manifest["invocations"]] == \
        [("two", 2, 1), ("one", 1, 1), ("one", 1, 2), ("two", 2, 2)]
    summary = json.loads((run_dir / "analysis" / "summary.json").read_text())
    (comparison,) = summary["comparisons"]
    assert (comparison["a"], comparison["b"]) == ("two", "one")
