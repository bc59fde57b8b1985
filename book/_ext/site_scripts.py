"""Sphinx extension: repair the <script> list of every page.

- sphinx-thebe 0.3 registers its inline configuration twice under Jupyter Book 1, so the page
  declares ``const THEBE_JS_URL`` twice and the browser raises a SyntaxError: drop repeats.
- The ipywidgets HTML manager finds its fonts next to the URL require.js gives its module
  ``@jupyter-widgets/html-manager/dist/libembed-amd``; unconfigured, that URL is relative to the
  page and the fonts 404. Insert a require.js ``paths`` entry pointing at the folder the
  configured ``embed-amd.js`` comes from, between require.js and embed-amd.js.
"""

import json

from sphinx.application import Sphinx
from sphinx.builders.html._assets import _JavaScript

MANAGER_MODULE = "@jupyter-widgets/html-manager/dist"


def _key(script) -> tuple:
    # Inline scripts come with filename "" or None: treat both alike.
    attributes = getattr(script, "attributes", {})
    return (str(getattr(script, "filename", script) or ""),
            tuple(sorted((k, str(v)) for k, v in attributes.items())))


def _require_paths(scripts: list) -> list:
    for index, script in enumerate(scripts):
        filename = str(getattr(script, "filename", "") or "")
        if filename.endswith("html-manager") or not filename.endswith("/embed-amd.js"):
            continue
        folder = filename.rsplit("/", 1)[0]
        body = f"require.config({{paths: {{{json.dumps(MANAGER_MODULE)}: {json.dumps(folder)}}}}});"
        return [*scripts[:index], _JavaScript(None, body=body), *scripts[index:]]
    return scripts


def _repair_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen = set()
    unique = []
    for script in scripts:
        if _key(script) not in seen:
            seen.add(_key(script))
            unique.append(script)
    context["script_files"] = _require_paths(unique)


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", _repair_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
