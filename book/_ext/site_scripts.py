"""Sphinx extension: repair the <script> list of every page.

- sphinx-thebe 0.3 registers its inline configuration twice under Jupyter Book 1, so the page
  declares ``const THEBE_JS_URL`` twice and the browser raises a SyntaxError: drop repeats.
- The embedded widget state is written compactly: every ``LayoutModel`` lists all of its ~40
  CSS properties, nearly all ``null``, which is also the widget manager's default for each, so
  the nulls are left out (about 1 kB a frame), and the JSON has no spaces after separators.
- pydata-sphinx-theme gives every scrollable ``pre``, cell output and table a tab stop by
  reading sizes in a way that lays out a long chapter again and again before the reader can use
  it; after the build its pass is removed from the theme's script, and ``_static/a11y.js`` sets
  the same tab stops from a ResizeObserver (``THEME_PATCHES``).
- Math in a widget's description (``"scale $g$ of $W$"``) is typeset at build time like the
  page's (``build_math``): the page carries each such description's markup and
  ``_static/widget-labels.js`` puts it in the label once the widget manager has drawn it (the
  manager's own sanitizer would strip KaTeX's markup from an HTML description). In Jupyter,
  the label is typeset by JupyterLab's MathJax as before.
- The Jinja filter ``rnnbook_without_fontawesome_js`` (used by ``book/_templates/layout.html``)
  removes the theme's ``<script>`` of Font Awesome (1.5 MB, 0.5 MB gzipped, and its work on
  every change of a long page): the theme's stylesheet draws the same icons from the web fonts
  that every page loads anyway.

(The widget manager is the book's own, ``book/_ext/widget_manager.py``.)
"""

import json
import re
from pathlib import Path

from markupsafe import Markup
from sphinx.application import Sphinx
from sphinx.builders.html._assets import _JavaScript
from sphinx.util import logging

logger = logging.getLogger(__name__)

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
FONTAWESOME_JS = re.compile(
    r'\s*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>')


def without_fontawesome_js(html: str) -> Markup:
    """Return ``html`` (the head's CSS block) without the Font Awesome script."""
    result, count = FONTAWESOME_JS.subn("", str(html))
    if count != 1:
        raise ValueError("the theme's Font Awesome <script> was not found: update site_scripts")
    return Markup(result)


def _add_filter(app: Sphinx) -> None:
    if hasattr(app.builder, "templates"):
        app.builder.templates.environment.filters["rnnbook_without_fontawesome_js"] = (
            without_fontawesome_js)


def compact_widget_state(state: dict) -> dict:
    """Return the widget state with the null properties of layout models removed."""
    models = {}
    for model_id, model in state.get("state", {}).items():
        if model.get("model_name") == "LayoutModel":
            properties = {k: v for k, v in model["state"].items() if v is not None}
            model = {**model, "state": properties}
        models[model_id] = model
    return {**state, "state": models}


LABEL_MATH = re.compile(r"(\$[^$]+\$)")


def label_markup(descriptions: list[str]) -> dict[str, str]:
    """Return {description: HTML} for the descriptions with $...$ math, typeset by KaTeX."""
    import html

    import build_math

    with_math = sorted({d for d in descriptions if LABEL_MATH.search(d or "")})
    parts = {d: LABEL_MATH.split(d) for d in with_math}
    formulas = sorted({part[1:-1] for split in parts.values() for part in split
                       if LABEL_MATH.fullmatch(part)})
    rendered = dict(zip(formulas, build_math.render([(f, False) for f in formulas]), strict=True))
    errors = [f"{f!r}: {error}" for f, (_html, error) in rendered.items() if error]
    if errors:
        logger.warning("KaTeX cannot render widget labels: %s", "; ".join(errors),
                       type="rnnbook", subtype="math")
    return {d: "".join(rendered[p[1:-1]][0] if LABEL_MATH.fullmatch(p) else html.escape(p)
                       for p in split)
            for d, split in parts.items()}


