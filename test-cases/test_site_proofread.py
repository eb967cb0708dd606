"""Spelling (as the learning-paths repository checks it) and house style, on what we ship."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kit_helpers import run_script
from sme2prof.pages import bundle, house_style, spelling
from sme2prof.pages.layout import PATH_REL, page_files


@pytest.fixture(scope="module")
def shipped_markdown(tmp_path_factory) -> tuple[Path, list[Path]]:
    folder = bundle.make_bundle(Path(__file__).resolve().parents[1],
                                tmp_path_factory.mktemp("b") / "bundle")
    return folder, sorted(folder.rglob("*.md"))


def test_every_shipped_markdown_file_spells_correctly(shipped_markdown):
    folder, files = shipped_markdown
    assert len(files) >= 20, "the bundle lost its kit Markdown"
    report = spelling.check_spelling(files, folder)
    assert report.reports == 0, "unknown words (fix them, or add a real term to site/wordlist.txt):\n" \
        + "\n".join(report.lines())


def test_the_pages_follow_the_house_style():
    hits = house_style.folder_hits(page_files())
    assert hits == [], "\n".join(hit.line() for hit in hits)


def test_every_word_in_the_word_list_is_used_by_a_shipped_file(shipped_markdown):
    _folder, files = shipped_markdown
    text = "\n".join(f.read_text(encoding="utf-8") for f in files)
    unused = [w for w in spelling.read_wordlist()
              if not re.search(r"(?<![A-Za-z])" + re.escape(w) + r"(?![A-Za-z])", text,
                               0 if w != w.lower() else re.IGNORECASE)]
    assert unused == [], "words no shipped file needs: remove them from site/wordlist.txt"
    words = spelling.read_wordlist()
    assert len(words) == len(set(words)), "a word is listed twice"


def test_the_spell_check_reads_what_the_repository_reads(tmp_path: Path):
    page = tmp_path / "01-x.md"
    page.write_text(
        "---\ntitle: Kit\nbuild:\n  publishResources: false\n---\n"
        "We analyse the colour of `analyse` here.\n\n"
        "```bash\necho colour\n```\n\n"
        "> a quoted neighbour\n\n"
        "<!-- a hidden neighbour -->\n\n"
        '![A randomised chart#center](images/x.png "caption")\n\n'
        "{{< tab header=\"Linux\" >}}\nnormalised\n{{< /tab >}}\n")
    words = spelling.check_spelling([page], tmp_path, spelling.WORDLIST).words_by_file["01-x.md"]
    # front matter, prose, alt text and shortcode bodies are read; code, quotes and comments not
    assert words == ["analyse", "colour", "normalised", "publishResources", "randomised"]


@pytest.mark.parametrize("line, flagged", [
    ("Every command in this learning path runs here.", ["learning path"]),
    ("Every command in this Learning Path runs here.", []),
    ("It is the default, so do not change it.", ["It is", "do not"]),
    ("Run `it is` and `do not` as typed: code is not prose.", ["is not"]),
    ("Read [the learning path](https://example.com/learning path/)", ["learning path"]),
    ("Clone arm-learning-paths, build for arm64, not for ARM.", ["ARM"]),
    ("You will analyse it; we would press Enter.", ["You will", "analyse", "we", "would", "press"]),
    ("<!-- do not show this -->", []),
    ('{{< tab header="it is" >}}', []),
])
def test_style_rules_flag_prose_only(line, flagged):
    assert [text for text, _rule in house_style.line_hits(line)] == flagged


def test_style_skips_code_headings_and_reads_landing_page_fields(tmp_path: Path):
    page = tmp_path / "_index.md"
    page.write_text("---\ntitle: T\nlearning_objectives:\n    - Analyse it.\nweight: 1\n---\n"
                    "## What it is\n\n```bash\n# it is code\n```\n\n   ~~~\n   do not\n   ~~~\n\n"
                    "{{< tab header=\"A\" >}}\nit is code too\n{{< /tab >}}\nIt is prose.\n")
    hits = house_style.page_hits(page)
    assert [(h.where, h.text) for h in hits] == [("_index.md (learning_objectives)", "Analyse"),
                                                 ("_index.md:20", "It is")]


def test_every_rule_says_what_the_house_writes_and_where_that_comes_from():
    for rule in house_style.RULES:
        assert rule.house and rule.source in house_style.SOURCES and rule.pattern, rule
    assert len(house_style.RULES) >= 60


def test_proofread_command_reports_a_british_spelling_in_a_copy(tmp_path: Path, shipped_markdown):
    folder, _files = shipped_markdown
    copy = tmp_path / "bundle"
    shutil.copytree(folder.parents[3], copy)
    page = copy / PATH_REL / "01-overview.md"
    page.write_text(page.read_text() + "\nWe analyse the behaviour.\n")
    proc = run_script("site_tools.py", "proofread", "--bundle", str(copy))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "spelling: 01-overview.md: analyse, behaviour" in proc.stdout
    assert "error: the pages do not pass" in proc.stderr


def test_install_spelling_tools_dry_run_lists_the_apt_commands(tmp_path: Path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    apt = Path("/usr/bin/apt-get")
    if not apt.exists():
        pytest.skip("no apt-get on this machine")
    (bin_dir / "apt-get").symlink_to(apt)
    env = {"PATH": str(bin_dir)}
    proc = run_script("site_tools.py", "install-spelling-tools", "--dry-run", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "install -y -qq --no-install-recommends aspell aspell-en" in proc.stdout
    assert "nothing changed" in proc.stdout
    no_apt = run_script("site_tools.py", "install-spelling-tools", env={"PATH": str(tmp_path)})
    assert no_apt.returncode == 2 and "no apt-get here" in no_apt.stderr
    assert "fix: install aspell" in no_apt.stderr
