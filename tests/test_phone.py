"""Chapter pages of both editions on a phone (390 x 844 CSS px, device pixel ratio 2),
offline build.

A figure fitted to a 390 px screen would shrink its axis labels to 4-5 px; instead figures keep
most of their desktop size and scroll sideways in their own box. The page itself never scrolls
sideways, every slider's readout stays on the screen, and a box that scrolls can be reached
from the keyboard (axe's ``scrollable-region-focusable``)."""

from __future__ import annotations

import pytest
from test_site import check_accessibility, open_page

from conftest import OFFLINE_SITE, new_page

pytestmark = pytest.mark.browser

PHONE = (390, 844)
#: A figure is shown at least this wide (CSS px), or at its own width if that is smaller.
MIN_FIGURE_WIDTH = 540

LAYOUT = """(minWidth) => {
  const width = document.documentElement.clientWidth;
  const shown = el => el.getBoundingClientRect().width > 0;
  const figures = [...document.querySelectorAll('main .cell_output img, main img.rnnbook-frame')]
    .filter(shown).map(img => ({
      own: parseFloat(img.style.width) || +img.getAttribute('width') || img.naturalWidth / 2,
      shown: img.getBoundingClientRect().width,
      box: img.closest('.cell_output, .widget-html-content'),
    }));
  return {
    pageOverflow: document.scrollingElement.scrollWidth - width,
    figures: figures.length,
    squeezed: figures.filter(f => f.shown + 1 < Math.min(f.own, minWidth))
      .map(f => [f.own, f.shown]),
    unreachable: figures.filter(f => f.box.scrollWidth > f.box.clientWidth + 1
                                     && f.box.getAttribute('tabindex') !== '0').length,
    sliders: [...document.querySelectorAll('.rnnbook-explorer .widget-slider')].filter(shown)
      .map(s => s.getBoundingClientRect().right).filter(right => right > width + 1),
  };
}"""


def chapters() -> list[str]:
    """Chapter pages of both editions, as paths under the site root."""
    pages = [*sorted(OFFLINE_SITE.glob("book/ch*.html")),
             *sorted(OFFLINE_SITE.glob("zh/book/ch*.html"))]
    return [p.relative_to(OFFLINE_SITE).as_posix() for p in pages]


@pytest.fixture(scope="module")
def phone(browser, offline_site_url):
    context, page = new_page(browser, offline_site_url, viewport=PHONE, scale=2)
    yield offline_site_url, page
    context.close()


@pytest.mark.parametrize("name", chapters())
def test_chapter_reads_on_a_phone(phone, name):
    site_url, page = phone
    open_page(page, site_url, name)
    page.wait_for_timeout(300)
    layout = page.evaluate(LAYOUT, MIN_FIGURE_WIDTH)
    assert layout["figures"] >= 1, f"{name}: no figure"
    assert layout["pageOverflow"] <= 0, f"{name} scrolls sideways by {layout['pageOverflow']} px"
    assert layout["squeezed"] == [], f"{name}: figures squeezed (own, shown px): {layout}"
    assert layout["unreachable"] == 0, f"{name}: a figure box scrolls but takes no focus"
    assert layout["sliders"] == [], f"{name}: sliders run off the screen at {layout['sliders']}"
    check_accessibility(page, name, rules=["scrollable-region-focusable"])
