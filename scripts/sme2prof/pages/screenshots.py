"""Render each built page with headless Chromium to PNGs under ``out/site-review/``.

Why: a page can pass every check and still trip a reader (a table that overflows, a
giant image, a wall of small text). These pictures are for a human to look at; the
tests only assert that each page rendered. Long pages are cut into screen-sized tiles.

Whole pages: headless Chromium shoots the window, not the document, so a page taller
than the window was cut off (at 9,000 px, before the end of page 3). Each page is shot
at 9,000 px first and again in a window twice as tall while its content still reaches
the window's bottom edge, up to ``MAX_TALL``.
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from PIL import Image, ImageChops

from sme2prof.errors import UserError

WIDTH, TALL, TILE = 1280, 9000, 1600
MAX_TALL = 36000           # 4 tries; a page taller than this is a page to split, not to shoot
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium_binary() -> str | None:
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def ensure_chromium() -> str | None:
    """Chromium, installed with apt when missing and allowed (root on Debian/Ubuntu, as CI is).

    Returns None when it is missing and cannot be installed here; callers then skip the
    render step and say so.
    """
    found = chromium_binary()
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        if subprocess.run(cmd, capture_output=True, env=env, timeout=900).returncode != 0:
            return None
    return chromium_binary()


def _serve(site_dir: Path) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


CUT_OFF_MARGIN = 200       # content this close to the window's bottom edge: maybe cut off


def _trim_bottom(path: Path) -> tuple[Image.Image, bool]:
    """Cut the empty space below the page's content; True when the content runs to within
    CUT_OFF_MARGIN px of the window's bottom edge (the page probably goes on)."""
    with Image.open(path) as img:
        rgb = img.convert("RGB")
    background = Image.new("RGB", rgb.size, rgb.getpixel((rgb.width - 1, rgb.height - 1)))
    box = ImageChops.difference(rgb, background).getbbox()
    bottom = (box[3] if box else 200) + 40
    return (rgb.crop((0, 0, rgb.width, min(rgb.height, bottom))),
            bottom >= rgb.height - CUT_OFF_MARGIN)


def _shoot(chromium: str, url: str, raw: Path, height: int) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-quic", "--no-first-run", "--hide-scrollbars",
                        "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", f"--user-data-dir={profile}",
                        f"--window-size={WIDTH},{height}", f"--screenshot={raw}", url],
                       check=True, capture_output=True, timeout=180)


def shoot_whole_page(chromium: str, url: str, raw: Path) -> Image.Image:
    """The page from top to end of content, in windows of 9,000, 18,000, 36,000 px."""
    height = TALL
    while True:
        _shoot(chromium, url, raw, height)
        full, cut_off = _trim_bottom(raw)
        raw.unlink()
        if not cut_off or height >= MAX_TALL:
            return full
        height = min(height * 2, MAX_TALL)


def render_pages(site_dir: Path, pages: list[str], out_dir: Path) -> list[Path]:
    """Screenshot each site-relative page URL; return the PNGs written (page + tiles)."""
    chromium = chromium_binary()
    if chromium is None:
        raise UserError("Chromium is not installed", "apt-get install -y chromium")
    out_dir.mkdir(parents=True, exist_ok=True)
    server = _serve(site_dir)
    written: list[Path] = []
    try:
        for page in pages:
            name = page.strip("/").split("/")[-1] or "home"
            raw = out_dir / f"{name}.raw.png"
            full = shoot_whole_page(chromium, f"http://127.0.0.1:{server.server_port}/"
                                              f"{page.lstrip('/')}", raw)
            full.save(out_dir / f"{name}.png")
            written.append(out_dir / f"{name}.png")
            for i, top in enumerate(range(0, full.height, TILE), 1):
                tile = out_dir / f"{name}-{i}.png"
                full.crop((0, top, WIDTH, min(full.height, top + TILE))).save(tile)
                written.append(tile)
    finally:
        server.shutdown()
    return written
