#!/usr/bin/env python3
"""Benchmark the pipeline itself: wall time vs measured iterations, pybind vs wheel median.

Example: python scripts/benchmark_pipeline.py --model toy_cnn --runs 50
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sme2prof.errors import run_entry_point  # noqa: E402
from sme2prof.pipeline.cli import benchmark_main as main  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_entry_point(main))
