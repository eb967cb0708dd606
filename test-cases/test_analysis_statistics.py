"""Statistics a reader can trust: intervals, warm-up of bare ETDumps, the latency table, exports.

The ETDumps are the real-run fixtures (runners built from source, 5 executions each, the
first one cold); the interval checks use the kit's bootstrap on plain numbers, where the
answer is known.
"""
from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from kit_helpers import run_script
from sme2prof.analysis.stats import latency_stats, speedup_interval

X86 = "x86-64/cnn-linear-fp32.etdump"


def _normal(n: int, mean: float, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(mean, mean * 0.03) for _ in range(n)]


def test_an_interval_contains_1_for_the_same_distribution_and_not_for_twice_as_fast():
    same = speedup_interval(_normal(30, 10.0, 1), _normal(30, 10.0, 2))
    assert same is not None and same[0] < 1 < same[1]
    faster = speedup_interval(_normal(30, 5.0, 3), _normal(30, 10.0, 4))   # A takes half B's time
    assert faster is not None and 1.9 < faster[0] < 2 < faster[1] < 2.1
    assert speedup_interval(_normal(30, 10.0, 1), _normal(30, 10.0, 2)) == same   # fixed seed
    assert speedup_interval([1.0, 2.0], [1.0, 2.0, 3.0]) is None                  # too few iterations


def test_the_interval_narrows_with_more_iterations():
    widths = []
    for n in (20, 100):
        low, high = speedup_interval(_normal(n, 10.0, 5), _normal(n, 10.0, 6))
        widths.append(high - low)
    assert widths[1] < widths[0] * 0.7


def test_latency_table_statistics():
    values = [10.0] * 18 + [10.5, 30.0]
    lat = latency_stats(values)
    assert lat.outliers == 2                             # IQR 0: both values off the median are out
    assert lat.trimmed_mean_ms == 10.0                   # 10 % cut at each end drops 30.0 and 10.5
    assert lat.p95_ms > lat.p90_ms and lat.p99_ms > 20 and lat.median_ms == 10.0


@pytest.fixture(scope="module")
def bare(real_runs_dir: Path, tmp_path_factory):
    out = tmp_path_factory.mktemp("bare") / "analysis"
    proc = run_script("analyze_results.py", str(real_runs_dir / X86), "--out", str(out), "--no-charts")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc, out


def test_a_cold_first_execution_of_a_bare_etdump_is_dropped_and_said(bare):
    proc, out = bare
    summary = json.loads((out / "summary.json").read_text())
    (res,) = summary["results"]
    assert res["executions_recorded"] == 5 and res["warmup_dropped"] == 1 and res["latency"]["count"] == 4
    said = "warm-up: dropped execution 1 of 5 (0.248 ms; the others' median 0.046 ms)"
    assert said in proc.stderr
    assert said in (out / "report.md").read_text()
    assert res["latency"]["max_ms"] < 0.06               # the 0.248 ms cold run is gone


@pytest.mark.parametrize("warmup, kept", [("0", 5), ("2", 3)])
def test_warmup_n_is_what_the_user_says(real_runs_dir, tmp_path, warmup, kept):
    out = tmp_path / "a"
    proc = run_script("analyze_results.py", str(real_runs_dir / X86), "--warmup", warmup, "--out", str(out),
                      "--no-charts")
    assert proc.returncode == 0, proc.stderr
    (res,) = json.loads((out / "summary.json").read_text())["results"]
    assert res["latency"]["count"] == kept and "warm-up: dropped" not in proc.stderr


def test_latency_table_and_csv_carry_the_new_statistics(bare):
    _, out = bare
    report = (out / "report.md").read_text()
    assert "| result | n | latency | p10 | p90 | p95 | p99 | mean | trimmed mean | std | cv | min | max | " \
           "outliers | warm-up dropped | runner-clock median | flag |" in report
    with open(out / "latency.csv", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert len(row["iterations_ms"].split(";")) == 4


def test_timeline_and_chrome_trace(bare):
    _, out = bare
    with open(out / "timeline.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    operators = [r for r in rows if r["kind"] == "operator"]
    assert {r["iteration"] for r in rows} == {"1", "2", "3", "4"}
    assert len(operators) == 4 * 9                       # 9 XNNPACK operator events per iteration
    conv = next(r for r in operators if r["event"] == "Convolution (NHWC, F32) IGEMM #1")
    assert conv["category"] == "CONV" and float(conv["duration_us"]) >= 1
    trace = json.loads((out / "trace.json").read_text())
    spans = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert len(spans) == len(rows)
    assert {e["name"] for e in spans} >= {"Method::execute", "Convolution (NHWC, F32) IGEMM #1"}
    assert all(e["dur"] >= 0 and e["ts"] >= 0 for e in spans)
    names = [e for e in trace["traceEvents"] if e["ph"] == "M" and e["name"] == "thread_name"]
    assert len(names) == 1                               # one track: a bare ETDump has one thread count
    report = (out / "report.md").read_text()
    assert "[trace.json](trace.json) opens in Perfetto" in report
