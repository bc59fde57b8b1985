"""Two fixes to Sphinx's i18n on MyST pages, for the Chinese and gettext builds.

**Tables in directives.** Sphinx's gettext builder and its translation step skip every text
node without a ``source`` (``sphinx.util.nodes.is_translatable``: "built-in message"). MyST
sets the source and line of a table's ``table`` node but not of its cells' paragraphs; at the
top level of a page those inherit ``document.current_source`` when they are attached, but
inside a directive's nested parse (sphinx-design's ``dropdown``, ``tab-item``) it is ``None``,
so such a table was neither extracted into the catalogues nor translated (sphinx-design PR #306
describes the same cause for ``tab-item``). ``TableCellSource`` copies the table's source, and
its line where a cell has none, onto the table's text nodes before Sphinx extracts or
translates them.

**Translated nodes keep their own document.** Sphinx's Locale transform parses each msgstr
into a temporary document and moves the nodes into the page, but those nodes still point to the
temporary document (``node.document``), whose settings hold the whole build environment
(``settings.env``). Sphinx pickles each page's doctree after reading it, so every translated
page's doctree carried a copy of the environment, about 10 MB (every explorer's widget state of
every page): 80 MB of doctrees instead of 12, and the zh build spent a quarter of its time
pickling and unpickling them. ``adopt_translated_nodes`` points them back to the page's
document before the doctree is pickled.

``scripts/build_zh.py`` adds this extension to the Chinese and gettext builds only; the English
build does not translate.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform


class TableCellSource(SphinxTransform):
    """Copy each table's ``source`` and ``line`` to its text nodes that lack them."""

    # After Sphinx's ApplySourceWorkaround (10), before its Locale translation (20).
    default_priority = 15

    def apply(self, **kwargs) -> None:
        for table in self.document.findall(nodes.table):
            source = table.source or self.document.get("source")
            for node in table.findall(nodes.TextElement):
                if node.source is None:
                    node.source = source
                    if node.line is None:
                        node.line = table.line


def adopt_translated_nodes(app: Sphinx, doctree: nodes.document) -> None:
    """Make every node of ``doctree`` belong to it, not to a msgstr's temporary document."""
    for node in doctree.findall():
        if getattr(node, "_document", None) not in (None, doctree):
            node.document = doctree


def setup(app: Sphinx) -> dict:
    app.add_transform(TableCellSource)
    app.connect("doctree-read", adopt_translated_nodes)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
