"""``scripts/site_tools.py``: build, check, preview, bundle and archive the learning path."""
from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

from sme2prof.errors import OptionParser, UserError
from sme2prof.fileio import write_text_atomic
from sme2prof.paths import REPO_ROOT, display_path
from sme2prof.pages import (archive, authors, bundle, checks, frontmatter, house_style, hugo,
                            lp_checks, page_blocks, page_commands, pull_request, screenshots,
                            spelling, spelling_tools, stack_diagram, web_images)
from sme2prof.pages.layout import (ARCHIVE_DIR, BUNDLE_OUT, CATEGORY, HUGO_CONFIG, IMAGES_DIR, KIT_DIRS,
                     PAGES_DIR, PATH_REL, REVIEW_OUT, SITE_OUT, content_pages, page_files)

EPILOG = """examples:
  python scripts/site_tools.py build            # out/site/, fails on any Hugo warning
  python scripts/site_tools.py check            # front matter, names, images, links
  python scripts/site_tools.py commands         # which page commands run here, which need more
  python scripts/site_tools.py serve            # preview on http://127.0.0.1:1313/
  python scripts/site_tools.py bundle           # out/bundle/ for the learning-paths repository
  python scripts/site_tools.py archive --dry-run
  python scripts/site_tools.py proofread        # spelling (aspell, en_US) and house style
  python scripts/site_tools.py install-spelling-tools --dry-run
  python scripts/site_tools.py pr --alp ../arm-learning-paths --dry-run
  python scripts/site_tools.py add-image out/runs/<run-id>/analysis/categories.png vit-tiny-categories.png
"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = OptionParser(prog="site_tools.py", description=__doc__, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="build the pages with Hugo into out/site/")
    sub.add_parser("check", help="build, then check front matter, names, images, links")
    sub.add_parser("serve", help="live preview on http://127.0.0.1:1313/")
    cmds = sub.add_parser("commands", help="list page commands; --run runs them in a fresh copy")
    cmds.add_argument("--run", action="store_true", help="run the unmarked commands (minutes)")
    b = sub.add_parser("bundle", help="lay out pages + kit as the learning-paths repository expects")
    b.add_argument("--out", type=Path, default=BUNDLE_OUT, help="default: out/bundle")
    a = sub.add_parser("archive", help="move the current pages to archive/<yyyy-mm-dd>/")
    a.add_argument("--dry-run", action="store_true", help="print what would move, move nothing")
    p = sub.add_parser("proofread", help="spell-check every shipped Markdown file and check "
                       "the pages against the house style")
    p.add_argument("--bundle", type=Path, help="check this bundle (default: a fresh one in a "
                   "temporary folder)")
    r = sub.add_parser("pr", help="in a checkout of the learning-paths repository: archive the "
                       "path there, lay the bundle in on a new branch, run its pull-request checks")
    r.add_argument("--alp", help="the checkout (a local git clone of arm-learning-paths)")
    r.add_argument("--dry-run", action="store_true", help="list every file it would move, add or "
                   "replace; change nothing")
    r.add_argument("--branch", help="name of the new branch (default: sme-executorch-profiling-<date>)")
    t = sub.add_parser("install-spelling-tools", help="install aspell and its en_US dictionary "
                       "when missing (apt; make test runs this)")
    t.add_argument("--dry-run", action="store_true", help="print the apt commands, change nothing")
    s = sub.add_parser("screenshots", help="render each built page to out/site-review/*.png")
    s.add_argument("--out", type=Path, default=REVIEW_OUT)
    sub.add_parser("diagram", help="redraw images/stack-diagram.png")
    img = sub.add_parser("add-image", help="copy a chart the kit made into images/ at web size")
    img.add_argument("source", type=Path, help="a PNG from out/runs/<run-id>/analysis/")
    img.add_argument("name", help="lower-case file name in images/, e.g. vit-tiny-categories.png")
    return parser.parse_args(argv)


def build_site() -> Path:
    started = time.monotonic()
    hugo.build(REPO_ROOT, HUGO_CONFIG, SITE_OUT, preview_params())
    pages = len(list(SITE_OUT.rglob("*.html")))
    print(f"built {pages} pages into {display_path(SITE_OUT)}/ in {time.monotonic() - started:.1f} s")
    return SITE_OUT


def preview_params() -> dict[str, str]:
    """Site params of the local preview: the authors, which the bundle writes into _index.md."""
    return {"authors": ", ".join(authors.read_authors())}


def all_problems() -> list[str]:
    """Every problem a reader or the learning-paths CI would hit, after a fresh build."""
    problems = frontmatter.check_path_folder(PAGES_DIR, CATEGORY, authors.index_fields())
    for folder in ("content", *KIT_DIRS):
        if (REPO_ROOT / folder).is_dir():
            problems += [f"{folder}/{p}" for p in checks.bad_file_names(REPO_ROOT / folder)]
    problems += checks.image_problems(PAGES_DIR, IMAGES_DIR) + checks.unfinished_text(PAGES_DIR)
    problems += checks.newer_hugo_markup(PAGES_DIR)
    problems += [p for page in page_files() for p in page_blocks.page_marker_problems(page)]
    site = build_site()
    problems += checks.link_problems(site) + checks.stray_pages(site)
    return problems


def proofread(bundle_root: Path | None) -> int:
    """Spelling of every Markdown file the bundle ships, house style of the pages."""
    hits = house_style.folder_hits(page_files())
    for hit in hits:
        print(f"style: {hit.line()}")
    with tempfile.TemporaryDirectory(prefix="sme2prof-proofread-") as tmp:
        root = bundle_root or bundle.make_bundle(REPO_ROOT, Path(tmp) / "bundle").parents[3]
        folder = root / PATH_REL
        if not folder.is_dir():
            raise UserError(f"{root} holds no {PATH_REL}", "pass a folder made by `make bundle`")
        report = spelling.check_spelling(sorted(folder.rglob("*.md")), folder)
    for line in report.lines():
        print(f"spelling: {line}")
    print(f"house style: {len(hits)} hits in the pages; {report.summary()}")
    if hits or report.reports:
        raise UserError("the pages do not pass the spelling and house-style checks",
                        "reword each line above; add a real technical term that aspell does not "
                        "know to site/wordlist.txt")
    return 0


def make_pr(alp: str | None, dry_run: bool, branch: str | None) -> int:
    """``make pr``: plan (and unless dry run, make) the change in the checkout, then check it."""
    checkout = pull_request.require_checkout(alp, REPO_ROOT)
    names = authors.read_authors()
    if not dry_run:
        authors.require_authors()
    elif not names:
        print(f"warning: {display_path(authors.AUTHORS_FILE)} names no author; the real run refuses")
    with tempfile.TemporaryDirectory(prefix="sme2prof-pr-") as tmp:
        folder = bundle.make_bundle(REPO_ROOT, Path(tmp) / "bundle", names)
        plan = pull_request.plan_pr(checkout, folder, dt.date.today(), branch)
        for line in plan.lines("would " if dry_run else ""):
            print(line)
        if dry_run:
            planned = [new for _old, new in plan.moves] + plan.adds + plan.replaces
            print(lp_checks.check_file_names(planned, "planned paths").line())
            print(f"dry run: {plan.summary()}; nothing changed in {checkout}")
            return 0
        base = pull_request.apply_plan(plan, folder, PR_MESSAGE.format(archive=plan.archive_rel))
    print(f"committed on branch {plan.branch} in {checkout}: {plan.summary()}")
    results = lp_checks.run_checks(checkout, base)
    for result in results:
        print(result.line())
        if result.passed is False and result.output:
            print("  " + "\n  ".join(result.output.strip().splitlines()[-20:]))
    failed = [r.name for r in results if r.passed is False]
    if failed:
        raise UserError(f"the learning-paths checks failed: {', '.join(failed)}",
                        f"read the output above; fix the pages here, then delete the branch "
                        f"(git -C {checkout} checkout - && git -C {checkout} branch -D {plan.branch}) "
                        "and run make pr again")
    print(f"next: review the branch (git -C {checkout} show --stat), push it and open the pull request")
    return 0


PR_MESSAGE = ("sme-executorch-profiling: new Learning Path and kit\n\nThe previous pages and kit "
              "are archived in {archive}/, out of the build, the lists and the navigation.")


def print_command_counts(runs_or_pages: list) -> tuple[int, int]:
    ran = marked = 0
    for item in runs_or_pages:
        ran, marked = ran + len(item.ran), marked + len(item.marked)
        for block in item.marked:
            print(f"  marked  {block.where}: needs {', '.join(block.needs)}")
    print(f"page commands: {ran} blocks run on this machine, {marked} marked as needing "
          "a Mac, an Android device, an ExecuTorch source build or GitHub")
    return ran, marked


def run_commands(execute: bool) -> int:
    if not execute:
        listed = []
        for page in content_pages():
            blocks = [b for b in page_blocks.page_blocks(page) if b.is_shell]
            listed.append(page_commands.PageRun(page.name, [b for b in blocks if not b.needs],
                                                [b for b in blocks if b.needs]))
        print_command_counts(listed)
        return 0

    def report(run: page_commands.PageRun) -> None:
        print(f"{run.page}: {len(run.ran)} blocks in {run.seconds:.0f} s", flush=True)
        _save_block_outputs(run)
        for problem in page_commands.gate_mismatches(PAGES_DIR / run.page, run):
            print(f"problem: {problem}", file=sys.stderr)
        if run.returncode:
            print(run.output[-4000:], file=sys.stderr)
            raise UserError(f"a command block failed at {run.failed_block.where}",
                            "fix the command on the page (or the kit) and run again")

    print("running the page commands in a fresh copy of the repository (minutes) ...", flush=True)
    runs = page_commands.run_all_pages(REPO_ROOT, page_commands.kit_venv(REPO_ROOT), PATH_REL,
                                       on_page=report)
    print_command_counts(runs)
    return 0


def _save_block_outputs(run: page_commands.PageRun) -> None:
    """Keep what each block printed, so a page's "what you should see" can be checked."""
    folder = REVIEW_OUT.parent / "page-commands"
    folder.mkdir(parents=True, exist_ok=True)
    for block, text in zip(run.ran, run.block_outputs()):
        write_text_atomic(folder / f"{Path(block.page).stem}-line{block.line:03d}.txt",
                          f"$ {block.code}\n{text}")


