"""Compare two results: end-to-end, per category, per operator, and what path changed.

Convention (said in every output): ``compare A B`` measures A against the baseline B, and
speedup = B time / A time, so 2.0 means A takes half the time of B. Operators are matched
across results by their name without data types ('Fully Connected GEMM'), so an operator
that moved from 'Fully Connected (NC, F32) GEMM' to '(NC, PF32)' is one row with a path
change rather than one row that vanished and one that appeared.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sme2prof.errors import UserError
from sme2prof.analysis import categories
from sme2prof.analysis.categories import path_key
from sme2prof.analysis.result_analysis import ResultAnalysis
from sme2prof.analysis.rows import CategoryComparison, Comparison, OperatorComparison, PathChange, Sides
from sme2prof.analysis.stats import ratio

CONVENTION = "speedup = B time / A time (>1: A is faster)"


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
class _PathGroup:
    """The operators of one result that share a path key, and their time per iteration."""

    per_iteration_ms: float = 0.0
    names: list[str] = field(default_factory=list)


def _grouped_ms(res: ResultAnalysis) -> dict[str, _PathGroup]:
    out: dict[str, _PathGroup] = {}
    for row in res.operators:
        key = path_key(row.name) + ("" if row.delegated else " [non-delegated]")
        group = out.setdefault(key, _PathGroup())
        group.per_iteration_ms += row.per_iteration_ms
        group.names.append(row.name)
    return out


def _operator_ms(res: ResultAnalysis) -> float | None:
    return res.accounting.operator_ms if res.accounting else None


def compare(a: ResultAnalysis, b: ResultAnalysis) -> Comparison:
    """The comparison of A against baseline B."""
    a_med, b_med = a.latency.median_ms, b.latency.median_ms
    cats = []
    a_cats = {c.category: c for c in a.categories}
    b_cats = {c.category: c for c in b.categories}
    for cat in categories.category_names():
        ca, cb = a_cats.get(cat), b_cats.get(cat)
        a_ms = ca.per_iteration_ms if ca else 0.0
        b_ms = cb.per_iteration_ms if cb else 0.0
        if not a_ms and not b_ms:
            continue
        cats.append(CategoryComparison(category=cat, a_ms=a_ms, b_ms=b_ms, speedup=ratio(b_ms, a_ms),
                                       a_share=ca.share if ca else 0.0, b_share=cb.share if cb else 0.0))
    ga, gb = _grouped_ms(a), _grouped_ms(b)
    ops, changes = [], []
    for key in list(dict.fromkeys([*ga, *gb])):
        ea, eb = ga.get(key), gb.get(key)
        a_ms = ea.per_iteration_ms if ea else 0.0
        b_ms = eb.per_iteration_ms if eb else 0.0
        a_names, b_names = (ea.names if ea else []), (eb.names if eb else [])
        changed = bool(ea and eb and sorted(a_names) != sorted(b_names))
        ops.append(OperatorComparison(operator=key, a_ms=a_ms, b_ms=b_ms, speedup=ratio(b_ms, a_ms),
                                      a_names=a_names, b_names=b_names, path_changed=changed,
                                      only_in="a" if not eb else ("b" if not ea else None)))
        if changed or not ea or not eb:
            changes.append(PathChange(operator=key, baseline=b_names, now=a_names))
    ops.sort(key=lambda r: max(r.a_ms, r.b_ms), reverse=True)
    return Comparison(
        a=a.name, b=b.name, convention=CONVENTION,
        a_median_ms=a_med, b_median_ms=b_med, speedup=ratio(b_med, a_med),
        speedup_mean=ratio(b.latency.mean_ms, a.latency.mean_ms),
        noisy=bool(a.latency.noisy or b.latency.noisy),
        emulated=bool(a.source.emulated or b.source.emulated),
        operator_time_speedup=ratio(_operator_ms(b), _operator_ms(a)),
        categories=cats, operators=ops, path_changes=changes,
        sme_path=Sides(a.sme.verdict if a.sme else None, b.sme.verdict if b.sme else None),
        kernel_isa_classes=Sides(a.sme.kernel_isa_classes if a.sme else [],
                                 b.sme.kernel_isa_classes if b.sme else []))
