"""Front matter: read it, and check it against the learning-paths repository's rules.

Why our own checker: that repository's CI rejects a path whose ``_index.md`` misses a
field or uses a value outside its allow-lists; finding out here costs seconds. Beyond
what its CI checks, its authoring guidance (the front matter audit it asks writers to
run) wants a ``description`` on every page, the summary/FAQ flags in ``_index.md`` and
three or four learning objectives.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sme2prof.errors import UserError

INDEX_REQUIRED = ("title", "minutes_to_complete", "who_is_this_for", "learning_objectives",
                  "prerequisites", "author", "skilllevels", "subjects", "armips",
                  "tools_software_languages", "operatingsystems", "further_reading",
                  "weight", "layout", "learning_path_main_page")
SKILL_LEVELS = ("Introductory", "Advanced")
OPERATING_SYSTEMS = ("Linux", "Windows", "macOS", "ChromeOS", "iOS", "Android", "RTOS",
                     "Baremetal", "other")
SUBJECTS_BY_CATEGORY = {
    "embedded-and-microcontrollers": (
        "ML", "CI-CD", "Performance and Architecture", "Containers and Virtualization",
        "Automotive", "Storage", "Embedded Linux", "Security", "RTOS Fundamentals",
        "Libraries", "Virtual Hardware"),
}
# Required by the authoring guidance, not by the CI script.
GUIDANCE_REQUIRED = ("description", "generate_summary_faq", "rerun_summary", "rerun_faqs")
SUMMARY_FLAGS = ("generate_summary_faq", "rerun_summary", "rerun_faqs")
OBJECTIVES = (3, 4)
READING_TYPES = ("documentation", "blog", "website")
LIST_FIELDS = ("learning_objectives", "prerequisites", "armips", "tools_software_languages",
               "operatingsystems", "further_reading")


@dataclass(frozen=True)
class Page:
    """One Markdown page split into its front matter and its body."""
    path: Path
    meta: dict[str, Any]
    body: str
    body_start_line: int  # 1-based line number of the first body line


def read_page(path: Path) -> Page:
    """Split ``path`` into YAML front matter and Markdown body."""
    return parse_page(path.read_text(encoding="utf-8"), path)


def parse_page(text: str, path: Path) -> Page:
    """Split the text of ``path`` (a file's content, on disk or about to be written)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise UserError(f"{path.name}: no front matter (the file must start with ---)",
                        "add a YAML front matter block between two --- lines")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise UserError(f"{path.name}: front matter is not closed",
                        "end the front matter with a line holding only ---") from None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"{path.name}: front matter is not valid YAML ({exc})",
                        "fix the YAML between the --- lines") from None
    if not isinstance(meta, dict):
        raise UserError(f"{path.name}: front matter is not a mapping", "use key: value lines")
    return Page(path, meta, "\n".join(lines[end + 1:]), end + 2)


