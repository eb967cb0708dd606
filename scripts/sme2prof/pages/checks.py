"""Checks a reader (and the learning-paths CI) would otherwise find: names, images, links.

Each function returns a list of problems, one line each, empty when all is well, so
``site_tools.py check`` and the tests report every problem at once.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from PIL import Image

from sme2prof.pages.frontmatter import read_page
from sme2prof.pages.layout import NEVER_PAGES

MAX_IMAGE_BYTES = 200 * 1024
MAX_IMAGE_WIDTH = 1600
_IMAGE = re.compile(r'!\[(?P<alt>[^\]]*)\]\((?P<dest>[^)\s]+)(?:\s+"(?P<title>[^"]*)")?\)')


def bad_file_names(root: Path) -> list[str]:
    """Files or folders under ``root`` whose names have a capital letter or a space."""
    return [f"{p.relative_to(root)}: name must be lower-case without spaces"
            for p in sorted(root.rglob("*"))
            if p.name != p.name.lower() or " " in p.name]


def image_references(pages_dir: Path) -> list[tuple[str, str, str, str]]:
    """(page, alt, destination, caption) for every Markdown image on the pages."""
    refs = []
    for path in sorted(pages_dir.glob("*.md")):
        for m in _IMAGE.finditer(read_page(path).body):
            refs.append((path.name, m.group("alt"), m.group("dest"), m.group("title") or ""))
    return refs


def image_problems(pages_dir: Path, images_dir: Path) -> list[str]:
    """Missing alt text or files, images too heavy or too wide, and unused images."""
    problems, used = [], set()
    for page, alt, dest, _caption in image_references(pages_dir):
        if not alt.replace("#center", "").strip():
            problems.append(f"{page}: image {dest} has no alt text")
        if not dest.startswith("images/"):
            problems.append(f"{page}: image {dest} must be referenced as images/<name>")
            continue
        path = images_dir / dest[len("images/"):]
        used.add(path.name)
        if not path.is_file():
            problems.append(f"{page}: image {dest} does not exist in images/")
    for path in sorted(images_dir.glob("*")):
        if path.name.startswith("."):
            continue
        if path.stat().st_size > MAX_IMAGE_BYTES:
            problems.append(f"images/{path.name}: {path.stat().st_size // 1024} KB is over 200 KB")
        if path.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"):
            try:
                with Image.open(path) as img:
                    width = img.width
            except OSError:
                problems.append(f"images/{path.name}: not a readable image")
                continue
            if width > MAX_IMAGE_WIDTH:
                problems.append(f"images/{path.name}: {width} px is wider than 1600 px")
        if path.name not in used:
            problems.append(f"images/{path.name}: not used by any page (remove it)")
    return problems


class _LinkCollector(HTMLParser):
    """Collects element ids and the href/src of links and images in one HTML file."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.targets: list[str] = []
        self.images_without_alt: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and "href" in a:
            self.targets.append(a["href"])
        if tag in ("img", "script") and "src" in a:
            self.targets.append(a["src"])
            if tag == "img" and not a.get("alt", "").strip():
                self.images_without_alt.append(a["src"])
        if tag == "link" and "href" in a:
            self.targets.append(a["href"])


def _parse(path: Path) -> _LinkCollector:
    collector = _LinkCollector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


def link_problems(site_dir: Path) -> list[str]:
    """Internal links, anchors and images in the built site that do not resolve."""
    problems: list[str] = []
    parsed = {p: _parse(p) for p in sorted(site_dir.rglob("*.html"))}
    for page, links in parsed.items():
        where = page.relative_to(site_dir)
        problems += [f"{where}: image {src} has no alt text" for src in links.images_without_alt]
        for target in links.targets:
            url = urlsplit(target)
            if url.scheme or url.netloc or target.startswith(("mailto:", "javascript:")):
                continue
            base = site_dir if url.path.startswith("/") else page.parent
            dest = (base / unquote(url.path).lstrip("/")) if url.path else page
            if dest.is_dir():
                dest = dest / "index.html"
            if not dest.exists():
                problems.append(f"{where}: link {target} does not resolve")
                continue
            if url.fragment and dest.suffix == ".html":
                ids = parsed[dest].ids if dest in parsed else _parse(dest).ids
                if url.fragment not in ids:
                    problems.append(f"{where}: anchor #{url.fragment} not found in {target}")
    return problems


def stray_pages(site_dir: Path) -> list[str]:
    """Built pages that come from folders which must never become pages."""
    return [f"{p.relative_to(site_dir)}: page generated from a kit folder"
            for p in sorted(site_dir.rglob("*.html"))
            if any(part in NEVER_PAGES for part in p.relative_to(site_dir).parts)]


_ALERT = re.compile(r"^\s*>\s*\[!(?:NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]", re.IGNORECASE)


def newer_hugo_markup(pages_dir: Path) -> list[str]:
    """Markup that Hugo 0.130 (the learning-paths CI) renders differently from ours:
    GitHub-style alerts need the blockquote render hooks of Hugo 0.132."""
    return [f"{path.name}:{n}: '> [!...]' alerts need Hugo 0.132; the learning-paths CI runs "
            "0.130: use {{% notice %}}"
            for path in sorted(pages_dir.glob("*.md"))
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if _ALERT.match(line)]


_PLACEHOLDER = re.compile(r"__[A-Z][A-Z0-9_]+__|\bTODO\b|\bTBD\b")


def unfinished_text(pages_dir: Path) -> list[str]:
    """Placeholders left in a page (``__SOMETHING__``, TODO, TBD): a reader must never see one."""
    return [f"{path.name}:{n}: unfinished text {m.group(0)!r}"
            for path in sorted(pages_dir.glob("*.md"))
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            for m in _PLACEHOLDER.finditer(line)]
