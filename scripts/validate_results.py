#!/usr/bin/env python3
"""Check a run directory and its analysis; print what is missing and how to produce it."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sme2prof.analysis.cli import validate_main as main  # noqa: E402
from sme2prof.errors import run_entry_point  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_entry_point(main))
