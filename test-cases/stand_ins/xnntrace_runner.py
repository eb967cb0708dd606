#!/usr/bin/env python3
"""Stand-in for a source-built ``<platform>-sme2-off-xnntrace`` executor_runner.

A real one takes a 30-minute ExecuTorch source build, which a test run cannot afford.
This keeps what the pipeline sees real: it executes the real wheel runner (real
inference, real ETDump, real 'Iteration i of N' lines) with the same flags, then
prints the XNNPACK log lines of a real xnntrace build (from the x86-64 fixture), so the
pipeline's capture of a kernel trace and the analysis of it run on genuine output.
Environment: XNNTRACE_STAND_IN_RUNNER (wheel runner binary), XNNTRACE_STAND_IN_LOG.
"""
import os
import subprocess
import sys

if __name__ == "__main__":
    code = subprocess.call([os.environ["XNNTRACE_STAND_IN_RUNNER"], *sys.argv[1:]])
    with open(os.environ["XNNTRACE_STAND_IN_LOG"], encoding="utf-8") as log:
        for line in log:
            if "(XNNPACK)" in line:
                sys.stderr.write(line)
    sys.exit(code)
