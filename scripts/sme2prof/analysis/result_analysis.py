"""Turn one result's ETDump (+ kernel trace) into the numbers the report shows.

Time accounting per iteration, so a reader sees where ALL of Method::execute went:

* operator time     = XNNPACK operator events + portable (non-delegated) kernel events
* delegate overhead = DELEGATE_CALL minus the XNNPACK operators inside it
* call overhead     = OPERATOR_CALL minus the portable kernel inside it
* framework         = Method::execute minus every DELEGATE_CALL and OPERATOR_CALL

Per-iteration means are used for shares because means add up (medians do not): the
category shares then sum to exactly 100 % of operator time.
"""
from __future__ import annotations

import statistics
from collections import OrderedDict
from dataclasses import dataclass, field

from sme2prof.analysis import categories
from sme2prof.analysis.categories import PACKED_DTYPES, classify
from sme2prof.analysis.etdump_reader import DELEGATE_CALL, OPERATOR_CALL, EtdumpData
from sme2prof.analysis.kernel_trace import ISA_SME, ISA_SME2, KernelTrace, match_operators
from sme2prof.analysis.rows import (CategoryRow, OperatorRow, PartitionRow, ResultSummary,
                                    SmeSummary, TimeAccounting)
from sme2prof.analysis.sources import ResultSource
from sme2prof.analysis.stats import LatencyStats, calls_resolved, latency_stats

EMULATED_LABEL = "emulated — not a performance result"


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def _per_iteration_sum(series: list[list[float]]) -> list[float]:
    """Element-wise sum of several per-execution series (shortest length wins)."""
    if not series:
        return []
    length = min(len(s) for s in series)
    return [sum(s[i] for s in series) for i in range(length)]


@dataclass
class ResultAnalysis:
    """Everything computed for one result; ``summary`` is its summary.json entry."""

    source: ResultSource
    data: EtdumpData | None
    latency: LatencyStats
    latency_source: str
    accounting: TimeAccounting | None
    operators: list[OperatorRow]
    categories: list[CategoryRow]
    sme: SmeSummary | None
    kernels: KernelTrace | None
    partitions: list[PartitionRow]
    notes: list[str] = field(default_factory=list)
    latency_values: list[float] = field(default_factory=list)   # the iterations ``latency`` describes

    @property
    def name(self) -> str:
        return self.source.name

    def summary(self, model_name: str | None = None) -> ResultSummary:
        s = self.source
        info = s.experiment_info
        return ResultSummary(
            name=s.name, experiment=s.experiment, threads=s.threads, run_id=s.run_id,
            status=s.status, emulated=s.emulated, label=EMULATED_LABEL if s.emulated else "",
            runner=info.get("runner"), runner_kind=info.get("runner_kind"), mode=info.get("mode"),
            build_info=info.get("build_info") or {}, target=info.get("target"), cpu=info.get("cpu"),
            etdump=str(s.etdump) if s.etdump else None,
            etrecord=self.data.etrecord if self.data else None,
            kernel_trace=str(s.kernel_trace) if s.kernel_trace else None,
            executions_recorded=self.data.executions if self.data else None,
            warmup_dropped=self.data.warmup_dropped if self.data else None,
            latency_source=self.latency_source, latency=self.latency,
            runner_clock_median_ms=runner_clock_median(s),
            time_accounting=self.accounting, operators=self.operators,
            categories=self.categories, sme=self.sme, kernels=self.kernels,
            partitions=self.partitions, notes=self.notes, model_name=model_name)