def site_tools_main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command == "build":
        build_site()
    elif args.command == "check":
        problems = all_problems()
        for problem in problems:
            print(f"problem: {problem}")
        if problems:
            raise UserError(f"{len(problems)} problem(s) in the learning path",
                            "fix each line starting with 'problem:' above")
        print("site checks passed: front matter, file names, images, links, anchors")
    elif args.command == "serve":
        cmd = hugo.hugo_command(REPO_ROOT, HUGO_CONFIG, "server", "--bind", "127.0.0.1",
                                "--port", "1313", "--disableFastRender")
        print("preview: http://127.0.0.1:1313/" + PATH_REL.relative_to("content").as_posix() + "/")
        return subprocess.call(cmd, env=hugo.params_env(preview_params()))
    elif args.command == "commands":
        return run_commands(args.run)
    elif args.command == "bundle":
        folder = bundle.make_bundle(REPO_ROOT, args.out)
        files = sum(1 for p in folder.rglob("*") if p.is_file())
        print(f"bundle: {display_path(folder)}/ ({files} files)")
    elif args.command == "archive":
        moves = archive.archive_pages(PAGES_DIR, ARCHIVE_DIR, dry_run=args.dry_run)
        verb = "would move" if args.dry_run else "moved"
        for src, dest in moves:
            print(f"{verb} {display_path(src)} -> {display_path(dest)}")
    elif args.command == "pr":
        return make_pr(args.alp, args.dry_run, args.branch)
    elif args.command == "proofread":
        return proofread(args.bundle)
    elif args.command == "install-spelling-tools":
        print(spelling_tools.install(dry_run=args.dry_run))
    elif args.command == "diagram":
        print(display_path(stack_diagram.draw(IMAGES_DIR / "stack-diagram.png")))
    elif args.command == "add-image":
        written = web_images.add_image(args.source, args.name, IMAGES_DIR)
        print(f"{display_path(written)} ({written.stat().st_size // 1024} KB)")
    elif args.command == "screenshots":
        site = build_site()
        urls = ["/" + PATH_REL.relative_to("content").as_posix() + "/"]
        urls += [f"{urls[0]}{p.stem}/" for p in page_files() if not p.name.startswith("_index")]
        for png in screenshots.render_pages(site, urls, args.out):
            print(display_path(png))
    return 0
