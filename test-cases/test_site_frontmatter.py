"""Front matter rules of the learning-paths repository, checked before its CI does."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from sme2prof.errors import UserError
from sme2prof.pages import authors, frontmatter
from sme2prof.pages.layout import CATEGORY, PAGES_DIR


@pytest.fixture()
def index_meta() -> dict:
    return {**frontmatter.read_page(PAGES_DIR / "_index.md").meta, "author": "A. Writer"}


def test_real_pages_pass_every_rule():
    assert frontmatter.check_path_folder(PAGES_DIR, CATEGORY, authors.index_fields()) == []


@pytest.mark.parametrize("edit, expected", [
    (lambda m: m.pop("author"), "missing required field: author"),
    (lambda m: m.pop("further_reading"), "missing required field: further_reading"),
    (lambda m: m.update(skilllevels="Expert"), "invalid skilllevels"),
    (lambda m: m.update(subjects="Gaming"), "invalid subjects"),
    (lambda m: m.update(operatingsystems=["Linux", "Ubuntu"]), "invalid operatingsystems entry 'Ubuntu'"),
    (lambda m: m["further_reading"][0]["resource"].update(type="video"), "type 'video'"),
    (lambda m: m.update(weight=2), "weight must be 1"),
    (lambda m: m.update(layout="single"), 'layout must be "learningpathall"'),
    (lambda m: m.update(learning_path_main_page="no"), 'learning_path_main_page must be "yes"'),
    (lambda m: m.update(learning_objectives="one string"), "learning_objectives must be a non-empty list"),
    (lambda m: m["learning_objectives"].append("A fifth."), "the guidance asks for 3 or 4"),
    (lambda m: m.pop("description"), "missing required field: description"),
    (lambda m: m.update(description=m["title"]), "description must not repeat the title"),
    (lambda m: m.pop("rerun_faqs"), "missing required field: rerun_faqs"),
    (lambda m: m.update(generate_summary_faq="yes"), "generate_summary_faq must be true or false"),
])
def test_each_broken_index_rule_is_reported(index_meta, edit, expected):
    meta = copy.deepcopy(index_meta)
    edit(meta)
    problems = frontmatter.check_index(meta, CATEGORY)
    assert any(expected in p for p in problems), problems


def test_page_and_next_steps_rules():
    page = {"title": "T", "description": "Do a thing.", "weight": 2, "layout": "learningpathall"}
    assert frontmatter.check_page("01-x.md", page) == []
    assert "weight must be a whole number of 2 or more" in frontmatter.check_page(
        "01-x.md", {**page, "weight": 1})
    assert "missing required field: description" in frontmatter.check_page(
        "01-x.md", {k: v for k, v in page.items() if k != "description"})
    assert 'title must be "Next Steps"' in frontmatter.check_page(
        "_next-steps.md", {"title": "Next", "weight": 21, "layout": "learningpathall"})


def test_duplicate_weights_and_missing_index_are_reported(tmp_path: Path):
    for name in ("01-a.md", "02-b.md"):
        (tmp_path / name).write_text("---\ntitle: A\nweight: 2\nlayout: learningpathall\n---\nbody\n")
    problems = frontmatter.check_path_folder(tmp_path, CATEGORY)
    assert "02-b.md: weight 2 already used by 01-a.md" in problems
    assert "_index.md is missing" in problems


@pytest.mark.parametrize("text, message", [
    ("no front matter\n", "no front matter"),
    ("---\ntitle: [unclosed\n---\n", "not valid YAML"),
    ("---\ntitle: x\n", "not closed"),
])
def test_unreadable_front_matter_is_a_user_error(tmp_path: Path, text, message):
    page = tmp_path / "01-x.md"
    page.write_text(text)
    with pytest.raises(UserError, match=message):
        frontmatter.read_page(page)


def test_authors_are_written_once_into_the_published_index(tmp_path: Path):
    source = (PAGES_DIR / "_index.md").read_text()
    assert authors.MARKER in source and "\nauthor:" not in source, "authors belong in site/authors.txt"
    listed = tmp_path / "authors.txt"
    listed.write_text("# who wrote it\nAda Lovelace\n\nAlan Turing\n")
    names = authors.read_authors(listed)
    assert names == ["Ada Lovelace", "Alan Turing"]
    meta = frontmatter.read_page(_write(tmp_path / "_index.md", authors.with_authors(source, names))).meta
    assert meta["author"] == ["Ada Lovelace", "Alan Turing"]
    once = authors.with_authors(authors.with_authors(source, ["Ada Lovelace"]), ["Grace Hopper"])
    assert once.count("\nauthor:") == 1 and "author: Grace Hopper" in once
    assert frontmatter.check_index({**meta}, CATEGORY) == []


def test_no_author_named_is_refused_with_the_file_to_edit(tmp_path: Path):
    empty = tmp_path / "authors.txt"
    empty.write_text("# nobody yet\n")
    with pytest.raises(UserError, match="no author named") as caught:
        authors.require_authors(empty)
    assert "authors.txt" in caught.value.fix


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