def operator_rows(data: EtdumpData) -> list[OperatorRow]:
    """One row per operator name (``#k`` dropped), sorted by time, with shares."""
    grouped: OrderedDict[tuple[str, bool], list] = OrderedDict()
    for op in data.operators:
        grouped.setdefault((op.name, op.delegated), []).append(op)
    iterations = max((len(op.times_ms) for op in data.operators), default=0)
    per_call = {key: [t for e in events for t in e.times_ms] for key, events in grouped.items()}
    operator_total = sum(sum(times) for times in per_call.values())
    rows = []
    for (name, delegated), events in grouped.items():
        kind = classify(name, delegated)
        times = per_call[(name, delegated)]
        total = sum(times)
        rows.append(OperatorRow(
            name=name, delegated=delegated, category=kind.category,
            subcategory=kind.subcategory, dtypes=list(kind.dtypes),
            packed=kind.packed, calls_per_iteration=len(events),
            calls=len(times), total_ms=total,
            per_iteration_ms=total / iterations if iterations else 0.0,
            median_ms=statistics.median(times) if times else 0.0,
            resolved=calls_resolved(times),
            known=kind.known,
            event_names=[e.event_name for e in events],
            share=total / operator_total if operator_total else 0.0))
    rows.sort(key=lambda r: r.total_ms, reverse=True)
    return rows


def category_rows(operators: list[OperatorRow]) -> list[CategoryRow]:
    """Shares of operator time per category, with each category's sub-categories."""
    total = sum(r.total_ms for r in operators)
    out = []
    for cat in categories.CATEGORIES:
        members = [r for r in operators if r.category == cat.name]
        cat_total = sum(r.total_ms for r in members)
        subs: dict[str, float] = {}
        for r in members:
            subs[r.subcategory] = subs.get(r.subcategory, 0.0) + r.total_ms
        top_sub = max(subs, key=subs.get) if subs else None
        out.append(CategoryRow(
            category=cat.name, total_ms=cat_total,
            per_iteration_ms=sum(r.per_iteration_ms for r in members),
            share=cat_total / total if total else 0.0, operators=len(members),
            top_subcategory=top_sub,
            top_subcategory_share_of_category=subs[top_sub] / cat_total if top_sub and cat_total else None,
            subcategories={k: (v / total if total else 0.0) for k, v in
                           sorted(subs.items(), key=lambda kv: -kv[1])}))
    return out


def time_accounting(data: EtdumpData) -> TimeAccounting:
    """Where each Method::execute millisecond went (per-iteration means)."""
    xnn = _mean(_per_iteration_sum([o.times_ms for o in data.operators if o.delegated]))
    native = _mean(_per_iteration_sum([o.times_ms for o in data.operators if not o.delegated]))
    delegate_calls = _mean(_per_iteration_sum([p.times_ms for p in data.partitions if p.kind == DELEGATE_CALL]))
    operator_calls = _mean(_per_iteration_sum([p.times_ms for p in data.partitions if p.kind == OPERATOR_CALL]))
    execute = _mean(data.execute_ms)
    return TimeAccounting(
        execute_ms=execute if data.execute_ms else None,
        operator_ms=xnn + native, xnnpack_operator_ms=xnn,
        non_delegated_operator_ms=native,
        delegate_overhead_ms=delegate_calls - xnn if delegate_calls else 0.0,
        operator_call_overhead_ms=operator_calls - native if operator_calls else 0.0,
        framework_ms=execute - delegate_calls - operator_calls if data.execute_ms else None,
        delegate_calls_per_iteration=sum(1 for p in data.partitions if p.kind == DELEGATE_CALL))


