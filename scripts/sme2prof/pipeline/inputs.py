"""A run owns its inputs: the .pte, ETRecord and export record it used live in ``<run>/model/``.

Why: exports are rewritten in place (``out/artifacts/<model>/<model>_<dtype>.pte``), so a
run that only pointed at them would profile a re-exported model halfway through, and
analysing an old run would use a newer ETRecord without a word.

How, and why not content-addressed exports: at the start of a run the three files are
**hard-linked** into ``<run>/model/`` (copied when the run is on another file system).
The exporter replaces its files by writing a new file and renaming it over the old one,
which gives the export a new inode and leaves the run's link on the old one: the run
keeps exactly the bytes it measured, for the cost of a directory entry. A copy costs
the file's size once per run (EdgeTAM's .pte is about 20 MB, its ETRecord more), which
is why linking comes first. Content-addressed exports (``<sha>.pte``) would give the
same guarantee but change every path the pages, configs and skills use, and leave
old exports to collect by hand.

What a link cannot prevent is a program writing *into* the same inode (``cp new.pte
old.pte`` truncates and rewrites the file the run links to). So the runners are given
the run's copy, its sha256 is checked against the manifest before every runner
invocation (a mismatch stops the run), and the analysis refuses an ETRecord whose hash
differs from the one recorded when the run took it (and from the export record's, when
the exporter wrote one).
"""
from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from sme2prof.errors import UserError
from sme2prof.fileio import read_json, sha256_file
from sme2prof.paths import display_path

INPUTS_DIR_NAME = "model"              # <run>/model/: the run's own .pte, .etrecord, .export.json
_NOT_LINKABLE = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP}


class ModelChanged(UserError):
    """The run's model file no longer has the hash the run started with."""


def export_files(model: Path) -> tuple[Path | None, Path | None]:
    """The ETRecord and export record written next to ``model`` by the exporter, when present."""
    etrecord = model.with_suffix(".etrecord")
    export_json = next((p for p in (model.with_name(model.stem + ".export.json"), model.parent / "export.json")
                        if p.is_file()), None)
    return (etrecord if etrecord.is_file() else None), export_json


def _keep(source: Path, dest: Path) -> str:
    """Hard-link ``source`` to ``dest``, or copy it; returns how ("hard link" or "copy")."""
    try:
        os.link(source, dest)
        return "hard link"
    except OSError as exc:
        if exc.errno not in _NOT_LINKABLE:
            raise
    shutil.copy2(source, dest)
    return "copy"


def take_inputs(model: Path, run_dir: Path) -> dict:
    """Link the export into ``<run>/model/``; return the manifest's ``model`` block.

    Keys: ``path`` (the export it came from), ``sha256``, ``size_bytes``, ``pte`` (the run's
    copy, relative to the run directory), ``etrecord`` (relative, or None), ``etrecord_sha256``,
    ``export`` (the export record's content, or None), ``export_json`` (where it came from),
    ``kept_as`` ("hard link" or "copy"), and ``notes`` on anything that did not match.
    """
    folder = Path(run_dir) / INPUTS_DIR_NAME
    folder.mkdir(exist_ok=True)
    etrecord, export_json = export_files(model)
    kept_as = _keep(model, folder / model.name)
    sha = sha256_file(folder / model.name)
    export, notes = None, []
    if export_json is not None:
        try:
            export = read_json(export_json)
        except (OSError, ValueError) as exc:
            notes.append(f"export record {export_json} unreadable ({exc}); not kept")
        if isinstance(export, dict):
            _keep(export_json, folder / export_json.name)
        else:
            export = None
    recorded = (export or {}).get("sha256") or {}
    if recorded.get("pte") and recorded["pte"] != sha:
        notes.append(f"{display_path(export_json)} describes another export than {display_path(model)} "
                     "(its sha256 differs): re-export the model to get a matching ETRecord")
    etrecord_rel = etrecord_sha = None
    if etrecord is not None:
        _keep(etrecord, folder / etrecord.name)
        etrecord_sha = sha256_file(folder / etrecord.name)
        expected = recorded.get("etrecord") if recorded.get("pte") == sha else None
        if recorded and expected != etrecord_sha:
            notes.append(f"{display_path(etrecord)} does not match the export record: not used "
                         "(operator-to-layer mapping unavailable); re-export the model")
            (folder / etrecord.name).unlink()
            etrecord_sha = None
        else:
            etrecord_rel = f"{INPUTS_DIR_NAME}/{etrecord.name}"
    return {"path": str(model), "sha256": sha, "size_bytes": (folder / model.name).stat().st_size,
            "pte": f"{INPUTS_DIR_NAME}/{model.name}", "etrecord": etrecord_rel, "etrecord_sha256": etrecord_sha,
            "export": export, "export_json": str(export_json) if export_json else None,
            "kept_as": kept_as, "notes": notes}


def run_model(run_dir: Path, model_block: dict) -> Path | None:
    """The .pte the run's runners execute: its own copy (None for a run made before runs kept one)."""
    rel = (model_block or {}).get("pte")
    return Path(run_dir) / rel if isinstance(rel, str) and rel else None


def check_unchanged(model: Path, sha256: str | None, run_dir: Path) -> None:
    """Before a runner starts: the model must still be the one the run started with.

    (A manifest that recorded no hash, edited by hand, cannot be checked: nothing to compare.)
    """
    if not sha256:
        return
    try:
        now = sha256_file(model)
    except OSError as exc:
        raise ModelChanged(f"the run's model file {display_path(model)} cannot be read ({exc.strerror or exc})",
                           f"the results so far are kept; start a new run (python scripts/mac_pipeline.py "
                           f"--config <config>) or restore the file") from None
    if now != sha256:
        raise ModelChanged(f"the run's model file {display_path(model)} changed while the run was going "
                           f"(sha256 {now[:12]}..., the run started with {sha256[:12]}...): a run must "
                           "measure one model", "the results measured before the change are kept in "
                           f"{display_path(run_dir)}; start a new run with --config for the new model "
                           "(exporters that replace files by renaming, like export_model.py, do not do this)")


def etrecord_problem(etrecord: Path, model_block: dict) -> str | None:
    """Why the analysis must not use ``etrecord`` for this run, or None.

    The reference is the hash the run recorded when it took the ETRecord, and the export
    record's when the exporter wrote one. Older runs recorded neither: their ETRecord is
    only compared by size with the export record.
    """
    export = model_block.get("export") if isinstance(model_block.get("export"), dict) else {}
    expected = {h for h in (model_block.get("etrecord_sha256"), (export.get("sha256") or {}).get("etrecord"))
                if isinstance(h, str) and h}
    try:
        if expected:
            actual = sha256_file(etrecord)
            if actual not in expected or len(expected) > 1:
                return (f"ETRecord {display_path(etrecord)} is not the one this run was made with (sha256 "
                        f"{actual[:12]}..., recorded {', '.join(sorted(h[:12] + '...' for h in expected))}): "
                        "not used, so operators are not mapped to model layers")
            return None
        size = (export.get("file_sizes") or {}).get("etrecord")
        if isinstance(size, int) and etrecord.stat().st_size != size:
            return (f"ETRecord {display_path(etrecord)} has {etrecord.stat().st_size} bytes, the export record "
                    f"of this run says {size}: it was overwritten by a later export; not used")
    except OSError as exc:
        return f"ETRecord {display_path(etrecord)} cannot be read ({exc.strerror or exc})"
    return None