def widget_state(script) -> dict | None:
    """Return the widget state a page's ``<script>`` entry carries, or None for other scripts."""
    attributes = getattr(script, "attributes", {})
    if attributes.get("type") == WIDGET_STATE and attributes.get("body"):
        return json.loads(attributes["body"])
    return None


def _label_math_scripts(app: Sphinx, scripts: list, states: list[dict], context: dict) -> list:
    descriptions = [model.get("state", {}).get("description") or ""
                    for state in states for model in state.get("state", {}).values()]
    markup = label_markup(descriptions)
    if not markup:
        return scripts
    import build_math

    if not any(build_math.STYLESHEET in str(getattr(css, "filename", css))
               for css in context.get("css_files", [])):
        app.add_css_file(build_math.STYLESHEET, priority=300)
    body = "window.rnnbookLabelMath = " + json.dumps(markup).replace("</", "<\\/") + ";"
    return [*scripts, _JavaScript(None, priority=500, body=body),
            _JavaScript("_static/widget-labels.js", priority=500, defer="defer")]


THEME_JS = "_static/scripts/pydata-sphinx-theme.js"
#: (theme's code, replacement). The theme gives every scrollable ``pre``, cell output and table
#: a tab stop by reading the size of each at DOMContentLoaded and on every change of the page,
#: alternating reads and writes: one layout of the whole chapter per block (0.2-0.4 s on a long
#: chapter before the reader can use it), and one more after the explorers draw (ch04: 88 ms).
#: ``_static/a11y.js`` does the same from a ResizeObserver, which reads sizes after the
#: browser's own layout and never forces one; the theme's pass is removed.
THEME_PATCHES = [
    ('function I(){const e=()=>{document.querySelectorAll(["pre",".nboutput > .output_area",'
     '".cell_output > .output",".jp-RenderedHTMLCommon",".pst-scrollable-table-container"]'
     '.join(", ")).forEach(e=>{e.tabIndex=e.scrollWidth>e.clientWidth||e.scrollHeight>'
     'e.clientHeight?0:-1})},t=_(e,300);window.addEventListener("resize",t),'
     'new MutationObserver(t).observe(document.getElementById("main-content"),'
     '{subtree:!0,childList:!0}),e()}',
     'function I(){/* tab stops of scrollable blocks: rnnbook a11y.js */}'),
]


def patch_theme_script(script: str) -> str:
    """Return the theme's script with ``THEME_PATCHES`` applied (each once; idempotent)."""
    for theirs, ours in THEME_PATCHES:
        if ours in script:
            continue
        if script.count(theirs) != 1:
            raise ValueError("pydata-sphinx-theme.js changed: its tab-stop pass is not removed "
                             "(update THEME_PATCHES in book/_ext/site_scripts.py)")
        script = script.replace(theirs, ours)
    return script


def _patch_theme(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    path = Path(app.outdir) / THEME_JS
    try:
        path.write_text(patch_theme_script(path.read_text()))
    except ValueError as error:
        logger.warning(str(error), type="rnnbook")


def _compacted(script, state: dict):
    body = json.dumps(compact_widget_state(state), separators=(",", ":")).replace("</", "<\\/")
    return _JavaScript(script.filename, priority=script.priority,
                       **{**script.attributes, "body": body})


def _key(script) -> tuple:
    # Inline scripts come with filename "" or None: treat both alike.
    attributes = getattr(script, "attributes", {})
    return (str(getattr(script, "filename", script) or ""),
            tuple(sorted((k, str(v)) for k, v in attributes.items())))


def _repair_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen = set()
    unique = []
    states = []  # each widget state is parsed once, here
    for script in scripts:
        if _key(script) not in seen:
            seen.add(_key(script))
            state = widget_state(script)
            if state is not None:
                states.append(state)
                script = _compacted(script, state)
            unique.append(script)
    context["script_files"] = _label_math_scripts(app, unique, states, context)


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", _add_filter)
    app.connect("build-finished", _patch_theme)
    app.connect("html-page-context", _repair_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
