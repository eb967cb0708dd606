"""summary.json and the CSV tables come from one definition: the record dataclasses.

What a user would notice if they drifted apart: a spreadsheet column that is empty or
holds another number than summary.json, a key a script reads that vanished, a failed
result whose blocks change shape. Checked on a real analysis of the real-run fixtures
(source-built runners, XNNPACK kernel logs) and on the record machinery itself.
"""
from __future__ import annotations

import csv
import json
from dataclasses import fields, make_dataclass
from pathlib import Path

import pytest

from sme2prof.analysis.kernel_trace import KernelTrace, Microkernel
from sme2prof.analysis.records import csv_columns, json_only, to_json
from sme2prof.analysis.rows import (CategoryComparison, CategoryRow, Comparison,
                                    OperatorComparison, OperatorRow, PartitionRow, PathChange,
                                    ResultSummary, SmeSummary, Summary, SummaryFiles, TimeAccounting)
from sme2prof.analysis.stats import LatencyStats
from sme2prof.analysis.tables import per_result_csv

SME = "aarch64-qemu-cpu-max-sme"
SME_OFF = "aarch64-qemu-cpu-max-sme-off"

# The columns users' spreadsheets and scripts rely on. Renaming a record field renames its
# column; this list is the reminder that such a rename changes a published file.
PUBLISHED_COLUMNS = {
    "latency.csv": "result,status,emulated,source,count,median_ms,p10_ms,p90_ms,p95_ms,p99_ms,mean_ms,"
                   "trimmed_mean_ms,std_ms,cv,min_ms,max_ms,outliers,noisy,runner_clock_median_ms,iterations_ms",
    "operators.csv": "result,name,delegated,category,subcategory,dtypes,packed,calls_per_iteration,calls,"
                     "total_ms,per_iteration_ms,median_ms,resolved,known,share",
    "categories.csv": "result,category,total_ms,per_iteration_ms,share,operators,top_subcategory",
    "kernels.csv": "result,name,isa_class,dtype,op,kind,isa,count,operators",
    "comparisons.csv": "a,b,scope,item,a_ms,b_ms,speedup,ci_low,ci_high,verdict,path_changed,a_names,b_names",
    "kernel_diff.csv": "comparison,operator,a_operators,b_operators,a_kernels,b_kernels,a_isa,b_isa,status",
}


