"""The built site in Chromium with no kernel and no internet: every page loads without
JavaScript errors, shows its math typeset at build time, gives its images alt text, has no
serious accessibility violation, and every explorer slider moves its figure when driven from
the keyboard; every chapter is interactive within twice the time of the text page.

The pages are served with every request off this machine blocked, and a test fails if a page
tried one: the site loads nothing from a CDN."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

import pytest

from conftest import OFFLINE_SITE, ROOT, SITE

pytestmark = pytest.mark.browser

spec = importlib.util.spec_from_file_location("main_path_words",
                                              ROOT / "scripts" / "main_path_words.py")
main_path_words = importlib.util.module_from_spec(spec)
spec.loader.exec_module(main_path_words)

PAGE_LIMIT = 1_500_000
#: A chapter must be interactive within this many times the text page's time (issue 19).
INTERACTIVE_RATIO_LIMIT = 2.0
#: What a first visit to a chapter may transfer, gzipped (issue 19).
FIRST_VISIT_GZIP_LIMIT = 1_500_000
LOAD_RUNS = int(os.environ.get("RNNBOOK_LOAD_RUNS", "5"))
SCREENSHOTS = SITE.parent / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def book_pages() -> list[str]:
    pages = sorted((SITE / "book").glob("*.html")) if SITE.exists() else []
    return [page.relative_to(SITE).as_posix() for page in pages]


def chapter_pages() -> list[Path]:
    return sorted((SITE / "book").glob("ch*.html")) if SITE.exists() else []


def open_page(page, site_url: str, path: str) -> None:
    page.goto(f"{site_url}/{path}", wait_until="load")
    if page.locator("script[type='application/vnd.jupyter.widget-state+json']").count():
        page.wait_for_selector(".rnnbook-explorer img", state="attached", timeout=20_000)
    # a11y.js has given every scrolling box its tab stop (an idle pass after the load).
    page.wait_for_selector("html[data-rnnbook-tab-stops='done']", state="attached",
                           timeout=20_000)


def visible_frame(explorer) -> str:
    """Return the src of the one frame of ``explorer`` that is visible."""
    sources = [img.get_attribute("src") for img in explorer.locator("img.rnnbook-frame").all()
               if img.is_visible()]
    assert len(sources) == 1, f"expected one visible frame, found {len(sources)}"
    return sources[0]


def check_math(page, path: str) -> None:
    # book/_ext/build_math.py typesets every equation at build time as MathML: no page loads a
    # math script, every .math element holds a <math> element that the browser lays out (a
    # MathMLElement with a box), the math font loads, and no TeX is left as text, in the prose
    # or in a widget's label.
    assert page.evaluate("() => window.MathJax === undefined && window.katex === undefined"), (
        f"{path} loads a math script")
    unrendered = page.evaluate(
        """() => [...document.querySelectorAll('.math')]
                 .filter(el => !(el.querySelector('.katex > math') instanceof MathMLElement))
                 .map(el => el.textContent)"""
    )
    assert unrendered == [], f"math left unrendered on {path}: {unrendered[:3]}"
    if page.locator("main .math").count():
        # The first 20 equations outside closed dropdowns, each brought on screen: each has a
        # box, and the math font has loaded.
        laid_out = page.evaluate(
            """async () => {
                const shown = [...document.querySelectorAll('main .math math')]
                    .filter(m => m.closest('.math').checkVisibility()).slice(0, 20);
                const empty = [];
                for (const math of shown) {
                    math.scrollIntoView();
                    const box = math.getBoundingClientRect();
                    if (!(box.width > 0 && box.height > 0)) empty.push(math.textContent);
                }
                await document.fonts.load('16px "rnnbook math"', '\u2211');
                return [shown.length, empty, document.fonts.check('16px "rnnbook math"', '\u2211')];
            }""")
        assert laid_out[0] > 0, f"no equation shown on {path}"
        assert laid_out[1] == [], f"MathML not laid out on {path}: {laid_out[1][:3]}"
        assert laid_out[2], f"the math font did not load on {path}"
    errors = page.evaluate(
        "() => [...document.querySelectorAll('.katex-error')]"
        ".map(el => el.title || el.textContent)")
    assert errors == [], f"TeX errors on {path}: {errors[:3]}"
    leftover = page.evaluate(
        r"""() => {
          const walker = document.createTreeWalker(document.querySelector('main') || document.body,
                                                   NodeFilter.SHOW_TEXT);
          const found = [];
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const skip = 'pre, code, script, style, .katex, .highlight';
            if (node.parentElement.closest(skip)) continue;
            if (/\\\(|\\\[|\\begin\{|\$[^$\s][^$]*\$/.test(node.textContent)) {
              found.push(node.textContent.trim().slice(0, 80));
            }
          }
          return found;
        }"""
    )
    assert leftover == [], f"TeX left as text on {path}: {leftover[:3]}"


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


def check_accessibility(page, path: str, rules: list[str] | None = None) -> None:
    """No serious or critical axe violation on the page (of ``rules`` only, if given)."""
    # Sections far from the screen are not laid out (content-visibility: auto in rnnbook.css),
    # so axe's hit tests would find the wrong background behind their text: lay out everything,
    # as a reader scrolling through the page would see it, before axe looks.
    page.add_style_tag(content="section { content-visibility: visible !important; }")
    page.add_script_tag(path=str(AXE))
    options = {"resultTypes": ["violations"]}
    if rules:
        options["runOnly"] = rules
    results = page.evaluate("async (options) => await axe.run(document, options)", options)
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
    views = page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
    assert page.locator(".widget-subarea").count() == views, f"{path}: a widget is not drawn"
    errors = page.locator(".rnnbook-widget-error").all_text_contents()
    assert errors == [], f"{path}: {errors}"
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


def measure_loads(browser):
    """Time to interactive of every chapter on the offline site, each load paired with a load
    of the text page in the same run (benchmarks/page_load.py, also used by `make benchmark`)."""
    spec = importlib.util.spec_from_file_location("page_load",
                                                  ROOT / "benchmarks" / "page_load.py")
    page_load = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = page_load  # its dataclass looks its module up
    spec.loader.exec_module(page_load)

    if not (OFFLINE_SITE / "index.html").exists():
        pytest.fail(f"{OFFLINE_SITE} is not built: run `make book-offline`")
    pages = [page_load.TEXT_PAGE] + [f"book/{p.name}" for p in chapter_pages()]
    results = page_load.measure_pages(browser, OFFLINE_SITE, pages, runs=LOAD_RUNS)
    print(f"\nload average {os.getloadavg()[0]:.2f}\n" + page_load.markdown_table(results))
    return page_load, results


@pytest.fixture(scope="module")
def page_loads(browser):
    return measure_loads(browser)


@pytest.mark.timing
def test_chapters_are_interactive_within_twice_the_text_page(page_loads):
    # What it measures: for each chapter, LOAD_RUNS loads, each next to a load of the text page
    # (intro.html), first visits from a local server with no CPU throttling; the chapter's ratio
    # is the median over the pairs of chapter time / text page time. A burst of other work on
    # this shared machine slows both loads of a pair, or spoils one pair of five, so the median
    # holds; a chapter that is really slower than 2x fails in most pairs, so the test still
    # fails (measured: MathJax chapters at 2.5x-4.7x).
    page_load, results = page_loads
    slow = {page: f"{ratio:.2f}x (pairs: {[round(r, 2) for r in results[page].pair_ratios]})"
            for page, ratio in page_load.ratios(results).items()
            if ratio > INTERACTIVE_RATIO_LIMIT}
    assert slow == {}, (
        f"chapters slower than {INTERACTIVE_RATIO_LIMIT}x the text page "
        f"({results[page_load.TEXT_PAGE].median:.0f} ms): {slow}")


def test_first_visit_to_a_chapter_fits_the_transfer_budget(page_loads):
    _page_load, results = page_loads
    heavy = {page: f"{loads.gzip_bytes / 1e6:.2f} MB" for page, loads in results.items()
             if loads.gzip_bytes > FIRST_VISIT_GZIP_LIMIT}
    assert heavy == {}, f"first visits over {FIRST_VISIT_GZIP_LIMIT / 1e6} MB gzipped: {heavy}"


def test_pages_load_no_script_they_do_not_use():
    # Math is typeset at build time (no MathJax, no KaTeX script or stylesheet, only math.css);
    # the book's widget manager (widget-manager.js, not html-manager's embed.js) only on pages
    # with widgets, deferred; no Font Awesome script.
    for page_file in sorted((SITE / "book").glob("*.html")):
        html = page_file.read_text()
        scripts = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"[^>]*>", html)
        names = [Path(src.split("?")[0]).name for src in scripts]
        assert "katex.min.css" not in html, page_file.name
        for unused in ("tex-mml-chtml.js", "require.js", "embed-amd.js", "embed.js",
                       "fontawesome.js", "katex.min.js"):
            assert unused not in names, f"{page_file.name} loads {unused}"
        has_widgets = "application/vnd.jupyter.widget-state+json" in html
        assert ("widget-manager.js" in names) == has_widgets, page_file.name
        if has_widgets:
            tag = next(t for t in re.findall(r"<script[^>]*>", html)
                       if "widget-manager.js" in t)
            assert "defer" in tag, f"the widget manager blocks the text of {page_file.name}"
        has_math = "<math" in html
        assert ("_static/math.css" in html) == has_math, page_file.name
