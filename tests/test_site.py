"""The built site in Chromium with no kernel and no internet: pages load without JavaScript
errors, math is typeset, images have alt text, and every explorer slider moves its figure."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SITE

pytestmark = pytest.mark.browser

PAGE_LIMIT = 1_500_000
SCREENSHOTS = SITE.parent / "screenshots"


def book_pages() -> list[str]:
    pages = sorted((SITE / "book").glob("*.html")) if SITE.exists() else []
    return [page.relative_to(SITE).as_posix() for page in pages] + ["index.html"]


def chapter_pages() -> list[Path]:
    return sorted((SITE / "book").glob("ch*.html")) if SITE.exists() else []


def open_page(page, site_url: str, path: str) -> None:
    page.goto(f"{site_url}/{path}", wait_until="load")
    page.wait_for_function(
        "() => !window.MathJax || !window.MathJax.startup || window.MathJax.startup.promise"
    )
    page.evaluate("() => window.MathJax && window.MathJax.startup "
                  "? window.MathJax.startup.promise : null")
    if page.locator("script[type='application/vnd.jupyter.widget-state+json']").count():
        page.wait_for_selector(".rnnbook-explorer img", state="attached", timeout=20_000)


def visible_frame(explorer) -> str:
    """Return the src of the one frame of ``explorer`` that is visible."""
    sources = [img.get_attribute("src") for img in explorer.locator("img.rnnbook-frame").all()
               if img.is_visible()]
    assert len(sources) == 1, f"expected one visible frame, found {len(sources)}"
    return sources[0]


@pytest.mark.parametrize("path", book_pages())
def test_page_loads_without_errors_and_typesets_math(site, path):
    site_url, page = site
    open_page(page, site_url, path)
    assert page.errors == [], f"JavaScript errors on {path}: {page.errors}"
    unrendered = page.evaluate(
        """() => [...document.querySelectorAll('.math, span.math, div.math')]
                 .filter(el => !el.querySelector('mjx-container')).map(el => el.textContent)"""
    )
    assert unrendered == [], f"math left unrendered on {path}: {unrendered[:3]}"
    assert page.locator("mjx-merror").count() == 0, f"TeX errors on {path}"
    missing_alt = page.evaluate(
        """() => [...document.querySelectorAll('main img')]
                 .filter(img => !(img.getAttribute('alt') || '').trim()).map(img => img.src)"""
    )
    assert missing_alt == [], f"images without alt text on {path}: {missing_alt[:3]}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / (path.replace("/", "_") + ".png"), full_page=True)


@pytest.mark.parametrize("path", [p.relative_to(SITE).as_posix() for p in chapter_pages()])
def test_every_slider_moves_its_figure_from_the_keyboard(site, path):
    site_url, page = site
    open_page(page, site_url, path)
    explorers = page.locator(".rnnbook-explorer").all()
    for number, explorer in enumerate(explorers, start=1):
        explorer.scroll_into_view_if_needed()
        handles = explorer.locator(".noUi-handle").all()
        assert handles, f"explorer {number} on {path} has no slider"
        for index, handle in enumerate(handles):
            before = visible_frame(explorer)
            handle.focus()
            value_before = handle.get_attribute("aria-valuenow")
            page.keyboard.press("ArrowRight")
            if handle.get_attribute("aria-valuenow") == value_before:  # at the right end
                page.keyboard.press("ArrowLeft")
            page.wait_for_timeout(50)
            after = visible_frame(explorer)
            assert after != before, (
                f"slider {index + 1} of explorer {number} on {path} did not change the figure"
            )
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        explorer.screenshot(path=SCREENSHOTS / f"{Path(path).stem}-explorer{number}.png")
    assert page.errors == []


@pytest.mark.parametrize("page_file", chapter_pages(), ids=lambda p: p.name)
def test_chapter_page_fits_the_size_budget(page_file):
    size = page_file.stat().st_size
    assert size <= PAGE_LIMIT, f"{page_file.name} is {size / 1e6:.2f} MB > 1.5 MB"


def test_site_has_every_chapter_with_an_explorer():
    pages = chapter_pages()
    assert pages, "no chapter pages were built"
    for page_file in pages:
        html = page_file.read_text()
        assert "rnnbook-explorer" in html, f"{page_file.name} has no explorer"
        assert "application/vnd.jupyter.widget-state+json" in html
