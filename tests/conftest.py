"""Shared fixtures: the built site served on 127.0.0.1 and a Chromium page whose requests stay
on this machine (the site loads nothing from a CDN; the tests have no internet)."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# RNNBOOK_SITE points the site tests at another build (for example one chapter built alone).
SITE = Path(os.environ.get("RNNBOOK_SITE", ROOT / "_build" / "html")).resolve()
#: The copy made by scripts/offline_site.py, which needs no network at all.
OFFLINE_SITE = SITE.parent / "html-offline"
NODE_MODULES = ROOT / "node_modules"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
INSTALL_HINT = (
    "Chromium is missing: install it with `sudo apt-get install chromium` (Debian/Ubuntu), "
    "and run `npm ci` for the site's scripts; browser tests are skipped."
)


def find_chromium() -> str | None:
    """Return the path of a Chromium binary, or None."""
    for candidate in (os.environ.get("CHROMIUM"), *CHROMIUM_CANDIDATES):
        if candidate and Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if path is None or not NODE_MODULES.is_dir():
        if os.environ.get("CI"):
            pytest.fail("CI is set but Chromium or node_modules is missing. " + INSTALL_HINT)
        pytest.skip(INSTALL_HINT)
    return path


def serve(directory: Path):
    """Serve ``directory`` on 127.0.0.1 in a thread; yield its base URL."""
    if not (directory / "index.html").exists():
        pytest.fail(f"{directory} is not built: run `make book` (and `make book-offline`)")
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="session")
def site_url():
    yield from serve(SITE)


@pytest.fixture(scope="session")
def offline_site_url():
    yield from serve(OFFLINE_SITE)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # noqa: D102 - silence the access log
        pass


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync",
                  # No background throttling of timers or renderers (the load-time ratio test).
                  "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                  "--disable-backgrounding-occluded-windows"],
        )
        yield browser
        browser.close()


def new_page(browser, site_url: str, *, viewport: tuple[int, int] = (1200, 900),
             scale: float = 1):
    """Return a page whose requests stay on this machine; others are aborted and recorded.

    ``viewport`` is (width, height) in CSS pixels, ``scale`` the device pixel ratio.
    """
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                  device_scale_factor=scale)
    page = context.new_page()
    page.blocked = []  # type: ignore[attr-defined]
    page.errors = []  # type: ignore[attr-defined]

    def route(request_route, request) -> None:
        url = request.url
        if url.startswith(site_url) or url.startswith("data:"):
            request_route.continue_()
            return
        page.blocked.append(url)  # type: ignore[attr-defined]
        request_route.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda error: page.errors.append(str(error)))  # type: ignore[attr-defined]
    return context, page


@pytest.fixture
def site(browser, site_url):
    """``(base URL, page)`` for the public build with every request off this machine blocked:
    the site loads nothing from a CDN (the widget manager and the math are built into it), so it
    is also the offline copy (``scripts/offline_site.py`` refuses a page that loads a CDN file)."""
    context, page = new_page(browser, site_url)
    yield site_url, page
    assert page.blocked == [], f"the site tried the network: {page.blocked[:5]}"
    context.close()
