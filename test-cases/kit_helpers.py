"""Helpers the tests share: run an entry script as a user would."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPTS_DIR = REPO_ROOT / "scripts"


def run_script(script: str, *args: str, env: dict | None = None, cwd: Path | None = None,
               timeout: float = 900):
    """Run one of the kit's entry scripts as a user would; returns CompletedProcess."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run([sys.executable, str(SCRIPTS_DIR / script), *args],
                          capture_output=True, text=True, env=full_env,
                          cwd=str(cwd or REPO_ROOT), timeout=timeout)



@lru_cache(maxsize=None)
def _exports_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="sme2prof-test-exports-"))


@lru_cache(maxsize=None)
def _export(model: str, dtype: str, model_args: tuple) -> Path:
    from sme2prof.export.exporter import export_model

    folder = _exports_dir() / "-".join([model, *(f"{k}={v}" for k, v in model_args)])
    result = export_model(model, dtype, out_dir=folder, model_args=dict(model_args) or None,
                          progress=lambda _msg: None)
    return Path(result.pte_path)


def exported(model: str, dtype: str = "fp32", **model_args) -> Path:
    """The .pte of a real export (with .etrecord and .export.json beside it), made once per
    test session: several test modules profile the same small models, and an export costs
    seconds of torch.export + XNNPACK lowering each time. Tests must not modify these files."""
    return _export(model, dtype, tuple(sorted(model_args.items())))
