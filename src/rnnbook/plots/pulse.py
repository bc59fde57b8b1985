"""Figures of chapter 1: the hidden state carrying a pulse."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from rnnbook.checks import check_type
from rnnbook.plots.common import OVERFLOW_COLOR, new_figure, semilogy_with_overflow
from rnnbook.pulse import PulseResponse


def plot_pulse_response(result: PulseResponse) -> Figure:
    """Return a two-panel figure: four hidden units over time, and the pulse's trace (log)."""
    check_type("result", result, PulseResponse)
    fig, (left, right) = new_figure(ncols=2)
    limit = 3.0
    left.plot(result.t, np.clip(result.h[:, :4], -limit, limit), linewidth=1.2)
    left.set_ylim(-1.1 * limit, 1.1 * limit)
    outside = ~(np.abs(result.h[:, :4]) <= limit).all(axis=1)
    if outside.any():
        first = result.t[np.argmax(outside)]
        left.axvline(first, color=OVERFLOW_COLOR, linestyle=":", linewidth=1.5)
        left.text(first, 0.02, f" |h| > {limit:g} from step {first}", color=OVERFLOW_COLOR,
                  transform=left.get_xaxis_transform(), fontsize=8)
    left.set_xlabel("step t")
    left.set_ylabel("$h_t$ (4 of the units)")
    left.set_title("hidden state after a pulse at t = 1", fontsize=10)
    semilogy_with_overflow(right, result.t, result.trace, ylim=(1e-12, 1e8), color="k",
                           linewidth=1.5)
    right.axhline(1.0, color="0.7", linewidth=0.8)
    right.set_xlabel("step t")
    right.set_ylabel(r"$\|h_t - h_t^{\mathrm{no\ pulse}}\|$")
    right.set_title(
        f"{result.activation}, scale g = {result.g:g} "
        f"($\\rho(W)$ = {result.rho:.2f})",
        fontsize=10,
    )
    return fig
