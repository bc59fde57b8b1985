"""Figures of the book. Each function takes a compute result and returns a Figure.

Figures are built with ``matplotlib.figure.Figure`` (not pyplot) so that an explorer can draw
hundreds of them without displaying or leaking any.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from rnnbook.pulse import PulseResponse

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


def plot_pulse_response(result: PulseResponse) -> Figure:
    """Return a two-panel figure: four hidden units over time, and the pulse's trace (log)."""
    fig, (left, right) = new_figure(ncols=2)
    h = np.clip(result.h[:, :4], -1e6, 1e6)
    left.plot(result.t, h, linewidth=1.2)
    left.set_xlabel("step t")
    left.set_ylabel("$h_t$ (4 of the units)")
    left.set_title("hidden state after a pulse at t = 1", fontsize=10)
    semilogy_with_overflow(right, result.t, result.trace, color="k", linewidth=1.5)
    right.set_ylim(1e-12, 1e6)
    right.axhline(1.0, color="0.7", linewidth=0.8)
    right.set_xlabel("step t")
    right.set_ylabel(r"$\|h_t - h_t^{\mathrm{no\ pulse}}\|$")
    right.set_title(
        f"{result.activation}, scale g = {result.recurrent_scale:g} "
        f"($\\rho(W)$ = {result.spectral_radius:.2f})",
        fontsize=10,
    )
    return fig
