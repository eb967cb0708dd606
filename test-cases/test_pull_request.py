"""``make pr`` on a stand-in checkout of the learning-paths repository, offline.

The kit runs from a fresh copy of this repository whose ``site/authors.txt`` names an
author (the real file may name nobody yet); the checkout is written by
``stand_ins/lp_checkout.py``: an old learning path of its own at our folder, a word
list, and stand-in tools that behave as that repository's PR tools are documented to.
"""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from sme2prof.pages import bundle, frontmatter, hugo, lp_checks, page_commands
from sme2prof.pages.layout import PATH_REL
from stand_ins import lp_checkout

DAY = dt.date.today().isoformat()
TARGET = PATH_REL.as_posix()


@pytest.fixture(scope="module")
def kit(tmp_path_factory, repo_root: Path) -> Path:
    copy = tmp_path_factory.mktemp("kit") / "sme-executorch-profiling"
    page_commands.copy_working_tree(repo_root, copy)
    (copy / "site" / "authors.txt").write_text("# test authors\nAda Lovelace\nAlan Turing\n")
    return copy


def site_tools(kit: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(kit / "scripts" / "site_tools.py"), *args],
                          capture_output=True, text=True, cwd=kit, timeout=600)


def git(checkout: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(checkout), *args], check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture()
def checkout(tmp_path: Path) -> Path:
    return lp_checkout.make_checkout(tmp_path / "arm-learning-paths")


def test_dry_run_lists_every_move_and_addition_and_changes_nothing(kit: Path, checkout: Path):
    head, files = git(checkout, "rev-parse", "HEAD"), git(checkout, "ls-files")
    proc = site_tools(kit, "pr", "--alp", str(checkout), "--dry-run")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for old in lp_checkout.OLD_FILES:
        new = old.replace("Makefile", "makefile").replace("README.md", "readme.md")
        assert f"would move    {old} -> archive/{DAY}/{new}\n" in out, old
    for ours in ("01-overview.md", "scripts/site_tools.py", "makefile", "agentic-kits/_index.md"):
        assert f"would add     {ours}\n" in out, ours
    assert f"would add     archive/{DAY}/old_kit/_index.md\n" in out
    assert "would update  .wordlist.txt: +" in out and "ExecuTorch," not in out
    assert "pass     file names:" in out and "0 deleted" in out and "nothing changed" in out
    assert git(checkout, "rev-parse", "HEAD") == head and git(checkout, "ls-files") == files
    assert git(checkout, "status", "--porcelain") == "" and "sme-exec" not in git(checkout, "branch")


def test_real_run_archives_the_old_path_lays_ours_in_and_passes_the_checks(kit: Path,
                                                                           checkout: Path):
    proc = site_tools(kit, "pr", "--alp", str(checkout))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "pass     file names:" in proc.stdout
    assert "pass     tools/verify_index_fields.py" in proc.stdout
    assert "pass     tools/test_lp.sh: exit 0;" in proc.stdout and "0 without an _index.md" in proc.stdout
    assert git(checkout, "rev-parse", "--abbrev-ref", "HEAD").strip() == f"sme-executorch-profiling-{DAY}"
    target, archived = checkout / PATH_REL, checkout / PATH_REL / "archive" / DAY
    # the old path, under the archive, hidden; nothing of it left in place
    for old in ("01-old-overview.md", "02-old-setup.md", "images/old-diagram.png", "old_kit/makefile"):
        assert (archived / old).is_file(), old
    assert not (target / "01-old-overview.md").exists() and not (target / "old_kit").exists()
    old_index = frontmatter.read_page(archived / "_index.md").meta
    assert old_index["title"] == "An old path about profiling" and old_index["draft"] is True
    assert old_index["cascade"]["build"]["render"] == "never"
    assert frontmatter.read_page(archived / "old_kit" / "readme.md").meta["build"]["list"] == "never"
    # ours at the target path, authors named
    assert (target / "01-overview.md").read_text() == (kit / PATH_REL / "01-overview.md").read_text()
    assert frontmatter.read_page(target / "_index.md").meta["author"] == ["Ada Lovelace", "Alan Turing"]
    # the repository's file-name rule on what the pull request changes (deletions included)
    changed = git(checkout, "diff", "--name-only", "main...HEAD").splitlines()
    assert len(changed) > 100 and lp_checks.bad_names(changed) == []
    assert "old_kit/Makefile" not in "\n".join(changed), "a rename must show only the new name"
    assert "XNNPACK's" in (checkout / ".wordlist.txt").read_text().splitlines()
    # main is as it was
    assert git(checkout, "show", f"main:{TARGET}/_index.md").startswith("---\ntitle: An old path")


def test_the_archived_pages_are_out_of_the_build(kit: Path, checkout: Path, tmp_path: Path,
                                                 repo_root: Path):
    assert site_tools(kit, "pr", "--alp", str(checkout)).returncode == 0
    config = tmp_path / "hugo.toml"
    config.write_text(bundle.preview_config(checkout, repo_root / "site"))
    site = tmp_path / "public"
    hugo.build(tmp_path, config, site)
    published = [p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()]
    url = TARGET.removeprefix("content/")
    assert f"{url}/01-overview/index.html" in published
    assert not [p for p in published if "/archive/" in p or "old-" in p or "old_kit" in p]


def test_refusals_leave_the_checkout_as_it_was(kit: Path, checkout: Path, tmp_path: Path):
    for no_checkout in (["pr"], ["pr", "--alp", ""]):
        missing = site_tools(kit, *no_checkout)
        assert missing.returncode == 2 and "fix: make pr ALP=" in missing.stderr
    itself = site_tools(kit, "pr", "--alp", str(kit))
    assert itself.returncode == 2 and "is this kit" in itself.stderr
    not_repo = tmp_path / "not-a-checkout"
    not_repo.mkdir()
    assert "not a checkout" in site_tools(kit, "pr", "--alp", str(not_repo)).stderr
    page = checkout / PATH_REL / "01-old-overview.md"
    page.write_text(page.read_text() + "an edit in progress\n")
    dirty = site_tools(kit, "pr", "--alp", str(checkout))
    assert dirty.returncode == 2 and "uncommitted changes" in dirty.stderr
    assert page.read_text().endswith("an edit in progress\n") and "sme-exec" not in git(checkout, "branch")
    git(checkout, "checkout", "--", ".")
    authors = kit / "site" / "authors.txt"
    names = authors.read_text()
    authors.write_text("# nobody yet\n")
    try:
        nobody = site_tools(kit, "pr", "--alp", str(checkout))
    finally:
        authors.write_text(names)
    assert nobody.returncode == 2 and "no author named" in nobody.stderr
    assert git(checkout, "status", "--porcelain") == "" and "sme-exec" not in git(checkout, "branch")


@pytest.mark.parametrize("path, bad", [
    ("content/learning-paths/x/README.md", True),
    ("content/learning-paths/x/My file.md", True),
    ("content/learning-paths/x/Makefile", True),
    ("content/learning-paths/x/.gitignore", False),
    ("content/learning-paths/Folder/page.md", False),
    ("content/learning-paths/x/archive.tar.GZ", False),
    ("tools/Check.py", False),
])
def test_the_file_name_rule_is_the_repository_s(path: str, bad: bool):
    assert lp_checks.bad_names([path]) == ([path] if bad else [])
