"""Find the code blocks on the pages: fenced blocks and ``tabpane`` tabs.

Why: every shell command a page shows is either run by a test or explicitly marked as
needing something this machine does not have (``mac``, ``android-device``,
``executorch-source-build``, ``network-github``). The marker is something Hugo does not
show a reader: before a fence, an HTML comment on the line right above it,
``<!-- needs: mac -->``; on a tab, a parameter of the shortcode,
``{{< tab header="macOS" language="bash" needs="mac" >}}`` (the learning-paths theme's
tab shortcode reads only the parameters it knows). Not a fence attribute
(```` ```bash { needs="mac" } ````): Python-Markdown, which that repository's spell
check uses, does not take a fence with both a language and attributes, and would
spell-check the code as prose. A ``# needs:`` comment inside the code, which every
reader would see, is reported as a problem, and so is a marker with no fence under it.
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from sme2prof.pages.frontmatter import read_page

SHELL_LANGUAGES = ("bash", "sh", "shell", "console", "zsh")
NEEDS = {
    "mac": "a Mac with Apple silicon",
    "android-device": "an Android phone connected over adb (and the Android NDK)",
    "executorch-source-build": "an ExecuTorch source checkout and a source build of its runners",
    "network-github": "access to github.com",
}
_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
_TAB_OPEN = re.compile(r"\{\{<\s*tab\s+(?P<attrs>[^>]*?)\s*>\}\}")
_TAB_CLOSE = re.compile(r"\{\{<\s*/tab\s*>\}\}")
_ATTR = re.compile(r'(\w+)\s*=\s*"([^"]*)"')
_NEEDS_ATTR = re.compile(r'\bneeds\s*=\s*"(?P<tags>[^"]*)"')
_NEEDS_COMMENT = re.compile(r"^\s*<!--\s*needs:\s*(?P<tags>.*?)\s*-->\s*$")
_VISIBLE_MARKER = re.compile(r"^\s*#\s*needs:", re.MULTILINE)


@dataclass
class CodeBlock:
    """One block of code as a reader sees it on a page."""
    page: str
    line: int
    language: str
    code: str
    tab: str = ""
    needs: list[str] = field(default_factory=list)

    @property
    def is_shell(self) -> bool:
        return self.language in SHELL_LANGUAGES

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}" + (f" [{self.tab}]" if self.tab else "")


def _tags(match: re.Match[str] | None) -> list[str]:
    return [t.strip() for t in match.group("tags").split(",") if t.strip()] if match else []


def blocks_of_text(page: str, body: str, first_line: int = 1) -> list[CodeBlock]:
    """All fenced blocks and tabpane tabs in ``body``, in reading order."""
    lines = body.split("\n")
    blocks: list[CodeBlock] = []
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        tab = _TAB_OPEN.search(lines[i])
        if fence:
            close = re.compile(r"^\s*" + re.escape(fence.group("fence")[0]) + "{"
                               + str(len(fence.group("fence"))) + r",}\s*$")
            j = i + 1
            while j < len(lines) and not close.match(lines[j]):
                j += 1
            code = textwrap.dedent("\n".join(lines[i + 1:j]))
            lang = (fence.group("info").split() or ["text"])[0].lower()
            above = _NEEDS_COMMENT.match(lines[i - 1]) if i else None
            blocks.append(CodeBlock(page, first_line + i, lang, code, needs=_tags(above)))
            i = j + 1
            continue
        if tab:
            attrs = dict(_ATTR.findall(tab.group("attrs")))
            rest = lines[i][tab.end():]
            j, inner = i, [rest] if rest.strip() else []
            while not _TAB_CLOSE.search(lines[j] if j > i else rest):
                j += 1
                if j >= len(lines):
                    break
                inner.append(lines[j])
            if inner and _TAB_CLOSE.search(inner[-1]):
                inner[-1] = _TAB_CLOSE.split(inner[-1])[0]
            code = textwrap.dedent("\n".join(inner)).strip("\n")
            blocks.append(CodeBlock(page, first_line + i, attrs.get("language", "text").lower(),
                                    code, tab=attrs.get("header", ""),
                                    needs=_tags(_NEEDS_ATTR.search(tab.group("attrs")))))
            i = j + 1
            continue
        i += 1
    return blocks


def page_blocks(path: Path) -> list[CodeBlock]:
    """Code blocks of one page file."""
    page = read_page(path)
    return blocks_of_text(path.name, page.body, page.body_start_line)


def unknown_needs(blocks: list[CodeBlock]) -> list[str]:
    """Markers that name something other than the known needs (a typo would hide a block)."""
    return [f"{b.where}: unknown needs=\"{t}\" (known: {', '.join(NEEDS)})"
            for b in blocks for t in b.needs if t not in NEEDS]


def visible_markers(blocks: list[CodeBlock]) -> list[str]:
    """Blocks that carry a ``# needs:`` line in their code, which every reader would see."""
    return [f"{b.where}: a '# needs:' line shows on the page; mark the block with "
            + ('needs="..." in its tab shortcode' if b.tab else
               "<!-- needs: ... --> on the line above the fence")
            for b in blocks if _VISIBLE_MARKER.search(b.code)]


def orphan_markers(page: str, body: str, first_line: int = 1) -> list[str]:
    """``<!-- needs: -->`` comments with no fence right under them: they mark nothing."""
    lines = body.split("\n")
    return [f"{page}:{first_line + i}: '<!-- needs: -->' must sit on the line right above a fence"
            for i, line in enumerate(lines) if _NEEDS_COMMENT.match(line)
            and not (i + 1 < len(lines) and _FENCE.match(lines[i + 1]))]


def page_marker_problems(path: Path) -> list[str]:
    """Every problem with the test markers of one page."""
    page = read_page(path)
    blocks = blocks_of_text(path.name, page.body, page.body_start_line)
    return (unknown_needs(blocks) + visible_markers(blocks)
            + orphan_markers(path.name, page.body, page.body_start_line))
