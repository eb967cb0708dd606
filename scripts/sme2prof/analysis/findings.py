"""Short statements the numbers support, for report.md and for agents reading summary.json.

Each finding is computed from the summary, never written by hand, so it is true for the
run it describes (or absent).
"""
from __future__ import annotations

from sme2prof.analysis import categories
from sme2prof.analysis.categories import NON_DELEGATED
from sme2prof.analysis.compare import MEASURED, NO_DIFFERENCE, NO_INTERVAL, UNRESOLVED
from sme2prof.analysis.rows import Comparison, ResultSummary
from sme2prof.analysis.stats import NOISY_CV, RESOLUTION_US


def _x(value: float) -> str:
    return f"{value:.2f}" if value >= 0.1 else f"{value:.2g}"


def interval_text(low: float | None, high: float | None) -> str:
    return "" if low is None or high is None else f"{_x(low)}–{_x(high)}×"


def speedup_label(speedup: float | None, verdict: str) -> str:
    """The short form a chart writes next to a bar: the speedup only where the report
    prints one (its interval clears 1), else what the report says instead."""
    if verdict in MEASURED and speedup is not None:
        return f"{_x(speedup)}×"
    return {NO_DIFFERENCE: "no measurable difference", NO_INTERVAL: "no interval",
            UNRESOLVED: f"no measurable difference (< {RESOLUTION_US})"}.get(verdict, "—")


def speedup_text(speedup: float | None, low: float | None, high: float | None, verdict: str) -> str:
    """How every output says one speedup: the number only when its interval excludes 1."""
    if verdict == UNRESOLVED:
        return f"no measurable difference (below the {RESOLUTION_US} operator timer resolution)"
    why = {NO_INTERVAL: "fewer than 3 iterations on a side"}.get(verdict, f"interval {interval_text(low, high)}")
    label = speedup_label(speedup, verdict)
    return label if label == "—" else f"{label} ({why})"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f} %"


def result_findings(res: ResultSummary) -> list[str]:
    """Findings about one result."""
    out: list[str] = []
    prefix = f"{res.name} ({res.label})" if res.label else res.name
    cats = [c for c in res.categories if c.share > 0]
    if cats:
        top = max(cats, key=lambda c: c.share)
        sub = top.top_subcategory
        sub_txt = (f", mostly {sub} ({_pct(top.top_subcategory_share_of_category)} of it)"
                   if sub and top.operators > 1 else "")
        out.append(f"{prefix}: {top.category} is {_pct(top.share)} of operator time{sub_txt}.")
        for c in cats:
            cat = categories.by_name(c.category)
            if c is not top and cat.mention_from is not None and c.share >= cat.mention_from:
                out.append(f"{prefix}: {cat.word} is {_pct(c.share)} of operator time, "
                           f"mostly {c.top_subcategory}.")
        outside = next((c for c in cats if c.category == NON_DELEGATED), None)
        if outside:
            out.append(f"{prefix}: {_pct(outside.share)} of operator time runs outside XNNPACK "
                       f"({categories.by_name(NON_DELEGATED).word}: "
                       f"{', '.join(r.name for r in res.operators if not r.delegated)}).")
    if res.sme:
        share = res.sme.packed_share_of_conv_gemm_time
        matmul = "+".join(c.name for c in categories.matmul_categories())
        extra = f"; packed ops are {_pct(share)} of {matmul} time" if share else ""
        out.append(f"{prefix}: {res.sme.verdict}{extra}.")
    unknown = [r.name for r in res.operators if r.delegated and not r.known]
    if unknown:
        out.append(f"{prefix}: no category rule knows {', '.join(unknown)} (counted as Other); "
                   f"please report these operator names with your ExecuTorch version.")
    lat = res.latency
    if lat.noisy:
        out.append(f"{prefix}: noisy — coefficient of variation {_pct(lat.cv)} "
                   f"(> {_pct(NOISY_CV)}); compare with care or use more runs.")
    acc = res.time_accounting
    if acc and acc.execute_ms:
        overhead = (acc.delegate_overhead_ms or 0) + (acc.framework_ms or 0) \
            + (acc.operator_call_overhead_ms or 0)
        share = overhead / acc.execute_ms
        if share >= 0.10:
            out.append(f"{prefix}: {_pct(share)} of Method::execute is outside operators "
                       f"(delegate, call and framework overhead).")
    return out


def comparison_findings(cmp: Comparison) -> list[str]:
    """What a comparison supports; a line whose interval contains 1 is never ranked."""
    out: list[str] = []
    label = " (emulated — not a performance result)" if cmp.emulated else ""
    pair = f"{cmp.a} vs {cmp.b}"
    if cmp.speedup:
        noisy = " — at least one side is noisy" if cmp.noisy else ""
        said = speedup_text(cmp.speedup, cmp.ci_low, cmp.ci_high, cmp.verdict)
        what = f"end-to-end speedup {said}" if cmp.verdict in MEASURED else f"end to end: {said}"
        out.append(f"{pair}: {what} "
                   f"(latency {cmp.b_median_ms:.3f} → {cmp.a_median_ms:.3f} ms){label}{noisy}.")
    measured = [o for o in cmp.operators if o.verdict in MEASURED and o.speedup]
    if measured:
        top = max(measured, key=lambda o: o.b_ms - o.a_ms)
        what = "biggest operator gain" if top.b_ms > top.a_ms else \
            "no operator got faster; smallest loss"
        out.append(f"{pair}: {what}: {top.operator} "
                   f"{speedup_text(top.speedup, top.ci_low, top.ci_high, top.verdict)} "
                   f"({top.b_ms:.3f} → {top.a_ms:.3f} ms per iteration){label}.")
    elif cmp.operators:
        out.append(f"{pair}: no operator shows a measurable difference.")
    for change in cmp.path_changes[:4]:
        out.append(f"{pair}: path change {change.operator}: "
                   f"{', '.join(change.baseline) or '(absent)'} → {', '.join(change.now) or '(absent)'}.")
    return out


PARTITION_OVERHEAD_SHARE = 0.05     # delegate overhead worth a sentence even with one partition


def partition_findings(res: ResultSummary, export: dict | None) -> list[str]:
    """How many XNNPACK partitions the program has and what entering them costs, when it matters.

    Why a finding of its own: a program cut into several partitions (an fp16 cast or an
    unsupported operator between two delegates) pays a delegate call and a tensor copy per
    boundary at every inference, which no operator row shows. The count comes from the
    export record (with the operators that split it), else from the delegate calls in
    the ETDump. Said when there is more than one partition or when the delegate overhead is
    at least 5 % of Method::execute.
    """
    acc = res.time_accounting
    if not acc or not acc.execute_ms:
        return []
    export = export or {}
    partitions = export.get("xnnpack_partitions") or acc.delegate_calls_per_iteration
    share = acc.delegate_overhead_ms / acc.execute_ms
    if partitions <= 1 and share < PARTITION_OVERHEAD_SHARE:
        return []
    prefix = f"{res.name} ({res.label})" if res.label else res.name
    split = export.get("partition_split_ops") or {}
    cause = (f", split by {', '.join(f'{op} x{n}' for op, n in split.items())}"
             if partitions > 1 and split else "")
    advice = ("; each boundary costs a delegate call and a tensor copy: see models/readme.md "
              "for rewriting the operators that split it" if partitions > 1 else "")
    return [f"{prefix}: {partitions} XNNPACK partition{'s' if partitions != 1 else ''}{cause}; "
            f"delegate overhead {acc.delegate_overhead_ms:.3f} ms per inference "
            f"({_pct(share)} of Method::execute){advice}."]
