"""Sphinx extension: repair the <script> list of every page.

- sphinx-thebe 0.3 registers its inline configuration twice under Jupyter Book 1, so the page
  declares ``const THEBE_JS_URL`` twice and the browser raises a SyntaxError: drop repeats.
- The embedded widget state is written compactly: every ``LayoutModel`` lists all of its ~40
  CSS properties, nearly all ``null``, which is also the widget manager's default for each, so
  the nulls are left out (about 1 kB a frame), and the JSON has no spaces after separators.

(The widget manager is ``embed.js``, which needs no require.js; see ``nb_ipywidgets_js`` in
``_config.yml``.)
"""

import json

from sphinx.application import Sphinx
from sphinx.builders.html._assets import _JavaScript

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def compact_widget_state(state: dict) -> dict:
    """Return the widget state with the null properties of layout models removed."""
    models = {}
    for model_id, model in state.get("state", {}).items():
        if model.get("model_name") == "LayoutModel":
            properties = {k: v for k, v in model["state"].items() if v is not None}
            model = {**model, "state": properties}
        models[model_id] = model
    return {**state, "state": models}


def _compact(script):
    attributes = getattr(script, "attributes", {})
    if attributes.get("type") != WIDGET_STATE or not attributes.get("body"):
        return script
    state = compact_widget_state(json.loads(attributes["body"]))
    body = json.dumps(state, separators=(",", ":")).replace("</", "<\\/")
    return _JavaScript(script.filename, priority=script.priority, **{**attributes, "body": body})


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
    for script in scripts:
        if _key(script) not in seen:
            seen.add(_key(script))
            unique.append(_compact(script))
    context["script_files"] = unique


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", _repair_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
