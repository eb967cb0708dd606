"""The one thing that differs between profiling here and on a phone: the transport.

``run.py`` holds every step of a run (validation, runner guards, run directory,
manifest, Ctrl-C, resume) and reaches the CPU that runs the model only through a
``Transport``: ``HostTransport`` (``run.py``) starts runners as child processes,
``AndroidTransport`` (``android.py``) pushes files and runs them over adb. A new place
to run (another device bridge) is one more class with these members.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sme2prof.pipeline.config import Experiment
from sme2prof.runners.spec import ResolvedRunner


class TransportLost(Exception):
    """The place that runs the model went away (a phone unplugged); later results cannot run."""


@dataclass
class Job:
    """One result (an experiment at one thread count), or one round of it (``rounds.py``)."""

    experiment: Experiment
    runner: ResolvedRunner
    threads: int
    result: dict                  # this result's entry in the manifest, updated in place
    round: int = 1                # interleaved rounds: this invocation is round ``round`` of ``rounds``
    rounds: int = 1
    runs: int | None = None       # timed iterations of this invocation (None: the experiment's runs)
    cpu_affinity: list[int] | None = field(default=None)   # cores to pin to (phones), None: not pinned
    affinity_source: str = "not pinned"

    @property
    def timed_runs(self) -> int:
        """Timed iterations of this invocation (one round's share when interleaved)."""
        return self.experiment.runs if self.runs is None else self.runs

    @property
    def num_executions(self) -> int:
        return self.experiment.warmup + self.timed_runs

    @property
    def label(self) -> str:
        base = f"{self.experiment.name} t{self.threads}"
        return f"{base} round {self.round}/{self.rounds}" if self.rounds > 1 else base


class Transport(Protocol):
    """How commands reach the CPU that runs the model, and how files come back."""

    kind: str                     # "host" | "android": recorded in the manifest as "pipeline"
    script: str                   # the entry script that resumes its runs
    pins_cores: bool              # applies Job.cpu_affinity (taskset on a phone)

    def describe(self) -> dict:
        """The target: the manifest's ``host`` block (platform, CPU, features)."""
        ...

    def check_runner_name(self, experiment: Experiment) -> None:
        """Refuse a runner name this transport can never run, before anything is resolved."""
        ...

    def check_runner(self, runner: ResolvedRunner, target: dict) -> None:
        """Refuse a resolved runner built for another platform than the target."""
        ...

    def prepare(self, runners: list[ResolvedRunner], model: Path, run_id: str) -> None:
        """Put the model and the runners where the target can run them."""
        ...

    def plan_lines(self, runners: list[ResolvedRunner], model: Path) -> list[str]:
        """What ``prepare`` would do, for a dry run's plan."""
        ...

    def command(self, job: Job, model: Path, result_dir: Path) -> list[str]:
        """The argv that runs one job (shown by a dry run, run by ``execute``)."""
        ...

    def execute(self, job: Job, model: Path, result_dir: Path, log_file: Path) -> int:
        """Run one job with its output in ``log_file`` and its ETDump in ``result_dir``; its exit code.

        Raises TransportLost when the target went away.
        """
        ...

    def read_conditions(self) -> dict:
        """Governor, frequencies and temperatures now (``conditions.py``); unavailable, never an error."""
        ...

    def kernel_trace_extra(self, job: Job) -> str:
        """XNNPACK log lines that did not reach ``log_file`` (Android's logcat), for the kernel trace."""
        ...