@pytest.fixture(scope="module")
def analysis(real_runs_dir: Path, tmp_path_factory):
    from sme2prof.analysis import analyze_runs

    paths = [real_runs_dir / folder / f"{model}.etdump"
             for model in ("cnn-linear-fp32", "transformer-block-fp32") for folder in (SME, SME_OFF)]
    pairs = [(f"{SME}/{m}", f"{SME_OFF}/{m}") for m in ("cnn-linear-fp32", "transformer-block-fp32")]
    return analyze_runs(paths, compare=pairs, out_dir=tmp_path_factory.mktemp("records"), warmup=1,
                        charts_enabled=False)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _cell(value) -> str:
    """How the tables write one JSON value."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(map(str, value))
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def test_csv_headers_are_the_published_columns(analysis):
    for name, header in PUBLISHED_COLUMNS.items():
        first_line = (analysis.out_dir / name).read_text(encoding="utf-8").splitlines()[0]
        assert first_line == header, name


@pytest.mark.parametrize("table, block", [("operators.csv", "operators"), ("categories.csv", "categories")])
def test_every_csv_cell_is_the_summary_value_of_its_column(analysis, table, block):
    """A column whose name is not a summary.json key, or that holds another value, fails here."""
    expected = [(r["name"], item) for r in analysis.summary["results"] for item in r[block]]
    rows = _rows(analysis.out_dir / table)
    assert len(rows) == len(expected) > 0
    for row, (result, item) in zip(rows, expected):
        assert row.pop("result") == result
        assert row == {column: _cell(item[column]) for column in row}, (table, result)


def test_kernel_and_latency_cells_are_the_summary_values(analysis):
    kernels = [(r["name"], k) for r in analysis.summary["results"] for k in r["kernels"]["kernels"]]
    rows = _rows(analysis.out_dir / "kernels.csv")
    assert len(rows) == len(kernels) > 0
    for row, (result, kernel) in zip(rows, kernels):
        assert row.pop("result") == result
        assert row == {column: _cell(kernel[column]) for column in row}
    for row, res in zip(_rows(analysis.out_dir / "latency.csv"), analysis.summary["results"], strict=True):
        assert (row.pop("result"), row.pop("status"), row.pop("emulated"), row.pop("source")) == (
            res["name"], res["status"], str(res["emulated"]), res["latency_source"])
        assert row.pop("runner_clock_median_ms") == _cell(res["runner_clock_median_ms"])
        raw = [float(v) for v in row.pop("iterations_ms").split(";")]      # the raw iterations
        assert len(raw) == res["latency"]["count"] and min(raw) == res["latency"]["min_ms"]
        assert row == {column: _cell(res["latency"][column]) for column in row}


def test_comparison_lines_are_the_summary_comparisons(analysis):
    rows = _rows(analysis.out_dir / "comparisons.csv")
    for cmp in analysis.summary["comparisons"]:
        mine = [r for r in rows if (r["a"], r["b"]) == (cmp["a"], cmp["b"])]
        ends = [r for r in mine if r["scope"] == "end-to-end"]
        assert [(r["a_ms"], r["b_ms"], r["speedup"]) for r in ends] == [
            (_cell(cmp["a_median_ms"]), _cell(cmp["b_median_ms"]), _cell(cmp["speedup"]))]
        ops = {r["item"]: r for r in mine if r["scope"] == "operator"}
        assert len(ops) == len(cmp["operators"]) > 0
        for op in cmp["operators"]:
            row = ops[op["operator"]]
            assert {c: row[c] for c in ("a_ms", "b_ms", "speedup", "path_changed", "a_names", "b_names")} == {
                c: _cell(op[c]) for c in ("a_ms", "b_ms", "speedup", "path_changed", "a_names", "b_names")}


def _keys(cls) -> list[str]:
    return [f.name for f in fields(cls)]


def test_summary_json_objects_have_exactly_their_record_fields(analysis):
    """Every object of summary.json is written from a record: its keys are the record's fields."""
    summary = json.loads((analysis.out_dir / "summary.json").read_text(encoding="utf-8"))
    assert list(summary) == _keys(Summary)
    assert list(summary["files"]) == _keys(SummaryFiles)
    checked = set()
    for res in summary["results"]:
        assert list(res) == _keys(ResultSummary)
        assert list(res["latency"]) == _keys(LatencyStats)
        assert list(res["time_accounting"]) == _keys(TimeAccounting)
        assert list(res["sme"]) == _keys(SmeSummary)
        assert list(res["kernels"]) == _keys(KernelTrace)
        for cls, items in ((OperatorRow, res["operators"]), (CategoryRow, res["categories"]),
                           (Microkernel, res["kernels"]["kernels"]), (PartitionRow, res["partitions"])):
            for item in items:
                assert list(item) == _keys(cls), cls.__name__
                checked.add(cls)
    for cmp in summary["comparisons"]:
        assert list(cmp) == _keys(Comparison)
        assert list(cmp["sme_path"]) == list(cmp["kernel_isa_classes"]) == ["a", "b"]
        for cls, items in ((CategoryComparison, cmp["categories"]), (OperatorComparison, cmp["operators"]),
                           (PathChange, cmp["path_changes"])):
            for item in items:
                assert list(item) == _keys(cls), cls.__name__
                checked.add(cls)
    assert checked == {OperatorRow, CategoryRow, Microkernel, PartitionRow, CategoryComparison,
                       OperatorComparison, PathChange}, "the fixtures should exercise every row record"


def test_a_result_without_etdump_data_keeps_its_empty_blocks():
    """A failed experiment's entry: latency all None, accounting and SME blocks {}, no rows."""
    from sme2prof.analysis.result_analysis import analyse_result
    from sme2prof.analysis.sources import ResultSource

    source = ResultSource(name="broken", experiment="broken", threads=1, status="failed", etdump=None,
                          etrecord=None, kernel_trace=None, error="runner exited with code 3")
    entry = to_json(analyse_result(source, None, None).summary())
    assert entry["time_accounting"] == {} and entry["sme"] == {}
    assert entry["kernels"] is None and entry["operators"] == entry["categories"] == entry["partitions"] == []
    assert entry["latency"] == {"count": 0, **{k: None for k in _keys(LatencyStats) if k != "count"}}
    assert entry["build_info"] == {} and entry["latency_source"] == "none"


def _record(field_name: str):
    """A small row record whose second field is called ``field_name``."""
    return make_dataclass("Row", [("name", str), (field_name, float),
                                  ("event_names", list, json_only()), ("latency", LatencyStats)])


def test_renaming_a_field_renames_its_json_key_and_its_csv_column():
    before, after = _record("total_ms"), _record("time_ms")
    row = after(name="op", time_ms=1.5, event_names=["op #1"], latency=LatencyStats(count=0))
    assert csv_columns(before)[:2] == ["name", "total_ms"]
    assert csv_columns(after)[:2] == ["name", "time_ms"]
    assert list(to_json(row))[:2] == ["name", "time_ms"]
    header, line = per_result_csv(after, [("r", row)]).splitlines()
    assert header == "result,name,time_ms," + ",".join(_keys(LatencyStats))   # nested record flattened
    assert line.startswith("r,op,1.5,0,")
    assert "event_names" not in header and to_json(row)["event_names"] == ["op #1"]

