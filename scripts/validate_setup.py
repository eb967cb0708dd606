#!/usr/bin/env python3
"""Check that this machine is ready for a stage of the workflow (export, pipeline, runners,
emulate, site or all); one line per check with the fix for each problem, or --json.

Thin entry point: the checks live in sme2prof/setup_check*.py.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sme2prof.errors import run_entry_point  # noqa: E402
from sme2prof.setup.cli import validate_setup_main as main  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_entry_point(main))
