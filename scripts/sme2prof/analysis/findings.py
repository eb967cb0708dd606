"""Short statements the numbers support, for report.md and for agents reading summary.json.

Each finding is computed from the summary, never written by hand, so it is true for the
run it describes (or absent).
"""
from __future__ import annotations

from sme2prof.analysis.stats import NOISY_CV


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f} %"


def result_findings(res: dict) -> list[str]:
    """Findings about one result (dict as in summary.json 'results')."""
    name = res["name"]
    out: list[str] = []
    prefix = f"{name} ({res['label']})" if res.get("label") else name
    cats = [c for c in res.get("categories") or [] if c["share"] > 0]
    if cats:
        top = max(cats, key=lambda c: c["share"])
        sub = top.get("top_subcategory")
        sub_txt = (f", mostly {sub} ({_pct(top.get('top_subcategory_share_of_category'))} of it)"
                   if sub and top["operators"] > 1 else "")
        out.append(f"{prefix}: {top['category']} is {_pct(top['share'])} of operator time{sub_txt}.")
        dm = next((c for c in cats if c["category"] == "Data Movement"), None)
        if dm and dm is not top and dm["share"] >= 0.10:
            out.append(f"{prefix}: data movement is {_pct(dm['share'])} of operator time, "
                       f"mostly {dm['top_subcategory']}.")
        nd = next((c for c in cats if c["category"] == "Non-delegated"), None)
        if nd:
            out.append(f"{prefix}: {_pct(nd['share'])} of operator time runs outside XNNPACK "
                       f"(non-delegated: {', '.join(r['name'] for r in res['operators'] if not r['delegated'])}).")
    sme = res.get("sme") or {}
    if sme:
        share = sme.get("packed_share_of_conv_gemm_time")
        extra = f"; packed ops are {_pct(share)} of CONV+GEMM time" if share else ""
        out.append(f"{prefix}: {sme['verdict']}{extra}.")
    lat = res.get("latency") or {}
    if lat.get("noisy"):
        out.append(f"{prefix}: noisy — coefficient of variation {_pct(lat['cv'])} "
                   f"(> {_pct(NOISY_CV)}); compare with care or use more runs.")
    acc = res.get("time_accounting") or {}
    if acc.get("execute_ms"):
        overhead = (acc.get("delegate_overhead_ms") or 0) + (acc.get("framework_ms") or 0) \
            + (acc.get("operator_call_overhead_ms") or 0)
        share = overhead / acc["execute_ms"]
        if share >= 0.10:
            out.append(f"{prefix}: {_pct(share)} of Method::execute is outside operators "
                       f"(delegate, call and framework overhead).")
    return out


def comparison_findings(cmp: dict) -> list[str]:
    out: list[str] = []
    label = " (emulated — not a performance result)" if cmp["emulated"] else ""
    if cmp.get("speedup"):
        noisy = " — at least one side is noisy" if cmp["noisy"] else ""
        out.append(f"{cmp['a']} vs {cmp['b']}: end-to-end speedup {cmp['speedup']:.2f}× "
                   f"(median {cmp['b_median_ms']:.3f} → {cmp['a_median_ms']:.3f} ms){label}{noisy}.")
    best = [o for o in cmp["operators"] if o["speedup"] and o["a_ms"] and o["b_ms"]]
    if best:
        top = max(best, key=lambda o: o["b_ms"] - o["a_ms"])
        what = "biggest operator gain" if top["b_ms"] > top["a_ms"] else \
            "no operator got faster; smallest loss"
        out.append(f"{cmp['a']} vs {cmp['b']}: {what}: {top['operator']} "
                   f"{top['speedup']:.2f}× ({top['b_ms']:.3f} → {top['a_ms']:.3f} ms per iteration){label}.")
    for change in cmp["path_changes"][:4]:
        out.append(f"{cmp['a']} vs {cmp['b']}: path change {change['operator']}: "
                   f"{', '.join(change['baseline']) or '(absent)'} → {', '.join(change['now']) or '(absent)'}.")
    return out
