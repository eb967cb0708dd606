#!/usr/bin/env python3
"""Build, check, preview, bundle and archive the learning path (see --help)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sme2prof.errors import run_entry_point  # noqa: E402
from sme2prof.pages.cli import site_tools_main as main  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_entry_point(main))
