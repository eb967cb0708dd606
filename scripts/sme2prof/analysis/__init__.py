"""Analysis of profiling runs: ETDump → operator tables, categories, kernels, report.

The host and Android pipelines call ``analyze_runs([run_dir])`` after a run; the
``analyze_results.py`` entry script calls ``main``. Outputs (``<run>/analysis/``):
summary.json, CSV tables, PNG charts, report.md, and the per-event timeline.csv and
trace.json (Perfetto / chrome://tracing).
"""
from __future__ import annotations

from sme2prof.analysis.analyze import AnalysisResult, analyze_runs

__all__ = ["AnalysisResult", "analyze_runs"]
