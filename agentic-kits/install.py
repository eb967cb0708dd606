#!/usr/bin/env python3
"""Install the sme2prof skill files where each AI coding assistant reads them (see --help).

Why each file is planned before any is written: a skill without the ``sme2prof-`` name
or a description would never be picked, and a half-installed kit is worse than none, so
every problem is found first and nothing is written when there is one. Front matter is
read and written as YAML, so a description with a colon or a quote stays valid. A file
that exists and says something else is the user's: it is kept unless --force. The
marked section of AGENTS.md is the kit's: it is replaced in place, the rest is kept.

Runs with the kit's .venv (it has PyYAML); agentic-kits/install.sh finds it.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

KIT_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(KIT_DIR.parent / "scripts"))

from sme2prof.errors import (EXIT_USER_ERROR, OptionParser, UserError, print_user_error,  # noqa: E402
                             run_entry_point)
from sme2prof.fileio import write_text_atomic  # noqa: E402

ASSISTANTS = ("claude", "cursor", "copilot", "codex")
NAME = re.compile(r"sme2prof-[a-z0-9-]+")
BEGIN = "<!-- sme2prof skills: begin -->"
END = "<!-- sme2prof skills: end -->"
EPILOG = """Copies agentic-kits/skills/*/skill.md into the places each assistant reads:
  claude   .claude/skills/<name>/SKILL.md
  cursor   .cursor/rules/<name>.mdc
  copilot  .github/instructions/<name>.instructions.md
  codex    a marked sme2prof section in AGENTS.md (kept up to date between markers)
A file that exists and differs is skipped (use --force to replace it).

examples:
  bash agentic-kits/install.sh --dry-run
  bash agentic-kits/install.sh --for claude,cursor
"""


@dataclass(frozen=True)
class Skill:
    """One skill file, read and checked."""

    path: Path
    name: str
    description: str
    text: str
    body: str

    @property
    def shown(self) -> str:
        return f"agentic-kits/{self.path.relative_to(KIT_DIR)}"


def build_parser() -> OptionParser:
    parser = OptionParser(prog="bash agentic-kits/install.sh", epilog=EPILOG,
                          formatter_class=argparse.RawDescriptionHelpFormatter,
                          description="Install the sme2prof skill files for an AI coding assistant.")
    parser.add_argument("--for", dest="assistants", default="all", metavar="LIST",
                        help=f"comma-separated assistants ({', '.join(ASSISTANTS)}), or all "
                             "(default: all)")
    parser.add_argument("--dest", type=Path, default=KIT_DIR.parent, metavar="DIR",
                        help="project folder to install into (default: the learning path folder)")
    parser.add_argument("--dry-run", action="store_true", help="print what would be written; write nothing")
    parser.add_argument("--force", action="store_true", help="replace files that exist and differ")
    return parser


def chosen_assistants(text: str) -> list[str]:
    if text == "all":
        return list(ASSISTANTS)
    chosen = [item for item in text.split(",") if item]
    for item in chosen:
        if item not in ASSISTANTS:
            raise UserError(f"unknown assistant '{item}'", "use claude, cursor, copilot, codex or all")
    return chosen


def read_skills(kit: Path) -> list[Skill]:
    """Every skill, or exit 2 listing each one without an sme2prof- name or a description."""
    from sme2prof.pages.frontmatter import read_page

    skills, problems = [], []
    for path in sorted(kit.glob("skills/*/skill.md")):
        shown = f"agentic-kits/{path.relative_to(kit)}"
        try:
            page = read_page(path)
        except UserError as exc:
            problems.append(UserError(f"{shown}: {exc.message.removeprefix(path.name + ': ')}", exc.fix))
            continue
        name, description = page.meta.get("name"), page.meta.get("description")
        if not isinstance(name, str) or not NAME.fullmatch(name):
            problems.append(UserError(
                f"{shown}: front matter name '{name or ''}' does not start with sme2prof- "
                "(lower-case letters, digits, -)",
                f"set 'name: sme2prof-{path.parent.name}' in its front matter"))
        if not isinstance(description, str) or not description.strip():
            problems.append(UserError(f"{shown}: front matter has no description (assistants "
                                      "choose a skill by it)",
                                      "add 'description: <what it does; when to use it>' to its "
                                      "front matter"))
        skills.append(Skill(path, str(name), str(description), path.read_text(encoding="utf-8"),
                            page.body))
    for problem in problems:
        print_user_error(problem)
    if problems:
        raise SystemExit(EXIT_USER_ERROR)
    return skills


