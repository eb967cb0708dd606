"""Where the learning path lives in this repository and in the learning-paths repository.

One place for these names so the build, the bundle and the checks agree.
"""
from __future__ import annotations

from pathlib import Path

from sme2prof.paths import OUT_DIR, REPO_ROOT

PATH_REL = Path("content/learning-paths/embedded-and-microcontrollers/sme-executorch-profiling")
CATEGORY = "embedded-and-microcontrollers"
PAGES_DIR = REPO_ROOT / PATH_REL
IMAGES_DIR = REPO_ROOT / "images"
ARCHIVE_DIR = REPO_ROOT / "archive"
HUGO_CONFIG = REPO_ROOT / "site" / "hugo.toml"
SITE_OUT = OUT_DIR / "site"
BUNDLE_OUT = OUT_DIR / "bundle"
REVIEW_OUT = OUT_DIR / "site-review"

# The kit that ships beside the pages in the published bundle.
KIT_DIRS = ("images", "scripts", "models", "configs", "agentic-kits", "test-cases", "archive")
# Top-level files of the kit, with the lower-case name they get in the bundle
# (the learning-paths CI rejects capital letters under content/; GNU make reads
# "makefile" as readily as "Makefile").
KIT_FILES = {"Makefile": "makefile", "README.md": "readme.md", "pytest.ini": "pytest.ini",
             ".gitignore": ".gitignore"}
# Folders whose Markdown must never become a page of the site.
NEVER_PAGES = ("agentic-kits", "archive", "test-cases", "scripts", "models")


def page_files(pages_dir: Path = PAGES_DIR) -> list[Path]:
    """The Markdown files of the learning path, in file-name order (= reading order)."""
    return sorted(pages_dir.glob("*.md"))


def content_pages(pages_dir: Path = PAGES_DIR) -> list[Path]:
    """The numbered content pages (01-…, 02-…), the ones with steps and commands."""
    return [p for p in page_files(pages_dir) if p.name[:2].isdigit()]
