"""Copy the built site into _build/html-offline with every CDN file served from the site.

The site's own scripts (the widget manager, bundled by book/_ext/widget_manager.py) and math
(rendered at build time) are part of it, so today no page loads a file from jsDelivr, and this
copy doubles as the check of that: a page that loads a package from jsDelivr fails here unless
the package is listed in ``VENDORED``, whose files are then copied from the pinned npm packages
(package.json) under ``_static/vendor/<package>/`` and the page rewritten to load them from
there, so the book works with no network at all.

Usage: python scripts/offline_site.py (after `make book` and `npm ci`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
OFFLINE = ROOT / "_build" / "html-offline"
NODE_MODULES = ROOT / "node_modules"
CDN = "https://cdn.jsdelivr.net/npm/"
CDN_URL = re.compile(re.escape(CDN) + r"((?:@[^/@\"']+/)?[^/@\"']+)@([^/\"']+)/")
#: What each package needs at run time, relative to the package folder.
VENDORED: dict[str, list[str]] = {}


def installed_version(package: str) -> str:
    """Return the version of ``package`` in node_modules."""
    manifest = NODE_MODULES / package / "package.json"
    if not manifest.exists():
        raise SystemExit(f"{manifest} is missing: run `npm ci` first")
    return json.loads(manifest.read_text())["version"]


def vendor(target: Path) -> None:
    """Copy the run-time files of every vendored package into ``target``."""
    for package, patterns in VENDORED.items():
        source = NODE_MODULES / package
        for pattern in patterns:
            for path in source.glob(pattern):
                destination = target / package / path.relative_to(source)
                if path.is_dir():
                    shutil.copytree(path, destination, ignore=shutil.ignore_patterns("*.map"))
                else:
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, destination)


def rewrite(html: str, vendor_prefix: str) -> str:
    """Return ``html`` with pinned jsDelivr URLs pointing at ``vendor_prefix``."""

    def local(match: re.Match) -> str:
        package, version = match.groups()
        if package not in VENDORED:
            raise SystemExit(f"the page loads {package} from the CDN, which is not vendored")
        if installed_version(package) != version:
            raise SystemExit(f"the page wants {package}@{version} but node_modules has "
                             f"{installed_version(package)}: align package.json")
        return f"{vendor_prefix}{package}/"

    html = CDN_URL.sub(local, html)
    return html.replace(f'data-jupyter-widgets-cdn="{CDN}"',
                        f'data-jupyter-widgets-cdn="{vendor_prefix}"')


def main() -> int:
    if not (SITE / "index.html").exists():
        raise SystemExit("build the site first: make book")
    if OFFLINE.exists():
        shutil.rmtree(OFFLINE)
    shutil.copytree(SITE, OFFLINE)
    vendor(OFFLINE / "_static" / "vendor")
    for page in OFFLINE.rglob("*.html"):
        depth = len(page.relative_to(OFFLINE).parts) - 1
        prefix = "../" * depth + "_static/vendor/"
        page.write_text(rewrite(page.read_text(), prefix))
    leftover = [p for p in OFFLINE.rglob("*.html") if CDN in p.read_text()]
    if leftover:
        raise SystemExit(f"CDN references left in {leftover[:3]}")
    print(f"Offline site in {OFFLINE.relative_to(ROOT)}{os.sep}: open its index.html.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
