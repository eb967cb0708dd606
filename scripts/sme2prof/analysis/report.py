"""report.md: what a person reads first. A view of summary.json, nothing more.

It starts with provenance (what ran where, built how) because a number without its
model, runner build and device cannot be compared with anything; then the findings;
then the tables that back them, and the charts.
"""
from __future__ import annotations

from typing import Sequence

from sme2prof.analysis import categories
from sme2prof.analysis.exports import TIMELINE_NAME, TRACE_NAME
from sme2prof.analysis.findings import speedup_text
from sme2prof.analysis.result_analysis import EMULATED_LABEL
from sme2prof.analysis.rows import Comparison, ResultSummary, Summary
from sme2prof.analysis.stats import MIN_EFFECT, NOISY_CV, RESOLUTION_US, TRIM


TOP_OPERATORS = 15


def _ms(v: float | None) -> str:
    """Milliseconds with three decimals, or three significant digits below 0.1 ms.

    Small models run operators in microseconds; a fixed 0.000 would hide them.
    """
    if v is None:
        return "—"
    if v == 0 or abs(v) >= 0.1:
        return f"{v:.3f}"
    return f"{v:.3g}" if abs(v) >= 1e-4 else f"{v:.1e}"


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.1f} %"


def _table(header: list[str], rows: Sequence[Sequence[object]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return out + [""]


def _provenance(summary: Summary) -> list[str]:
    lines = ["## Provenance", ""]
    for run in summary.runs:
        model = run.model or {}
        export = model.get("export") or {}
        et = run.executorch or {}
        host = run.host or {}
        feats = host.get("cpu_features") or {}
        flags = ", ".join(k for k, v in feats.items() if v is True) or "none detected"
        lines += [f"- **Run** `{run.run_id}` ({run.status}), {run.started_at}",
                  f"  - model: `{model.get('path', '?')}`"
                  + (f" — {export.get('model', '')} {export.get('dtype', '')}".rstrip() if export else "")
                  + (f", sha256 {str(model.get('sha256'))[:12]}…" if model.get("sha256") else ""),
                  f"  - ExecuTorch {et.get('version', '?')} (commit {str(et.get('git_commit') or '?')[:12]})",
                  f"  - host: {host.get('os', '?')} {host.get('os_version', '')} {host.get('machine', '')}, "
                  f"{host.get('cpu_model') or 'CPU ?'}, {host.get('cpu_count', '?')} cores; CPU features: {flags}"]
    for res in summary.results:
        bi = res.build_info or {}
        build = ", ".join(f"{k}={bi[k]}" for k in ("variant", "platform", "sme", "sme2", "xnntrace",
                                                   "executorch_commit", "compiler") if k in bi)
        where = res.target or {}
        where_txt = f"; runs on {where.get('description') or where}" if where else ""
        lines.append(f"- **{res.name}**: runner `{res.runner or 'n/a'}` "
                     f"({res.runner_kind or 'ETDump file'}{'; ' + build if build else ''})"
                     f"{where_txt}; ETDump `{res.etdump}`; ETRecord "
                     f"{'`' + res.etrecord + '`' if res.etrecord else 'none'}"
                     + (f"; **{EMULATED_LABEL}**" if res.emulated else ""))
    return lines + [""]


def _latency(results: list[ResultSummary]) -> list[str]:
    rows = []
    for r in results:
        lat = r.latency
        name = r.name + (" *(emulated)*" if r.emulated else "")
        flag = "noisy" if lat.noisy else ("" if lat.count else r.status)
        rows.append([name, lat.count, f"**{_ms(lat.median_ms)}**", _ms(lat.p10_ms), _ms(lat.p90_ms),
                     _ms(lat.p95_ms), _ms(lat.p99_ms), _ms(lat.mean_ms), _ms(lat.trimmed_mean_ms),
                     _ms(lat.std_ms), _pct(lat.cv), _ms(lat.min_ms), _ms(lat.max_ms),
                     "—" if lat.outliers is None else lat.outliers,
                     "—" if r.warmup_dropped is None else r.warmup_dropped,
                     _ms(r.runner_clock_median_ms), flag])
    return ["## End-to-end latency (ms)", "",
            "**Latency** is the median of the ETDump's `Method::execute` events: the same clock and "
            "iterations as every operator time below, without the runner's own calling overhead. "
            "The *runner-clock median* is the runner's clock around each iteration (what the "
            "pipeline prints while it runs); quote it only under that name. "
            f"Trimmed mean: {100 * TRIM:.0f} % cut at each end; outliers: outside Q1 − 1.5·IQR .. "
            f"Q3 + 1.5·IQR; noisy: coefficient of variation above {100 * NOISY_CV:.0f} %. "
            "The raw per-iteration times are in latency.csv.", ""] + _table(
        ["result", "n", "latency", "p10", "p90", "p95", "p99", "mean", "trimmed mean", "std", "cv",
         "min", "max", "outliers", "warm-up dropped", "runner-clock median", "flag"], rows)


def _accounting(results: list[ResultSummary]) -> list[str]:
    rows = []
    for r in results:
        a = r.time_accounting
        if a is None:
            continue
        rows.append([r.name, _ms(a.execute_ms), _ms(a.xnnpack_operator_ms),
                     _ms(a.non_delegated_operator_ms), _ms(a.delegate_overhead_ms),
                     _ms(a.operator_call_overhead_ms), _ms(a.framework_ms)])
    if not rows:
        return []
    return ["## Where each inference's time went (ms per iteration, mean)", "",
            "Operator time = XNNPACK operators + non-delegated kernels; the overheads are the "
            "DELEGATE_CALL / OPERATOR_CALL wrappers minus what they contain; framework = "
            "Method::execute minus all calls.", ""] + _table(
        ["result", "Method::execute", "XNNPACK ops", "non-delegated ops", "delegate overhead",
         "call overhead", "framework"], rows)


def _categories(results: list[ResultSummary]) -> list[str]:
    with_cats = [r for r in results if r.categories]
    if not with_cats:
        return []
    rows = []
    for cat in categories.category_names():
        cells = []
        for r in with_cats:
            c = next(x for x in r.categories if x.category == cat)
            top = f" ({c.top_subcategory})" if c.top_subcategory else ""
            cells.append(_pct(c.share) + top if c.share else "—")
        rows.append([cat, *cells])
    return ["## Operator time by category", ""] + _table(["category", *[r.name for r in with_cats]], rows)


# XNNPACK reports operator times in whole microseconds: a median per call below the
# resolution is mostly 0 us samples, a count of timer ticks rather than a measurement.
BELOW_RESOLUTION_MARK = " †"
BELOW_RESOLUTION_NOTE = (f"† median per call below the {RESOLUTION_US} resolution of XNNPACK's operator timer: "
                         "most samples read 0 µs, so this row's times and share are a lower bound, "
                         "not a measurement.")


def _operators(res: ResultSummary) -> list[str]:
    shown = res.operators[:TOP_OPERATORS]
    below = [op.delegated and not op.resolved for op in shown]
    rows = [[op.name + ("" if op.delegated else " *(non-delegated)*"), op.category,
             op.subcategory, op.calls_per_iteration, _ms(op.per_iteration_ms),
             _ms(op.median_ms) + (BELOW_RESOLUTION_MARK if low else ""), _pct(op.share)]
            for op, low in zip(shown, below)]
    more = len(res.operators) - TOP_OPERATORS
    tail = [f"({more} more in operators.csv)", ""] if more > 0 else []
    if any(below):
        tail = [BELOW_RESOLUTION_NOTE, "", *tail]
    return [f"### {res.name}", ""] + _table(
        ["operator", "category", "sub-category", "calls/iter", "ms/iter", "median ms/call", "share"],
        rows) + tail


def _unknown(results: list[ResultSummary]) -> list[str]:
    """Operator names no category rule knows: counted as Other, listed so a user can report them."""
    names = sorted({op.name for r in results for op in r.operators if op.delegated and not op.known})
    if not names:
        return []
    return ["## Unknown operator names", "",
            "No category rule knows these XNNPACK operator names, so they are counted as Other. "
            "Please report them (with your ExecuTorch version) so the category table can learn them:", ""] \
        + [f"- `{n}`" for n in names] + [""]


def _kernels(res: ResultSummary) -> list[str]:
    lines = [f"- **{res.name}**: {res.sme.verdict if res.sme else 'no operator data'}"]
    if res.kernels:
        rows = [[f"`{x.name}`", x.isa_class, x.dtype, x.op,
                 ", ".join(x.operators) or "— (no matching operator in the ETDump)"]
                for x in res.kernels.kernels]
        lines += ["", *_table(["microkernel", "ISA", "dtype", "op", "ETDump operators"], rows)]
    return lines


def _layers(res: ResultSummary) -> list[str]:
    """Which model layers each delegate partition / portable call holds (needs the ETRecord)."""
    rows = [[p.instruction_id, p.kind, _ms(p.per_iteration_ms),
             ", ".join(p.layers[:6]) + (" …" if len(p.layers) > 6 else ""),
             ", ".join(sorted(set(p.aten_ops)))[:120]]
            for p in res.partitions if p.layers or p.aten_ops]
    if not rows:
        return []
    return [f"### {res.name}", ""] + _table(
        ["instruction", "call", "ms/iter", "model layers", "aten ops"], rows)


def _comparison(cmp: Comparison) -> list[str]:
    em = f" — {EMULATED_LABEL}" if cmp.emulated else ""
    said = speedup_text(cmp.speedup, cmp.ci_low, cmp.ci_high, cmp.verdict)
    lines = [f"### {cmp.a} vs {cmp.b} (baseline){em}", "",
             f"End to end: **{said}** (latency {_ms(cmp.b_median_ms)} → {_ms(cmp.a_median_ms)} ms; "
             f"{cmp.convention})" + (" — noisy, compare with care" if cmp.noisy else "") + ".", ""]
    lines += _table(["category", f"{cmp.b} ms", f"{cmp.a} ms", "speedup"],
                    [[c.category, _ms(c.b_ms), _ms(c.a_ms),
                      speedup_text(c.speedup, c.ci_low, c.ci_high, c.verdict)] for c in cmp.categories])
    lines += _table(["operator", f"{cmp.b} ms", f"{cmp.a} ms", "speedup", "path"],
                    [[o.operator, _ms(o.b_ms), _ms(o.a_ms),
                      speedup_text(o.speedup, o.ci_low, o.ci_high, o.verdict),
                      (", ".join(o.b_names) + " → " + ", ".join(o.a_names)) if o.path_changed
                      else ("only in " + (cmp.a if o.only_in == "a" else cmp.b) if o.only_in else "same")]
                     for o in cmp.operators[:TOP_OPERATORS]])
    return lines


def render_report(summary: Summary, run_conditions: Sequence[str] = (), kernel_diff: Sequence[str] = ()) -> str:
    """The Markdown report of a summary (what summary.json holds), plus two sections the
    analysis builds from what summary.json does not keep: the run conditions (from the
    manifests) and the kernel diff (its rows are in kernel_diff.csv)."""
    results = summary.results
    title = ", ".join(sorted({r.model_name or "" for r in results} - {""})) or "ETDump analysis"
    lines = [f"# Profiling report: {title}", "",
             f"Analysed {len(results)} result(s) in {summary.analysis_seconds:.1f} s "
             f"on {summary.generated_at}.", ""]
    if any(r.emulated for r in results):
        lines += [f"> Results marked *(emulated)* ran under an emulator: {EMULATED_LABEL}. "
                  "Only their operator paths and kernels are evidence.", ""]
    lines += ["## Findings", ""] + [f"- {f}" for f in summary.findings] + [""]
    if summary.problems:
        lines += ["## Problems", ""] + [f"- {p}" for p in summary.problems] + [""]
    lines += _provenance(summary) + list(run_conditions) + _latency(results) + _accounting(results) + _categories(results)
    with_ops = [r for r in results if r.operators]
    if with_ops:
        lines += ["## Top operators", ""]
        for r in with_ops:
            lines += _operators(r)
    layer_lines = [line for r in with_ops for line in _layers(r)]
    if layer_lines:
        lines += ["## Model layers per call (from the ETRecord)", ""] + layer_lines
    lines += ["## SME path and kernels", "",
              "Packed data types in operator names (PF32, PF16, PQS8, QP8) mean an SME-family "
              "path; only a kernel trace tells `__neonsme2` from `__neonsme` from NEON.", ""]
    for r in with_ops:
        lines += _kernels(r)
    lines.append("")
    if summary.comparisons:
        lines += ["## Comparisons", "",
                  "Times per iteration: the latency (median) end to end, interquartile means per "
                  "category and operator. Every speedup comes with its interval: "
                  f"{summary.comparisons[0].interval_method}. A line whose interval contains 1 (or does not "
                  f"clear 1 by more than {100 * MIN_EFFECT:.0f} %) says **no measurable difference** instead "
                  "of a speedup, and the findings never rank it. "
                  f"XNNPACK times each operator call in whole microseconds (resolution {RESOLUTION_US} "
                  "per call): an operator or category whose median call is below that is unresolved "
                  "and gets no speedup. The interval covers the variation between iterations, not "
                  "a change of conditions between the two runs (the reason for the margin); an A/A "
                  "comparison, the same experiment twice, shows what this computer can resolve.", ""]
        for cmp in summary.comparisons:
            lines += _comparison(cmp)
    lines += kernel_diff
    lines += _unknown(results)
    notes = [(r.name, n) for r in results for n in r.notes]
    if notes:
        lines += ["## Notes", ""] + [f"- {name}: {n}" for name, n in notes] + [""]
    lines += ["## Files", ""] + [f"- [{f}]({f})" for f in summary.files.tables]
    if TRACE_NAME in summary.files.tables:
        lines += ["", f"[{TIMELINE_NAME}]({TIMELINE_NAME}) has every event of every kept iteration; "
                      f"[{TRACE_NAME}]({TRACE_NAME}) opens in Perfetto (ui.perfetto.dev) or "
                      "chrome://tracing: one process per experiment, one track per thread count."]
    lines += [""] + [f"![{c.title}]({c.file})" for c in summary.files.charts] + [""]
    return "\n".join(lines)
