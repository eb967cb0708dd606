"""Acceptance runs: an A/A comparison shows no difference, and int8 Convert is data movement.

A/A: two identical experiments (toy_cnn fp32, pybind runner, one thread, 30 timed
iterations each, interleaved in 6 rounds) compared by the config, through the real host
pipeline and its analysis. Whatever the machine does, nothing in the comparison may read as a speedup:
end to end, every category and every operator says "no measurable difference". The same
run checks that "the" latency is one number everywhere: --json's latency_ms, summary.json
and the report.

int8: a dynamically quantised export of vit_tiny (activations quantised at run time by
XNNPACK's Convert operators) run through the pipeline puts its Convert operators under Data
Movement in operators.csv.
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from kit_helpers import exported, run_script

NO_DIFFERENCE = "no measurable difference"
REPO_ROOT = Path(__file__).resolve().parent.parent


def _experiment(name: str, runs: int) -> dict:
    return {"name": name, "runner": "pybind", "mode": "timing", "runs": runs, "warmup": 3, "threads": [1]}


def _pipeline(tmp_path: Path, model: Path, experiments: list[dict], analysis: dict | None) -> tuple[dict, Path]:
    config = {"model": str(model), "output_root": str(tmp_path / "runs"), "experiments": experiments}
    if analysis:
        config["analysis"] = analysis
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    proc = run_script("mac_pipeline.py", "--config", str(path), "--json", timeout=1200)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads(proc.stdout)
    return out, Path(out["run_dir"]) / "analysis"


@pytest.fixture(scope="module")
def aa(tmp_path_factory):
    """The shipped A/A config, with a real toy_cnn export."""
    tmp = tmp_path_factory.mktemp("aa")
    config = json.loads((REPO_ROOT / "configs/examples/aa_toy_cnn.json").read_text())
    assert [(e["runner"], e["runs"], e["threads"]) for e in config["experiments"]] == [("pybind", 30, [1])] * 2
    assert config["analysis"]["interleave_rounds"] % 2 == 0, "each side goes first equally often"
    return _pipeline(tmp, exported("toy_cnn"), config["experiments"], config["analysis"])


def test_aa_comparison_says_no_measurable_difference_everywhere(aa):
    _, analysis = aa
    summary = json.loads((analysis / "summary.json").read_text())
    (cmp,) = summary["comparisons"]
    assert (cmp["a"], cmp["b"]) == ("a", "b")
    assert cmp["verdict"] == NO_DIFFERENCE, (cmp["ci_low"], cmp["ci_high"])
    assert cmp["categories"] and cmp["operators"]
    for line in cmp["categories"] + cmp["operators"]:
        assert line["verdict"] in (NO_DIFFERENCE, "unresolved"), line
    report = (analysis / "report.md").read_text()
    section = report.split("## Comparisons", 1)[1].split("\n## ", 1)[0]
    assert f"End to end: **{NO_DIFFERENCE} (interval" in section
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| category")
            and not line.startswith("| operator")]
    assert len(rows) == len(cmp["categories"]) + min(len(cmp["operators"]), 15)
    assert all(NO_DIFFERENCE in row for row in rows), rows
    assert "below the 1 µs operator timer resolution" in section or all(
        line["verdict"] == NO_DIFFERENCE for line in cmp["operators"])
    findings = [f for f in summary["findings"] if f.startswith("a vs b")]
    assert not any("speedup" in f or "gain" in f or "loss" in f for f in findings), findings
    assert "a vs b: no operator shows a measurable difference." in findings


def test_the_latency_is_one_number_everywhere(aa):
    out, analysis = aa
    summary = json.loads((analysis / "summary.json").read_text())
    report = (analysis / "report.md").read_text()
    for printed in out["results"]:
        res = next(r for r in summary["results"] if r["experiment"] == printed["experiment"])
        assert printed["latency_ms"] == res["latency"]["median_ms"]
        assert res["latency_source"] == "Method::execute events (ETDump)"
        assert printed["median_ms_runner_clock"] == res["runner_clock_median_ms"]   # named as such
        row = next(line for line in report.splitlines() if line.startswith(f"| {res['name']} | 30 | **"))
        shown = float(row.split("**")[1])                 # the report's latency column
        assert math.isclose(shown, res["latency"]["median_ms"], rel_tol=5e-3)


def test_dynamic_int8_convert_operators_are_data_movement(tmp_path):
    from sme2prof.export.exporter import export_model

    # vit_tiny, one block: its linear layers take dynamically quantised inputs (toy_cnn's
    # single linear layer does not show a separate Convert operator on x86-64)
    result = export_model("vit_tiny", "int8", out_dir=tmp_path / "export", int8_mode="dynamic",
                          model_args={"depth": 1}, progress=lambda _msg: None)
    _, analysis = _pipeline(tmp_path, Path(result.pte_path), [_experiment("int8", 5)], None)
    with open(analysis / "operators.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    converts = [r for r in rows if r["name"].startswith("Convert (")]
    assert converts, [r["name"] for r in rows]
    assert {r["category"] for r in converts} == {"Data Movement"}
    assert {r["subcategory"] for r in converts} == {"convert"}
    assert any("QD8" in r["name"] for r in converts)
