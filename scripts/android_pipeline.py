#!/usr/bin/env python3
"""Android pipeline: push model + runner with adb, run the config's experiments on the phone.

Example: python scripts/android_pipeline.py --config configs/examples/android_mobilenet_fp16.json
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sme2prof.errors import run_entry_point  # noqa: E402
from sme2prof.pipeline.cli import android_main  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_entry_point(android_main))
