"""Is a manifest.json what ``run_layout`` describes? Every field a reader relies on, typed.

Why: the manifest is read back by ``--resume``, the analysis and ``validate_results.py``,
and a hand-edited or damaged one (``"warmup": "abc"``, ``"results"`` missing, a list
instead of an object) must give one sentence naming the field, not a traceback deep in
a reader, nor a pass. Each reader decides what a problem means to it: ``--resume`` and
the analysis refuse the run (exit 2), ``validate_results.py`` fails a check (exit 1).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sme2prof.errors import UserError
from sme2prof.fileio import read_json
from sme2prof.paths import display_path
from sme2prof.pipeline import run_layout

RUN_STATUSES = ("running", "complete", "interrupted", "failed")
RESULT_STATUSES = ("pending", "running", "ok", "failed", "interrupted")
MAX_PROBLEMS = 5


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def manifest_problems(manifest: Any, strict: bool = False) -> list[str]:
    """What is wrong with the manifest's structure (at most a few), or [] when readers can trust it.

    ``strict`` adds the consistency the pipeline guarantees but a reader can live without
    (an ok result holds warmup + runs iterations): validate_results.py checks it.
    """
    if not isinstance(manifest, dict):
        return [f"the manifest must be a JSON object, it is a {type(manifest).__name__}"]
    problems: list[str] = []
    status = manifest.get("status")
    if status is not None and status not in RUN_STATUSES:
        problems.append(f"status must be one of {', '.join(RUN_STATUSES)}, got {status!r}")
    if "model" in manifest and not isinstance(manifest["model"], dict):
        problems.append(f"model must be an object, got {type(manifest['model']).__name__}")
    experiments = manifest.get("experiments")
    if not isinstance(experiments, list) or not experiments:
        problems.append("experiments must be a non-empty list"
                        + ("" if experiments is None else f", got {_short(experiments)}"))
        return problems
    for index, exp in enumerate(experiments):
        problems += _experiment_problems(exp, index, strict)
        if len(problems) >= MAX_PROBLEMS:
            break
    return problems[:MAX_PROBLEMS]


def _experiment_problems(exp: Any, index: int, strict: bool) -> list[str]:
    where = f"experiments[{index}]"
    if not isinstance(exp, dict):
        return [f"{where} must be an object, got {_short(exp)}"]
    name = exp.get("name")
    problems = [] if isinstance(name, str) and name else [f"{where}.name must be a non-empty string, got {name!r}"]
    where = f"experiments[{index}] ({name})" if isinstance(name, str) else where
    if not (_is_int(exp.get("warmup")) and exp["warmup"] >= 0):
        problems.append(f"{where}.warmup must be an integer >= 0, got {_short(exp.get('warmup'))}")
    if not (_is_int(exp.get("runs")) and exp["runs"] > 0):
        problems.append(f"{where}.runs must be an integer > 0, got {_short(exp.get('runs'))}")
    threads = exp.get("threads")
    if not (isinstance(threads, list) and threads and all(_is_int(t) and t > 0 for t in threads)):
        problems.append(f"{where}.threads must be a non-empty list of integers > 0, got {_short(threads)}")
    results = exp.get("results")
    if not isinstance(results, list) or not results:
        problems.append(f"{where}.results must be a non-empty list (one result per thread count), "
                        f"got {_short(results)}")
        return problems
    for number, result in enumerate(results):
        problems += _result_problems(result, f"{where}.results[{number}]", exp, strict)
    return problems


def _result_problems(result: Any, where: str, exp: dict, strict: bool) -> list[str]:
    if not isinstance(result, dict):
        return [f"{where} must be an object, got {_short(result)}"]
    problems = []
    if not (_is_int(result.get("threads")) and result["threads"] > 0):
        problems.append(f"{where}.threads must be an integer > 0, got {_short(result.get('threads'))}")
    status = result.get("status")
    if status not in RESULT_STATUSES:
        problems.append(f"{where}.status must be one of {', '.join(RESULT_STATUSES)}, got {_short(status)}")
    for key in ("etdump", "log"):
        if not (isinstance(result.get(key), str) and result[key]):
            problems.append(f"{where}.{key} must be a path relative to the run directory, got "
                            f"{_short(result.get(key))}")
    if result.get("kernel_trace") is not None and not isinstance(result["kernel_trace"], str):
        problems.append(f"{where}.kernel_trace must be a path or null, got {_short(result['kernel_trace'])}")
    iterations = result.get("iterations_ms")
    if not (isinstance(iterations, list) and all(_is_number(v) for v in iterations)):
        problems.append(f"{where}.iterations_ms must be a list of numbers, got {_short(iterations)}")
    elif strict and status == "ok" and _is_int(exp.get("warmup")) and _is_int(exp.get("runs")) \
            and len(iterations) != exp["warmup"] + exp["runs"]:
        problems.append(f"{where} is ok with {len(iterations)} iterations, but warmup + runs is "
                        f"{exp['warmup'] + exp['runs']}")
    if result.get("error") is not None and not isinstance(result["error"], str):
        problems.append(f"{where}.error must be text or null, got {_short(result['error'])}")
    return problems


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except RecursionError:
        text = f"a deeply nested {type(value).__name__}"
    return text if len(text) <= 40 else text[:37] + "..."


def read_manifest_json(run_dir: Path, not_a_run: UserError, unreadable_fix: str) -> Any:
    """The parsed manifest.json of ``run_dir``, before any structural check.

    Why one reader: --resume and the analysis refuse a folder without a manifest, or one
    whose manifest is not JSON, with the same sentence; only the fix differs, because
    what to do next depends on what the user was trying to do.
    """
    path = run_layout.manifest_path(run_dir)
    if not path.is_file():
        raise not_a_run
    try:
        return read_json(path)
    except (ValueError, OSError) as exc:
        raise UserError(f"{display_path(path)} is not valid JSON ({exc})", unreadable_fix) from None
