"""``make archive``: superseded pages move out of the build and stay out of any build."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from sme2prof.errors import UserError
from sme2prof.pages import archive, frontmatter
from sme2prof.pages.layout import PAGES_DIR, page_files


@pytest.fixture()
def pages(tmp_path: Path) -> Path:
    folder = tmp_path / "pages"
    shutil.copytree(PAGES_DIR, folder)
    return folder


def test_archive_moves_every_page_with_never_build_front_matter(pages: Path, tmp_path: Path):
    moves = archive.archive_pages(pages, tmp_path / "archive", day=dt.date(2026, 1, 2))
    assert len(moves) == len(page_files()) and not list(pages.glob("*.md"))
    for _src, dest in moves:
        assert dest.parent.name == "2026-01-02" and dest.name == dest.name.lower()
        meta = frontmatter.read_page(dest).meta
        assert meta["draft"] is True and meta["build"] == {"render": "never", "list": "never"}
    index = frontmatter.read_page(tmp_path / "archive" / "2026-01-02" / "_index.md").meta
    assert index["title"] == frontmatter.read_page(PAGES_DIR / "_index.md").meta["title"]


def test_archive_never_overwrites_and_dry_run_moves_nothing(pages: Path, tmp_path: Path):
    day = dt.date(2026, 1, 2)
    planned = archive.archive_pages(pages, tmp_path / "archive", day=day, dry_run=True)
    assert planned and len(list(pages.glob("*.md"))) == len(planned)
    assert not (tmp_path / "archive").exists()
    (tmp_path / "archive" / "2026-01-02").mkdir(parents=True)
    with pytest.raises(UserError, match="already exists"):
        archive.archive_pages(pages, tmp_path / "archive", day=day)
    assert len(list(pages.glob("*.md"))) == len(planned)


def test_existing_build_options_are_replaced_not_duplicated():
    text = "---\ntitle: x\nbuild:\n  render: always\ndraft: false\nweight: 3\n---\nbody\n"
    out = archive.archived_text(text)
    assert out.count("build:") == 1 and "render: never" in out and out.endswith("body\n")
    assert out.count("draft:") == 1 and "draft: true" in out and "weight: 3" in out


def test_site_tools_archive_in_a_copy_of_the_repository(tmp_path: Path, repo_root: Path):
    import subprocess
    import sys
    for part in ("scripts", "content"):
        shutil.copytree(repo_root / part, tmp_path / part,
                        ignore=shutil.ignore_patterns("__pycache__"))
    tool = [sys.executable, str(tmp_path / "scripts" / "site_tools.py"), "archive"]
    dry = subprocess.run(tool + ["--dry-run"], capture_output=True, text=True)
    assert dry.returncode == 0 and "would move" in dry.stdout
    done = subprocess.run(tool, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    day = dt.date.today().isoformat()
    assert sorted(p.name for p in (tmp_path / "archive" / day).glob("*.md")) == sorted(
        p.name for p in page_files())
    assert not list((tmp_path / PAGES_DIR.relative_to(repo_root)).glob("*.md"))
    again = subprocess.run(tool, capture_output=True, text=True)
    assert again.returncode == 2 and "no pages to archive" in again.stderr
