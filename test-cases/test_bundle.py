"""``make bundle``: the layout the learning-paths repository expects, with no stray pages."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kit_helpers import run_script
from sme2prof.pages import authors, bundle, checks, frontmatter, hugo
from sme2prof.pages.layout import PATH_REL, page_files

PATH_URL = PATH_REL.relative_to("content").as_posix()


@pytest.fixture(scope="module")
def bundle_root(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("b") / "bundle"
    proc = run_script("site_tools.py", "bundle", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def test_pages_images_and_kit_sit_in_the_path_folder(bundle_root: Path, repo_root: Path):
    folder = bundle_root / PATH_REL
    for page in page_files():
        expected = page.read_text()
        if page.name == "_index.md":
            expected = authors.with_authors(expected, authors.read_authors())
        assert (folder / page.name).read_text() == expected, page.name
    for image in (repo_root / "images").glob("*.png"):
        assert (folder / "images" / image.name).is_file()
    for kit in ("scripts/site_tools.py", "makefile", "models/toy_cnn/__init__.py"):
        assert (folder / kit).is_file(), kit
    assert not (folder / "Makefile").exists()
    assert not list(folder.rglob("__pycache__")) and not (folder / "out").exists()


def test_the_bundle_names_the_authors_of_site_authors_txt(tmp_path: Path, repo_root: Path):
    folder = bundle.make_bundle(repo_root, tmp_path / "bundle", authors=["Ada Lovelace"])
    assert frontmatter.read_page(folder / "_index.md").meta["author"] == "Ada Lovelace"
    folder = bundle.make_bundle(repo_root, tmp_path / "bundle", authors=["Ada Lovelace", "Alan Turing"])
    meta = frontmatter.read_page(folder / "_index.md").meta
    assert meta["author"] == ["Ada Lovelace", "Alan Turing"]
    assert frontmatter.check_index(meta, "embedded-and-microcontrollers") == []


def test_every_kit_folder_with_markdown_has_an_index_that_hides_it(bundle_root: Path):
    folder = bundle_root / PATH_REL
    with_markdown = {md.parent for md in folder.rglob("*.md")} - {folder}
    assert len(with_markdown) >= 8
    for kit in sorted(with_markdown):
        meta = frontmatter.read_page(kit / "_index.md").meta
        assert meta["draft"] is True and meta["build"]["render"] == "never", kit
        assert "test_maintenance" not in meta, kit
    top = frontmatter.read_page(folder / "scripts" / "_index.md").meta
    assert top["cascade"] == {"draft": True, "build": {"render": "never", "list": "never"}}
    assert frontmatter.read_page(folder / "readme.md").meta["draft"] is True


def test_every_file_name_in_the_bundle_is_lower_case(bundle_root: Path):
    assert checks.bad_file_names(bundle_root) == []


def test_the_renamed_makefile_still_works(bundle_root: Path):
    proc = subprocess.run(["make", "-n", "help"], cwd=bundle_root / PATH_REL,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_hugo_publishes_only_the_path_pages_from_the_bundle(bundle_root: Path, repo_root: Path,
                                                            tmp_path: Path):
    config = tmp_path / "hugo.toml"
    config.write_text(bundle.preview_config(bundle_root, repo_root / "site"))
    site = tmp_path / "public"
    hugo.build(tmp_path, config, site)
    pages = {p.relative_to(site).as_posix() for p in site.rglob("*.html")}
    expected = {f"{PATH_URL}/index.html"} | {f"{PATH_URL}/{p.stem}/index.html"
                                            for p in page_files() if p.name != "_index.md"}
    assert {p for p in pages if p.startswith(PATH_URL)} == expected
    published = [p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()]
    for kit in ("scripts", "models", "agentic-kits", "test-cases", "archive", "configs"):
        assert not [p for p in published if f"/{kit}/" in p], kit


def test_an_existing_non_bundle_folder_is_not_replaced(tmp_path: Path):
    keep = tmp_path / "mine"
    keep.mkdir()
    (keep / "notes.txt").write_text("keep me")
    proc = run_script("site_tools.py", "bundle", "--out", str(keep))
    assert proc.returncode == 2 and "does not look like a bundle" in proc.stderr
    assert (keep / "notes.txt").read_text() == "keep me"
