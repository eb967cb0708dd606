"""PNG charts: latency with spread, category breakdown, top operators, comparisons.

Sized for the learning-path pages: at most 1280 px wide (12.8 in at 100 dpi), well under
200 KB (flat colours, no transparency), long operator names shortened. Emulated results
carry "(emulated)" in their label so a chart cannot be mistaken for a performance result.

The operator and comparison charts use a logarithmic time axis: operator times span
three to four orders of magnitude (a convolution in milliseconds, a reshape in
microseconds), and on a linear axis everything but the largest category has no
visible bar. Times below XNNPACK's 1 us timer resolution (often 0) are drawn at
``LOG_FLOOR_MS`` so every bar shows; the value is written next to each bar.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (backend must be chosen first)

from sme2prof.fileio import write_bytes_atomic  # noqa: E402
from sme2prof.analysis import categories  # noqa: E402
from sme2prof.analysis.findings import speedup_label  # noqa: E402
from sme2prof.analysis.rows import Comparison, ResultSummary  # noqa: E402

WIDTH_IN = 12.8
DPI = 100
MAX_LABEL = 38


def shorten(text: str, limit: int = MAX_LABEL) -> str:
    """Cut the middle, not the end: 'run-a/sme2_on@t4' and 'run-b/sme2_on@t4' stay distinct."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return text[:head] + "…" + text[len(text) - (limit - 1 - head):]


def _label(res: ResultSummary) -> str:
    return shorten(res.name + (" (emulated)" if res.emulated else ""), 44)


def _save(fig, path: Path) -> Path:
    import io
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    return write_bytes_atomic(path, buf.getvalue())


LOG_FLOOR_MS = 0.0005      # half the 1 us timer resolution: where a 0 or sub-us time is drawn
LOG_LEFT_MS = LOG_FLOOR_MS * 0.6   # where the axis (and every bar) starts


def _log_widths(values: list[float]) -> list[float]:
    """Bar widths from LOG_LEFT_MS so each bar ends at its value (or at the floor)."""
    return [max(v, LOG_FLOOR_MS) - LOG_LEFT_MS for v in values]


def _log_time_axis(ax, values: list[float]) -> None:
    """Switch ``ax`` to a log time axis that reaches past the largest of ``values``."""
    ax.set_xscale("log")
    top = max([v for v in values if v > 0], default=1.0)
    ax.set_xlim(LOG_LEFT_MS, top * 4)


def _value_text(ms: float) -> str:
    return "<1 µs" if ms < 0.001 else f"{ms:.3f} ms" if ms < 10 else f"{ms:.1f} ms"


def _height(rows: int) -> float:
    return min(12.0, max(3.6, 1.4 + 0.42 * rows))


def latency_chart(results: list[ResultSummary], path: Path) -> Path | None:
    """Median latency per result, whiskers p10–p90, dots at min and max."""
    rows = [r for r in results if r.latency.median_ms is not None]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(WIDTH_IN, _height(len(rows))))
    ys = list(range(len(rows)))[::-1]
    for y, r in zip(ys, rows):
        lat = r.latency
        colour = "#bbbbbb" if r.emulated else ("#e6a23c" if lat.noisy else "#4c72b0")
        ax.barh(y, lat.median_ms, color=colour, height=0.6)
        ax.errorbar(lat.median_ms, y, xerr=[[lat.median_ms - lat.p10_ms],
                                            [lat.p90_ms - lat.median_ms]],
                    fmt="none", ecolor="black", capsize=5, lw=1.2)
        ax.plot([lat.min_ms, lat.max_ms], [y, y], "k.", ms=5)
        ax.text(max(lat.p90_ms, lat.max_ms), y, f"  {lat.median_ms:.3f} ms (cv {100 * lat.cv:.1f} %, n={lat.count})",
                va="center", fontsize=10)
    ax.set_yticks(ys, [_label(r) for r in rows], fontsize=11)
    xmax = max(r.latency.max_ms for r in rows)
    ax.set_xlim(0, xmax * 1.45)
    ax.set_xlabel("end-to-end latency per inference (ms): bar = median, whiskers = p10–p90, dots = min/max",
                  fontsize=11)
    title = "End-to-end latency (orange: noisy, cv > 5 %"
    title += "; grey: emulated — not a performance result)" if any(r.emulated for r in rows) else ")"
    ax.set_title(title, fontsize=13)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def category_chart(results: list[ResultSummary], path: Path) -> Path | None:
    """Stacked 100 % bars: each result's operator time split into the categories."""
    rows = [r for r in results if r.categories]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(WIDTH_IN, _height(len(rows)) + 0.8))
    ys = list(range(len(rows)))[::-1]
    for cat in categories.CATEGORIES:
        lefts = []
        for r in rows:
            before = 0.0
            for c in r.categories:
                if c.category == cat.name:
                    break
                before += c.share
            lefts.append(100 * before)
        widths = [100 * next(c.share for c in r.categories if c.category == cat.name) for r in rows]
        if not any(widths):
            continue
        ax.barh(ys, widths, left=lefts, color=cat.colour, label=cat.name, height=0.6)
        for y, left, w in zip(ys, lefts, widths):
            if w >= 6:
                ax.text(left + w / 2, y, f"{w:.0f}%", ha="center", va="center", color="white",
                        fontsize=10, fontweight="bold")
    ax.set_yticks(ys, [_label(r) for r in rows], fontsize=11)
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of operator time (%)", fontsize=11)
    ax.set_title("Operator time by category", fontsize=13)
    ax.legend(ncol=len(categories.CATEGORIES), loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=10, frameon=False)
    fig.tight_layout()
    return _save(fig, path)


