"""The book's one matplotlib style, and sharp figures in notebooks.

:func:`use_book_style` is called when ``rnnbook.plots`` is imported, so that every chapter's
figures share fonts, spines and line widths. In an IPython kernel it also asks the inline
backend for "retina" PNGs: drawn at twice the resolution and displayed at their normal size,
so that static figures have two image pixels per CSS pixel.
"""

from __future__ import annotations

import sys

import matplotlib as mpl

#: rcParams of the book's style (readable at the displayed size; no box around the axes).
BOOK_STYLE: dict[str, object] = {
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 8,
    "legend.framealpha": 0.9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.6,
    "figure.dpi": 100,
    "savefig.dpi": 100,
}


def use_book_style(*, retina: bool = True) -> None:
    """Apply :data:`BOOK_STYLE`; with ``retina``, inside IPython, show figures at 2x.

    Parameters
    ----------
    retina : bool
        Ask IPython's inline backend for PNGs at twice the resolution (ignored outside
        IPython).
    """
    if not isinstance(retina, bool):
        raise TypeError(f"retina must be a bool, got {type(retina).__name__}")
    mpl.rcParams.update(BOOK_STYLE)
    if not retina or "IPython" not in sys.modules:
        return
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("retina")
