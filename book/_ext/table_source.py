"""Give the cells of a Markdown table nested in a directive a source, so gettext sees them.

Sphinx's gettext builder and its translation step skip every text node without a ``source``
(``sphinx.util.nodes.is_translatable``: "built-in message"). MyST sets the source and line of a
table's ``table`` node but not of its cells' paragraphs; at the top level of a page those
inherit ``document.current_source`` when they are attached, but inside a directive's nested
parse (sphinx-design's ``dropdown``, ``tab-item``) it is ``None``, so such a table was neither
extracted into the catalogues nor translated (sphinx-design PR #306 describes the same cause
for ``tab-item``). This transform copies the table's source, and its line where the cell has
none, onto the table's text nodes before Sphinx extracts or translates them.

``scripts/build_zh.py`` adds it to the Chinese and gettext builds only; the English build does
not translate.
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


def setup(app: Sphinx) -> dict:
    app.add_transform(TableCellSource)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
