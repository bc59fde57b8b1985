"""Sphinx extension: re-encode the explorers' frames as lossless WebP in the built pages.

Explorer frames are palette PNGs drawn at 2 image pixels per CSS pixel (``rnnbook.explorer``,
issue 16), embedded as base64 in each page's widget state. Lossless WebP holds the same pixels
in about 15% fewer bytes on this book's frames (ch04: 833 kB of PNG, 704 kB of WebP), which,
with the equations' MathML, keeps every chapter under the 1.5 MB page limit. After the build,
every ``data:image/png`` image of every page is re-encoded; a frame is replaced only if the
WebP decodes to exactly the PNG's pixels and is smaller. Jupyter keeps the PNGs (the notebooks
are untouched), and every browser the site supports decodes WebP.

The same pass marks the figures stored as files (``_images/``) ``loading="lazy"``: the browser
fetches one when it nears the screen instead of with the page, so a first visit to a chapter
does not download the figures far below it (ch04: 122 kB).
"""

from __future__ import annotations

import base64
import io
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

PNG_DATA = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")
FILE_IMAGE = re.compile(r'<img (?![^>]*\bloading=)([^>]*\bsrc="[^"]*_images/[^"]+")')


def lazy_images(html: str) -> str:
    """Return ``html`` with its ``_images/`` figures marked ``loading="lazy"``."""
    return FILE_IMAGE.sub(r'<img loading="lazy" \1', html)


def webp_of(png: bytes) -> bytes | None:
    """Return ``png`` as lossless WebP if that is smaller and pixel-identical, else None."""
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    mode = "RGBA" if "transparency" in image.info or image.mode in ("RGBA", "LA") else "RGB"
    pixels = image.convert(mode)
    buffer = io.BytesIO()
    # method 4: within 0.5% of the smallest (method 6) at a tenth of its time.
    pixels.save(buffer, format="WEBP", lossless=True, quality=50, method=4, exact=True)
    webp = buffer.getvalue()
    if len(webp) >= len(png):
        return None
    if Image.open(io.BytesIO(webp)).convert(mode).tobytes() != pixels.tobytes():
        return None
    return webp


def convert_page(path: Path) -> tuple[int, int]:
    """Re-encode the PNG images of one page in place; return (bytes before, bytes after)."""
    text = path.read_text(encoding="utf-8")
    lazy = lazy_images(text)
    if "data:image/png;base64," not in text:
        if lazy != text:
            path.write_text(lazy, encoding="utf-8")
        return 0, 0
    encoded: dict[str, str] = {}

    def replace(match: re.Match) -> str:
        data = match.group(1)
        if data not in encoded:
            webp = webp_of(base64.b64decode(data))
            encoded[data] = (match.group(0) if webp is None else
                             "data:image/webp;base64," + base64.b64encode(webp).decode("ascii"))
        return encoded[data]

    new = PNG_DATA.sub(replace, lazy)
    path.write_text(new, encoding="utf-8")
    return len(text.encode()), len(new.encode())


def _convert_frames(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    pages = [p for p in outdir.rglob("*.html") if "_static" not in p.parts]
    with ThreadPoolExecutor(max_workers=2) as pool:  # Pillow's encoder releases the GIL
        sizes = list(pool.map(convert_page, pages))
    before = sum(b for b, _a in sizes)
    after = sum(a for _b, a in sizes)
    if before:
        logger.info("explorer frames as lossless WebP: pages %.2f MB -> %.2f MB",
                    before / 1e6, after / 1e6)


def setup(app: Sphinx) -> dict:
    app.connect("build-finished", _convert_frames)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
