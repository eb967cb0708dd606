"""The records summary.json and the CSV tables are made of: the one definition of their keys.

Each class's fields, in order, are the keys of its summary.json object and (minus the
``json_only`` ones) the columns of its CSV table (``records.py`` says how). The report,
the charts and the findings read these attributes, so a field renamed here is renamed
everywhere or fails loudly. Provenance copied from a run's manifest (model, host, build
info, target) stays a plain mapping: the pipeline writes it and this analysis only
shows it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sme2prof.analysis.kernel_trace import KernelTrace
from sme2prof.analysis.records import json_only, none_as
from sme2prof.analysis.stats import LatencyStats


@dataclass(kw_only=True)
class OperatorRow:
    """One operator name (``#k`` dropped) of one result: a row of operators.csv."""

    name: str
    delegated: bool
    category: str
    subcategory: str
    dtypes: list[str]
    packed: bool
    calls_per_iteration: int
    calls: int
    total_ms: float
    per_iteration_ms: float
    median_ms: float
    resolved: bool                                  # median call >= the 1 µs operator timer resolution
    known: bool                                     # False: no category rule knows the name ("Other")
    event_names: list[str] = json_only()
    share: float                                    # of the result's operator time


@dataclass(kw_only=True)
class CategoryRow:
    """One category of one result: a row of categories.csv."""

    category: str
    total_ms: float
    per_iteration_ms: float
    share: float
    operators: int
    top_subcategory: str | None
    top_subcategory_share_of_category: float | None = json_only()
    subcategories: dict[str, float] = json_only()   # sub-category -> share of operator time


@dataclass
class TimeAccounting:
    """Where each Method::execute millisecond went (per-iteration means)."""

    execute_ms: float | None
    operator_ms: float
    xnnpack_operator_ms: float
    non_delegated_operator_ms: float
    delegate_overhead_ms: float
    operator_call_overhead_ms: float
    framework_ms: float | None
    delegate_calls_per_iteration: int


@dataclass
class SmeSummary:
    """Is this an SME-family path, and what says so."""

    sme_path: bool
    packed_dtypes: list[str]
    packed_operators: list[str]
    packed_share_of_operator_time: float
    packed_share_of_conv_gemm_time: float | None
    kernel_isa_classes: list[str]
    verdict: str


@dataclass
class PartitionRow:
    """A DELEGATE_CALL or OPERATOR_CALL and the model layers the ETRecord puts in it."""

    instruction_id: int
    kind: str
    per_iteration_ms: float
    aten_ops: list[str]
    layers: list[str]
    operators: list[str]


@dataclass(kw_only=True)
class ResultSummary:
    """One result (an experiment at one thread count): an entry of summary.json's ``results``."""

    name: str
    experiment: str
    threads: int | None
    run_id: str | None
    status: str
    emulated: bool
    label: str
    runner: str | None
    runner_kind: str | None
    mode: str | None
    build_info: dict[str, Any]
    target: dict[str, Any] | None
    cpu: str | None
    etdump: str | None
    etrecord: str | None
    kernel_trace: str | None
    executions_recorded: int | None
    warmup_dropped: int | None
    latency_source: str
    latency: LatencyStats                           # "the" latency: ETDump Method::execute
    runner_clock_median_ms: float | None            # the runner's own clock, named as such
    time_accounting: TimeAccounting | None = none_as({})    # None: no ETDump data
    operators: list[OperatorRow]
    categories: list[CategoryRow]
    sme: SmeSummary | None = none_as({})
    kernels: KernelTrace | None
    partitions: list[PartitionRow]
    notes: list[str]
    model_name: str | None


@dataclass(kw_only=True)
class CategoryComparison:
    """One category in A and in baseline B: interquartile mean ms per iteration, speedup and its interval."""

    category: str
    a_ms: float
    b_ms: float
    speedup: float | None                           # None when unresolved or on one side only
    ci_low: float | None
    ci_high: float | None
    verdict: str                                    # see compare.py: only "A faster"/"A slower" are differences
    a_share: float
    b_share: float


@dataclass(kw_only=True)
class OperatorComparison:
    """One operator (matched by its name without data types) in A and in baseline B."""

    operator: str
    a_ms: float
    b_ms: float
    speedup: float | None
    ci_low: float | None
    ci_high: float | None
    verdict: str
    a_names: list[str]
    b_names: list[str]
    path_changed: bool
    only_in: str | None                             # "a", "b" or None (in both)


@dataclass
class PathChange:
    operator: str
    baseline: list[str]
    now: list[str]


@dataclass
class Sides:
    """One thing said of A and of baseline B."""

    a: Any
    b: Any


@dataclass(kw_only=True)
class Comparison:
    """A against baseline B: an entry of summary.json's ``comparisons``."""

    a: str
    b: str
    convention: str
    a_median_ms: float | None
    b_median_ms: float | None
    speedup: float | None
    ci_low: float | None
    ci_high: float | None
    verdict: str
    interval_method: str
    speedup_mean: float | None
    noisy: bool
    emulated: bool
    operator_time_speedup: float | None
    categories: list[CategoryComparison]
    operators: list[OperatorComparison]
    path_changes: list[PathChange]
    sme_path: Sides                                 # each side's SME verdict
    kernel_isa_classes: Sides


@dataclass(kw_only=True)
class RunEntry:
    """Provenance of one run directory, straight from its manifest."""

    run_id: str
    run_dir: str
    status: str | None
    started_at: str | None
    finished_at: str | None
    model: dict[str, Any]                           # the manifest's model block, export info filled in
    executorch: dict[str, Any] | None
    host: dict[str, Any] | None


@dataclass
class ChartFile:
    file: str
    title: str


@dataclass
class SummaryFiles:
    tables: list[str]
    charts: list[ChartFile]
    report: str
    summary: str


@dataclass(kw_only=True)
class Summary:
    """summary.json: what the report shows and what scripts and agents read."""

    schema: int
    generated_at: str
    analysis_seconds: float
    runs: list[RunEntry]
    results: list[ResultSummary]
    comparisons: list[Comparison]
    findings: list[str]
    problems: list[str]
    files: SummaryFiles
