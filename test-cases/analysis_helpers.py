"""Real runs for the analysis tests: real exports and real host-pipeline runs, made once.

Nothing here is a stand-in: models are exported with the kit's exporter (torch.export +
XNNPACK lowering, ETRecord) and run by ``scripts/mac_pipeline.py`` with the ``pybind``
runner (the ExecuTorch runtime from the pip wheel), so the run directories the tests read
are exactly what a user gets. Runs are cached per test session because each runner
invocation costs ~20 s on a 2-core machine. This module holds no tests.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from kit_helpers import exported, run_script

WORK = Path(tempfile.mkdtemp(prefix="sme2prof-analysis-tests-"))


def run_pipeline(model: str, experiments: list[dict], label: str,
                 compare_pairs: list[list[str]] | None = None, **model_args) -> Path:
    """Run the real host pipeline (no analysis) and return the new run directory."""
    root = WORK / "runs" / label
    config = {"model": str(exported(model, **model_args)), "output_root": str(root),
              "experiments": experiments}
    if compare_pairs:
        config["analysis"] = {"compare_pairs": compare_pairs}
    cfg = WORK / f"{label}.json"
    cfg.write_text(json.dumps(config), encoding="utf-8")
    proc = run_script("mac_pipeline.py", "--config", str(cfg), "--no-analyze")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    runs = sorted(p for p in root.iterdir() if p.is_dir())
    assert len(runs) == 1, runs
    return runs[0]


def experiment(name: str, runs: int = 8, warmup: int = 2, threads: tuple[int, ...] = (1,)) -> dict:
    return {"name": name, "runner": "pybind", "mode": "timing", "runs": runs, "warmup": warmup,
            "threads": list(threads)}


@lru_cache(maxsize=None)
def toy_cnn_run() -> Path:
    """toy_cnn, two experiments on the pybind runner, compared by the config."""
    return run_pipeline("toy_cnn", [experiment("first"), experiment("second")], "toy",
                        compare_pairs=[["first", "second"]])


# vit_tiny in its textbook form (nn.LayerNorm, 4-D attention): portable kernels and
# 32 XNNPACK partitions, what the analysis must handle; the default form is all XNNPACK.
TEXTBOOK_VIT = {"delegable_ops": False}


@lru_cache(maxsize=None)
def transformer_run() -> Path:
    """vit_tiny (the transformer-style model: attention, layer norm, GELU), textbook form."""
    return run_pipeline("vit_tiny", [experiment("vit", runs=5, warmup=1)], "vit", **TEXTBOOK_VIT)


def copy_run(run_dir: Path, dest: Path) -> Path:
    """A private copy a test may damage without affecting the cached run."""
    target = dest / run_dir.name
    shutil.copytree(run_dir, target, ignore=shutil.ignore_patterns("analysis"))
    return target


def inspector_rows(etdump: Path, warmup: int) -> dict[str, float]:
    """Delegated + portable operator time per name straight from Inspector.to_dataframe()."""
    import re
    import warnings

    from executorch.devtools import Inspector

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = Inspector(etdump_path=str(etdump)).to_dataframe()
    totals: dict[str, float] = {}
    for _, row in frame.iterrows():
        name = row["event_name"]
        if row["is_delegated_op"]:
            key = re.sub(r"\s*#\d+$", "", name)
        elif name.startswith("native_call_"):
            key = name[len("native_call_"):]
        else:
            continue
        totals[key] = totals.get(key, 0.0) + sum(list(row["raw"])[warmup:])
    return totals
