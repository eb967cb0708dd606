"""Skill files for AI coding assistants: valid front matter, real scripts and flags,
and an installer that never clobbers a user's files."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

from kit_helpers import run_script
from sme2prof.pages import checks, frontmatter

KIT = Path(__file__).resolve().parent.parent / "agentic-kits"
SKILLS = sorted(KIT.glob("skills/*/skill.md"))
_COMMAND = re.compile(r"(?:python|bash) ((?:scripts|agentic-kits)/[\w./-]+)([^`\n]*)")


def _install(*args: str, kit: Path = KIT) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(kit / "install.sh"), *args], capture_output=True, text=True)


def _kit_copy(tmp_path: Path) -> Path:
    """A copy of the kit to add skills to, beside the scripts/ and .venv it runs with."""
    kit = tmp_path / "agentic-kits"
    shutil.copytree(KIT, kit)
    (tmp_path / "scripts").symlink_to(KIT.parent / "scripts")
    (tmp_path / ".venv").symlink_to(sys.prefix)
    return kit


def _add_skill(kit: Path, front_matter: str) -> None:
    skill = kit / "skills/my-skill/skill.md"
    skill.parent.mkdir()
    skill.write_text(f"---\n{front_matter}\n---\n# My skill\n## Validation gates\n- it works\n")


@lru_cache(maxsize=None)
def _help_text(script: str) -> str:
    if script.endswith(".py"):
        proc = run_script(script.removeprefix("scripts/"), "--help")
    else:
        proc = subprocess.run(["bash", str(KIT.parent / script), "--help"], capture_output=True, text=True)
    assert proc.returncode == 0, f"{script} --help failed: {proc.stderr}"
    return proc.stdout


def test_there_are_skills_for_the_whole_job():
    assert [p.parent.name for p in SKILLS] == [
        "build-runners", "onboard-model", "profile-model", "read-report", "run-and-compare",
        "setup-and-smoke", "troubleshoot"]
    assert checks.bad_file_names(KIT) == []


@pytest.mark.parametrize("skill", SKILLS, ids=lambda p: p.parent.name)
def test_skill_front_matter_and_end_state(skill: Path):
    """A name and a description (assistants pick skills by them), and an end state stated
    first and checked last: the command whose result proves the job is done."""
    page = frontmatter.read_page(skill)
    assert re.fullmatch(r"sme2prof-[a-z0-9-]{1,55}", page.meta["name"])
    assert page.meta["name"] == "sme2prof-" + skill.parent.name
    assert 40 < len(page.meta["description"]) <= 1024 and ":" not in page.meta["description"]
    assert "Use " in page.meta["description"], "say when to use it: assistants choose by the description"
    body = page.body.strip()
    first = next(part for part in body.split("\n\n") if part.startswith("**"))
    assert first.startswith("**End state**: ") and "`" in first, "open with the checkable end state"
    last_section = body.rsplit("\n## ", 1)[1]
    assert last_section.startswith("End state"), "close with the end state to check"
    assert _COMMAND.search(last_section) or "`make " in last_section or "`grep" in last_section


@pytest.mark.parametrize("doc", SKILLS + [KIT / "readme.md"], ids=lambda p: p.parent.name)
def test_every_make_target_a_skill_names_exists(doc: Path):
    targets = set(re.findall(r"^([a-z-]+):.*##", (KIT.parent / "Makefile").read_text(), re.MULTILINE))
    for target in re.findall(r"`make ([a-z-]+)", doc.read_text()):
        assert target in targets, f"{doc}: make {target} is not a Makefile target"


def test_build_runners_skill_gives_each_variant_the_question_the_registry_says():
    """The skill's table and build_runners.sh --help read the same answers: they cannot drift."""
    from sme2prof.runners.registry import RUNNER_KINDS, VARIANTS
    text = (KIT / "skills/build-runners/skill.md").read_text()
    for name, variant in VARIANTS.items():
        row = next((line for line in text.splitlines() if line.startswith(f"| `<platform>-{name}` |")), None)
        assert row is not None, f"no row for the {name} variant"
        assert f"| {variant.answers} |" in row, f"{name}: the registry says '{variant.answers}'"
    for kind in ("pybind", "wheel"):
        assert f"| `{kind}` |" in text and kind in RUNNER_KINDS


def _summary_fields() -> set[str]:
    """Every key summary.json can hold, from the records that define it."""
    from dataclasses import fields, is_dataclass

    from sme2prof.analysis import rows
    from sme2prof.analysis.stats import LatencyStats
    names = set()
    for cls in [*vars(rows).values(), LatencyStats]:
        if isinstance(cls, type) and is_dataclass(cls):
            names |= {f.name for f in fields(cls)}
    return names


