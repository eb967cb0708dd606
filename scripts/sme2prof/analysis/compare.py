"""Compare two results: end-to-end, per category, per operator, and what path changed.

Convention (said in every output): ``compare A B`` measures A against the baseline B, and
speedup = B time / A time, so 2.0 means A takes half the time of B. Operators are matched
across results by their name without data types ('Fully Connected GEMM'), so an operator
that moved from 'Fully Connected (NC, F32) GEMM' to '(NC, PF32)' is one row with a path
change rather than one row that vanished and one that appeared.
"""
from __future__ import annotations

from sme2prof.errors import UserError
from sme2prof.analysis.categories import CATEGORIES, path_key
from sme2prof.analysis.result_analysis import ResultAnalysis
from sme2prof.analysis.stats import ratio


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


def _grouped_ms(res: ResultAnalysis) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for row in res.operators:
        key = path_key(row["name"]) + ("" if row["delegated"] else " [non-delegated]")
        entry = out.setdefault(key, {"per_iteration_ms": 0.0, "names": []})
        entry["per_iteration_ms"] += row["per_iteration_ms"]
        entry["names"].append(row["name"])
    return out


def compare(a: ResultAnalysis, b: ResultAnalysis) -> dict:
    """The comparison summary of A against baseline B."""
    a_med, b_med = a.latency.get("median_ms"), b.latency.get("median_ms")
    cats = []
    a_cats = {c["category"]: c for c in a.categories}
    b_cats = {c["category"]: c for c in b.categories}
    for cat in CATEGORIES:
        ca, cb = a_cats.get(cat, {}), b_cats.get(cat, {})
        a_ms, b_ms = ca.get("per_iteration_ms", 0.0), cb.get("per_iteration_ms", 0.0)
        if not a_ms and not b_ms:
            continue
        cats.append({"category": cat, "a_ms": a_ms, "b_ms": b_ms, "speedup": ratio(b_ms, a_ms),
                     "a_share": ca.get("share", 0.0), "b_share": cb.get("share", 0.0)})
    ga, gb = _grouped_ms(a), _grouped_ms(b)
    ops, changes = [], []
    for key in list(dict.fromkeys([*ga, *gb])):
        ea, eb = ga.get(key), gb.get(key)
        a_ms = ea["per_iteration_ms"] if ea else 0.0
        b_ms = eb["per_iteration_ms"] if eb else 0.0
        a_names, b_names = (ea or {}).get("names", []), (eb or {}).get("names", [])
        changed = bool(ea and eb and sorted(a_names) != sorted(b_names))
        ops.append({"operator": key, "a_ms": a_ms, "b_ms": b_ms, "speedup": ratio(b_ms, a_ms),
                    "a_names": a_names, "b_names": b_names, "path_changed": changed,
                    "only_in": "a" if not eb else ("b" if not ea else None)})
        if changed or not ea or not eb:
            changes.append({"operator": key, "baseline": b_names, "now": a_names})
    ops.sort(key=lambda r: max(r["a_ms"], r["b_ms"]), reverse=True)
    isa_a = (a.sme or {}).get("kernel_isa_classes", [])
    isa_b = (b.sme or {}).get("kernel_isa_classes", [])
    return {
        "a": a.name, "b": b.name, "convention": "speedup = B time / A time (>1: A is faster)",
        "a_median_ms": a_med, "b_median_ms": b_med, "speedup": ratio(b_med, a_med),
        "speedup_mean": ratio(b.latency.get("mean_ms"), a.latency.get("mean_ms")),
        "noisy": bool(a.latency.get("noisy") or b.latency.get("noisy")),
        "emulated": bool(a.source.emulated or b.source.emulated),
        "operator_time_speedup": ratio(b.accounting.get("operator_ms"), a.accounting.get("operator_ms")),
        "categories": cats, "operators": ops, "path_changes": changes,
        "sme_path": {"a": (a.sme or {}).get("verdict"), "b": (b.sme or {}).get("verdict")},
        "kernel_isa_classes": {"a": isa_a, "b": isa_b},
    }
