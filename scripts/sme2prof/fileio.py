"""Atomic writes: a reader (or a crash) never sees half a file; reads that say what is wrong.

Everything the kit writes goes to a temporary name in the same folder and is renamed
into place, so an interrupted run (or a full disk) never leaves a truncated manifest or
report, nor the temporary file. Text the kit reads (configs, manifests, requirement
files) is decoded by ``read_text_file``: a file saved as UTF-16 by an editor, a binary
file or JSON nested deeper than Python can parse is a ``ValueError`` with one readable
sentence, which callers turn into their ``error:``/``fix:`` lines.
"""
from __future__ import annotations

import codecs
import hashlib
import json
import os
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        # mkstemp creates 0600; outputs are meant to be read by anyone, like any new file
        os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and not exc.filename:   # a full disk names no file: name ours
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    return path


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: Path, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, data: Any) -> Path:
    return write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


class TextFileError(ValueError):
    """A file that is not the UTF-8 text (or JSON) the kit expects; the message says why."""


_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
              (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 text (a UTF-8 byte-order mark is dropped), or a TextFileError saying what it is."""
    for bom, encoding in _WIDE_BOMS:
        if data.startswith(bom):
            raise TextFileError(f"{name} is saved as {encoding} (it starts with a {encoding} byte-order "
                                "mark); the kit reads UTF-8")
    if b"\0" in data:
        raise TextFileError(f"{name} holds NUL bytes: it is a binary file (or UTF-16 text), not UTF-8 text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TextFileError(f"{name} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                            f"{exc.start})") from None


def read_text_file(path: Path) -> str:
    """A text file's content, decoded as ``decode_text`` does (OSError when unreadable)."""
    return decode_text(Path(path).read_bytes(), str(path))


def parse_json_text(text: str, name: str) -> Any:
    """``json.loads``; nesting deeper than the parser can follow is a TextFileError, not a crash."""
    try:
        return json.loads(text)
    except RecursionError:
        raise TextFileError(f"{name} nests lists or objects too deeply to parse "
                            f"(more than {sys.getrecursionlimit()} levels)") from None


def read_json(path: Path) -> Any:
    """A JSON file; every way it can be unreadable as JSON is a ValueError (OSError when absent)."""
    return parse_json_text(read_text_file(path), str(path))


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in blocks (models and wheels are tens of MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def utc_now_iso() -> str:
    """The time stamp every file the kit writes uses: ISO 8601, UTC, whole seconds."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def writable_dir_problem(folder: Path, create: bool = True) -> str | None:
    """Why ``folder`` cannot receive files, or None; ``create`` makes it and writes a probe file.

    Without ``create`` (a dry run writes nothing) the nearest existing folder is asked
    whether this user may write there.
    """
    folder = Path(folder)
    in_the_way = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if in_the_way == folder:
        return f"{folder} is a file, not a folder"
    if in_the_way is not None:
        return f"{in_the_way} is a file, not a folder"
    if not create:
        existing = next(p for p in (folder, *folder.parents) if p.exists())
        return None if os.access(existing, os.W_OK | os.X_OK) else f"{existing} is not writable"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as exc:
        return f"{exc.strerror or exc}"
    return None


def ensure_writable_dir(folder: Path, option: str = "--out") -> None:
    """Create ``folder`` or fail in a second (not after minutes of work) naming ``option``."""
    from sme2prof.errors import UserError

    folder = Path(folder)
    problem = writable_dir_problem(folder)
    if problem is None:
        return
    if problem == f"{folder} is a file, not a folder":
        raise UserError(f"output path {folder} is a file, not a folder",
                        f"{option} needs a folder (it is created if missing): pass e.g. "
                        f"{folder.parent / (folder.stem + '_artifacts')}")
    if problem.endswith("is a file, not a folder"):
        raise UserError(f"cannot write to output directory {folder}: {problem}",
                        f"pass a folder path under an existing folder with {option}")
    raise UserError(f"cannot write to output directory {folder} ({problem})",
                    f"pass a folder you can write to with {option}, or fix its permissions")