def test_read_report_skill_names_real_report_sections_and_summary_keys():
    """The sections and keys it sends an assistant to exist in the report and summary.json."""
    text = (KIT / "skills/read-report/skill.md").read_text()
    report_code = (KIT.parent / "scripts/sme2prof/analysis/report.py").read_text()
    findings_code = (KIT.parent / "scripts/sme2prof/analysis/findings.py").read_text()
    table = text[text.index("| you need |"):text.index("The CSVs")]
    keys = _summary_fields()
    for line in [row for row in table.splitlines()[2:] if row.startswith("|")]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        for section in re.split(r", | or ", cells[1].split(",")[0]):
            assert f'"## {section}' in report_code or f"## {section}" in report_code, section
        for key in re.findall(r"`([a-z_.\[\]]+)`", cells[2]):
            for part in re.split(r"\[\]\.?|\.", key):
                assert not part or part in keys, f"summary.json has no key {part!r} ({key})"
    for words in ("noisy — coefficient of variation", "at least one side is noisy"):
        assert words in text and words in findings_code, words
    assert "compare with care" in report_code and "compare with care" in text


@pytest.mark.parametrize("doc", SKILLS + [KIT / "readme.md"], ids=lambda p: p.parent.name)
def test_every_script_and_flag_a_skill_uses_exists(doc: Path):
    commands = _COMMAND.findall(doc.read_text())
    assert commands, "a skill must name the commands it runs"
    for script, rest in commands:
        assert (KIT.parent / script).is_file(), f"{doc.name}: {script} does not exist"
        for flag in re.findall(r"(?<!\S)(--[a-z][a-z0-9-]*)", rest):
            assert flag in _help_text(script), f"{doc.name}: {script} has no {flag}"


def test_dry_run_writes_nothing(tmp_path: Path):
    proc = _install("--dest", str(tmp_path), "--dry-run")
    assert proc.returncode == 0 and "dry run: nothing was written" in proc.stdout
    assert list(tmp_path.iterdir()) == []


def test_install_writes_each_assistants_files(tmp_path: Path):
    assert _install("--dest", str(tmp_path)).returncode == 0
    for skill in SKILLS:
        name = frontmatter.read_page(skill).meta["name"]
        assert (tmp_path / ".claude/skills" / name / "SKILL.md").read_text().strip() == skill.read_text().strip()
        rule = frontmatter.read_page(tmp_path / ".cursor/rules" / f"{name}.mdc")
        assert rule.meta["alwaysApply"] is False and rule.meta["description"]
        assert "## End state" in rule.body
        copilot = frontmatter.read_page(tmp_path / ".github/instructions" / f"{name}.instructions.md")
        assert copilot.meta["applyTo"] == "**"
        assert f"agentic-kits/skills/{skill.parent.name}/skill.md" in (tmp_path / "AGENTS.md").read_text()


def test_user_files_are_kept_and_agents_section_is_replaced_in_place(tmp_path: Path):
    (tmp_path / "AGENTS.md").write_text("# My project rules\nKeep this.\n")
    mine = tmp_path / ".claude/skills/sme2prof-read-report/SKILL.md"
    mine.parent.mkdir(parents=True)
    mine.write_text("my own edits\n")
    first = _install("--dest", str(tmp_path))
    assert "skipped     .claude/skills/sme2prof-read-report/SKILL.md" in first.stdout
    assert mine.read_text() == "my own edits\n"
    _install("--dest", str(tmp_path), "--for", "codex")
    agents = (tmp_path / "AGENTS.md").read_text()
    assert agents.startswith("# My project rules\nKeep this.\n")
    assert agents.count("<!-- sme2prof skills: begin -->") == 1


@pytest.mark.parametrize("args, message", [
    (["--for", "vim"], "unknown assistant 'vim'"),
    (["--dest", "/nonexistent/folder"], "does not exist"),
    (["--bogus"], "unknown option '--bogus'"),
])
def test_bad_input_is_one_error_and_a_fix(args, message):
    proc = _install(*args)
    assert proc.returncode == 2 and message in proc.stderr and "fix:" in proc.stderr


@pytest.mark.parametrize("front_matter, message", [
    ("name: my-skill\ndescription: Does a thing; use it when asked to do the thing.",
     "name 'my-skill' does not start with sme2prof-"),
    ("name: sme2prof-my-skill", "has no description"),
])
def test_a_skill_without_prefix_or_description_is_refused(tmp_path: Path, front_matter, message):
    kit = _kit_copy(tmp_path)
    _add_skill(kit, front_matter)
    dest = tmp_path / "project"
    dest.mkdir()
    proc = _install("--dest", str(dest), kit=kit)
    assert proc.returncode == 2 and message in proc.stderr and "fix:" in proc.stderr
    assert "agentic-kits/skills/my-skill/skill.md" in proc.stderr
    assert list(dest.iterdir()) == [], "nothing may be installed when one skill is refused"


def test_a_description_with_a_colon_stays_valid_yaml(tmp_path: Path):
    """Front matter is written as YAML, so punctuation in a description cannot break it."""
    kit = _kit_copy(tmp_path)
    description = 'Check a model: "quoted" words, a # sign; use it when asked to check a model.'
    _add_skill(kit, f"name: sme2prof-my-skill\ndescription: '{description.replace(chr(39), chr(39) * 2)}'")
    dest = tmp_path / "project"
    dest.mkdir()
    assert _install("--dest", str(dest), "--for", "cursor,copilot", kit=kit).returncode == 0
    rule = frontmatter.read_page(dest / ".cursor/rules/sme2prof-my-skill.mdc")
    assert rule.meta == {"description": description, "alwaysApply": False}
    copilot = frontmatter.read_page(dest / ".github/instructions/sme2prof-my-skill.instructions.md")
    assert copilot.meta == {"applyTo": "**", "description": description}


