#!/usr/bin/env python3
"""Time the analysis of a 4-experiment x 50-iteration run (or of a given run directory)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sme2prof.analysis.cli import benchmark_main as main  # noqa: E402
from sme2prof.errors import run_entry_point  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_entry_point(main))
