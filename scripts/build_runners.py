#!/usr/bin/env python3
"""Build ExecuTorch executor_runner variants (SME2 on/off, with or without XNNPACK kernel
logging) from a source checkout, or the small wheel runner, into out/runners/.

Thin entry point (scripts/build_runners.sh runs it with the kit's Python): the logic
lives in sme2prof/runners/cli.py, source_build.py, build_run.py and wheel_build.py.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sme2prof.errors import run_entry_point  # noqa: E402
from sme2prof.runners.cli import build_runners_main as main  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_entry_point(main))
