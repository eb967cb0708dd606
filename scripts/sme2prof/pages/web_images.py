"""Copy a chart the kit made into ``images/`` at web size.

Why: the pages show only pictures made by real runs of the kit; this keeps them
readable in a page column (at most 1000 px wide) and well under the learning-paths
200 KB limit, with a lower-case name, without editing the picture itself.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

from PIL import Image

from sme2prof.errors import UserError
from sme2prof.fileio import write_bytes_atomic
from sme2prof.pages.checks import MAX_IMAGE_BYTES

WEB_WIDTH = 1000
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*\.png$")


def add_image(source: Path, name: str, images_dir: Path) -> Path:
    """Write ``source`` as ``images_dir/name``, scaled down to WEB_WIDTH when wider."""
    if not _NAME.match(name):
        raise UserError(f"image name {name!r} must be lower-case letters, digits and - ending in .png",
                        "for example: vit-tiny-categories.png")
    if not source.is_file():
        raise UserError(f"no such picture: {source}", "pass a PNG the kit wrote, e.g. out/runs/<run-id>/analysis/latency.png")
    with Image.open(source) as img:
        picture = img.convert("RGB")
    if picture.width > WEB_WIDTH:
        height = round(picture.height * WEB_WIDTH / picture.width)
        picture = picture.resize((WEB_WIDTH, height), Image.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=True)
    if buffer.tell() > MAX_IMAGE_BYTES:
        raise UserError(f"{name} would be {buffer.tell() // 1024} KB, over the 200 KB limit",
                        "use a simpler chart or crop it")
    return write_bytes_atomic(images_dir / name, buffer.getvalue())
