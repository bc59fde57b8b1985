"""Sphinx extension: the site's widget manager, bundled from the ipywidgets classes it uses.

The explorers are ipywidgets (a ``SelectionSlider`` jslinked to ``Stack``s of ``HTML`` frames in
a ``VBox``), live in Jupyter and drawn in the static site from the widget state each page embeds.
@jupyter-widgets/html-manager's ``embed.js`` would draw them, but it carries every widget, a
JSON-schema validator and the output widget's renderers: 1.9 MB, about 0.25 s of script on this
machine before the first explorer, the largest single cost of a chapter's load (issue 19).
``book/_js/widget-manager.js`` is a manager with only the classes the book uses, the same
classes from the same pinned packages (package.json); esbuild bundles it (0.43 MB, minified)
into ``_static/widget-manager.js`` and ``.css`` at the end of every build, and
``nb_ipywidgets_js`` in ``_config.yml`` has myst-nb load it, deferred, on pages with widgets.

A page whose widget state names a class the manager lacks fails the build (``-W``): the list is
read from the ``CLASSES`` block of the manager's source. So does a description marked
``description_allow_html``: the manager leaves out the HTML sanitizer such descriptions need
(``book/_js/text-only-descriptions.js`` stands in for it).
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "book" / "_js" / "widget-manager.js"
TEXT_ONLY = ROOT / "book" / "_js" / "text-only-descriptions.js"
BUNDLE = Path("_static") / "widget-manager.js"
CLASSES_BLOCK = re.compile(r"// CLASSES-BEGIN.*?\n(.*?)// CLASSES-END", re.S)
MODULE_BLOCK = re.compile(r"'(@jupyter-widgets/[a-z-]+)':\s*\{([^}]*)\}")


@functools.cache  # read once a build, not once a page
def supported_classes(source: Path = SOURCE) -> frozenset[tuple[str, str]]:
    """Return the (module, class) pairs in the ``CLASSES`` block of the manager's source."""
    block = CLASSES_BLOCK.search(source.read_text())
    if block is None:
        raise ValueError(f"{source} has no CLASSES-BEGIN/CLASSES-END block")
    return frozenset((module, name) for module, names in MODULE_BLOCK.findall(block.group(1))
                     for name in re.findall(r"\b([A-Za-z]+)\b", names))


def used_classes(state: dict) -> set[tuple[str, str]]:
    """Return the (module, class) pairs of the models and views in a page's widget state."""
    used = set()
    for model in state.get("state", {}).values():
        used.add((model["model_module"], model["model_name"]))
        view = model.get("state", {}).get("_view_name")
        if view:
            used.add((model["state"]["_view_module"], view))
    return used


def unsupported(state: dict, source: Path = SOURCE) -> list[str]:
    """Return what in ``state`` the manager cannot draw, sorted: "module Class" for each class
    it lacks, "HTML description of <model id>" for each ``description_allow_html``."""
    missing = [f"{module} {name}"
               for module, name in used_classes(state) - supported_classes(source)]
    html = [f"HTML description of {model_id}" for model_id, model in state.get("state", {}).items()
            if model.get("state", {}).get("description_allow_html")]
    return sorted(missing + html)


#: esbuild's options (its JavaScript API, which finds the platform's esbuild binary itself).
ESBUILD_OPTIONS = {"bundle": True, "minify": True, "format": "iife", "target": "es2020",
                   "legalComments": "eof", "logLevel": "error",
                   "alias": {"sanitize-html": str(TEXT_ONLY)}}
ESBUILD_SCRIPT = "require('esbuild').buildSync(JSON.parse(process.argv[1]))"


def bundle(target: Path, root: Path = ROOT) -> None:
    """Bundle the manager and its CSS into ``target`` (.js) and its .css sibling."""
    import build_math

    if not (root / "node_modules" / "esbuild").is_dir():
        raise RuntimeError("node_modules/esbuild is missing: run `npm ci` (package.json pins it)")
    options = {**ESBUILD_OPTIONS, "entryPoints": [str(SOURCE)], "outfile": str(target)}
    result = subprocess.run([build_math.node_binary(), "-e", ESBUILD_SCRIPT, json.dumps(options)],
                            cwd=root, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"esbuild could not bundle {SOURCE.name}:\n{result.stderr}")


def _check_page(app: Sphinx, pagename, templatename, context, doctree) -> None:
    from site_scripts import widget_state

    for script in context.get("script_files") or []:
        state = widget_state(script)
        if state is not None:
            problems = unsupported(state)
            if problems:
                logger.warning("%s: the site's widget manager (%s) cannot draw: %s (add the "
                               "class to CLASSES; descriptions are plain text)", pagename,
                               SOURCE.relative_to(ROOT), ", ".join(problems),
                               type="rnnbook", subtype="widgets")


def _write_bundle(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    bundle(Path(app.outdir) / BUNDLE)


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", _check_page)
    app.connect("build-finished", _write_bundle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
