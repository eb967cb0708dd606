"""The house style of the learning-paths repository, as a check of our own.

Each rule is a fact about that house: a phrase its reviewers flag, what the house writes
instead, and where the fact comes from (see ``SOURCES``). The phrases are those its rule
table flags (``tools/style_rules.json``, read by its hand-run ``tools/style_check.py``);
the table is ``house_style_rules.tsv`` beside this module; the matching is ours, tuned
to flag prose only:

- case-insensitive and on whole words, line by line, as that tool does;
- skipped, as there: front matter (but see below), fenced code, headings and link
  reference definitions; skipped here too: inline code, link and image destinations,
  URLs, HTML comments and the attribute text of Hugo shortcodes, none of which is prose;
- checked here too: the front matter fields a reader sees on the landing page
  (title, description, who_is_this_for, learning_objectives, prerequisites);
- a rule whose house form only changes case (``learning path`` -> ``Learning Path``)
  flags a match only when its case differs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sme2prof.pages.frontmatter import read_page

# Where each fact comes from (arm-learning-paths repository, main branch).
SOURCES = {
    "rules": "tools/style_rules.json, the rule table of tools/style_check.py",
    "guide": ".github/copilot-instructions.md and learning-paths.instructions.md (writing guidance)",
    "checker": "tools/style_checker.py, run by the writing-style-check workflow",
}


@dataclass(frozen=True)
class Rule:
    """A phrase the house flags (a regular expression on whole words) and what it writes."""
    flagged: str
    house: str
    source: str = "rules"
    case_sensitive: bool = False

    @property
    def pattern(self) -> re.Pattern[str]:
        flags = 0 if self.case_sensitive else re.IGNORECASE
        return re.compile(r"(?<![\w-])(?:" + self.flagged + r")(?![\w-])", flags)

    @property
    def case_only(self) -> bool:
        """True when the house form is the flagged phrase with other capitals."""
        return self.house.lower() == self.flagged.lower()


RULES_FILE = Path(__file__).with_name("house_style_rules.tsv")


def read_rules(path: Path = RULES_FILE) -> tuple[Rule, ...]:
    """The rules of ``path``: a tab-separated table (flagged, house, source[, match])."""
    rules = []
    lines = [line for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    for line in lines[1:]:  # the first line names the columns
        flagged, house, source, *match = line.split("\t")
        rules.append(Rule(flagged, house, source, case_sensitive=match == ["case-sensitive"]))
    return tuple(rules)


RULES = read_rules()

# What is not prose on a line: inline code, a link's or image's destination, a bare URL,
# an HTML comment, a Hugo shortcode's delimiters and attributes.
_NOT_PROSE = re.compile(r"`[^`]*`|\]\([^)]*\)|<https?://[^>]*>|https?://\S+|<!--.*?-->"
                        r"|\{\{[<%].*?[%>]\}\}")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_LINK_DEFINITION = re.compile(r"^\s*\[[^\]]*\]:\s*")
READER_FIELDS = ("title", "description", "who_is_this_for", "learning_objectives", "prerequisites")


@dataclass(frozen=True)
class Hit:
    """One flagged phrase: where, what, and what the house writes."""
    where: str
    text: str
    rule: Rule

    def line(self) -> str:
        return f"{self.where}: '{self.text}' -> {self.rule.house}"


def line_hits(line: str) -> list[tuple[str, Rule]]:
    """Flagged phrases on one line of prose, longest first where two overlap."""
    prose = _NOT_PROSE.sub(lambda m: " " * len(m.group(0)), line)
    found: list[tuple[int, int, str, Rule]] = []
    for rule in RULES:
        for m in rule.pattern.finditer(prose):
            if rule.case_only and m.group(0) == rule.house:
                continue
            found.append((m.start(), m.end(), m.group(0), rule))
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    kept: list[tuple[int, int, str, Rule]] = []
    for hit in found:
        if not kept or hit[0] >= kept[-1][1]:
            kept.append(hit)
    return [(text, rule) for _start, _end, text, rule in kept]


def prose_lines(body: str, first_line: int = 1) -> list[tuple[int, str]]:
    """(line number, text) of the lines of a Markdown body that are prose."""
    lines: list[tuple[int, str]] = []
    fence: str | None = None
    in_tab = False
    for number, line in enumerate(body.split("\n"), first_line):
        opening = _FENCE.match(line)
        if fence is not None:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = None
            continue
        if opening:
            fence = opening.group(1)
            continue
        if re.search(r"\{\{<\s*tab\s", line):
            in_tab = True
        if in_tab:
            in_tab = not re.search(r"\{\{<\s*/tab\s*>\}\}", line)
            continue
        if _HEADING.match(line) or _LINK_DEFINITION.match(line):
            continue
        lines.append((number, line))
    return lines


def _front_matter_text(meta: dict) -> list[tuple[str, str]]:
    texts = []
    for field in READER_FIELDS:
        value = meta.get(field)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                texts.append((field, item))
    return texts


def page_hits(path: Path) -> list[Hit]:
    """Every house-style hit in one page: its reader-visible front matter, then its body."""
    page = read_page(path)
    hits = [Hit(f"{path.name} ({field})", text, rule)
            for field, value in _front_matter_text(page.meta)
            for text, rule in line_hits(value)]
    hits += [Hit(f"{path.name}:{number}", text, rule)
             for number, line in prose_lines(page.body, page.body_start_line)
             for text, rule in line_hits(line)]
    return hits


def folder_hits(pages: list[Path]) -> list[Hit]:
    return [hit for page in pages for hit in page_hits(page)]
