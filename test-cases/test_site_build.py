"""The site builds with the pinned Hugo, with no warning, and a reader's links all work."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kit_helpers import run_script
from sme2prof.errors import UserError
from sme2prof.pages import checks, hugo, screenshots
from sme2prof.pages.layout import HUGO_CONFIG, PATH_REL, page_files

PATH_URL = PATH_REL.relative_to("content").as_posix()


@pytest.fixture(scope="module")
def built_site(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("site") / "site"
    hugo.build(Path(HUGO_CONFIG).parent.parent, HUGO_CONFIG, dest)
    return dest


def test_every_page_is_built_and_nothing_else(built_site: Path):
    built = {p.relative_to(built_site).as_posix() for p in built_site.rglob("index.html")}
    for page in page_files():
        slug = "" if page.name == "_index.md" else page.stem + "/"
        assert f"{PATH_URL}/{slug}index.html" in built, page.name
    assert checks.stray_pages(built_site) == []
    assert not [p for p in built if any(k in p for k in ("agentic-kits", "archive", "test-cases"))]


def test_test_markers_are_not_shown_to_readers(built_site: Path):
    from html.parser import HTMLParser

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    marked_pages = 0
    for page in built_site.joinpath(PATH_URL).rglob("index.html"):
        html = page.read_text()
        marked_pages += "<!-- needs:" in html
        reader = Text()
        reader.feed(html)
        text = "".join(reader.parts)
        assert "# needs:" not in text and 'needs="' not in text, page
    assert marked_pages >= 2, "the marked blocks are gone from the pages (expected on 01 and 03)"


def test_links_anchors_and_images_resolve(built_site: Path):
    assert checks.link_problems(built_site) == []


def test_landing_page_is_driven_by_front_matter(built_site: Path):
    html = (built_site / PATH_URL / "index.html").read_text()
    for text in ("Who is this for?", "What will you learn?", "Prerequisites", "Advanced"):
        assert text in html
    nav = html.split('<nav class="sidenav"')[1].split("</nav>")[0]
    titles = [p.stem for p in page_files() if p.name[:2].isdigit()]
    positions = [nav.index(f"/{t}/") for t in titles]
    assert positions == sorted(positions), "left navigation is not in weight order"


def test_link_checker_finds_broken_links_and_anchors(tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text('<h2 id="here">x</h2><a href="#here">ok</a>'
                                               '<a href="#gone">bad anchor</a><a href="/b/">bad page</a>'
                                               '<img src="/a/pic.png" alt="">')
    problems = checks.link_problems(tmp_path)
    assert any("#gone" in p for p in problems)
    assert any("/b/ does not resolve" in p for p in problems)
    assert any("pic.png has no alt text" in p for p in problems)
    assert not any("#here" in p for p in problems)


def _repo_copy(tmp_path: Path, repo: Path) -> Path:
    copy = tmp_path / "repo"
    for part in ("content", "images", "site"):
        shutil.copytree(repo / part, copy / part)
    return copy


def test_missing_image_or_unknown_shortcode_fails_the_build(tmp_path: Path, repo_root: Path):
    copy = _repo_copy(tmp_path, repo_root)
    page = copy / PATH_REL / "01-overview.md"
    original = page.read_text()
    page.write_text(original + '\n![A chart#center](images/missing.png "gone")\n')
    with pytest.raises(UserError, match="missing.png"):
        hugo.build(copy, copy / "site" / "hugo.toml", tmp_path / "out1")
    page.write_text(original + "\n{{< no-such-shortcode abc >}}\n")
    with pytest.raises(UserError, match="Hugo build failed"):
        hugo.build(copy, copy / "site" / "hugo.toml", tmp_path / "out2")


def test_notice_and_tabpane_shortcodes_render(tmp_path: Path, repo_root: Path):
    copy = _repo_copy(tmp_path, repo_root)
    page = copy / PATH_REL / "01-overview.md"
    page.write_text(page.read_text() + '\n{{% notice Note %}}\nA **bold** note.\n{{% /notice %}}\n\n'
                    '{{< tabpane code=true >}}\n{{< tab header="macOS" language="bash" >}}\n'
                    'echo mac\n{{< /tab >}}\n{{< tab header="Linux" language="bash" >}}\n'
                    'echo linux\n{{< /tab >}}\n{{< /tabpane >}}\n')
    hugo.build(copy, copy / "site" / "hugo.toml", tmp_path / "out")
    html = (tmp_path / "out" / PATH_URL / "01-overview" / "index.html").read_text()
    assert '<div class="notice notice-note">' in html and "<strong>bold</strong>" in html
    assert 'data-header="macOS"' in html and 'data-header="Linux"' in html


def test_file_names_and_images_follow_the_rules(repo_root: Path, tmp_path: Path):
    for folder in ("content", "images", "agentic-kits", "archive"):
        assert checks.bad_file_names(repo_root / folder) == []
    (tmp_path / "Bad Name.png").write_bytes(b"")
    assert checks.bad_file_names(tmp_path) == ["Bad Name.png: name must be lower-case without spaces"]


def test_image_rules_catch_heavy_unused_and_alt_less_images(tmp_path: Path):
    from PIL import Image
    import os
    pages, images = tmp_path / "pages", tmp_path / "images"
    pages.mkdir(), images.mkdir()
    (pages / "01-a.md").write_text('---\ntitle: a\n---\n![#center](images/a.png "cap")\n')
    Image.new("RGB", (1700, 10)).save(images / "a.png")
    Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3)).save(images / "big.png")
    problems = "\n".join(checks.image_problems(pages, images))
    assert "images/a.png has no alt text" in problems
    assert "wider than 1600 px" in problems
    assert re.search(r"big.png: \d+ KB is over 200 KB", problems)
    assert "big.png: not used by any page" in problems


def test_site_tools_check_passes_on_the_real_pages():
    proc = run_script("site_tools.py", "check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "site checks passed" in proc.stdout


def test_every_page_renders_to_a_png_for_review(tmp_path: Path):
    if screenshots.ensure_chromium() is None:
        pytest.skip("Chromium is not installed and cannot be installed here (needs root and apt)")
    proc = run_script("site_tools.py", "screenshots", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    for page in page_files():
        name = "sme-executorch-profiling" if page.name == "_index.md" else page.stem
        png = tmp_path / f"{name}.png"
        assert png.is_file() and png.stat().st_size > 10_000, name


def test_a_page_taller_than_the_first_window_is_shot_to_its_end(tmp_path: Path):
    """Page 3 once ran past the 9,000 px window and its end was never reviewed."""
    chromium = screenshots.ensure_chromium()
    if chromium is None:
        pytest.skip("Chromium is not installed and cannot be installed here (needs root and apt)")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "tall.html").write_text(
        '<html><body style="margin:0;background:#fff"><div style="height:12000px;background:'
        'repeating-linear-gradient(#fff 0 50px, #ccc 50px 100px)"></div>'
        '<div style="height:200px;background:#f00"></div></body></html>')
    server = screenshots._serve(tmp_path / "site")
    try:
        url = f"http://127.0.0.1:{server.server_port}/tall.html"
        image = screenshots.shoot_whole_page(chromium, url, tmp_path / "raw.png")
    finally:
        server.shutdown()
    assert image.height >= 12_200, image.height
    assert image.getpixel((640, 12_100))[:3] == (255, 0, 0), "the end of the page is in the picture"


def test_markup_newer_than_the_ci_hugo_is_reported(tmp_path: Path):
    (tmp_path / "01-a.md").write_text("---\ntitle: a\n---\n> [!NOTE]\n> Newer than 0.130.\n"
                                      "> A plain quote.\n")
    assert [p.split(":")[1] for p in checks.newer_hugo_markup(tmp_path)] == ["4"]
    assert checks.newer_hugo_markup(Path(HUGO_CONFIG).parent.parent / PATH_REL) == []


def test_placeholders_are_reported(tmp_path: Path):
    (tmp_path / "01-a.md").write_text("---\ntitle: a\n---\nSee __RESULTS__ here.\nTODO: write\n")
    assert checks.unfinished_text(tmp_path) == ["01-a.md:4: unfinished text '__RESULTS__'",
                                                "01-a.md:5: unfinished text 'TODO'"]


def test_the_path_has_exactly_the_designed_pages():
    assert [p.name for p in page_files()] == [
        "01-overview.md", "02-setup-and-model-onboarding.md", "03-pipeline-and-analysis.md",
        "04-agent-skills.md", "_index.md", "_next-steps.md"]


def test_pager_goes_to_the_previous_and_next_page_by_weight(built_site: Path):
    html = (built_site / PATH_URL / "02-setup-and-model-onboarding" / "index.html").read_text()
    pager = html.split('<nav class="pager">')[1].split("</nav>")[0]
    assert pager.index("/01-overview/") < pager.index("/03-pipeline-and-analysis/")
    assert "&larr; Overview and quickstart" in pager


def test_add_image_scales_charts_to_web_size_and_refuses_bad_names(tmp_path: Path):
    from PIL import Image
    from sme2prof.pages import web_images
    chart = tmp_path / "latency.png"
    Image.new("RGB", (1280, 360), "white").save(chart)
    written = web_images.add_image(chart, "run-latency.png", tmp_path / "images")
    with Image.open(written) as img:
        assert img.size == (1000, 281)
    with pytest.raises(UserError, match="lower-case"):
        web_images.add_image(chart, "Run Latency.png", tmp_path / "images")
    with pytest.raises(UserError, match="no such picture"):
        web_images.add_image(tmp_path / "missing.png", "x.png", tmp_path / "images")
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == ["run-latency.png"]
