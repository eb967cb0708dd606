"""Analysis of the real ETDumps and XNNPACK logs from source-built runners (fixtures).

These ETDumps come without an ETRecord and without a manifest: the analysis must still
produce operator rows, categories, the SME verdict and the kernel view, and comparing
the SME and SME-off runs must show the operator path change F32 -> PF32.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from kit_helpers import run_script
from analysis_helpers import inspector_rows

SME = "aarch64-qemu-cpu-max-sme"
SME_OFF = "aarch64-qemu-cpu-max-sme-off"


@pytest.fixture(scope="module")
def fixture_analysis(real_runs_dir: Path, tmp_path_factory):
    from sme2prof.analysis import analyze_runs

    paths = [real_runs_dir / folder / f"{model}.etdump"
             for model in ("cnn-linear-fp32", "transformer-block-fp32")
             for folder in (SME, SME_OFF, "x86-64")]
    pairs = [(f"{SME}/{m}", f"{SME_OFF}/{m}") for m in ("cnn-linear-fp32", "transformer-block-fp32")]
    out = tmp_path_factory.mktemp("fixture-analysis")
    return analyze_runs(paths, compare=pairs, out_dir=out, warmup=1)


def _result(analysis, name: str) -> dict:
    return next(r for r in analysis.summary["results"] if r["name"] == name)


def test_sme_fixture_is_sme_path_with_neonsme_kernels_not_sme2(fixture_analysis):
    for model in ("cnn-linear-fp32", "transformer-block-fp32"):
        res = _result(fixture_analysis, f"{SME}/{model}")
        assert res["sme"]["sme_path"] is True
        assert res["sme"]["packed_dtypes"] == ["PF32"]
        assert "__neonsme" in res["sme"]["kernel_isa_classes"]
        assert "__neonsme2" not in res["sme"]["kernel_isa_classes"]
        gemm = [k for k in res["kernels"]["kernels"] if k["op"] == "gemm"]
        assert gemm and all(k["isa_class"] == "__neonsme" and k["dtype"] == "pf32" for k in gemm)
        assert any("Fully Connected (NC, PF32) GEMM" in k["operators"] for k in gemm)


def test_sme_off_fixture_is_neon(fixture_analysis):
    res = _result(fixture_analysis, f"{SME_OFF}/cnn-linear-fp32")
    assert res["sme"]["sme_path"] is False
    assert res["sme"]["kernel_isa_classes"] == ["NEON", "scalar"]
    names = [op["name"] for op in res["operators"]]
    assert "Fully Connected (NC, F32) GEMM" in names
    assert "Convolution (NHWC, F32) IGEMM" in names


def test_x86_fixture_kernels_are_x86(fixture_analysis):
    res = _result(fixture_analysis, "x86-64/cnn-linear-fp32")
    gemm = [k for k in res["kernels"]["kernels"] if k["op"] in ("gemm", "igemm")]
    assert gemm and {k["isa_class"] for k in gemm} == {"x86"}


def test_comparison_reports_operator_path_change(fixture_analysis):
    cmp = next(c for c in fixture_analysis.summary["comparisons"]
               if c["a"] == f"{SME}/cnn-linear-fp32")
    change = next(c for c in cmp["path_changes"] if c["operator"] == "Fully Connected GEMM")
    assert change["baseline"] == ["Fully Connected (NC, F32) GEMM"]
    assert change["now"] == ["Fully Connected (NC, PF32) GEMM"]
    assert cmp["emulated"] is False            # bare ETDumps carry no manifest flag
    report = fixture_analysis.report_path.read_text()
    assert "Fully Connected (NC, F32) GEMM → Fully Connected (NC, PF32) GEMM" in report


def test_operator_rows_match_the_inspector(fixture_analysis, real_runs_dir):
    for folder in (SME, SME_OFF, "x86-64"):
        res = _result(fixture_analysis, f"{folder}/transformer-block-fp32")
        expected = inspector_rows(real_runs_dir / folder / "transformer-block-fp32.etdump", warmup=1)
        ours = {op["name"]: op["total_ms"] for op in res["operators"]}
        assert set(ours) == set(expected)
        for name, total in expected.items():
            assert math.isclose(ours[name], total, rel_tol=1e-9, abs_tol=1e-12), name
        non_delegated = {op["name"] for op in res["operators"] if not op["delegated"]}
        assert non_delegated == {"native_layer_norm.out", "expand_copy.out"}


def test_categories_sum_to_operator_time(fixture_analysis):
    for res in fixture_analysis.summary["results"]:
        total = sum(op["total_ms"] for op in res["operators"])
        assert math.isclose(sum(c["total_ms"] for c in res["categories"]), total, rel_tol=1e-9)
        assert math.isclose(sum(c["share"] for c in res["categories"]), 1.0, rel_tol=1e-9)
        acc = res["time_accounting"]
        parts = (acc["operator_ms"] + acc["delegate_overhead_ms"] + acc["operator_call_overhead_ms"]
                 + acc["framework_ms"])
        assert math.isclose(parts, acc["execute_ms"], rel_tol=1e-9)


def test_no_etrecord_is_said_not_failed(fixture_analysis):
    res = _result(fixture_analysis, f"{SME}/cnn-linear-fp32")
    assert "no ETRecord: operator-to-model-layer mapping unavailable" in res["notes"]
    assert res["latency"]["count"] == 4           # 5 executions, 1 warm-up dropped


def test_outputs_written_and_charts_small(fixture_analysis):
    from sme2prof.analysis.validate import png_size

    out = fixture_analysis.out_dir
    for name in ("summary.json", "report.md", "latency.csv", "operators.csv", "categories.csv",
                 "kernels.csv", "comparisons.csv"):
        assert (out / name).is_file(), name
    charts = fixture_analysis.summary["files"]["charts"]
    assert len(charts) == 5                          # 3 overview + 2 comparisons
    for chart in charts:
        path = out / chart["file"]
        width, _height = png_size(path)
        assert width <= 1280 and path.stat().st_size < 200_000, chart
    assert json.loads((out / "summary.json").read_text())["results"]


def test_cli_on_fixture_etdump_with_explicit_kernel_trace(real_runs_dir, tmp_path):
    etdump = real_runs_dir / SME / "cnn-linear-fp32.etdump"
    trace = real_runs_dir / SME / "cnn-linear-fp32.xnntrace.log"
    proc = run_script("analyze_results.py", str(etdump), "--kernel-trace", str(trace),
                      "--out", str(tmp_path / "a"), "--json", "--no-charts")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["results"][0]["sme"]["kernel_isa_classes"] == ["NEON", "__neonsme", "scalar"]
    assert "Traceback" not in proc.stderr


def test_partition_count_and_delegate_overhead_are_findings(fixture_analysis):
    """The x86 transformer block runs 4 XNNPACK partitions (layer norm and expand between
    them): a finding says so with the delegate overhead; one partition with a large
    overhead share is stated too, without the advice to rewrite the model."""
    findings = fixture_analysis.summary["findings"]
    split = [f for f in findings if f.startswith("x86-64/transformer-block-fp32: 4 XNNPACK partitions;")]
    assert len(split) == 1 and "delegate overhead" in split[0] and "models/readme.md" in split[0]
    single = [f for f in findings if f.startswith("x86-64/cnn-linear-fp32: 1 XNNPACK partition;")]
    assert len(single) == 1 and "of Method::execute)" in single[0] and "readme" not in single[0]


def test_top_operator_rows_below_the_timer_resolution_are_marked(fixture_analysis):
    report = fixture_analysis.report_path.read_text()
    table_rows = [line for line in report.splitlines()
                  if line.startswith("| ") and line.count("|") == 8 and "ms/iter" not in line]
    for row in fixture_analysis.summary["results"][0]["operators"][:10]:
        if row["delegated"] and row["median_ms"] < 0.001:
            line = next(r for r in table_rows if r.startswith(f"| {row['name']} |"))
            assert "†" in line, line
    assert "† median per call below the 1 µs resolution" in report


def test_log_chart_bars_end_at_their_value_and_never_vanish():
    from sme2prof.analysis import charts

    values = [0.0, 0.0002, 0.004, 3.5]
    ends = [charts.LOG_LEFT_MS + w for w in charts._log_widths(values)]
    assert all(w > 0 for w in charts._log_widths(values)), "every bar has a visible length"
    assert ends[2:] == pytest.approx([0.004, 3.5]) and ends[0] == ends[1] == charts.LOG_FLOOR_MS
