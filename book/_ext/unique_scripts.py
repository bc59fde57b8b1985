"""Sphinx extension: drop repeated <script> entries from every page.

sphinx-thebe 0.3 registers its inline configuration twice under Jupyter Book 1, so the page
declares ``const THEBE_JS_URL`` twice and the browser raises a SyntaxError.
"""

from sphinx.application import Sphinx


def _unique_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen = set()
    unique = []
    for script in scripts:
        attributes = getattr(script, "attributes", {})
        # Inline scripts come with filename "" or None: treat both alike.
        key = (
            str(getattr(script, "filename", script) or ""),
            tuple(sorted((k, str(v)) for k, v in attributes.items())),
        )
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", _unique_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
