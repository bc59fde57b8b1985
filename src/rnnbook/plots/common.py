"""Figure helpers shared by every chapter's plots.

Figures are built with ``matplotlib.figure.Figure`` (not pyplot) so that an explorer can draw
hundreds of them without displaying or leaking any.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from rnnbook.checks import check_count, check_real

OVERFLOW_COLOR = "#b2182b"


def new_figure(width: float = 7.0, height: float = 2.8, ncols: int = 1) -> tuple[Figure, object]:
    """Return ``(fig, axes)``: a figure not registered with pyplot, with ``ncols`` axes."""
    width = check_real("width", width, low=0.5, high=50.0)
    height = check_real("height", height, low=0.5, high=50.0)
    ncols = check_count("ncols", ncols, 1, 12)
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, ncols)
    return fig, axes


def _mark(ax: Axes, x: float, text: str, color: str) -> None:
    ax.axvline(x, color=color, linestyle=":", linewidth=1.5)
    ax.text(x, 0.5, text, color=color, transform=ax.get_xaxis_transform(), rotation=90,
            va="center", ha="right", fontsize=8)


def semilogy_with_overflow(
    ax: Axes, x: np.ndarray, y: np.ndarray, *, ylim: tuple[float, float] | None = None, **style
) -> None:
    """Plot positive ``y`` on a log axis, marking overflow instead of dropping it silently.

    Points that are ``inf``/``nan`` (overflow) end the curve at a red dotted line labelled
    "overflow"; with ``ylim`` given, points above its top are drawn at the top edge and the first
    one is marked "off the scale"; exact zeros (underflow) are noted in grey.
    """
    x = np.asarray(x)
    y = np.asarray(y, dtype=float)
    finite = np.isfinite(y) & (y > 0)
    if ylim is not None:
        ax.set_ylim(*ylim)
        above = finite & (y > ylim[1])
        ax.semilogy(x[finite], np.minimum(y[finite], ylim[1]), **style)
        if above.any():
            _mark(ax, x[np.argmax(above)], f"off the scale (> {ylim[1]:.0e}) ", OVERFLOW_COLOR)
    else:
        ax.semilogy(x[finite], y[finite], **style)
    overflow = ~np.isfinite(y)
    if overflow.any():
        _mark(ax, x[np.argmax(overflow)], "overflow: inf ", OVERFLOW_COLOR)
    underflow = np.isfinite(y) & (y <= 0)
    if underflow.any():
        first = x[np.argmax(underflow)]
        ax.text(first, 0.04, " exactly 0 from here", color="0.3",
                transform=ax.get_xaxis_transform(), fontsize=8)