def test_a_file_that_only_quotes_its_front_matter_differently_is_up_to_date(tmp_path: Path):
    """Files an earlier installer wrote (applyTo: "**") are the kit's, not the user's."""
    assert _install("--dest", str(tmp_path), "--for", "copilot").returncode == 0
    installed = tmp_path / ".github/instructions/sme2prof-read-report.instructions.md"
    installed.write_text(installed.read_text().replace("applyTo: '**'", 'applyTo: "**"'))
    again = _install("--dest", str(tmp_path), "--for", "copilot")
    assert "up to date  .github/instructions/sme2prof-read-report.instructions.md" in again.stdout
    assert 'applyTo: "**"' in installed.read_text()


def test_an_agents_file_with_an_unclosed_section_is_left_alone(tmp_path: Path):
    agents = tmp_path / "AGENTS.md"
    agents.write_text("# Rules\n<!-- sme2prof skills: begin -->\nold section\n## My own rules\n")
    proc = _install("--dest", str(tmp_path))
    assert proc.returncode == 2 and "no <!-- sme2prof skills: end -->" in proc.stderr
    assert "fix:" in proc.stderr and "Traceback" not in proc.stderr
    assert agents.read_text().endswith("## My own rules\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["AGENTS.md"], "nothing may be installed"


# ---------------------------------------------------------------- each assistant's own layout

def _native(assistant: str, dest: Path, name: str) -> Path:
    """Where each assistant reads a skill (see agentic-kits/readme.md)."""
    return {"claude": dest / ".claude/skills" / name / "SKILL.md",
            "cursor": dest / ".cursor/rules" / f"{name}.mdc",
            "copilot": dest / ".github/instructions" / f"{name}.instructions.md",
            "codex": dest / "AGENTS.md"}[assistant]


def _skill_pages() -> dict[str, frontmatter.Page]:
    return {frontmatter.read_page(p).meta["name"]: frontmatter.read_page(p) for p in SKILLS}


def _files(folder: Path) -> dict[Path, tuple[bytes, int]]:
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.rglob("*")) if p.is_file()}


ASSISTANTS = ["claude", "cursor", "copilot", "codex"]


@pytest.mark.parametrize("assistant", ASSISTANTS)
def test_each_assistant_gets_its_native_layout_and_nothing_else(tmp_path: Path, assistant: str):
    proc = _install("--for", assistant, "--dest", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    pages = _skill_pages()
    assert set(_files(tmp_path)) == {_native(assistant, tmp_path, name) for name in pages}
    for name, page in pages.items():
        path = _native(assistant, tmp_path, name)
        if assistant == "codex":
            text = path.read_text()
            pointer = re.search(rf"- `([^`]+)` \({name}\): ", text)
            assert pointer and (tmp_path / pointer[1]).resolve() == (KIT / "skills" / name.removeprefix("sme2prof-") / "skill.md")
            continue
        installed = frontmatter.read_page(path)
        assert installed.body.strip() == page.body.strip()
        expected = {"claude": page.meta,            # Claude Code: name = its folder, description
                    "cursor": {"description": page.meta["description"], "alwaysApply": False},
                    "copilot": {"applyTo": "**", "description": page.meta["description"]}}[assistant]
        assert installed.meta == expected
        if assistant == "claude":
            assert path.parent.name == installed.meta["name"]


@pytest.mark.parametrize("assistant", ASSISTANTS)
def test_installing_again_changes_nothing(tmp_path: Path, assistant: str):
    assert _install("--for", assistant, "--dest", str(tmp_path)).returncode == 0
    before = _files(tmp_path)
    again = _install("--for", assistant, "--dest", str(tmp_path))
    assert again.returncode == 0
    assert again.stdout.splitlines() and all(line.startswith("up to date  ") for line in again.stdout.splitlines())
    assert _files(tmp_path) == before, "a second install must not rewrite any file"


@pytest.mark.parametrize("assistant", ASSISTANTS)
def test_a_users_file_is_never_overwritten(tmp_path: Path, assistant: str):
    name = sorted(_skill_pages())[0]
    mine = _native(assistant, tmp_path, name)
    mine.parent.mkdir(parents=True, exist_ok=True)
    users = "# My own rules\nAlways run the tests.\n"
    mine.write_text(users)
    for _ in range(2):
        proc = _install("--for", assistant, "--dest", str(tmp_path))
        assert proc.returncode == 0, proc.stderr
        if assistant == "codex":       # AGENTS.md is shared: the user's text stays, the kit's section is added
            text = mine.read_text()
            assert text.startswith(users) and text.count("<!-- sme2prof skills: begin -->") == 1
        else:
            assert mine.read_text() == users
            assert f"skipped     {mine.relative_to(tmp_path)}" in proc.stdout
