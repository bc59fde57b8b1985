"""Time to interactive of every page of the offline site, as a ratio to the text page.

A page is interactive when it has loaded (the ``load`` event), its web fonts are ready, its math
is done (MathJax's first typeset, when the page loads MathJax; nothing to wait for when the math
was rendered at build time) and every explorer shows its figure and its sliders. Each load is a
first visit (a new browser context, empty cache) from a local server, so the network costs
nothing and the time is the browser's work. CPU throttling is set off explicitly (rate 1 through
the DevTools protocol) and Chromium's background throttling is disabled.

The ratio to the text page (``intro.html``) is measured in pairs: in each of ``runs`` rounds,
every page is loaded right next to a load of the text page (the text page first in even rounds,
second in odd ones, so neither profits from going second), and the page's ratio is the median
over the rounds of its time over its partner's. On this shared 2-core machine a burst of other
work slows both loads of a pair alike, or spoils one pair of several; comparing medians of loads
minutes apart would let a burst during the chapters and calm during the text page inflate the
ratio (issue 19's flaky test).

Also recorded per page: the requests of the first visit and their bytes, raw and gzipped (each
served file compressed with gzip -6, as a server would).

Used by ``benchmarks/book.py`` (``make benchmark``) and ``tests/test_site.py``.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import statistics
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

TEXT_PAGE = "book/intro.html"
#: Chromium's flags for the measurement: no background throttling of timers or renderers.
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-timer-throttling",
                "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows"]

# Resolves to performance.now() once the page is interactive (polled on every animation frame
# by Playwright's wait_for_function).
INTERACTIVE_JS = """
() => {
  if (document.readyState !== 'complete') return false;
  if (document.fonts && document.fonts.status !== 'loaded') return false;
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise && !window.__rnnbookMathDone) {
    if (!window.__rnnbookMathWaiting) {
      window.__rnnbookMathWaiting = true;
      mj.startup.promise.then(() => { window.__rnnbookMathDone = true; });
    }
    return false;
  }
  const states = document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]').length;
  if (states) {
    const explorers = [...document.querySelectorAll('.rnnbook-explorer')];
    if (!explorers.length) return false;
    for (const explorer of explorers) {
      if (!explorer.querySelector('img.rnnbook-frame')) return false;
      if (!explorer.querySelector('.noUi-handle')) return false;
    }
  }
  return performance.now();
}
"""


@dataclass
class PageLoads:
    """Measurements of one page: times in ms, and the first visit's requests and bytes."""

    times: list[float] = field(default_factory=list)
    #: This page's time over the text page's time in the same pair, one per round.
    pair_ratios: list[float] = field(default_factory=list)
    requests: int = 0
    raw_bytes: int = 0
    gzip_bytes: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def ratio(self) -> float:
        """Median of the paired ratios to the text page."""
        return statistics.median(self.pair_ratios)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@functools.cache
def file_sizes(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    return len(data), len(gzip.compress(data, compresslevel=6))


def served_file(site: Path, base: str, url: str) -> Path | None:
    if not url.startswith(base):
        return None
    path = site / unquote(urlsplit(url).path).lstrip("/")
    if path.is_dir():
        path = path / "index.html"
    return path if path.is_file() else None


def measure_pages(browser, site: Path, pages: list[str], runs: int = 3,
                  timeout_ms: int = 60_000, text_page: str = TEXT_PAGE) -> dict[str, PageLoads]:
    """Load each page of ``site`` (paths relative to it) ``runs`` times, each load paired with
    a load of ``text_page``; return every page's times and paired ratios (module docstring)."""
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    others = [page for page in pages if page != text_page]
    results = {page: PageLoads() for page in [text_page, *others]}

    def load(page_path: str, record_bytes: bool) -> float:
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})  # no throttling
        urls: list[str] = []
        page.route("**/*", lambda route, request: (
            route.continue_() if request.url.startswith((base, "data:")) else route.abort()))
        page.on("requestfinished", lambda request: urls.append(request.url))
        page.goto(f"{base}/{page_path}", wait_until="load", timeout=timeout_ms)
        handle = page.wait_for_function(INTERACTIVE_JS, timeout=timeout_ms)
        elapsed = float(handle.json_value())
        if record_bytes:
            page.wait_for_timeout(1000)  # late requests (fonts, icons)
            files = [served_file(site, base, url) for url in urls
                     if not url.startswith("data:")]
            sizes = [file_sizes(f) for f in files if f is not None]
            loads = results[page_path]
            loads.requests = len(files)
            loads.raw_bytes = sum(raw for raw, _ in sizes)
            loads.gzip_bytes = sum(gz for _, gz in sizes)
        context.close()
        return elapsed

    try:
        for run in range(runs):
            for page_path in others:
                first = run == 0
                if run % 2 == 0:
                    text = load(text_page, first and page_path == others[0])
                    elapsed = load(page_path, first)
                else:
                    elapsed = load(page_path, False)
                    text = load(text_page, False)
                results[text_page].times.append(text)
                results[page_path].times.append(elapsed)
                results[page_path].pair_ratios.append(elapsed / text)
    finally:
        server.shutdown()
    results[text_page].pair_ratios = [1.0]
    return results


def ratios(results: dict[str, PageLoads]) -> dict[str, float]:
    """Return each page's median paired ratio to the text page."""
    return {page: loads.ratio for page, loads in results.items()}


def markdown_table(results: dict[str, PageLoads]) -> str:
    rows = ["| page | interactive, median ms | runs ms | x text page (median of pairs) | "
            "requests | MB raw | MB gzip |", "|---|---|---|---|---|---|---|"]
    for page, ratio in ratios(results).items():
        loads = results[page]
        times = loads.times if len(loads.times) <= 12 else [min(loads.times), max(loads.times)]
        rows.append(f"| {Path(page).name} | {loads.median:.0f} | "
                    f"{', '.join(f'{t:.0f}' for t in times)} | {ratio:.2f}x | "
                    f"{loads.requests} | {loads.raw_bytes / 1e6:.2f} | "
                    f"{loads.gzip_bytes / 1e6:.2f} |")
    return "\n".join(rows)


def main() -> None:
    import argparse
    import shutil

    from playwright.sync_api import sync_playwright

    root = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=root / "_build" / "html-offline")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("pages", nargs="*")
    args = parser.parse_args()
    pages = args.pages or [p.relative_to(args.site).as_posix()
                           for p in sorted((args.site / "book").glob("*.html"))]
    if TEXT_PAGE not in pages:
        pages.insert(0, TEXT_PAGE)
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        results = measure_pages(browser, args.site, pages, args.runs)
        browser.close()
    print(markdown_table(results))


if __name__ == "__main__":
    main()
