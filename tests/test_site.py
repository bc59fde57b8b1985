"""The built site in Chromium with no kernel and no internet: every page loads without
JavaScript errors, typesets its math, gives its images alt text, has no serious accessibility
violation, and every explorer slider moves its figure when driven from the keyboard.

Each test runs twice: on the public build (its CDN scripts answered from node_modules) and on
the offline build (network blocked)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from conftest import ROOT, SITE

pytestmark = pytest.mark.browser

spec = importlib.util.spec_from_file_location("main_path_words",
                                              ROOT / "scripts" / "main_path_words.py")
main_path_words = importlib.util.module_from_spec(spec)
spec.loader.exec_module(main_path_words)

PAGE_LIMIT = 1_500_000
SCREENSHOTS = SITE.parent / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def book_pages() -> list[str]:
    pages = sorted((SITE / "book").glob("*.html")) if SITE.exists() else []
    return [page.relative_to(SITE).as_posix() for page in pages]


def chapter_pages() -> list[Path]:
    return sorted((SITE / "book").glob("ch*.html")) if SITE.exists() else []


def open_page(page, site_url: str, path: str) -> None:
    page.goto(f"{site_url}/{path}", wait_until="load")
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


def check_math(page, path: str) -> None:
    unrendered = page.evaluate(
        """() => [...document.querySelectorAll('.math, span.math, div.math')]
                 .filter(el => !el.querySelector('mjx-container')).map(el => el.textContent)"""
    )
    assert unrendered == [], f"math left unrendered on {path}: {unrendered[:3]}"
    assert page.locator("mjx-merror").count() == 0, f"TeX errors on {path}"


def check_alt_text(page, path: str) -> None:
    missing = page.evaluate(
        """() => [...document.querySelectorAll('main img')]
                 .filter(img => !(img.getAttribute('alt') || '').trim()).map(img => img.src)"""
    )
    assert missing == [], f"images without alt text on {path}: {[m[:80] for m in missing[:3]]}"


#: Image pixels per CSS pixel below which a figure looks blurred on a high-density screen.
MIN_PIXEL_RATIO = 1.5


def check_pixel_ratio(page, path: str) -> None:
    """Every visible figure image has at least MIN_PIXEL_RATIO image px per CSS px."""
    low = page.evaluate(
        """async (limit) => {
            const images = [...document.querySelectorAll('main img')]
                .filter(img => img.offsetParent !== null && img.clientWidth > 0);
            for (const img of images) {
                img.loading = 'eager';
                try { await img.decode(); } catch (error) { /* reported below */ }
            }
            return images.filter(img => !(img.naturalWidth / img.clientWidth >= limit))
                .map(img => [img.getAttribute('src').slice(0, 60), img.naturalWidth,
                             img.clientWidth]);
        }""",
        MIN_PIXEL_RATIO,
    )
    assert low == [], f"blurred images on {path} (src, image px, CSS px): {low[:5]}"


def check_accessibility(page, path: str) -> None:
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes'][:3]]}"
        for v in results["violations"] if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], f"axe on {path}:\n" + "\n".join(serious)


def check_sliders(page, path: str) -> int:
    """Move every slider of every explorer with the keyboard; return how many were moved."""
    moved = 0
    for number, explorer in enumerate(page.locator(".rnnbook-explorer").all(), start=1):
        explorer.scroll_into_view_if_needed()
        handles = explorer.locator(".noUi-handle").all()
        assert handles, f"explorer {number} on {path} has no slider"
        for index, handle in enumerate(handles):
            assert (handle.get_attribute("aria-label") or "").strip(), "slider without a name"
            before = visible_frame(explorer)
            handle.focus()
            value_before = handle.get_attribute("aria-valuenow")
            page.keyboard.press("ArrowRight")
            if handle.get_attribute("aria-valuenow") == value_before:  # at the right end
                page.keyboard.press("ArrowLeft")
            page.wait_for_timeout(50)
            assert visible_frame(explorer) != before, (
                f"slider {index + 1} of explorer {number} on {path} did not change the figure"
            )
            moved += 1
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        explorer.screenshot(path=SCREENSHOTS / f"{Path(path).stem}-explorer{number}.png")
    return moved


@pytest.mark.parametrize("path", book_pages())
def test_page_works_without_a_kernel(site, path):
    site_url, page = site
    open_page(page, site_url, path)
    check_math(page, path)
    check_alt_text(page, path)
    check_pixel_ratio(page, path)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / (path.replace("/", "_") + ".png"), full_page=True)
    moved = check_sliders(page, path)
    if Path(path).name.startswith("ch"):
        assert moved >= 1, f"{path} has no explorer slider"
    check_accessibility(page, path)
    assert page.errors == [], f"JavaScript errors on {path}: {page.errors}"


def test_home_page_redirects_to_the_introduction(site):
    site_url, page = site
    page.goto(f"{site_url}/index.html")
    page.wait_for_url("**/book/intro.html")
    assert page.errors == []


@pytest.mark.parametrize("page_file", chapter_pages(), ids=lambda p: p.name)
def test_chapter_page_fits_the_size_budget(page_file):
    size = page_file.stat().st_size
    assert size <= PAGE_LIMIT, f"{page_file.name} is {size / 1e6:.2f} MB > 1.5 MB"


@pytest.mark.parametrize("page_file", chapter_pages(), ids=lambda p: p.name)
def test_chapter_main_path_is_at_most_3000_words(page_file):
    """Prose outside code, outputs, math, dropdowns and solutions (issue 16)."""
    words = main_path_words.main_path_words(page_file.read_text(encoding="utf-8"))
    assert words <= main_path_words.LIMIT, (
        f"{page_file.name}: {words} main-path words; move secondary tables and commentary into "
        f"dropdowns")


@pytest.mark.parametrize("page_file", chapter_pages(), ids=lambda p: p.name)
def test_exercises_are_numbered_per_chapter(page_file):
    # book/_ext/chapter_exercises.py: chapter NN's exercises read NN.1, NN.2, ... and every
    # solution names its exercise by that number.
    chapter = int(re.match(r"ch(\d+)_", page_file.name).group(1))
    html = page_file.read_text()
    numbers = re.findall(r'class="caption-number">Exercise ([\d.]+) <', html)
    assert len(numbers) >= 3, f"{page_file.name} has {len(numbers)} exercises"
    assert numbers == [f"{chapter}.{k}" for k in range(1, len(numbers) + 1)]
    solved = re.findall(r"Solution to<a [^>]*> Exercise ([\d.]+)", html)
    assert sorted(solved) == sorted(numbers)


def test_site_has_chapters_with_explorers():
    pages = chapter_pages()
    assert pages, "no chapter pages were built"
    for page_file in pages:
        html = page_file.read_text()
        assert "rnnbook-explorer" in html, f"{page_file.name} has no explorer"
        assert "application/vnd.jupyter.widget-state+json" in html


@pytest.mark.parametrize("page_file", chapter_pages(), ids=lambda p: p.name)
def test_launch_buttons_open_this_chapter(page_file):
    # path_to_book "." used to give .../blob/main/./book/...: the URLs must name the notebook.
    html = page_file.read_text()
    notebook = f"book/{page_file.stem}.ipynb"
    assert "/./" not in html
    assert f"https://colab.research.google.com/github/rnnbook/rnnbook/blob/main/{notebook}" in html
    assert f"https://mybinder.org/v2/gh/rnnbook/rnnbook/main?urlpath=lab/tree/{notebook}" in html
    # Colab readers see the setup cell; the HTML does not.
    assert "google.colab" not in html
