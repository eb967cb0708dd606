"""Compare two results: end-to-end, per category, per operator, and what path changed.

Convention (said in every output): ``compare A B`` measures A against the baseline B, and
speedup = B time / A time, so 2.0 means A takes half the time of B. Operators are matched
across results by their name without data types ('Fully Connected GEMM'), so an operator
that moved from 'Fully Connected (NC, F32) GEMM' to '(NC, PF32)' is one row with a path
change rather than one row that vanished and one that appeared.

Every speedup has an interval (``stats.speedup_interval``) and a verdict: a line whose
interval contains 1, or does not clear 1 by more than ``stats.MIN_EFFECT``, is "no
measurable difference", and a line whose median call is below
the operator timer's 1 µs resolution is "unresolved" and gets no speedup at all. Category
and operator times here are interquartile means of per-iteration sums (see
``LINE_STATISTIC``), the end-to-end figure is the median latency; a speedup is always
the ratio of the figures printed next to it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from sme2prof.errors import UserError
from sme2prof.analysis import categories
from sme2prof.analysis.categories import path_key
from sme2prof.analysis.result_analysis import ResultAnalysis
from sme2prof.analysis.rows import CategoryComparison, Comparison, OperatorComparison, PathChange, Sides
from sme2prof.analysis.stats import (CONFIDENCE, INTERQUARTILE_MEAN, MIN_EFFECT, calls_resolved, centre,
                                     ratio, speedup_interval)

CONVENTION = "speedup = B time / A time (>1: A is faster)"
# Category and operator lines compare interquartile means (the mean of the middle half) of
# per-iteration time, not medians: XNNPACK's operator times are whole microseconds, so a
# median moves in 1 µs steps (2 µs vs 3 µs reads as 1.5×); the interquartile mean averages
# over the steps and still ignores the slowest quarter (on a busy machine, more than one
# iteration in ten can be preempted, which a 10 % trimmed mean lets in).
LINE_STATISTIC = INTERQUARTILE_MEAN
INTERVAL_METHOD = (f"{100 * CONFIDENCE:.0f} % percentile bootstrap over iterations (fixed seed) of the "
                   f"ratio of medians end to end, and of interquartile means per category and operator "
                   f"(operator times are whole microseconds, so medians move in steps); category and "
                   f"operator lines Bonferroni-adjusted so each table as a whole holds at "
                   f"{100 * CONFIDENCE:.0f} %; a difference counts only when the whole interval "
                   f"is more than {100 * MIN_EFFECT:.0f} % away from 1")

# Verdicts: what a reader may conclude from one line of a comparison.
FASTER = "A faster"
SLOWER = "A slower"
NO_DIFFERENCE = "no measurable difference"
UNRESOLVED = "unresolved"          # below the operator timer's resolution: no speedup at all
NO_INTERVAL = "no interval"        # fewer than 3 iterations on a side
ONLY_ONE_SIDE = "only one side"
MEASURED = (FASTER, SLOWER)


def resolve_pairs(pairs: list[tuple[str, str]], names: list[str],
                  experiments: dict[str, list[tuple[str, int | None]]]) -> list[tuple[str, str]]:
    """Map user/config pair names onto result names; unknown names raise UserError.

    A config names experiments; when an experiment ran several thread counts, the pair
    expands to one comparison per shared thread count ('sme2_on@t1' vs 'sme2_off@t1').
    """
    resolved: list[tuple[str, str]] = []
    for a, b in pairs:
        if a == b:
            raise UserError(f"cannot compare {a} with itself: a comparison needs two different results",
                            f"name a result and a different baseline, two of: {', '.join(names)}")
        if a in names and b in names:
            resolved.append((a, b))
            continue
        a_results = experiments.get(a) or [(a, None)] * (a in names)
        b_results = experiments.get(b) or [(b, None)] * (b in names)
        b_by_threads = {threads: name for name, threads in b_results}
        matched = [(name, b_by_threads[threads]) for name, threads in a_results
                   if threads in b_by_threads]
        if matched:
            resolved.extend(matched)
            continue
        missing = [x for x in (a, b) if x not in names and x not in experiments]
        why = (f"no result named {' or '.join(repr(m) for m in missing)}" if missing
               else "they share no thread count")
        raise UserError(f"cannot compare {a} with {b}: {why}",
                        f"use two of: {', '.join(names)}")
    return list(dict.fromkeys(resolved))


@dataclass
class _Series:
    """Per-iteration time of a group of operator events (summed over its calls)."""

    per_iteration_ms: list[float] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    calls_ms: list[float] = field(default_factory=list)      # every call's time

    def add(self, times_ms: list[float], name: str) -> None:
        self.calls_ms.extend(times_ms)
        if name not in self.names:
            self.names.append(name)
        if not self.per_iteration_ms:
            self.per_iteration_ms = list(times_ms)
        else:
            length = min(len(self.per_iteration_ms), len(times_ms))
            self.per_iteration_ms = [self.per_iteration_ms[i] + times_ms[i] for i in range(length)]

    @property
    def centre_ms(self) -> float:
        return centre(self.per_iteration_ms, LINE_STATISTIC) if self.per_iteration_ms else 0.0

    @property
    def resolved(self) -> bool:
        """Is the median call at least the timer resolution (else the figure is mostly 0s and 1s)?

        The same rule as the ``resolved`` column of operators.csv, over every call of the line.
        """
        return calls_resolved(self.calls_ms)


def _series(res: ResultAnalysis, key_of: Callable[[str, bool], str]) -> dict[str, _Series]:
    out: dict[str, _Series] = {}
    for op in res.data.operators if res.data else []:
        out.setdefault(key_of(op.name, op.delegated), _Series()).add(op.times_ms, op.name)
    return out


def _path_key(name: str, delegated: bool) -> str:
    return path_key(name) + ("" if delegated else " [non-delegated]")


def _category_key(name: str, delegated: bool) -> str:
    return categories.classify(name, delegated).category


def verdict(interval: tuple[float, float] | None, resolved: bool = True) -> str:
    """What a reader may conclude from a speedup interval.

    A difference counts only when the whole interval clears 1 by more than ``MIN_EFFECT``
    (a minimum-effect test): an interval that contains 1, or that reaches into
    1 ± MIN_EFFECT, is "no measurable difference".
    """
    if not resolved:
        return UNRESOLVED
    if interval is None:
        return NO_INTERVAL
    low, high = interval
    if low > 1 + MIN_EFFECT:
        return FASTER
    if high < 1 / (1 + MIN_EFFECT):
        return SLOWER
    return NO_DIFFERENCE


def _line(a: _Series | None, b: _Series | None, confidence: float) -> tuple[
        float, float, float | None, tuple[float, float] | None, str]:
    """(A ms, B ms, speedup, interval, verdict) of one category or operator line."""
    a_ms = a.centre_ms if a else 0.0
    b_ms = b.centre_ms if b else 0.0
    if not a or not b:
        return a_ms, b_ms, None, None, ONLY_ONE_SIDE
    if not (a.resolved and b.resolved):
        return a_ms, b_ms, None, None, UNRESOLVED
    interval = speedup_interval(a.per_iteration_ms, b.per_iteration_ms, confidence, LINE_STATISTIC)
    return a_ms, b_ms, ratio(b_ms, a_ms), interval, verdict(interval)


def _family_confidence(lines: int) -> float:
    """Bonferroni: m intervals at 1 − α/m each hold all together at 1 − α."""
    return 1 - (1 - CONFIDENCE) / max(lines, 1)


def _model_of(run_id: str | None, exports: dict[str | None, dict]) -> str | None:
    export = exports.get(run_id) or {}
    parts = [str(export[k]) for k in ("model", "dtype") if export.get(k)]
    return " ".join(parts) or None


def check_same_model(a: str, a_run: str | None, b: str, b_run: str | None,
                     exports: dict[str | None, dict]) -> None:
    """Refuse to compare two different models or dtypes: the ratio would mean nothing.

    ``exports`` maps a run id to its export info (model, dtype); a bare ETDump has none,
    so it can be compared with anything (the user vouches for it).
    """
    model_a, model_b = _model_of(a_run, exports), _model_of(b_run, exports)
    if model_a and model_b and model_a != model_b:
        raise UserError(f"cannot compare {a} ({model_a}) with {b} ({model_b}): "
                        f"they ran different models or data types",
                        "compare two results of the same model export (same model, same dtype)")


def compare(a: ResultAnalysis, b: ResultAnalysis) -> Comparison:
    """The comparison of A against baseline B, each figure with its interval and verdict."""
    a_med, b_med = a.latency.median_ms, b.latency.median_ms
    end_interval = speedup_interval(a.latency_values, b.latency_values)
    sa, sb = _series(a, _category_key), _series(b, _category_key)
    present = [cat for cat in categories.category_names() if cat in sa or cat in sb]
    confidence = _family_confidence(sum(1 for c in present if c in sa and c in sb))
    cats = []
    a_cats = {c.category: c for c in a.categories}
    b_cats = {c.category: c for c in b.categories}
    for cat in present:
        a_ms, b_ms, speedup, interval, said = _line(sa.get(cat), sb.get(cat), confidence)
        ca, cb = a_cats.get(cat), b_cats.get(cat)
        cats.append(CategoryComparison(
            category=cat, a_ms=a_ms, b_ms=b_ms, speedup=speedup,
            ci_low=interval[0] if interval else None, ci_high=interval[1] if interval else None,
            verdict=said, a_share=ca.share if ca else 0.0, b_share=cb.share if cb else 0.0))
    ga, gb = _series(a, _path_key), _series(b, _path_key)
    keys = list(dict.fromkeys([*ga, *gb]))
    confidence = _family_confidence(sum(1 for k in keys if k in ga and k in gb
                                        and ga[k].resolved and gb[k].resolved))
    ops, changes = [], []
    for key in keys:
        ea, eb = ga.get(key), gb.get(key)
        a_ms, b_ms, speedup, interval, said = _line(ea, eb, confidence)
        a_names, b_names = (ea.names if ea else []), (eb.names if eb else [])
        changed = bool(ea and eb and sorted(a_names) != sorted(b_names))
        ops.append(OperatorComparison(operator=key, a_ms=a_ms, b_ms=b_ms, speedup=speedup,
                                      ci_low=interval[0] if interval else None,
                                      ci_high=interval[1] if interval else None, verdict=said,
                                      a_names=a_names, b_names=b_names, path_changed=changed,
                                      only_in="a" if not eb else ("b" if not ea else None)))
        if changed or not ea or not eb:
            changes.append(PathChange(operator=key, baseline=b_names, now=a_names))
    ops.sort(key=lambda r: max(r.a_ms, r.b_ms), reverse=True)
    return Comparison(
        a=a.name, b=b.name, convention=CONVENTION,
        a_median_ms=a_med, b_median_ms=b_med, speedup=ratio(b_med, a_med),
        ci_low=end_interval[0] if end_interval else None,
        ci_high=end_interval[1] if end_interval else None,
        verdict=verdict(end_interval), interval_method=INTERVAL_METHOD,
        speedup_mean=ratio(b.latency.mean_ms, a.latency.mean_ms),
        noisy=bool(a.latency.noisy or b.latency.noisy),
        emulated=bool(a.source.emulated or b.source.emulated),
        operator_time_speedup=ratio(_operator_ms(b), _operator_ms(a)),
        categories=cats, operators=ops, path_changes=changes,
        sme_path=Sides(a.sme.verdict if a.sme else None, b.sme.verdict if b.sme else None),
        kernel_isa_classes=Sides(a.sme.kernel_isa_classes if a.sme else [],
                                 b.sme.kernel_isa_classes if b.sme else []))


def _operator_ms(res: ResultAnalysis) -> float | None:
    return res.accounting.operator_ms if res.accounting else None
