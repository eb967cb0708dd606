"""Front matter rules of the learning-paths repository, checked before its CI does."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from sme2prof.errors import UserError
from sme2prof.pages import frontmatter
from sme2prof.pages.layout import CATEGORY, PAGES_DIR


@pytest.fixture()
def index_meta() -> dict:
    return frontmatter.read_page(PAGES_DIR / "_index.md").meta


def test_real_pages_pass_every_rule():
    assert frontmatter.check_path_folder(PAGES_DIR, CATEGORY) == []


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
])
def test_each_broken_index_rule_is_reported(index_meta, edit, expected):
    meta = copy.deepcopy(index_meta)
    edit(meta)
    problems = frontmatter.check_index(meta, CATEGORY)
    assert any(expected in p for p in problems), problems


def test_page_and_next_steps_rules():
    assert frontmatter.check_page("01-x.md", {"title": "T", "weight": 2, "layout": "learningpathall"}) == []
    assert "weight must be a whole number of 2 or more" in frontmatter.check_page(
        "01-x.md", {"title": "T", "weight": 1, "layout": "learningpathall"})
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
