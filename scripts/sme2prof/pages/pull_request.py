"""``make pr``: the change to a checkout of the learning-paths repository, on a new branch.

What it does, in a local checkout (``ALP=/path/to/arm-learning-paths``), offline:

1. moves every tracked file at the learning path's folder (the pages of the path we
   replace, and their kit) into ``archive/<yyyy-mm-dd>/`` beside them, with ``git mv``
   so that git sees renames; file names are lower-cased on the way, because that
   repository's CI rejects a changed file whose name has a capital letter or a space;
   each archived Markdown file gets front matter that keeps it out of the build, the
   lists and the navigation, and every archived folder holding Markdown an ``_index.md``
   that does the same (as ``make archive`` does for ours);
2. lays the bundle (``make bundle``) in at that folder;
3. adds the words of ``site/wordlist.txt`` missing from the repository's ``.wordlist.txt``;
4. commits on a new branch; the branch the checkout was on is left as it was.

``--dry-run`` lists every file it would move, add or replace (it deletes none) and
changes nothing. The repository's own checks run afterwards (:mod:`lp_checks`).
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from sme2prof.errors import UserError
from sme2prof.pages.archive import archived_text
from sme2prof.pages.bundle import write_hiding_indexes
from sme2prof.pages.layout import PATH_REL
from sme2prof.pages.spelling import WORDLIST, read_wordlist

REPO_WORDLIST = ".wordlist.txt"


@dataclass
class Plan:
    """Every change ``make pr`` makes, as paths relative to the checkout."""
    checkout: Path
    day: str
    branch: str
    moves: list[tuple[str, str]] = field(default_factory=list)
    adds: list[str] = field(default_factory=list)
    replaces: list[str] = field(default_factory=list)
    new_words: list[str] = field(default_factory=list)

    @property
    def archive_rel(self) -> str:
        return (PATH_REL / "archive" / self.day).as_posix()

    def lines(self, verb_prefix: str = "") -> list[str]:
        """One line per file; paths inside the learning path's folder are relative to it."""
        out = [f"in {self.checkout}, paths relative to {PATH_REL}/ unless they start at the top:"]
        out += [f"{verb_prefix}move    {_short(old)} -> {_short(new)}" for old, new in self.moves]
        out += [f"{verb_prefix}add     {_short(path)}" for path in self.adds]
        out += [f"{verb_prefix}replace {_short(path)}" for path in self.replaces]
        if self.new_words:
            out.append(f"{verb_prefix}update  {REPO_WORDLIST}: +{len(self.new_words)} words "
                       f"({', '.join(self.new_words)})")
        return out

    def summary(self) -> str:
        return (f"{len(self.moves)} moved to {self.archive_rel}/, {len(self.adds)} added, "
                f"{len(self.replaces)} replaced, 0 deleted, {len(self.new_words)} words for "
                f"{REPO_WORDLIST}; branch {self.branch}")


def _short(path: str) -> str:
    prefix = PATH_REL.as_posix() + "/"
    return path[len(prefix):] if path.startswith(prefix) else path


