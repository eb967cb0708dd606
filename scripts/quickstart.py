#!/usr/bin/env python3
"""make quickstart: profile mobilenet_v3_small fp32 on this host with the fastest runner it has.

Example: python scripts/quickstart.py --dry-run
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sme2prof.errors import run_entry_point  # noqa: E402
from sme2prof.workflow.quickstart import quickstart_main as main  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_entry_point(main))
