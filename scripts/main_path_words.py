"""Count the words of a built page's main path: its prose, outside code, outputs, math,
dropdowns and solutions (issue 16: at most 3,000 words per chapter).

Usage: python scripts/main_path_words.py [_build/html/book/ch01_*.html ...]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 3000

#: What is not main-path prose: code cells with their outputs, code blocks, math, dropdowns
#: (MyST ``dropdown``, ``:class: dropdown`` admonitions and solutions, ``<details>``), the
#: heading permalinks and hidden elements.
EXCLUDED = (
    "div.cell", "div.highlight", "pre", ".math", "mjx-container", "details", ".dropdown",
    ".solution", ".toggle-hidden", "a.headerlink", "script", "style", "[hidden]",
)
WORD = re.compile(r"[^\W_](?:[\w'’.,-]*[^\W_])?")


def main_path_words(html: str) -> int:
    """Return the number of words of ``html``'s main path (inside ``<main>`` or the article)."""
    if not isinstance(html, str):
        raise TypeError(f"html must be a str, got {type(html).__name__}")
    soup = BeautifulSoup(html, "html.parser")
    root = soup.select_one("article.bd-article") or soup.select_one("main") or soup
    for selector in EXCLUDED:
        for element in root.select(selector):
            element.decompose()
    return len(WORD.findall(root.get_text(" ")))


def main(argv: list[str]) -> int:
    pages = [Path(p) for p in argv] or sorted((ROOT / "_build" / "html" / "book").glob("*.html"))
    over = 0
    for page in pages:
        words = main_path_words(page.read_text(encoding="utf-8"))
        over += words > LIMIT
        print(f"{page.name:40} {words:6d}{'  over ' + str(LIMIT) if words > LIMIT else ''}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
