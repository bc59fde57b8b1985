"""Figures of chapters 6 and 7: how far a gradient travels through gated cells."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from rnnbook.lstm import GradientFlow
from rnnbook.plots.common import new_figure, semilogy_with_overflow

#: Fixed y-range of the norm panel, so that frames of an explorer can be compared.
NORM_LIMITS = (1e-30, 1e6)


def plot_gradient_flow(result: GradientFlow) -> Figure:
    """Return a two-panel figure: gradient norms against distance (log), and the forget gates.

    Left: ||dc_T/dc_k|| of the LSTM (all paths), the forget-gate path alone, and a vanilla RNN's
    ||dh_T/dh_k||, on a fixed log axis (:func:`~rnnbook.plots.common.semilogy_with_overflow`):
    values above it are marked "off the scale", overflow is marked, values under it leave at the
    bottom.
    Right: histogram of the forget-gate values f_t.
    """
    if not isinstance(result, GradientFlow):
        raise TypeError(f"expected a GradientFlow, got {type(result).__name__}")
    fig, (left, right) = new_figure(width=7.5, height=2.9, ncols=2)
    d = result.distance
    semilogy_with_overflow(left, d, result.lstm, ylim=NORM_LIMITS, color="#2166ac",
                           linewidth=1.8, label=r"LSTM $\|\partial c_T/\partial c_k\|$")
    semilogy_with_overflow(left, d, result.forget_path, ylim=NORM_LIMITS, color="#2166ac",
                           linewidth=1.2, linestyle="--", label=r"forget path $\|\prod f_j\|$")
    semilogy_with_overflow(left, d, result.rnn, ylim=NORM_LIMITS, color="#b35806",
                           linewidth=1.8, label=r"RNN $\|\partial h_T/\partial h_k\|$")
    left.set_xlim(0, d.max())
    left.axhline(1.0, color="0.7", linewidth=0.8)
    left.set_xlabel("distance T - k (steps)")
    left.set_ylabel("spectral norm")
    left.set_title(f"forget-gate bias {result.forget_bias:+g}, scale g = "
                   f"{result.g:g}", fontsize=10)
    left.legend(fontsize=7, loc="upper right", framealpha=0.9)
    right.hist(np.ravel(result.forget_gates), bins=np.linspace(0.0, 1.0, 21),
               color="#92c5de", edgecolor="#2166ac")
    right.set_xlim(0, 1)
    right.set_xlabel("forget gate $f_t$")
    right.set_ylabel("count (steps x units)")
    right.set_title(f"mean $f_t$ = {result.mean_forget:.2f}", fontsize=10)
    return fig
