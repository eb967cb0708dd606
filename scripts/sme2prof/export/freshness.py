"""Is an export still the export of the model as it is now? Decided from the export record.

Why the record and not file times: a ``git checkout``, a copy or an unpack changes
modification times without changing a model, and leaves them alone when a pull did
change it. What makes a ``.pte`` stale is what it was made from, so the exporter writes
those inputs into ``<stem>.export.json`` (``inputs``, below) and this module compares
them with the inputs an export would have now:

    package_sha256      every file of the model package (``models/<name>/``: code, and
                        any weights or tables kept in it), by relative path and content
    shared_layers_sha256  the kit's export-friendly layers that packages import
                        (``sme2prof/export/delegable_layers.py``)
    model_args          the ``--model-arg`` options
    int8_mode           static or dynamic (int8 only; otherwise null)
    torch_version,      the libraries that traced and lowered it: a program from another
    executorch_version  ExecuTorch may not load, and another torch may trace differently
                        (compared by release: ``2.13.0+cpu`` and ``2.13.0`` are the same
                        torch, so an export made in ``.venv-vision`` is used from ``.venv``)

A record without ``inputs`` (written by an earlier kit) is stale: nothing proves it
matches. Torch-free, so a caller can decide before paying for a torch import.
"""
from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path
from typing import Any

from sme2prof.export.artifacts import etrecord_path_for, export_json_path_for
from sme2prof.fileio import read_json
from sme2prof.paths import display_path

_SKIPPED_PARTS = ("__pycache__",)
SHARED_LAYERS = Path(__file__).with_name("delegable_layers.py")


def package_sha256(package_dir: Path) -> str:
    """One hash over every file in the package: relative path and bytes, in sorted order.

    Caches (``__pycache__``) and hidden files are left out: they change when the package
    is imported, not when the model does.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(package_dir).rglob("*") if p.is_file()):
        relative = path.relative_to(package_dir)
        if any(part in _SKIPPED_PARTS or part.startswith(".") for part in relative.parts):
            continue
        digest.update(relative.as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _installed(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def export_inputs(package_dir: Path, dtype: str, int8_mode: str | None,
                  model_args: dict[str, Any] | None) -> dict[str, Any]:
    """What an export made now would be made from (the record's ``inputs``)."""
    return {"package_sha256": package_sha256(package_dir),
            "shared_layers_sha256": hashlib.sha256(SHARED_LAYERS.read_bytes()).hexdigest(),
            "model_args": dict(model_args or {}),
            "int8_mode": (int8_mode or "static") if dtype == "int8" else None,
            "torch_version": _installed("torch"),
            "executorch_version": _installed("executorch")}


_WHAT_CHANGED = {
    "package_sha256": "the model package changed since the export",
    "shared_layers_sha256": "the kit's shared model layers (delegable_layers.py) changed since the export",
    "model_args": "the model options differ",
    "int8_mode": "the int8 mode differs",
    "torch_version": "torch was upgraded or downgraded since the export",
    "executorch_version": "ExecuTorch was upgraded or downgraded since the export",
}


def _release(value: Any) -> Any:
    """``2.13.0+cpu`` -> ``2.13.0``: the local label names a build of the same release (CPU or
    CUDA wheels of torch: .venv and .venv-vision differ only there), not another release."""
    return value.split("+", 1)[0] if isinstance(value, str) else value


def stale_reason(pte: Path, wanted: dict[str, Any]) -> str | None:
    """Why ``pte`` must be exported again, or None when its record matches ``wanted``."""
    record_path = export_json_path_for(pte)
    for path, what in ((pte, "no export yet"), (etrecord_path_for(pte), "its .etrecord is missing"),
                       (record_path, "its .export.json is missing")):
        if not path.is_file():
            return f"{what} ({display_path(path)})"
    try:
        recorded = read_json(record_path).get("inputs")
    except (OSError, ValueError, AttributeError):
        return f"its export record {display_path(record_path)} is unreadable"
    if not isinstance(recorded, dict):
        return "its export record does not say what it was made from (exported by an earlier kit)"
    for key, what in _WHAT_CHANGED.items():
        before, now = recorded.get(key), wanted.get(key)
        if _release(before) != _release(now):
            shown = "" if key == "package_sha256" else f" ({key}: export {before!r}, now {now!r})"
            return what + shown
    return None
