"""Benchmark the book (a script, not a test): build times, notebook execution, page weight,
time to interactive of every page as a ratio to the text page (benchmarks/page_load.py),
first-visit requests and bytes, slider latency in Chromium, and rnnbook's BPTT decomposition
against torch autograd.

Run: ``make benchmark`` or ``.venv/bin/python benchmarks/book.py [--runs 3]``. Prints medians
of ``--runs`` runs as Markdown tables (the README quotes the latest output). Needs Chromium and
``npm ci`` for the slider measurement; a cold build clears the execution cache, so this takes
several minutes.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import importlib.util
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
SITE = BUILD / "html"
PYTHON = sys.executable

# One press of ArrowRight on a slider handle, then: the time until the explorer's visible frame
# is a different image (DOM; checked by a MutationObserver on every change in the explorer, so
# the measurement adds no polling delay), and until the next animation frame after that, when
# the browser paints the change (paint).
SLIDER_LATENCY_JS = """
async ([explorerIndex, handleIndex]) => {
  const explorer = document.querySelectorAll('.rnnbook-explorer')[explorerIndex];
  const handle = explorer.querySelectorAll('.noUi-handle')[handleIndex];
  const visible = () => [...explorer.querySelectorAll('img.rnnbook-frame')]
      .find(img => img.offsetParent !== null)?.src;
  const before = visible();
  const max = Number(handle.getAttribute('aria-valuemax'));
  const key = Number(handle.getAttribute('aria-valuenow')) >= max ? 'ArrowLeft' : 'ArrowRight';
  handle.focus();
  let start = 0;
  const changed = new Promise(resolve => {
    const observer = new MutationObserver(() => {
      if (visible() !== before) { observer.disconnect(); resolve(performance.now() - start); }
    });
    observer.observe(explorer, {attributes: true, childList: true, subtree: true});
    setTimeout(() => { observer.disconnect(); resolve(null); }, 2000);
  });
  start = performance.now();
  handle.dispatchEvent(new KeyboardEvent('keydown', {key, bubbles: true}));
  const dom = await changed;
  if (dom === null) return null;
  await new Promise(resolve => requestAnimationFrame(resolve));
  return [dom, performance.now() - start];
}
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def build_times(runs: int) -> tuple[list[float], list[float]]:
    """Return (cold build times, no-change rebuild times) in seconds."""
    build = [PYTHON, "scripts/build_book.py"]
    cold, warm = [], []
    for _ in range(runs):
        shutil.rmtree(BUILD, ignore_errors=True)
        cold.append(timed(build))
        warm.append(timed(build))
    return cold, warm


