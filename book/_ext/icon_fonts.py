"""Sphinx extension: cut the theme's Font Awesome web fonts down to the icons the site shows.

Every page draws a handful of icons (menu, search, GitHub, download, ...) with Font Awesome's
web fonts, which the theme ships whole: 300 kB of woff2 on a first visit for about twenty
glyphs. After the build, the icon names used by the pages and the theme's scripts are looked up
in the theme's stylesheet (``.fa-NAME:before{content:"\\fXXX"}``) and each font is rewritten
with those glyphs only (fontTools; woff2 needs brotli). The sources are the theme's own files,
so a rebuild that uses a new icon gets it.
"""

from __future__ import annotations

import re
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

FONTS = "_static/vendor/fontawesome/webfonts"
ICON_CLASS = re.compile(r"\bfa-[a-z0-9-]+")
# .fa-bars:before,.fa-navicon:before{content:"\f0c9"}
ICON_RULE = re.compile(r'((?:\.fa-[a-z0-9-]+:{1,2}before,?)+)\{content:"\\([0-9a-f]+)"')


def codepoints(stylesheet: str) -> dict[str, int]:
    """Return {icon class: code point} from Font Awesome's CSS."""
    table = {}
    for selectors, code in ICON_RULE.findall(stylesheet):
        for name in re.findall(r"\.(fa-[a-z0-9-]+):", selectors):
            table[name] = int(code, 16)
    return table


def used_icons(outdir: Path) -> set[str]:
    found: set[str] = set()
    for pattern in ("**/*.html", "_static/**/*.js"):
        for path in outdir.glob(pattern):
            if "vendor" not in path.parts:
                found.update(ICON_CLASS.findall(path.read_text(errors="ignore")))
    return found


def subset_fonts(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    import pydata_sphinx_theme
    from fontTools import subset

    outdir = Path(app.outdir)
    theme_static = Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme"
    source = theme_static / "static" / "vendor" / "fontawesome" / "webfonts"
    stylesheet = (outdir / "_static" / "styles" / "pydata-sphinx-theme.css").read_text()
    table = codepoints(stylesheet)
    icons = used_icons(outdir)
    unicodes = sorted({table[name] for name in icons if name in table})
    if not unicodes:
        logger.warning("no Font Awesome icon found: fonts left whole", type="rnnbook")
        return
    for font in sorted(source.glob("*.woff2")) + sorted(source.glob("*.ttf")):
        options = subset.Options()
        options.flavor = "woff2" if font.suffix == ".woff2" else None
        options.layout_features = ["*"]
        loaded = subset.load_font(str(font), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=unicodes)
        subsetter.subset(loaded)
        target = outdir / FONTS / font.name
        target.parent.mkdir(parents=True, exist_ok=True)
        subset.save_font(loaded, str(target), options)
    logger.info("Font Awesome fonts cut to %d icons", len(unicodes))


def setup(app: Sphinx) -> dict:
    app.connect("build-finished", subset_fonts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
