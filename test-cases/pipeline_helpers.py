"""What the pipeline tests share: one real toy_cnn export per session and config writing.

The export is real (torch.export + XNNPACK lowering through the kit's exporter) and done
once per test session, because every pipeline test needs a .pte and exporting costs
~20 s on a 2-core machine.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from kit_helpers import exported


def toy_cnn_pte() -> Path:
    return exported("toy_cnn", "fp32")


@lru_cache(maxsize=None)
def wheel_runner() -> Path:
    """The real wheel runner, built here when this checkout has not built it yet."""
    from sme2prof.errors import UserError
    from sme2prof.runners.wheel_build import build_wheel_runner, find_wheel_runner

    try:
        return find_wheel_runner()
    except UserError:
        build_wheel_runner(progress=lambda _msg: None)
        return find_wheel_runner()


def write_config(folder: Path, model: Path | str, experiments: list[dict], name: str = "config.json",
                 **top_level) -> Path:
    """A config file with ``experiments``; output_root defaults to ``folder/runs``."""
    config = {"model": str(model), "output_root": str(folder / "runs"), "experiments": experiments,
              **top_level}
    path = folder / name
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path


def experiment(name: str = "baseline", runner: str = "pybind", **keys) -> dict:
    return {"name": name, "runner": runner, "runs": 3, "warmup": 1, "threads": [1], **keys}


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under folder with its bytes: proves a failed invocation touched nothing."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