def check_index(meta: dict[str, Any], category: str) -> list[str]:
    """Problems with a learning path's ``_index.md`` front matter (empty when valid)."""
    problems = [f"missing required field: {f}" for f in INDEX_REQUIRED + GUIDANCE_REQUIRED
                if f not in meta]
    for field in LIST_FIELDS:
        if field in meta and (not isinstance(meta[field], list) or not meta[field]):
            problems.append(f"{field} must be a non-empty list")
    objectives = meta.get("learning_objectives")
    if isinstance(objectives, list) and not OBJECTIVES[0] <= len(objectives) <= OBJECTIVES[1]:
        problems.append(f"learning_objectives has {len(objectives)} entries: the guidance asks "
                        f"for {OBJECTIVES[0]} or {OBJECTIVES[1]}")
    problems += [f"{flag} must be true or false" for flag in SUMMARY_FLAGS
                 if flag in meta and not isinstance(meta[flag], bool)]
    problems += _check_description(meta)
    if "skilllevels" in meta and meta["skilllevels"] not in SKILL_LEVELS:
        problems.append(f"invalid skilllevels {meta['skilllevels']!r}: use one of "
                        + ", ".join(SKILL_LEVELS))
    allowed_subjects = SUBJECTS_BY_CATEGORY.get(category, ())
    if "subjects" in meta and meta["subjects"] not in allowed_subjects:
        problems.append(f"invalid subjects {meta['subjects']!r} for {category}: use one of "
                        + ", ".join(allowed_subjects))
    for osname in meta.get("operatingsystems") or []:
        if osname not in OPERATING_SYSTEMS:
            problems.append(f"invalid operatingsystems entry {osname!r}: use "
                            + ", ".join(OPERATING_SYSTEMS))
    problems += _check_further_reading(meta.get("further_reading") or [])
    if not isinstance(meta.get("minutes_to_complete", 0), int):
        problems.append("minutes_to_complete must be a whole number")
    problems += _check_fixed(meta, weight=1)
    if "learning_path_main_page" in meta and meta["learning_path_main_page"] != "yes":
        problems.append('learning_path_main_page must be "yes"')
    return problems


def _check_description(meta: dict[str, Any]) -> list[str]:
    description = meta.get("description")
    if "description" in meta and (not isinstance(description, str) or not description.strip()):
        return ["description must be one sentence of text"]
    if isinstance(description, str) and description.strip() == str(meta.get("title", "")).strip():
        return ["description must not repeat the title"]
    return []


def _check_further_reading(entries: list[Any]) -> list[str]:
    problems = []
    for i, entry in enumerate(entries, 1):
        res = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(res, dict) or not all(res.get(k) for k in ("title", "link", "type")):
            problems.append(f"further_reading entry {i} needs resource: title, link, type")
        elif res["type"] not in READING_TYPES:
            problems.append(f"further_reading entry {i}: type {res['type']!r} is not one of "
                            + ", ".join(READING_TYPES))
    return problems


def _check_fixed(meta: dict[str, Any], weight: int | None) -> list[str]:
    problems = []
    if meta.get("layout") != "learningpathall":
        problems.append('layout must be "learningpathall"')
    if weight is not None and meta.get("weight") != weight:
        problems.append(f"weight must be {weight}")
    return problems


def check_page(name: str, meta: dict[str, Any]) -> list[str]:
    """Problems with a content page or ``_next-steps.md`` (empty when valid)."""
    if name == "_next-steps.md":
        problems = _check_fixed(meta, weight=21)
        if meta.get("title") != "Next Steps":
            problems.append('title must be "Next Steps"')
        return problems
    problems = _check_fixed(meta, weight=None)
    problems += [f"missing required field: {f}" for f in ("title", "description") if f not in meta]
    problems += _check_description(meta)
    if not isinstance(meta.get("weight"), int) or meta["weight"] < 2:
        problems.append("weight must be a whole number of 2 or more")
    return problems


def check_path_folder(pages_dir: Path, category: str,
                      index_extra: dict[str, Any] | None = None) -> list[str]:
    """Every front matter problem in a learning path folder, prefixed by the file name.

    ``index_extra``: fields the bundle adds to ``_index.md`` (the authors), checked as if
    they were there.
    """
    problems: list[str] = []
    weights: dict[int, str] = {}
    for path in sorted(pages_dir.glob("*.md")):
        page = read_page(path)
        found = (check_index({**page.meta, **(index_extra or {})}, category)
                 if path.name == "_index.md" else check_page(path.name, page.meta))
        problems += [f"{path.name}: {p}" for p in found]
        weight = page.meta.get("weight")
        if path.name != "_index.md" and isinstance(weight, int):
            if weight in weights:
                problems.append(f"{path.name}: weight {weight} already used by {weights[weight]}")
            weights[weight] = path.name
    if not (pages_dir / "_index.md").exists():
        problems.append("_index.md is missing")
    return problems
