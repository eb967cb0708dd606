"""The authors of the learning path: named once, in ``site/authors.txt``.

Why one file: the learning-paths repository wants the names of the people who wrote a
path in its ``_index.md`` (``author:``, one string or a list), not an organization.
The names are set in that file only; ``make bundle`` and ``make pr`` write them into the
published ``_index.md``, and the local preview shows them on the landing page.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from sme2prof.errors import UserError
from sme2prof.paths import REPO_ROOT, display_path

AUTHORS_FILE = REPO_ROOT / "site" / "authors.txt"
# The line of the source _index.md that the bundle replaces with the author field.
MARKER = "# author: written by make bundle from site/authors.txt"
_AUTHOR_KEY = re.compile(r"(?m)^author:.*\n(?:[ \t]+-.*\n)*")


def read_authors(path: Path = AUTHORS_FILE) -> list[str]:
    """The names in ``path``: one per line; blank lines and ``#`` comments are skipped."""
    if not path.is_file():
        return []
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def author_value(names: list[str]) -> str | list[str]:
    """The ``author:`` value: one name as a string, several as a list (both are accepted)."""
    return names[0] if len(names) == 1 else list(names) if names else ""


def index_fields(path: Path = AUTHORS_FILE) -> dict[str, str | list[str]]:
    """The fields the bundle adds to ``_index.md``, for checking the source folder."""
    return {"author": author_value(read_authors(path))}


def require_authors(path: Path = AUTHORS_FILE) -> list[str]:
    """The names, or a UserError saying where to write them."""
    names = read_authors(path)
    if not names:
        raise UserError(f"no author named in {display_path(path)}: the pull request would "
                        "publish the path without its authors",
                        f"write the name of each author on its own line in {display_path(path)}")
    return names


def with_authors(index_text: str, names: list[str]) -> str:
    """``_index.md`` text with its ``author:`` field set to ``names``.

    The field replaces the marker line (or an existing ``author:`` field); if neither is
    there it goes at the end of the front matter.
    """
    field = yaml.safe_dump({"author": author_value(names)}, sort_keys=False,
                           allow_unicode=True, default_flow_style=False)
    end = index_text.index("\n---", 3) + 1
    meta, rest = index_text[:end], index_text[end:]
    if MARKER in meta:
        meta = _AUTHOR_KEY.sub("", meta).replace(MARKER + "\n", field, 1)
    elif _AUTHOR_KEY.search(meta):
        meta = _AUTHOR_KEY.sub(lambda _m: field, meta, count=1)
    else:
        meta += field
    return meta + rest
