"""The order of runner invocations: blocked (each result in one go) or interleaved rounds.

Why interleave: measured one after the other, A and B meet different moments of the
machine (a build starting, a phone warming up, a governor settling), and that drift
shows up as a "speedup". With ``analysis.interleave_rounds: R`` each compare pair runs
as A B A B ... (R rounds per side, a fresh runner process per round, the timed runs
split across the rounds), so drift and background load hit both sides alike.

Each round writes ``<experiment>/t<N>/round-<k>/``; after the last round its ETDumps
are joined into the result's one ``etdump.etdp`` (the first round's warm-up kept, the
later rounds' warm-ups left out), so the result looks to the analysis exactly like a
blocked one with ``warmup`` + ``runs`` executions.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from sme2prof.fileio import write_bytes_atomic, write_text_atomic
from sme2prof.pipeline import run_layout
from sme2prof.pipeline.config import Config
from sme2prof.pipeline.transport import Job

ROUND_DIR = "round-{k}"


def schedule(jobs: list[Job], config: Config) -> list[Job]:
    """Every invocation, in the order they run: a Job per round (``round``/``rounds``/``runs`` set)."""
    rounds = config.analysis.interleave_rounds
    partner = {}
    if rounds > 1:
        for a, b in config.analysis.compare_pairs:
            partner[a], partner[b] = (a, b), (a, b)
    by_key = {(job.experiment.name, job.threads): job for job in jobs}
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
        sides = [by_key[(name, job.threads)] for name in pair if (name, job.threads) in by_key]
        for k in range(1, rounds + 1):
            for side in sides:
                order.append(dataclasses.replace(side, round=k, rounds=rounds,
                                                 runs=split_runs(side.experiment.runs, rounds, k)))
        done.update(id(side) for side in sides)
    return order


def split_runs(runs: int, rounds: int, k: int) -> int:
    """Timed runs of round ``k`` (1-based): as even as possible, earlier rounds take the remainder."""
    return runs // rounds + (1 if k <= runs % rounds else 0)


def describe(config: Config) -> dict:
    """The manifest's ``schedule`` block: how the comparisons were run."""
    rounds = config.analysis.interleave_rounds
    if rounds > 1:
        return {"kind": "interleaved", "rounds": rounds,
                "pairs": [list(p) for p in config.analysis.compare_pairs],
                "how": f"each compare pair ran in {rounds} alternating rounds (A B A B ...), a fresh runner "
                       "process per round, timed runs split across the rounds"}
    return {"kind": "blocked", "rounds": 1, "pairs": [list(p) for p in config.analysis.compare_pairs],
            "how": "each experiment ran in one runner process per thread count, one after the other"}


def invocation_dir(run_dir: Path, job: Job) -> Path:
    folder = run_layout.result_dir(run_dir, job.experiment.name, job.threads)
    return folder / ROUND_DIR.format(k=job.round) if job.rounds > 1 else folder


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
    package = _executorch_dir()
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


def _executorch_dir() -> Path:
    """The installed executorch package folder, found without importing it."""
    spec = importlib.util.find_spec("executorch")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the executorch package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _flatc(flatc: str, *args: str) -> None:
    proc = subprocess.run([flatc, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"flatc {args[0]} failed: {(proc.stderr or proc.stdout).strip()[-300:]}")