def notebook_times(runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        for _ in range(runs):
            notebook = nbformat.read(path, as_version=4)
            start = time.perf_counter()
            NotebookClient(notebook, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
            times.setdefault(path.name, []).append(time.perf_counter() - start)
    return times


def page_weights() -> dict[str, tuple[int, int, int]]:
    """Return {page: (bytes, explorer frames, main-path words)} for the book's pages."""
    spec = importlib.util.spec_from_file_location("main_path_words",
                                                  ROOT / "scripts" / "main_path_words.py")
    words = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(words)
    weights = {}
    for page in sorted((SITE / "book").glob("*.html")):
        text = page.read_text(encoding="utf-8")
        weights[page.name] = (page.stat().st_size, len(re.findall(r"rnnbook-frame", text)),
                              words.main_path_words(text))
    return weights


def slider_latencies(presses: int) -> dict[str, list[tuple[float, float]]]:
    """Return {page: [(ms to new frame in the DOM, ms to the next paint), ...]}.

    Measured on the offline copy of the site, so that no request leaves the machine.
    """
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        print("Chromium not found: slider latency skipped", file=sys.stderr)
        return {}
    subprocess.run([PYTHON, "scripts/offline_site.py"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    handler = functools.partial(QuietHandler, directory=str(BUILD / "html-offline"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    results: dict[str, list[tuple[float, float]]] = {}

    def route(request_route, request):
        if request.url.startswith((base, "data:")):
            request_route.continue_()
        else:
            request_route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium,
                                             args=["--no-sandbox", "--disable-gpu"])
        for page_file in sorted((SITE / "book").glob("ch*.html")):
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.route("**/*", route)
            page.goto(f"{base}/book/{page_file.name}", wait_until="load")
            page.wait_for_selector(".rnnbook-explorer img", state="attached", timeout=30_000)
            samples = []
            for explorer_index in range(page.locator(".rnnbook-explorer").count()):
                explorer = page.locator(".rnnbook-explorer").nth(explorer_index)
                explorer.scroll_into_view_if_needed()
                for handle_index in range(explorer.locator(".noUi-handle").count()):
                    for _ in range(presses):
                        sample = page.evaluate(SLIDER_LATENCY_JS, [explorer_index, handle_index])
                        if sample is not None:
                            samples.append(tuple(sample))
            results[page_file.name] = samples
            page.close()
        browser.close()
    server.shutdown()
    return results


def page_load_table(runs: int) -> str:
    """Time to interactive of every page, its ratio to intro.html, requests and bytes."""
    from playwright.sync_api import sync_playwright

    spec = importlib.util.spec_from_file_location("page_load", ROOT / "benchmarks" / "page_load.py")
    page_load = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = page_load  # its dataclass looks its module up
    spec.loader.exec_module(page_load)

    site = BUILD / "html-offline"
    pages = [p.relative_to(site).as_posix() for p in sorted((site / "book").glob("*.html"))]
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium,
                                             args=page_load.BROWSER_ARGS)
        results = page_load.measure_pages(browser, site, pages, runs)
        browser.close()
    return page_load.markdown_table(results)


def median(values) -> float:
    return statistics.median(values) if values else float("nan")


def milliseconds(value: float) -> str:
    return "—" if value != value else f"{value:.1f}"  # NaN: a page without explorers


PARTS = ("builds", "notebooks", "pages", "bptt")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--presses", type=int, default=10, help="key presses per slider")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS),
                        help="what to measure (default: all)")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"## Book benchmark ({args.runs} runs, median; load average at start {load:.2f}, "
          f"{os.cpu_count()} cores)\n")

    if "builds" in args.parts:
        cold, warm = build_times(args.runs)
        print("| build | median s | runs |\n|---|---|---|")
        print(f"| cold (cache cleared) | {median(cold):.1f} | "
              f"{', '.join(f'{t:.1f}' for t in cold)} |")
        print(f"| no-change rebuild | {median(warm):.1f} | "
              f"{', '.join(f'{t:.1f}' for t in warm)} |\n")

    if "notebooks" in args.parts:
        print("| notebook | execution, median s |\n|---|---|")
        for name, times in notebook_times(args.runs).items():
            print(f"| {name} | {median(times):.1f} |")

    if "pages" in args.parts:
        latencies = slider_latencies(args.presses)  # also writes the offline site
        print(f"\n### Time to interactive, first visit, offline site ({args.runs} loads a page, "
              "round-robin; median)\n")
        print(page_load_table(args.runs) + "\n")
        print("\n| page | size MB | explorer frames | main-path words | slider: key to new "
              "frame, median ms | to next paint, median ms |\n|---|---|---|---|---|---|")
        for name, (size, frames, words) in page_weights().items():
            samples = latencies.get(name, [])
            dom = milliseconds(median([s[0] for s in samples]))
            paint = milliseconds(median([s[1] for s in samples]))
            print(f"| {name} | {size / 1e6:.2f} | {frames} | {words} | {dom} | {paint} |")

    if "bptt" in args.parts:
        print("\n### BPTT decomposition against torch autograd (T = 1000 and 4000, n = 64)\n")
        result = subprocess.run([PYTHON, "benchmarks/bptt_decomposition.py"], cwd=ROOT,
                                capture_output=True, text=True, check=True)
        print(f"```text\n{result.stdout.strip()}\n```")


if __name__ == "__main__":
    main()
