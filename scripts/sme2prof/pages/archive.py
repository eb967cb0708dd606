"""``make archive``: move the current page set to ``archive/<yyyy-mm-dd>/``.

Why: superseded pages stay readable in the repository but out of the build and the
navigation. The local build never mounts archive/; in the learning-paths repository
each archived page also carries front matter that tells Hugo not to build or list it.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from sme2prof.errors import UserError
from sme2prof.fileio import write_text_atomic
from sme2prof.pages.layout import page_files

# Front matter that keeps a page out of the build, every list and the navigation, in
# Hugo 0.130 (the learning-paths CI) and later. ``draft`` is that repository's own way
# to hide content (its deploy build has no -D); ``build`` keeps the page unrendered and
# unlisted even under ``hugo -D``. Plain words only: the repository's spell check reads
# front matter as prose, and would reject a key such as publishResources.
NEVER_BUILD = "draft: true\nbuild:\n  render: never\n  list: never\n"
_CASCADE = "cascade:\n" + "".join(f"  {line}\n" for line in NEVER_BUILD.splitlines())
_OWN_KEYS = re.compile(r"(?ms)^(?:build|_build|draft|cascade):.*?\n(?=\S|\Z)")


def hidden_front_matter(title: str, cascade: bool = False) -> str:
    """A whole front matter block that hides its page (and, with ``cascade``, its folder)."""
    return f'---\ntitle: "{title}"\n' + NEVER_BUILD + (_CASCADE if cascade else "") + "---\n"


def archived_text(text: str, cascade: bool = False) -> str:
    """The page with front matter that keeps Hugo from building or listing it (and, with
    ``cascade``, everything in its folder)."""
    hide = NEVER_BUILD + (_CASCADE if cascade else "")
    if text.startswith("---\n") and "\n---" in text[4:]:
        end = text.index("\n---", 4) + 1
        meta = _OWN_KEYS.sub("", text[4:end])
        return "---\n" + meta + hide + text[end:]
    return "---\n" + hide + "---\n" + text


def archive_pages(pages_dir: Path, archive_dir: Path, day: dt.date | None = None,
                  dry_run: bool = False) -> list[tuple[Path, Path]]:
    """Move every page of ``pages_dir`` to ``archive_dir/<date>/``; return (from, to) pairs."""
    pages = page_files(pages_dir)
    if not pages:
        raise UserError(f"no pages to archive in {pages_dir}", "nothing to do")
    target = archive_dir / (day or dt.date.today()).isoformat()
    if target.exists():
        raise UserError(f"{target} already exists; archiving would overwrite it",
                        "move or rename that folder first, or archive on another day")
    moves = [(page, target / page.name.lower()) for page in pages]
    if dry_run:
        return moves
    target.mkdir(parents=True)
    for src, dest in moves:
        write_text_atomic(dest, archived_text(src.read_text(encoding="utf-8")))
    for src, _ in moves:
        src.unlink()
    return moves
