"""The workflow stage's command lines: commands that chain the other stages end to end
(``run_quick_test.py``)."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from sme2prof.errors import OptionParser
from sme2prof.workflow.quick_test import run_quick_test

QUICK_TEST_EPILOG = """example:
  python scripts/run_quick_test.py            # pybind, plus the wheel runner when it is built
  python scripts/run_quick_test.py --json     # the same, results as JSON on stdout

Steps: export toy_cnn (fp32), run it through scripts/mac_pipeline.py on this host,
parse every ETDump with executorch.devtools.Inspector, write the analysis report."""


def _quick_test_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = OptionParser(prog="run_quick_test.py", epilog=QUICK_TEST_EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     description="Export toy_cnn, profile it on this host, check outputs.")
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="where to write (default out/quick-test/<id>/)")
    parser.add_argument("--require-wheel", action="store_true",
                        help="fail when the wheel runner is not built (default: use it when built)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON at the end")
    return parser.parse_args(argv)


def quick_test_main(argv: Sequence[str] | None = None) -> int:
    return run_quick_test(_quick_test_args(argv))
