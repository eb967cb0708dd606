#!/usr/bin/env python3
"""Host pipeline (macOS and Linux): run a config's experiments, write out/runs/<run-id>/.

Example: python scripts/mac_pipeline.py --config configs/examples/linux_toy_cnn_fp32.json
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sme2prof.errors import run_entry_point  # noqa: E402
from sme2prof.pipeline.cli import host_main  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_entry_point(host_main))