def sme_summary(operators: list[OperatorRow], kernels: KernelTrace | None) -> SmeSummary:
    """Is this an SME-family path? Data types say 'packed'; only kernels say SME2 vs SME."""
    delegated = [r for r in operators if r.delegated]
    total = sum(r.total_ms for r in operators)
    packed = [r for r in delegated if r.packed]
    packed_ms = sum(r.total_ms for r in packed)
    matmul_names = {c.name for c in categories.matmul_categories()}
    matmul = [r for r in delegated if r.category in matmul_names]
    matmul_ms = sum(r.total_ms for r in matmul)
    packed_matmul_ms = sum(r.total_ms for r in matmul if r.packed)
    dtypes = sorted({d for r in packed for d in r.dtypes if d in PACKED_DTYPES})
    isa = kernels.isa_classes if kernels else []
    if ISA_SME2 in isa:
        verdict = f"SME2 kernels ({ISA_SME2}) in the kernel trace"
    elif ISA_SME in isa:
        verdict = f"SME kernels ({ISA_SME}, not SME2) in the kernel trace"
    elif packed:
        verdict = f"SME-family packed path ({', '.join(dtypes)}); a kernel trace tells SME2 from SME"
    elif kernels:
        verdict = "no SME path: no packed data types and no SME kernels in the kernel trace"
    else:
        verdict = f"no SME path: no packed data types ({', '.join(PACKED_DTYPES)}) in operator names"
    return SmeSummary(
        sme_path=bool(packed) or any(c in isa for c in (ISA_SME2, ISA_SME)),
        packed_dtypes=dtypes, packed_operators=[r.name for r in packed],
        packed_share_of_operator_time=packed_ms / total if total else 0.0,
        packed_share_of_conv_gemm_time=packed_matmul_ms / matmul_ms if matmul_ms else None,
        kernel_isa_classes=isa, verdict=verdict)


def _timed_iterations(source: ResultSource) -> list[float]:
    """The manifest's runner-clock times without warm-up (empty when they do not add up)."""
    values = list(source.iterations_ms)
    warmup = source.warmup or 0
    if values and source.runs and len(values) == source.runs + warmup:
        values = values[warmup:]
    return values


def runner_clock_median(source: ResultSource) -> float | None:
    """The runner's own clock around each iteration: printed by the pipeline, named as such."""
    values = _timed_iterations(source) if source.status == "ok" else []
    return statistics.median(values) if values else None


def _latency(source: ResultSource, data: EtdumpData | None) -> tuple[list[float], str, list[str]]:
    """The iterations "the latency" is taken from: ETDump Method::execute when there is one.

    Why Method::execute and not the runner clock: it is the same clock, the same
    iterations and the same file as every operator time, category share and comparison
    in the report, it exists for every runner (a bare ETDump has no runner clock), and
    it leaves out the runner's own calling overhead (for the pybind runner, the Python
    call). The runner clock stays in the report under its own name.
    """
    notes: list[str] = []
    if data is not None and data.execute_ms:
        return list(data.execute_ms), "Method::execute events (ETDump)", notes
    if source.status != "ok":      # a failed run's timings describe a failure, not the model
        return [], "none", notes
    values = _timed_iterations(source)
    if values:
        notes.append("no Method::execute events in the ETDump; latency from the manifest's iterations_ms")
        return values, "manifest iterations_ms", notes
    return [], "none", notes


def analyse_result(source: ResultSource, data: EtdumpData | None,
                   kernels: KernelTrace | None) -> ResultAnalysis:
    """All numbers for one result; ``data`` is None when its ETDump was unusable."""
    values, latency_source, notes = _latency(source, data)
    latency = latency_stats(values)
    if source.emulated:
        notes.insert(0, f"timings are {EMULATED_LABEL}: only the operator paths and kernels are evidence")
    if data is None:
        return ResultAnalysis(source, None, latency, latency_source, None, [], [], None, None, [], notes,
                              values)
    notes = list(data.notes) + notes
    ops = operator_rows(data)
    if kernels is not None:
        match_operators(kernels, [r.name for r in ops if r.delegated])
    parts = [PartitionRow(instruction_id=p.instruction_id, kind=p.kind, per_iteration_ms=_mean(p.times_ms),
                          aten_ops=p.aten_ops, layers=p.layers,
                          operators=[o.event_name for o in data.operators if o.partition == p.instruction_id])
             for p in data.partitions]
    return ResultAnalysis(source, data, latency, latency_source, time_accounting(data), ops,
                          category_rows(ops), sme_summary(ops, kernels), kernels, parts, notes, values)
