#!/usr/bin/env python3
"""Profile a registered model on this host in one command: export if missing or stale, run
the runners this host has, analyse, validate; print the report path (or JSON with --json).

Example: python scripts/profile_model.py --model mobilenet_v3_small --dtype fp16
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sme2prof.errors import run_entry_point  # noqa: E402
from sme2prof.workflow.cli import profile_main as main  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_entry_point(main))
