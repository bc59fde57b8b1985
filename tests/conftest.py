"""Shared fixtures: the built site served on 127.0.0.1 and a Chromium page that loads the
site's CDN scripts from node_modules (the tests have no internet)."""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# RNNBOOK_SITE points the site tests at another build (for example one chapter built alone).
SITE = Path(os.environ.get("RNNBOOK_SITE", ROOT / "_build" / "html")).resolve()
NODE_MODULES = ROOT / "node_modules"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CDN_PATTERN = re.compile(r"^https://cdn\.jsdelivr\.net/npm/((?:@[^/@]+/)?[^/@]+)@([^/]+)/(.*)$")
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


def local_asset(url: str) -> Path | None:
    """Return the node_modules file that a jsDelivr npm URL names, if that version is pinned."""
    match = CDN_PATTERN.match(url.split("?")[0])
    if not match:
        return None
    package, version, path = match.groups()
    package_json = NODE_MODULES / package / "package.json"
    if not package_json.exists():
        return None
    import json

    if json.loads(package_json.read_text())["version"] != version:
        return None
    file = NODE_MODULES / package / path
    return file if file.is_file() else None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if path is None or not NODE_MODULES.is_dir():
        if os.environ.get("CI"):
            pytest.fail("CI is set but Chromium or node_modules is missing. " + INSTALL_HINT)
        pytest.skip(INSTALL_HINT)
    return path


@pytest.fixture(scope="session")
def site_url():
    if not (SITE / "index.html").exists():
        pytest.fail("the site is not built: run `make book` first")
    handler = functools.partial(QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


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
                  "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, site_url):
    """A page whose requests stay on this machine: CDN scripts come from node_modules."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.blocked = []  # type: ignore[attr-defined]

    def route(request_route, request) -> None:
        url = request.url
        if url.startswith(site_url) or url.startswith("data:"):
            request_route.continue_()
            return
        asset = local_asset(url)
        if asset is not None:
            request_route.fulfill(path=str(asset))
            return
        page.blocked.append(url)  # type: ignore[attr-defined]
        request_route.abort()

    page.route("**/*", route)
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda error: page.errors.append(str(error)))  # type: ignore[attr-defined]
    yield page
    context.close()
