"""Figures of chapter 1: the hidden state carrying a pulse."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from rnnbook.plots.common import new_figure, semilogy_with_overflow
from rnnbook.pulse import PulseResponse


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
