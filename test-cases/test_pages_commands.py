"""Every shell command on the pages runs here, in page order, in a fresh copy of the repo,
unless it is marked as needing a Mac, an Android device, an ExecuTorch source build or
GitHub. The test prints both counts."""
from __future__ import annotations

from pathlib import Path

import pytest

from sme2prof.pages import page_blocks, page_commands
from sme2prof.pages.layout import PATH_REL, content_pages, page_files

SAMPLE = '''Intro.

```bash
make quickstart
```

```output
report: out/runs/x/analysis/report.md
```

1. In a list:

   <!-- needs: android-device -->
   ```bash
   adb devices
   ```

{{< tabpane code=true >}}
  {{< tab header="macOS" language="bash" needs="mac" >}}
brew install cmake
  {{< /tab >}}
  {{< tab header="Linux" language="bash" >}}
sudo apt-get install -y cmake
  {{< /tab >}}
{{< /tabpane >}}
'''


def test_blocks_tabs_and_markers_are_found_in_reading_order():
    blocks = page_blocks.blocks_of_text("p.md", SAMPLE)
    assert [(b.language, b.tab, b.needs) for b in blocks] == [
        ("bash", "", []), ("output", "", []), ("bash", "", ["android-device"]),
        ("bash", "macOS", ["mac"]), ("bash", "Linux", [])]
    assert blocks[2].code == "adb devices"
    assert blocks[3].code == "brew install cmake"
    assert blocks[4].code == "sudo apt-get install -y cmake"
    assert blocks[0].where == "p.md:3"


def test_a_misspelt_marker_is_reported_not_silently_skipped():
    blocks = page_blocks.blocks_of_text("p.md", '<!-- needs: andriod -->\n```bash\nadb devices\n```\n')
    assert page_blocks.unknown_needs(blocks) == [
        'p.md:2: unknown needs="andriod" (known: mac, android-device, '
        "executorch-source-build, network-github)"]


def test_a_marker_away_from_its_fence_is_reported():
    text = "<!-- needs: mac -->\n\n```bash\nsysctl hw.optional.arm.FEAT_SME2\n```\n"
    assert page_blocks.blocks_of_text("p.md", text)[0].needs == []
    assert page_blocks.orphan_markers("p.md", text) == [
        "p.md:1: '<!-- needs: -->' must sit on the line right above a fence"]


def test_a_marker_readers_would_see_is_reported():
    text = ('```bash\n# needs: mac\nsysctl hw.optional.arm.FEAT_SME2\n```\n\n'
            '{{< tabpane code=true >}}\n{{< tab header="macOS" language="bash" >}}\n# needs: mac\n'
            'ls\n{{< /tab >}}\n{{< /tabpane >}}\n')
    problems = page_blocks.visible_markers(page_blocks.blocks_of_text("p.md", text))
    assert [p.split(":")[1] for p in problems] == ["1", "7 [macOS]"]
    assert "line above the fence" in problems[0] and "tab shortcode" in problems[1]


def test_every_page_marker_is_known_hidden_and_pages_have_commands():
    blocks = [b for p in page_files() for b in page_blocks.page_blocks(p)]
    assert [p for page in page_files() for p in page_blocks.page_marker_problems(page)] == []
    assert sum(1 for b in blocks if b.needs) >= 7, "the Mac, phone and network blocks lost their markers"
    for page in content_pages():
        assert any(b.is_shell for b in page_blocks.page_blocks(page)), page.name


def test_a_failing_block_is_named(tmp_path: Path):
    page = tmp_path / "01-x.md"
    page.write_text("---\ntitle: x\n---\n```bash\necho fine\n```\n\n```bash\nfalse\n```\n")
    run = page_commands.run_page(tmp_path, page, timeout=30)
    assert run.returncode != 0 and run.failed_block.where == "01-x.md:8"


def test_what_you_should_see_is_checked_against_the_real_output(tmp_path: Path):
    page = tmp_path / "01-x.md"
    page.write_text("---\ntitle: x\n---\n```bash\necho 'exported toy_cnn in 12.5 s'\n```\n\n"
                    "```output\nexported toy_cnn in 3.1 s\n```\n\n```bash\necho hello\n```\n\n"
                    "```output\ngoodbye\n```\n")
    run = page_commands.run_page(tmp_path, page, timeout=30)
    assert run.returncode == 0
    problems = page_commands.gate_mismatches(page, run)
    assert len(problems) == 1 and "01-x.md:16" in problems[0] and "'goodbye'" in problems[0]


def test_every_unmarked_page_command_runs_in_a_fresh_copy(repo_root: Path, capsys):
    venv = page_commands.kit_venv(repo_root)
    if venv is None:
        pytest.skip("needs to run inside a virtual environment (make test uses .venv)")
    runs = page_commands.run_all_pages(repo_root, venv, PATH_REL)
    for run in runs:
        assert run.returncode == 0, (
            f"{run.failed_block.where} failed:\n{run.failed_block.code}\n---\n{run.output[-3000:]}")
    assert [r.page for r in runs] == [p.name for p in content_pages()]
    gates = [g for run, page in zip(runs, content_pages())
             for g in page_commands.gate_mismatches(page, run)]
    assert gates == [], "a 'what you should see' block no longer matches the real output"
    ran = sum(len(r.ran) for r in runs)
    marked = [b for r in runs for b in r.marked]
    with capsys.disabled():
        print(f"\npage commands: {ran} blocks run here "
              f"({', '.join(f'{r.page} {r.seconds:.0f} s' for r in runs)}), "
              f"{len(marked)} marked: "
              + "; ".join(f"{b.where} needs {','.join(b.needs)}" for b in marked))
    assert ran > len(marked), "most page commands must run here"