def git(checkout: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(["git", "-C", str(checkout), *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise UserError(f"git {' '.join(args)} failed in {checkout}: {proc.stderr.strip()}",
                        "check that the checkout is a healthy git repository (git status)")
    return proc.stdout


def require_checkout(given: str | None, kit_root: Path) -> Path:
    """The checkout, or a UserError saying what is expected."""
    if not given or not given.strip():
        raise UserError("no checkout of the learning-paths repository given",
                        "make pr ALP=/path/to/arm-learning-paths (a local git clone)")
    checkout = Path(given).expanduser().resolve()
    if checkout == kit_root.resolve():
        raise UserError(f"{checkout} is this kit, not the learning-paths repository",
                        "pass the folder of a local clone of arm-learning-paths as ALP=")
    if not (checkout / "content" / "learning-paths").is_dir():
        raise UserError(f"{checkout} is not a checkout of the learning-paths repository "
                        "(no content/learning-paths/)",
                        "pass the folder of a local clone of arm-learning-paths as ALP=")
    inside = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--show-toplevel"],
                            capture_output=True, text=True)
    if inside.returncode != 0 or Path(inside.stdout.strip()).resolve() != checkout:
        raise UserError(f"{checkout} is not the top of a git repository",
                        "pass the root folder of a git clone of arm-learning-paths")
    return checkout


def archived_name(rel: Path) -> Path:
    """The file's name in the archive: lower case, no spaces (the repository's name rule)."""
    return rel.with_name(re.sub(r"\s+", "-", rel.name.lower()))


def plan_pr(checkout: Path, bundle_folder: Path, day: dt.date, branch: str | None = None) -> Plan:
    """What ``make pr`` would change in ``checkout`` to lay in ``bundle_folder``."""
    plan = Plan(checkout, day.isoformat(), branch or f"sme-executorch-profiling-{day.isoformat()}")
    target = checkout / PATH_REL
    archive_dir = target / "archive" / plan.day
    tracked = [Path(p) for p in git(checkout, "ls-files", "-z", "--", PATH_REL.as_posix()).split("\0") if p]
    current = [p for p in tracked if not p.relative_to(PATH_REL).as_posix().startswith("archive/")]
    if current and archive_dir.exists():
        raise UserError(f"{archive_dir} already exists; archiving would mix two page sets",
                        "archive on another day, or move that folder first")
    ours = sorted(p.relative_to(bundle_folder) for p in bundle_folder.rglob("*") if p.is_file())
    if any((Path("archive") / plan.day) in p.parents for p in ours):
        raise UserError(f"the bundle already holds archive/{plan.day}/ (from make archive today)",
                        "run make pr on another day, or rename that archive folder")
    seen: dict[str, Path] = {}
    for old in current:
        new = PATH_REL / "archive" / plan.day / archived_name(old.relative_to(PATH_REL))
        if new.as_posix().lower() in seen:
            raise UserError(f"{old} and {seen[new.as_posix().lower()]} would share the archived "
                            f"name {new}", "rename one of them in the checkout first")
        seen[new.as_posix().lower()] = old
        plan.moves.append((old.as_posix(), new.as_posix()))
    remaining = {p.as_posix() for p in tracked} - {old for old, _new in plan.moves}
    for rel in ours:
        dest = (PATH_REL / rel).as_posix()
        (plan.replaces if dest in remaining else plan.adds).append(dest)
    plan.adds += [f"{plan.archive_rel}/{f.relative_to(archive_dir).as_posix()}"
                  for f in _archive_indexes_to_write(plan)]
    wordlist = checkout / REPO_WORDLIST
    if wordlist.is_file():
        have = {line.strip() for line in wordlist.read_text(encoding="utf-8").splitlines()}
        plan.new_words = [w for w in read_wordlist(WORDLIST) if w not in have]
    return plan


def _archive_indexes_to_write(plan: Plan) -> list[Path]:
    """The ``_index.md`` files the archived folders will need (computed on the planned names)."""
    archive_dir = plan.checkout / plan.archive_rel
    folders = {(plan.checkout / new).parent for _old, new in plan.moves if new.endswith(".md")}
    if plan.moves:
        folders.add(archive_dir)
    existing = {(plan.checkout / new) for _old, new in plan.moves}
    return sorted(f / "_index.md" for f in folders if f / "_index.md" not in existing)


def require_clean(checkout: Path, branch: str) -> str:
    """The branch the checkout is on; refuses local changes and an existing target branch."""
    if git(checkout, "status", "--porcelain", "--untracked-files=no").strip():
        raise UserError(f"{checkout} has uncommitted changes; make pr would mix them in",
                        "commit or stash them first (git -C ALP status)")
    untracked = git(checkout, "ls-files", "--others", "--exclude-standard", "--", PATH_REL.as_posix())
    if untracked.strip():
        raise UserError(f"untracked files at {PATH_REL} in {checkout} would be overwritten",
                        "move them out of the checkout, or commit them first")
    if git(checkout, "branch", "--list", branch).strip():
        raise UserError(f"branch {branch} already exists in {checkout}",
                        f"delete it (git -C ALP branch -D {branch}) or pass --branch NAME")
    return git(checkout, "rev-parse", "--abbrev-ref", "HEAD").strip()


def apply_plan(plan: Plan, bundle_folder: Path, message: str) -> str:
    """Make the planned change on a new branch and commit it; return the commit it started from."""
    checkout = plan.checkout
    start = require_clean(checkout, plan.branch)
    base = git(checkout, "rev-parse", "HEAD").strip()
    git(checkout, "checkout", "--quiet", "-b", plan.branch)
    try:
        _apply(plan, bundle_folder)
        git(checkout, "add", "--all", "--", PATH_REL.as_posix(),
            *([REPO_WORDLIST] if plan.new_words else []))
        git(checkout, "commit", "--quiet", "-m", message)
    except (OSError, UserError) as exc:
        raise UserError(f"make pr stopped half-way on branch {plan.branch}: {exc}",
                        f"your branch {start} is untouched: git -C {checkout} checkout --force {start} "
                        f"&& git -C {checkout} branch -D {plan.branch}; fix the cause and run again"
                        ) from None
    return base


def _apply(plan: Plan, bundle_folder: Path) -> None:
    checkout = plan.checkout
    for old, new in plan.moves:
        (checkout / new).parent.mkdir(parents=True, exist_ok=True)
        git(checkout, "mv", old, new)
    for old, _new in plan.moves:  # git leaves the emptied folders behind
        for folder in (checkout / old).parents:
            if folder == checkout / PATH_REL or not folder.is_dir() or any(folder.iterdir()):
                break
            folder.rmdir()
    archive_dir = checkout / plan.archive_rel
    for _old, new in plan.moves:
        path = checkout / new
        if path.suffix == ".md":
            text = path.read_text(encoding="utf-8", errors="replace")
            path.write_text(archived_text(text, cascade=path == archive_dir / "_index.md"),
                            encoding="utf-8")
    if plan.moves:
        write_hiding_indexes([archive_dir])
    for rel in sorted(p.relative_to(bundle_folder) for p in bundle_folder.rglob("*") if p.is_file()):
        dest = checkout / PATH_REL / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(bundle_folder / rel, dest)
    if plan.new_words:
        wordlist = checkout / REPO_WORDLIST
        text = wordlist.read_text(encoding="utf-8")
        wordlist.write_text(text + ("" if text.endswith("\n") or not text else "\n")
                            + "\n".join(plan.new_words) + "\n", encoding="utf-8")
