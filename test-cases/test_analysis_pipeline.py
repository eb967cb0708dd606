"""Analysis of real pipeline runs: toy_cnn and the transformer-style vit_tiny.

Each run is a real export run by scripts/mac_pipeline.py on the pybind runner; the
assertions check what a reader of the report relies on: operator rows equal the
Inspector's, categories add up, the speedup is the ratio of the raw medians, the
manifest's warm-up is dropped, and the outputs exist in the run's analysis/ folder.
"""
from __future__ import annotations

import json
import math
import statistics

import pytest

from kit_helpers import run_script
from analysis_helpers import inspector_rows, toy_cnn_run, transformer_run


@pytest.fixture(scope="module")
def toy_analysis(tmp_path_factory):
    from sme2prof.analysis import analyze_runs

    return analyze_runs([toy_cnn_run()])


@pytest.fixture(scope="module")
def vit_analysis():
    from sme2prof.analysis import analyze_runs

    return analyze_runs([transformer_run()])


def _raw_execute_ms(etdump, warmup: int) -> list[float]:
    import warnings

    from executorch.devtools import Inspector

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inspector = Inspector(etdump_path=str(etdump))
    raw = [list(e.perf_data.raw) for b in inspector.event_blocks for e in b.events
           if e.name == "Method::execute"]
    return raw[0][warmup:]


def test_toy_cnn_written_to_run_analysis_folder(toy_analysis):
    run = toy_cnn_run()
    assert toy_analysis.out_dir == run / "analysis"
    assert toy_analysis.report_path.is_file()
    names = [r["name"] for r in toy_analysis.summary["results"]]
    assert names == ["first", "second"]
    report = toy_analysis.report_path.read_text()
    assert "toy_cnn" in report and "ExecuTorch 1.5.1" in report


def test_toy_cnn_latency_drops_warmup_and_matches_raw(toy_analysis):
    run = toy_cnn_run()
    for res in toy_analysis.summary["results"]:
        raw = _raw_execute_ms(run / res["experiment"] / "t1" / "etdump.etdp", warmup=2)
        assert res["latency"]["count"] == 8 == len(raw)
        assert math.isclose(res["latency"]["median_ms"], statistics.median(raw), rel_tol=1e-12)
        assert res["latency"]["noisy"] == (statistics.stdev(raw) / statistics.fmean(raw) > 0.05)


def test_comparison_speedup_is_ratio_of_raw_medians(toy_analysis):
    run = toy_cnn_run()
    (cmp,) = toy_analysis.summary["comparisons"]       # from the config's compare_pairs
    assert (cmp["a"], cmp["b"]) == ("first", "second")
    a = statistics.median(_raw_execute_ms(run / "first" / "t1" / "etdump.etdp", 2))
    b = statistics.median(_raw_execute_ms(run / "second" / "t1" / "etdump.etdp", 2))
    assert math.isclose(cmp["speedup"], b / a, rel_tol=1e-12)
    conv = next(c for c in cmp["categories"] if c["category"] == "CONV")
    assert math.isclose(conv["speedup"], conv["b_ms"] / conv["a_ms"], rel_tol=1e-12)


@pytest.mark.parametrize("which", ["toy", "vit"])
def test_operator_rows_match_inspector_and_categories_sum(which, toy_analysis, vit_analysis):
    analysis, run = (toy_analysis, toy_cnn_run()) if which == "toy" else (vit_analysis, transformer_run())
    for res in analysis.summary["results"]:
        warmup = 2 if which == "toy" else 1
        expected = inspector_rows(run / res["experiment"] / "t1" / "etdump.etdp", warmup)
        ours = {op["name"]: op["total_ms"] for op in res["operators"]}
        assert set(ours) == set(expected)
        for name, total in expected.items():
            assert math.isclose(ours[name], total, rel_tol=1e-9, abs_tol=1e-12), name
        total = sum(ours.values())
        assert math.isclose(sum(c["total_ms"] for c in res["categories"]), total, rel_tol=1e-9)
        assert math.isclose(sum(c["share"] for c in res["categories"]), 1.0, rel_tol=1e-9)


def test_transformer_categories_and_layers(vit_analysis):
    (res,) = vit_analysis.summary["results"]
    cats = {c["category"]: c for c in res["categories"]}
    assert cats["GEMM"]["share"] > 0.2                       # attention + MLP matmuls
    subs = {op["subcategory"] for op in res["operators"]}
    assert "batch matrix multiply" in subs or "fully connected" in subs
    assert res["etrecord"], "the export's ETRecord is used"
    layers = [layer for p in res["partitions"] for layer in p["layers"]]
    assert layers, "ETRecord maps partitions to model layers"
    assert any(f.startswith("vit: ") for f in vit_analysis.summary["findings"])


def test_cli_writes_combined_analysis_for_two_runs(tmp_path):
    out = tmp_path / "combined"
    proc = run_script("analyze_results.py", str(toy_cnn_run()), str(transformer_run()),
                      "--compare", "second", "first", "--out", str(out), "--no-charts")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert [r["name"] for r in summary["results"]] == ["first", "second", "vit"]
    assert summary["comparisons"][0]["a"] == "second"
    assert {r["run_id"] for r in summary["runs"]} == {toy_cnn_run().name, transformer_run().name}
    assert "report:" in proc.stdout


def test_a_comparison_of_two_models_is_refused_naming_both(tmp_path):
    out = tmp_path / "mixed"
    proc = run_script("analyze_results.py", str(toy_cnn_run()), str(transformer_run()),
                      "--compare", "first", "vit", "--out", str(out), "--no-charts")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "error: cannot compare first (toy_cnn fp32) with vit (vit_tiny fp32)" in proc.stderr
    assert "fix: " in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_emulated_results_are_labelled_everywhere(tmp_path):
    """A manifest experiment with emulated: true (qemu runs) never reads as a performance result."""
    from sme2prof.analysis import analyze_runs
    from analysis_helpers import copy_run

    run = copy_run(toy_cnn_run(), tmp_path)
    manifest = json.loads((run / "manifest.json").read_text())
    for exp in manifest["experiments"]:
        exp["emulated"] = True
    (run / "manifest.json").write_text(json.dumps(manifest))
    analysis = analyze_runs([run])
    report = analysis.report_path.read_text()
    assert "emulated — not a performance result" in report
    assert all(r["label"] == "emulated — not a performance result" for r in analysis.summary["results"])
    assert analysis.summary["comparisons"][0]["emulated"] is True
    assert all("emulated" in f for f in analysis.summary["findings"] if "speedup" in f)
