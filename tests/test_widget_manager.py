"""The site's widget manager (book/_ext/widget_manager.py, book/_js/widget-manager.js): the
classes it holds cover every page's widgets, its bundle builds from the pinned packages, and a
widget it cannot draw says so on the page."""

from __future__ import annotations

import importlib.util
import json
import re
import sys

import pytest

from conftest import NODE_MODULES, ROOT, SITE, new_page

WIDGET_STATE = re.compile(
    r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', re.S)


def load_extension(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "book" / "_ext" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # widget_manager imports build_math by name, as Sphinx does
    spec.loader.exec_module(module)
    return module


load_extension("build_math")
widget_manager = load_extension("widget_manager")


def state_with(*classes: tuple[str, str, str | None]) -> dict:
    """A widget state with one model per (module, model, view)."""
    return {"state": {f"id{i}": {"model_module": module, "model_name": model,
                                 "state": {"_view_module": module, "_view_name": view}}
                      for i, (module, model, view) in enumerate(classes)}}


def test_the_manager_lists_the_classes_of_the_explorers():
    supported = widget_manager.supported_classes()
    for name in ("VBoxModel", "VBoxView", "StackModel", "StackView", "HTMLModel", "HTMLView",
                 "SelectionSliderModel", "SelectionSliderView", "SliderStyleModel", "LinkModel"):
        assert ("@jupyter-widgets/controls", name) in supported
    assert ("@jupyter-widgets/base", "LayoutModel") in supported


def test_a_class_the_manager_lacks_is_named():
    state = state_with(("@jupyter-widgets/controls", "VBoxModel", "VBoxView"),
                       ("@jupyter-widgets/controls", "IntSliderModel", "IntSliderView"),
                       ("@jupyter-widgets/controls", "LinkModel", None))
    assert widget_manager.unsupported(state) == [
        "@jupyter-widgets/controls IntSliderModel", "@jupyter-widgets/controls IntSliderView"]


def test_an_html_description_is_refused():
    # The manager has no HTML sanitizer (book/_js/text-only-descriptions.js stands in for it).
    state = state_with(("@jupyter-widgets/controls", "SelectionSliderModel",
                        "SelectionSliderView"))
    assert widget_manager.unsupported(state) == []
    state["state"]["id0"]["state"]["description_allow_html"] = True
    assert widget_manager.unsupported(state) == ["HTML description of id0"]


def test_a_source_without_its_class_list_is_refused(tmp_path):
    source = tmp_path / "manager.js"
    source.write_text("const CLASSES = {};\n")
    with pytest.raises(ValueError, match="CLASSES-BEGIN"):
        widget_manager.supported_classes(source)


@pytest.mark.slow
def test_every_page_uses_only_classes_the_manager_holds():
    pages = sorted(SITE.rglob("*.html"))
    states = [json.loads(m) for page in pages for m in WIDGET_STATE.findall(page.read_text())]
    assert len(states) >= 8, "build the site with `make book`"
    assert [widget_manager.unsupported(state) for state in states] == [[]] * len(states)


@pytest.mark.skipif(not (NODE_MODULES / "esbuild").is_dir(), reason="run `npm ci`")
def test_the_bundle_builds_from_the_pinned_packages(tmp_path):
    target = tmp_path / "widget-manager.js"
    widget_manager.bundle(target)
    size = target.stat().st_size
    assert 100_000 < size < 600_000, f"{size} bytes"  # html-manager's embed.js: 1.9 MB
    assert "sanitize-html" not in target.read_text()  # aliased to text-only descriptions
    css = target.with_suffix(".css").read_text()
    assert ".noUi-handle" in css and ".widget-slider" in css  # the sliders' own styles


@pytest.mark.browser
def test_a_widget_the_manager_cannot_draw_says_so(browser, site_url):
    # A page whose state names a class the manager lacks: that explorer shows why it is
    # missing instead of a blank space, and the other one still draws.
    path = "book/ch04_jacobian.html"
    context, page = new_page(browser, site_url)
    html = (SITE / path).read_text()
    # The first explorer's box becomes a Tab, a widget the manager lacks.
    broken = re.sub(r'"model_name":"VBoxModel"(.*?)"_view_name":"VBoxView"',
                    r'"model_name":"TabModel"\1"_view_name":"TabView"', html, count=1)
    assert broken != html
    page.route(f"{site_url}/{path}", lambda route, request: route.fulfill(
        body=broken, content_type="text/html"))
    page.goto(f"{site_url}/{path}")
    page.wait_for_selector(".rnnbook-widget-error")
    errors = page.locator(".rnnbook-widget-error").all_text_contents()
    assert len(errors) == 1 and "could not be drawn" in errors[0], errors
    assert "@jupyter-widgets/controls TabView" in errors[0], errors
    page.wait_for_selector(".rnnbook-explorer .noUi-handle")
    context.close()
