"""Sphinx extension: a link to the same page in the other edition, on every page.

The English site lives in ``_build/html/`` and the Chinese one (``language = zh_CN``, built by
``scripts/build_zh.py``) in ``_build/html/zh/``, with the same page paths. Each page gets, at
the top of its article, a small navigation landmark linking to its twin, plus
``<link rel="alternate" hreflang=...>`` tags in the head. Links are relative, so they work on
any host, under any prefix, and in the offline copy.
"""

from __future__ import annotations

import html

from docutils import nodes
from sphinx import addnodes, locale
from sphinx.application import Sphinx
from sphinx.util.i18n import docname_to_domain

#: Folder of the Chinese edition inside the English site.
ZH_FOLDER = "zh"
#: (link text, hreflang, accessible label) of the link to the *other* edition.
TO_ZH = ("中文", "zh-CN", "阅读本页的中文版")
TO_EN = ("English", "en", "Read this page in English")


def is_chinese(app: Sphinx) -> bool:
    return str(app.config.language or "").lower().startswith("zh")


def twin_href(pagename: str, chinese: bool) -> str:
    """Return the relative URL of ``pagename``'s twin, seen from ``pagename``'s own page."""
    up = "../" * pagename.count("/")
    if chinese:
        return f"{up}../{pagename}.html"
    return f"{up}{ZH_FOLDER}/{pagename}.html"


def switch_html(pagename: str, chinese: bool) -> str:
    text, hreflang, label = TO_EN if chinese else TO_ZH
    href = html.escape(twin_href(pagename, chinese))
    nav_label = "Language" if not chinese else "语言"
    return (f'<nav class="rnnbook-language-switch" aria-label="{nav_label}">'
            f'<a href="{href}" hreflang="{hreflang}" lang="{hreflang}" '
            f'aria-label="{html.escape(label)}">{text}</a></nav>\n')


def _add_switch(app: Sphinx, pagename, templatename, context, doctree) -> None:
    if doctree is None or "body" not in context:
        return
    chinese = is_chinese(app)
    context["body"] = switch_html(pagename, chinese) + context["body"]
    _, hreflang, _ = TO_EN if chinese else TO_ZH
    href = html.escape(twin_href(pagename, chinese))
    context["metatags"] = context.get("metatags", "") + (
        f'\n<link rel="alternate" hreflang="{hreflang}" href="{href}" />')


def _translate_toc_captions(app: Sphinx, doctree: nodes.document) -> None:
    """Translate the captions of toctrees that sphinx-external-toc inserts after i18n ran.

    Their text ("Chapters", "Appendices") is extracted into the root page's catalogue, but the
    toctree is added at ``doctree-read``, after Sphinx's translation transform.
    """
    if app.config.language in (None, "", "en"):
        return
    domain = docname_to_domain(app.env.docname, app.config.gettext_compact)
    dirs = [str(app.srcdir / directory) for directory in app.config.locale_dirs]
    catalog, _ = locale.init(dirs, app.config.language, domain)
    for toctree in doctree.findall(addnodes.toctree):
        if toctree.get("caption"):
            toctree["caption"] = catalog.gettext(toctree["caption"])


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", _add_switch)
    # After sphinx-external-toc's insert_toctrees (default priority 500).
    app.connect("doctree-read", _translate_toc_captions, priority=900)
    app.add_css_file("language-switch.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
