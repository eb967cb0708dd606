#!/usr/bin/env python3
"""Export a registered PyTorch model to an ExecuTorch .pte lowered to XNNPACK.

Thin entry point: the logic lives in sme2prof/export/cli.py and sme2prof/export/exporter.py.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sme2prof.errors import run_entry_point  # noqa: E402
from sme2prof.export.cli import export_main as main  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_entry_point(main))
