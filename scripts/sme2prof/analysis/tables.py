"""CSV tables: one row per thing, one column per number, for spreadsheets and scripts.

Every column comes from a record's fields (``records.csv_columns``): the per-result
tables are ``result`` followed by the row record's fields, the two tables that exist
only as CSV have their own line records below. Nothing is written through a column list
typed a second time, so a field cannot silently become an empty column.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from sme2prof.fileio import write_text_atomic
from sme2prof.analysis.kernel_trace import Microkernel
from sme2prof.analysis.records import csv_cells, csv_columns
from sme2prof.analysis.rows import CategoryRow, Comparison, OperatorRow, ResultSummary
from sme2prof.analysis.stats import LatencyStats

RESULT_COLUMN = "result"      # first column of every per-result table: the result's name


@dataclass
class LatencyLine:
    """A row of latency.csv: one result's latency statistics."""

    result: str
    status: str
    emulated: bool
    source: str                   # where the timings came from (the result's latency_source)
    stats: LatencyStats           # flattened: count, median_ms, ... noisy
    runner_clock_median_ms: float | None
    iterations_ms: list[float]    # the raw per-iteration times the statistics describe


@dataclass
class ComparisonLine:
    """A row of comparisons.csv: one end-to-end, category or operator line of a comparison."""

    a: str
    b: str
    scope: str                    # end-to-end | category | operator
    item: str
    a_ms: float | None
    b_ms: float | None
    speedup: float | None
    ci_low: float | None
    ci_high: float | None
    verdict: str
    path_changed: bool | None = None     # operator lines only
    a_names: list[str] | None = None
    b_names: list[str] | None = None


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(map(str, value))
    return f"{value:.6g}" if isinstance(value, float) else value


def _csv(columns: list[str], rows: Iterable[list[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buf.getvalue()


def records_csv(cls: type, records: Iterable[Any]) -> str:
    """A table of records of one class: its CSV columns, one line per record."""
    return _csv(csv_columns(cls), (csv_cells(r) for r in records))


def per_result_csv(cls: type, items: Iterable[tuple[str, Any]]) -> str:
    """A table of (result name, record) pairs: ``result``, then the record's columns."""
    return _csv([RESULT_COLUMN, *csv_columns(cls)], ([name, *csv_cells(r)] for name, r in items))


def comparison_lines(comparisons: list[Comparison]) -> list[ComparisonLine]:
    """End-to-end lines first, then every category line, then every operator line."""
    lines = [ComparisonLine(c.a, c.b, "end-to-end", "median latency", c.a_median_ms, c.b_median_ms,
                            c.speedup, c.ci_low, c.ci_high, c.verdict) for c in comparisons]
    lines += [ComparisonLine(c.a, c.b, "category", cat.category, cat.a_ms, cat.b_ms, cat.speedup,
                             cat.ci_low, cat.ci_high, cat.verdict)
              for c in comparisons for cat in c.categories]
    lines += [ComparisonLine(c.a, c.b, "operator", op.operator, op.a_ms, op.b_ms, op.speedup,
                             op.ci_low, op.ci_high, op.verdict, op.path_changed, op.a_names, op.b_names)
              for c in comparisons for op in c.operators]
    return lines


def write_tables(results: list[ResultSummary], comparisons: list[Comparison], out_dir: Path,
                 iterations: dict[str, list[float]]) -> list[Path]:
    """latency.csv, operators.csv, categories.csv, kernels.csv, comparisons*.csv.

    ``iterations``: each result's raw per-iteration latencies, kept in latency.csv.
    """
    written: list[Path] = []
    latency = [LatencyLine(r.name, r.status, r.emulated, r.latency_source, r.latency,
                           r.runner_clock_median_ms, iterations.get(r.name, [])) for r in results]
    written.append(write_text_atomic(out_dir / "latency.csv", records_csv(LatencyLine, latency)))
    written.append(write_text_atomic(out_dir / "operators.csv", per_result_csv(
        OperatorRow, ((r.name, op) for r in results for op in r.operators))))
    written.append(write_text_atomic(out_dir / "categories.csv", per_result_csv(
        CategoryRow, ((r.name, c) for r in results for c in r.categories))))
    kernels = [(r.name, k) for r in results if r.kernels for k in r.kernels.kernels]
    if kernels:
        written.append(write_text_atomic(out_dir / "kernels.csv", per_result_csv(Microkernel, kernels)))
    if comparisons:
        written.append(write_text_atomic(out_dir / "comparisons.csv",
                                         records_csv(ComparisonLine, comparison_lines(comparisons))))
    return written
