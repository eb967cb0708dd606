"""The order of runner invocations: blocked (each result in one go) or interleaved rounds.

Why interleave: measured one after the other, A and B meet different moments of the
machine (a build starting, a phone warming up, a governor settling), and that drift
shows up as a "speedup". With ``analysis.interleave_rounds: R`` each compare pair runs
in R rounds per side, a fresh runner process per round, the timed runs split across the
rounds, so drift and background load hit both sides alike. The order within a round
alternates (A B, then B A, ...) so each side goes first equally often: in A/A runs of
toy_cnn on a busy 2-core machine with a fixed A B A B order, B read 9-18 % slower in 3
of 6 runs (one reported as a difference); with the order alternating (6 rounds), 18 of 18
A/A runs showed no measurable difference on any line.

Each round writes ``<experiment>/t<N>/round-<k>/``; after the last round its ETDumps
are joined into the result's one ``etdump.etdp`` (the first round's warm-up kept, the
later rounds' warm-ups left out), so the result looks to the analysis exactly like a
blocked one with ``warmup`` + ``runs`` executions.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from sme2prof.fileio import write_bytes_atomic, write_text_atomic
from sme2prof.pipeline import run_layout
from sme2prof.pipeline.config import Config
from sme2prof.pipeline.transport import Job
from sme2prof.paths import installed_executorch_dir

ROUND_DIR = "round-{k}"


def schedule(jobs: list[Job], config: Config) -> list[Job]:
    """Every invocation, in the order they run: a Job per round (``round``/``rounds``/``runs`` set)."""
    rounds = config.analysis.interleave_rounds
    partner = {}
    if rounds > 1:
        for a, b in config.analysis.compare_pairs:
            partner[a], partner[b] = (a, b), (a, b)
    by_experiment: dict[str, list[Job]] = {}
    for job in jobs:
        by_experiment.setdefault(job.experiment.name, []).append(job)
    done: set[int] = set()
    order: list[Job] = []
    for job in jobs:
        if id(job) in done:
            continue
        pair = partner.get(job.experiment.name)
        if pair is None:
            order.append(job)
            done.add(id(job))
            continue
        sides = [side for name in pair
                 if (side := counterpart(job, by_experiment.get(name, []), by_experiment[job.experiment.name]))]
        for k in range(1, rounds + 1):
            for side in (sides if k % 2 else sides[::-1]):
                order.append(dataclasses.replace(side, round=k, rounds=rounds,
                                                 runs=split_runs(side.experiment.runs, rounds, k)))
        done.update(id(side) for side in sides)
    return order


def counterpart(job: Job, side_jobs: list[Job], own_jobs: list[Job]) -> Job | None:
    """The job of the other side that alternates with ``job``: the same thread count, or,
    when each side runs one thread count (``two_threads`` [2] against ``one_thread`` [1]),
    that one."""
    same = [other for other in side_jobs if other.threads == job.threads]
    if same:
        return same[0]
    return side_jobs[0] if len(side_jobs) == 1 and len(own_jobs) == 1 else None


def split_runs(runs: int, rounds: int, k: int) -> int:
    """Timed runs of round ``k`` (1-based): as even as possible, earlier rounds take the remainder."""
    return runs // rounds + (1 if k <= runs % rounds else 0)


def describe(config: Config) -> dict:
    """The manifest's ``schedule`` block: how the comparisons were run."""
    rounds = config.analysis.interleave_rounds
    if rounds > 1:
        first = ("each side first equally often" if rounds % 2 == 0
                 else f"A first in {(rounds + 1) // 2} of {rounds}")
        return {"kind": "interleaved", "rounds": rounds,
                "pairs": [list(p) for p in config.analysis.compare_pairs],
                "how": f"each compare pair ran in {rounds} rounds (A B, B A, A B, ...: {first}), a fresh "
                       "runner process per round, timed runs split across the rounds"}
    return {"kind": "blocked", "rounds": 1, "pairs": [list(p) for p in config.analysis.compare_pairs],
            "how": "each experiment ran in one runner process per thread count, one after the other"}


def round_subdir(job: Job) -> str:
    """The folder of this invocation inside its result's folder: ``round-<k>`` when interleaved, else ""."""
    return ROUND_DIR.format(k=job.round) if job.rounds > 1 else ""


def invocation_dir(run_dir: Path, job: Job) -> Path:
    return run_layout.result_dir(run_dir, job.experiment.name, job.threads) / round_subdir(job)


def join_rounds(run_dir: Path, job: Job) -> list[float]:
    """Join the rounds of an interleaved result into its etdump.etdp and runner.log; its iterations_ms."""
    from sme2prof.pipeline.manifest import parse_iterations

    folder = run_layout.result_dir(run_dir, job.experiment.name, job.threads)
    warmup = job.experiment.warmup
    dumps, iterations, logs = [], [], []
    for k in range(1, job.rounds + 1):
        round_dir = folder / ROUND_DIR.format(k=k)
        dumps.append(round_dir / run_layout.ETDUMP_NAME)
        text = (round_dir / run_layout.LOG_NAME).read_text(encoding="utf-8", errors="replace")
        logs.append(f"=== round {k} of {job.rounds} ({ROUND_DIR.format(k=k)}/) ===\n{text}")
        times = parse_iterations(text)
        iterations += times if k == 1 else times[warmup:]
    write_bytes_atomic(folder / run_layout.ETDUMP_NAME, merge_etdumps(dumps, warmup))
    write_text_atomic(folder / run_layout.LOG_NAME, "".join(logs))
    return iterations


def merge_etdumps(paths: list[Path], warmup: int) -> bytes:
    """One ETDump holding the first file whole and the later files' executions after ``warmup``.

    ETDump keeps one ``Execute`` run-data block per execution (and a ``Default`` block for
    loading), so joining is list work on the ETDump as JSON. The conversion uses the flatc
    binary and schema that ExecuTorch ships, without importing ExecuTorch (that import
    costs 10-15 s here), and writes the result size-prefixed, as the runtime does.
    """
    package = installed_executorch_dir()
    flatc = str(package / "data" / "bin" / "flatc")
    with tempfile.TemporaryDirectory() as tmp:
        for schema in SCHEMA_FILES:
            shutil.copyfile(package / "devtools" / "etdump" / schema, Path(tmp, schema))
        schema_path = str(Path(tmp, SCHEMA_FILES[0]))
        merged: dict | None = None
        for index, path in enumerate(paths):
            copy = Path(tmp, f"round{index}.bin")
            shutil.copyfile(path, copy)
            _flatc(flatc, "--json", "--strict-json", "--defaults-json", "--size-prefixed", "-o", tmp,
                   schema_path, "--", str(copy))
            data = json.loads(Path(tmp, f"round{index}.json").read_text(encoding="utf-8"))
            if merged is None:
                merged = data
            else:
                merged["run_data"] += [b for b in data.get("run_data") or [] if b.get("name") == "Execute"][warmup:]
        Path(tmp, "merged.json").write_text(json.dumps(merged), encoding="utf-8")
        _flatc(flatc, "--binary", "--size-prefixed", "-o", tmp, schema_path, str(Path(tmp, "merged.json")))
        return Path(tmp, "merged.etdp").read_bytes()


SCHEMA_FILES = ("etdump_schema_flatcc.fbs", "scalar_type.fbs")


def _flatc(flatc: str, *args: str) -> None:
    proc = subprocess.run([flatc, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"flatc {args[0]} failed: {(proc.stderr or proc.stdout).strip()[-300:]}")
