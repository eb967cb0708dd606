#!/usr/bin/env python3
"""Export toy_cnn, profile it on this host, check every output; exit 0 only if all works.

Example: python scripts/run_quick_test.py
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sme2prof.errors import run_entry_point  # noqa: E402
from sme2prof.workflow.cli import quick_test_main as main  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_entry_point(main))
