"""Find the code blocks on the pages: fenced blocks and ``tabpane`` tabs.

Why: every shell command a page shows is either run by a test or explicitly marked as
needing something this machine does not have (``mac``, ``android-device``,
``executorch-source-build``, ``network-github``). The marker is an attribute of the
block that Hugo does not show a reader: on a fence, ```` ```bash { needs="mac" } ````
(the learning-paths theme reads only its own fence attributes, such as
``command_line``); on a tab, ``{{< tab header="macOS" language="bash" needs="mac" >}}``
(its tab shortcode reads only the parameters it knows). A ``# needs:`` comment inside
the code, which every reader would see, is reported as a problem.
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


def _needs_of(attributes: str) -> list[str]:
    """The tags of a ``needs="..."`` attribute (fence info string or tab parameters)."""
    m = _NEEDS_ATTR.search(attributes)
    return [t.strip() for t in m.group("tags").split(",") if t.strip()] if m else []


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
            blocks.append(CodeBlock(page, first_line + i, lang, code,
                                    needs=_needs_of(fence.group("info"))))
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
                                    needs=_needs_of(tab.group("attrs"))))
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
            + ('needs="..." in its tab shortcode' if b.tab else '{ needs="..." } after the fence language')
            for b in blocks if _VISIBLE_MARKER.search(b.code)]
