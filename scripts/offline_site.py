"""Copy the built site into _build/html-offline, refusing a page that loads a file from a CDN.

The site's own scripts (the widget manager, bundled by book/_ext/widget_manager.py) and math
(rendered at build time) are part of it, so the book works with no network at all; this copy is
the one the phone and load-time tests serve, and the check that no page loads a file from
jsDelivr (a new one would have to be vendored from the pinned npm packages, package.json).

Usage: python scripts/offline_site.py (after `make book`).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
OFFLINE = ROOT / "_build" / "html-offline"
CDN = "https://cdn.jsdelivr.net/npm/"


def main() -> int:
    if not (SITE / "index.html").exists():
        raise SystemExit("build the site first: make book")
    online = [p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html") if CDN in p.read_text()]
    if online:
        raise SystemExit(f"pages load files from {CDN}, which the offline copy cannot: "
                         f"{online[:3]}")
    if OFFLINE.exists():
        shutil.rmtree(OFFLINE)
    shutil.copytree(SITE, OFFLINE)
    print(f"Offline site in {OFFLINE.relative_to(ROOT)}{os.sep}: open its index.html.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
