"""Figure helpers shared by every chapter's plots.

Figures are built with ``matplotlib.figure.Figure`` (not pyplot) so that an explorer can draw
hundreds of them without displaying or leaking any.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

OVERFLOW_COLOR = "#b2182b"


def new_figure(width: float = 7.0, height: float = 2.8, ncols: int = 1):
    """Return ``(fig, axes)``: a figure not registered with pyplot, with ``ncols`` axes."""
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, ncols)
    return fig, axes


def semilogy_with_overflow(ax: Axes, x: np.ndarray, y: np.ndarray, **style) -> None:
    """Plot y > 0 on a log axis; mark where y overflows (inf/nan) or underflows (0)."""
    y = np.asarray(y, dtype=float)
    finite = np.isfinite(y) & (y > 0)
    ax.semilogy(x[finite], y[finite], **style)
    overflow = ~np.isfinite(y)
    if overflow.any():
        first = x[np.argmax(overflow)]
        ax.axvline(first, color=OVERFLOW_COLOR, linestyle=":", linewidth=1.5)
        ax.text(first, 0.5, f" overflow (inf) from step {first}", color=OVERFLOW_COLOR,
                transform=ax.get_xaxis_transform(), rotation=90, va="center", ha="right",
                fontsize=8)
    underflow = np.isfinite(y) & (y <= 0)
    if underflow.any():
        first = x[np.argmax(underflow)]
        ax.text(first, 0.05, " exactly 0 from here", color="0.3",
                transform=ax.get_xaxis_transform(), fontsize=8)
