#!/usr/bin/env python3
"""Stand-in for a runner that crashes mid-run: logs one iteration, then dies with SIGSEGV.

A real runner crashing on demand cannot be arranged reliably, and what the pipeline
must handle is only the observable behaviour: some log output, no ETDump, a signal exit.
"""
import os
import signal
import sys

if __name__ == "__main__":
    total = sys.argv[sys.argv.index("--num_executions") + 1] if "--num_executions" in sys.argv else "1"
    print(f"Iteration 1 of {total}: 0.5 ms", flush=True)
    print("crashing_runner: simulating a segmentation fault in iteration 2", flush=True)
    os.kill(os.getpid(), signal.SIGSEGV)