def with_front_matter(meta: dict, body: str) -> str:
    import yaml
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1 << 16)
    return f"---\n{front}---\n{body}"


def planned_files(skills: list[Skill], assistants: list[str], dest: Path) -> dict[Path, str]:
    """What each assistant's file should hold, per skill (AGENTS.md apart)."""
    files = {}
    for skill in skills:
        for assistant in assistants:
            if assistant == "claude":
                files[dest / ".claude/skills" / skill.name / "SKILL.md"] = skill.text
            elif assistant == "cursor":
                files[dest / ".cursor/rules" / f"{skill.name}.mdc"] = with_front_matter(
                    {"description": skill.description, "alwaysApply": False}, skill.body)
            elif assistant == "copilot":
                files[dest / ".github/instructions" / f"{skill.name}.instructions.md"] = \
                    with_front_matter({"applyTo": "**", "description": skill.description}, skill.body)
    return files


def agents_file(skills: list[Skill], agents: Path) -> str:
    """AGENTS.md with the kit's section between the markers, the user's text kept.

    Each skill is named by its path from the folder AGENTS.md is in, so the pointer
    works whether the skills were installed into the learning path folder or elsewhere.
    """
    lines = [f"- `{_relative(skill.path, agents.parent.resolve())}` ({skill.name}): {skill.description}"
             for skill in skills]
    section = "\n".join([BEGIN, "## sme2prof skills", "Before profiling work in this folder, read the "
                         "matching skill file and follow its validation gates:", *lines, END])
    if not agents.is_file():
        return section
    old = agents.read_text(encoding="utf-8").split("\n")
    if BEGIN not in old:
        return "\n".join(old).rstrip("\n") + "\n\n" + section
    begin = old.index(BEGIN)
    if END not in old[begin:]:
        raise UserError(f"{agents} has the line {BEGIN} but no {END} after it",
                        f"add the line {END} where the sme2prof section ends, or delete the section")
    end = begin + old[begin:].index(END)
    return "\n".join(old[:begin] + [section] + old[end + 1:])


def _relative(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path, start)).as_posix()


def same_content(old: str, new: str, path: Path) -> bool:
    """Equal text, or the same front matter values (however the YAML is quoted, as an
    earlier installer wrote it) and the same body."""
    if old.rstrip("\n") == new.rstrip("\n"):
        return True
    from sme2prof.pages.frontmatter import parse_page
    try:
        pages = [parse_page(text, path) for text in (old, new)]
    except UserError:         # no front matter: the text decides, and it differs
        return False
    return len({(repr(page.meta), page.body.rstrip("\n")) for page in pages}) == 1


def install(path: Path, content: str, dest: Path, force: bool, dry_run: bool) -> None:
    """Write ``content`` unless the file is up to date, or exists and differs (then skip
    unless ``force``)."""
    shown = path.relative_to(dest)
    if path.is_file():
        if same_content(path.read_text(encoding="utf-8"), content, path):
            print(f"up to date  {shown}")
            return
        if not force:
            print(f"skipped     {shown} (exists and differs; --force replaces it)")
            return
    print(f"write       {shown}")
    if not dry_run:
        write_text_atomic(path, content.rstrip("\n") + "\n")


def install_skills_main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    assistants = chosen_assistants(args.assistants)
    dest = args.dest.expanduser().absolute()
    if not dest.is_dir():
        raise UserError(f"destination {dest} does not exist", "pass an existing folder to --dest")
    try:
        import yaml  # noqa: F401  (front matter is YAML)
    except ImportError:
        raise UserError(f"PyYAML is not installed for {sys.executable}",
                        "make setup (the kit's .venv has it), or run with "
                        "SME2PROF_PYTHON=/path/to/a/python/with/pyyaml") from None
    skills = read_skills(KIT_DIR)
    files = planned_files(skills, assistants, dest)
    agents = dest / "AGENTS.md"
    agents_text = agents_file(skills, agents) if "codex" in assistants else None
    for path, content in files.items():
        install(path, content, dest, args.force, args.dry_run)
    if agents_text is not None:
        install(agents, agents_text, dest, True, args.dry_run)
    if args.dry_run:
        print("dry run: nothing was written")
    return 0


if __name__ == "__main__":
    sys.exit(run_entry_point(install_skills_main))
