"""CSV tables: one row per thing, one column per number, for spreadsheets and scripts."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from sme2prof.fileio import write_text_atomic


def _csv(rows: list[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (";".join(map(str, v)) if isinstance(v, list) else
                             (f"{v:.6g}" if isinstance(v, float) else v)) for k, v in row.items()})
    return buf.getvalue()


def write_tables(results: list[dict], comparisons: list[dict], out_dir: Path) -> list[Path]:
    """latency.csv, operators.csv, categories.csv, kernels.csv, comparisons*.csv."""
    written: list[Path] = []
    latency = [{"result": r["name"], "status": r["status"], "emulated": r["emulated"],
                "source": r["latency_source"], **(r.get("latency") or {})} for r in results]
    written.append(write_text_atomic(out_dir / "latency.csv", _csv(latency, [
        "result", "status", "emulated", "source", "count", "median_ms", "p10_ms", "p90_ms",
        "mean_ms", "std_ms", "cv", "min_ms", "max_ms", "noisy"])))
    ops = [{"result": r["name"], **op} for r in results for op in r.get("operators") or []]
    written.append(write_text_atomic(out_dir / "operators.csv", _csv(ops, [
        "result", "name", "delegated", "category", "subcategory", "dtypes", "packed",
        "calls_per_iteration", "calls", "total_ms", "per_iteration_ms", "median_ms", "share"])))
    cats = [{"result": r["name"], **c} for r in results for c in r.get("categories") or []]
    written.append(write_text_atomic(out_dir / "categories.csv", _csv(cats, [
        "result", "category", "total_ms", "per_iteration_ms", "share", "operators",
        "top_subcategory"])))
    kernels = [{"result": r["name"], **k} for r in results
               for k in ((r.get("kernels") or {}).get("kernels") or [])]
    if kernels:
        written.append(write_text_atomic(out_dir / "kernels.csv", _csv(kernels, [
            "result", "name", "isa_class", "dtype", "op", "kind", "isa", "count", "operators"])))
    if comparisons:
        rows = [{"a": c["a"], "b": c["b"], "scope": "end-to-end", "item": "median latency",
                 "a_ms": c["a_median_ms"], "b_ms": c["b_median_ms"], "speedup": c["speedup"]}
                for c in comparisons]
        rows += [{"a": c["a"], "b": c["b"], "scope": "category", "item": cat["category"],
                  "a_ms": cat["a_ms"], "b_ms": cat["b_ms"], "speedup": cat["speedup"]}
                 for c in comparisons for cat in c["categories"]]
        rows += [{"a": c["a"], "b": c["b"], "scope": "operator", "item": op["operator"],
                  "a_ms": op["a_ms"], "b_ms": op["b_ms"], "speedup": op["speedup"],
                  "a_names": op["a_names"], "b_names": op["b_names"],
                  "path_changed": op["path_changed"]}
                 for c in comparisons for op in c["operators"]]
        written.append(write_text_atomic(out_dir / "comparisons.csv", _csv(rows, [
            "a", "b", "scope", "item", "a_ms", "b_ms", "speedup", "path_changed", "a_names",
            "b_names"])))
    return written