def top_operators_chart(results: list[ResultSummary], path: Path, top: int = 12) -> Path | None:
    """Time per iteration of the heaviest operators, one bar per result (up to 4)."""
    rows = [r for r in results if r.operators][:4]
    if not rows:
        return None
    weight: dict[str, float] = {}
    for r in rows:
        for op in r.operators:
            weight[op.name] = max(weight.get(op.name, 0.0), op.per_iteration_ms)
    names = sorted(weight, key=weight.get, reverse=True)[:top]
    fig, ax = plt.subplots(figsize=(WIDTH_IN, _height(len(names) * (0.6 + 0.25 * len(rows)))))
    bar_h = 0.8 / len(rows)
    ys = list(range(len(names)))[::-1]
    colours = ["#4c72b0", "#dd8452", "#55a868", "#c44e52"]
    every = [op.per_iteration_ms for r in rows for op in r.operators if op.name in names]
    _log_time_axis(ax, every)
    for i, r in enumerate(rows):
        ms = {op.name: op.per_iteration_ms for op in r.operators}
        values = [ms.get(n, 0.0) for n in names]
        bar_ys = [y + 0.4 - bar_h * (i + 0.5) for y in ys]
        ax.barh(bar_ys, _log_widths(values), height=bar_h, color=colours[i],
                label=_label(r), left=LOG_LEFT_MS)
        if len(rows) <= 2:
            for y, v in zip(bar_ys, values):
                ax.text(max(v, LOG_FLOOR_MS) * 1.1, y, _value_text(v), va="center", fontsize=8)
    ax.set_yticks(ys, [shorten(n) for n in names], fontsize=10)
    ax.set_xlabel("time per inference (ms, mean of timed iterations; log scale, "
                  "<1 µs drawn at 0.0005 ms)", fontsize=11)
    ax.set_title(f"Top {len(names)} operators by time", fontsize=13)
    ax.legend(fontsize=10, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def comparison_chart(cmp: Comparison, path: Path) -> Path | None:
    """Per-category time of A and baseline B side by side, speedup written next to it."""
    cats = cmp.categories
    if not cats:
        return None
    fig, ax = plt.subplots(figsize=(WIDTH_IN, _height(len(cats) * 1.3)))
    ys = list(range(len(cats)))[::-1]
    _log_time_axis(ax, [v for c in cats for v in (c.a_ms, c.b_ms)])
    ax.barh([y + 0.2 for y in ys], _log_widths([c.b_ms for c in cats]), height=0.4,
            color="#bbbbbb", label=f"{shorten(cmp.b, 40)} (baseline)", left=LOG_LEFT_MS)
    ax.barh([y - 0.2 for y in ys], _log_widths([c.a_ms for c in cats]), height=0.4,
            color=[categories.by_name(c.category).colour for c in cats], label=shorten(cmp.a, 40),
            left=LOG_LEFT_MS)
    for y, c in zip(ys, cats):
        ax.text(max(c.a_ms, c.b_ms, LOG_FLOOR_MS) * 1.1, y, f"{speedup_label(c.speedup, c.verdict)}", va="center", fontsize=11)
    ax.set_yticks(ys, [c.category for c in cats], fontsize=11)
    ax.set_xlabel("time per inference (ms, log scale; <1 µs drawn at 0.0005 ms)", fontsize=11)
    em = " — emulated, not a performance result" if cmp.emulated else ""
    ax.set_title(f"{shorten(cmp.a, 40)} vs {shorten(cmp.b, 40)}: end to end {speedup_label(cmp.speedup, cmp.verdict)}{em}",
                 fontsize=13)
    ax.legend(fontsize=10, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)
