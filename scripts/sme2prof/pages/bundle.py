"""``make bundle``: the learning path laid out as the learning-paths repository expects.

``out/bundle/content/learning-paths/<category>/sme-executorch-profiling/`` holds the
pages, ``images/`` and the kit (scripts, models, configs, agentic-kits, test-cases,
archive). Rules of that repository shape it:

- no capital letters in file names under content/ (so Makefile becomes makefile);
- any Markdown file in a subfolder would be published as a stray page (and any other
  file as a stray download), so each top-level kit folder gets an ``_index.md`` whose
  cascade tells Hugo to build and publish nothing below it, and the kit's readme.md
  gets front matter that does the same for itself;
- its pull-request check (``tools/test_lp.sh``) treats every folder holding a changed
  Markdown file as a learning path and warns when it has no ``_index.md``; so every
  kit folder holding Markdown gets that ``_index.md`` too (without ``test_maintenance``,
  it is reported as "maintenance is turned off", as the path itself is);
- ``_index.md`` names the authors, from ``site/authors.txt``.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from sme2prof.errors import UserError
from sme2prof.pages import authors as path_authors
from sme2prof.pages.archive import hidden_front_matter
from sme2prof.pages.kit_files import repository_files
from sme2prof.pages.layout import KIT_DIRS, KIT_FILES, PATH_REL

KIT_TITLE = "Kit files, not a page"


def make_bundle(repo: Path, out: Path, authors: list[str] | None = None) -> Path:
    """Write the bundle under ``out`` (replacing an earlier bundle) and return the path folder.

    ``authors`` default to the names in ``site/authors.txt``.
    """
    if out.exists() and not (out / "content").is_dir() and any(out.iterdir()):
        raise UserError(f"{out} exists and does not look like a bundle",
                        "pass an empty or new --out directory")
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    path_dir = staging / PATH_REL
    for rel in repository_files(repo):
        dest = _bundle_destination(rel)
        if dest is not None:
            (path_dir / dest).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(repo / rel, path_dir / dest)
    readme = path_dir / "readme.md"
    if readme.exists():
        readme.write_text(hidden_front_matter(KIT_TITLE) + readme.read_text(encoding="utf-8"),
                          encoding="utf-8")
    index = path_dir / "_index.md"
    names = path_authors.read_authors() if authors is None else authors
    index.write_text(path_authors.with_authors(index.read_text(encoding="utf-8"), names),
                     encoding="utf-8")
    tops = [path_dir / d for d in KIT_DIRS if d != "images" and (path_dir / d).is_dir()]
    write_hiding_indexes(tops)
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return out / PATH_REL


def write_hiding_indexes(tops: list[Path]) -> list[Path]:
    """Give each of ``tops``, and every folder below one that holds Markdown, an ``_index.md``
    that hides it (and, by cascade, everything below) from the build; return those written.

    A folder that already has an ``_index.md`` keeps it (an archived page set has its own).
    """
    below = {md.parent for top in tops for md in top.rglob("*.md")}
    folders = sorted(f for f in {*tops, *below} if not (f / "_index.md").exists())
    for folder in folders:
        (folder / "_index.md").write_text(hidden_front_matter(KIT_TITLE, cascade=True),
                                          encoding="utf-8")
    return folders


def _bundle_destination(rel: Path) -> Path | None:
    """Where a repository file goes inside the path folder, or None when it is not shipped."""
    parts = rel.parts
    if rel.parent == PATH_REL:
        return Path(rel.name)
    if parts[0] in KIT_DIRS:
        return rel
    if len(parts) == 1 and rel.name in KIT_FILES:
        return Path(KIT_FILES[rel.name])
    return None


def preview_config(bundle_root: Path, site_dir: Path) -> str:
    """A Hugo config that builds the bundle's content/ as the learning-paths site would.

    It is the preview's own ``hugo.toml`` with the mounts swapped: the bundle's content/
    (and nothing else) as content. Used by the tests to prove that no kit file becomes
    a page once the bundle is dropped into that repository.
    """
    base = (site_dir / "hugo.toml").read_text(encoding="utf-8").split("[module]")[0]
    mounts = [(bundle_root / "content", "content"), (site_dir / "layouts", "layouts"),
              (site_dir / "static", "static")]
    return base + "[module]\n" + "".join(
        f'  [[module.mounts]]\n    source = "{source}"\n    target = "{target}"\n'
        for source, target in mounts)
