"""Sphinx extension: number exercises per chapter ("Exercise 2.1"), not across the book.

sphinx-exercise takes its numbers from Sphinx's figure numbering, which counts across the whole
book unless the table of contents is numbered; chapter 2's first exercise would read
"Exercise 5". After Sphinx assigns its numbers, each exercise of ``book/chNN_*`` gets
(NN, k), k counting the chapter's exercises in order; exercise titles, solution titles and
``{numref}`` references all read these numbers.

Sphinx compares the numbers it assigns with those of the previous build to decide which pages
to rewrite; the book-wide numbers are kept and restored before it does, so that a build with
nothing changed rewrites nothing.
"""

from __future__ import annotations

import copy
import re

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

CHAPTER = re.compile(r"(?:^|/)ch(\d+)_[^/]*$")
FIGTYPE = "exercise"
SAVED = "rnnbook_book_wide_fignumbers"


def chapter_number(docname: str) -> int | None:
    """Return NN for a chapter document ``.../chNN_name``, else None."""
    match = CHAPTER.search(docname)
    return int(match.group(1)) if match else None


def per_chapter(fignumbers: dict) -> dict:
    """Return a copy of ``env.toc_fignumbers`` with chapter exercises numbered (NN, k)."""
    result = copy.deepcopy(fignumbers)
    for docname, numbers in result.items():
        chapter = chapter_number(docname)
        exercises = numbers.get(FIGTYPE)
        if chapter is None or not exercises:
            continue
        in_order = sorted(exercises, key=exercises.get)
        numbers[FIGTYPE] = {ids: (chapter, k) for k, ids in enumerate(in_order, start=1)}
    return result


def _restore_book_wide(app: Sphinx, env: BuildEnvironment) -> list[str]:
    saved = getattr(env, SAVED, None)
    if saved is not None:
        env.toc_fignumbers = saved
    return []


def _number_per_chapter(app: Sphinx, env: BuildEnvironment) -> list[str]:
    setattr(env, SAVED, copy.deepcopy(env.toc_fignumbers))
    env.toc_fignumbers = per_chapter(env.toc_fignumbers)
    return []


def setup(app: Sphinx) -> dict:
    # Sphinx's TocTreeCollector assigns the numbers at the default priority (500).
    app.connect("env-get-updated", _restore_book_wide, priority=100)
    app.connect("env-get-updated", _number_per_chapter, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
