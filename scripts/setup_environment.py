#!/usr/bin/env python3
"""Set up one of the kit's pinned Python environments: .venv (the default) or, with
--environment vision, .venv-vision. Users run it through scripts/setup_repo.sh and
scripts/setup_vision_env.sh, which find a Python 3.10-3.13 to start it with.

Thin entry point: the logic lives in sme2prof/setup/environment.py, prerequisites.py and
executorch_sources.py; it runs in a bare Python (no third-party package needed).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sme2prof.errors import run_entry_point  # noqa: E402
from sme2prof.setup.cli import setup_environment_main as main  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_entry_point(main))
