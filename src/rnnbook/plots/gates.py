"""Figures of chapters 6 and 7: how far a gradient travels through gated cells."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from rnnbook.lstm import GradientFlow
from rnnbook.plots.cells import fit_log_limits
from rnnbook.plots.common import new_figure, semilogy_with_overflow

#: Widest y-range of the norm panel; each frame's axis is fitted to its data inside it.
NORM_LIMITS = (1e-30, 1e6)


def plot_gradient_flow(result: GradientFlow) -> Figure:
    """Return a two-panel figure: gradient norms against distance (log), and the forget gates.

    Left: ||dc_T/dc_k|| of the LSTM (all paths), the forget-gate path alone, and a vanilla RNN's
    ||dh_T/dh_k||, on a log axis fitted to the data within :data:`NORM_LIMITS`
    (:func:`~rnnbook.plots.common.semilogy_with_overflow`): values above it are marked "off the
    scale", overflow is marked, values under it leave at the
    bottom.
    Right: histogram of the forget-gate values f_t.
    """
    if not isinstance(result, GradientFlow):
        raise TypeError(f"expected a GradientFlow, got {type(result).__name__}")
    lstm, rnn = "#2166ac", "#b35806"
    return gate_flow_figure(
        result.distance,
        [(result.lstm, dict(color=lstm, linewidth=1.8,
                            label=r"LSTM $\|\partial c_T/\partial c_k\|$")),
         (result.forget_path, dict(color=lstm, linewidth=1.2, linestyle="--",
                                   label=r"forget path $\|\prod f_j\|$")),
         (result.rnn, dict(color=rnn, linewidth=1.8,
                           label=r"RNN $\|\partial h_T/\partial h_k\|$"))],
        result.forget_gates,
        ylim=fit_log_limits(result.lstm, result.forget_path, result.rnn, bounds=NORM_LIMITS),
        title=f"forget-gate bias {result.forget_bias:+g}, scale g = {result.g:g}",
        legend_loc="best", gate=("forget gate", "f"), colors=("#92c5de", lstm),
        mean=result.mean_forget,
    )


def gate_flow_figure(distance: np.ndarray, curves: list[tuple[np.ndarray, dict]],
                     gates: np.ndarray, *, ylim: tuple[float, float], title: str,
                     legend_loc: str, gate: tuple[str, str], colors: tuple[str, str],
                     mean: float) -> Figure:
    """Return the two panels of chapters 6 and 7: norms against distance, gate histogram.

    Left: each ``(values, style)`` of ``curves`` against ``distance`` on the fixed log axis
    ``ylim`` (:func:`~rnnbook.plots.common.semilogy_with_overflow`), with 1 marked. Right: the
    histogram of ``gates`` on [0, 1], named by ``gate`` = (name, symbol), in ``colors`` = (fill,
    edge), titled with their ``mean``.
    """
    fig, (left, right) = new_figure(width=7.5, height=2.9, ncols=2)
    for values, style in curves:
        semilogy_with_overflow(left, distance, values, ylim=ylim, **style)
    left.axhline(1.0, color="0.7", linewidth=0.8)
    left.set_xlim(0, distance.max())
    left.set_xlabel("distance T - k (steps)")
    left.set_ylabel("spectral norm")
    left.set_title(title, fontsize=10)
    left.legend(fontsize=7, loc=legend_loc, framealpha=0.9)
    name, symbol = gate
    right.hist(np.ravel(gates), bins=np.linspace(0.0, 1.0, 21), color=colors[0],
               edgecolor=colors[1])
    right.set_xlim(0, 1)
    right.set_xlabel(f"{name} ${symbol}_t$")
    right.set_ylabel("count (steps x units)")
    right.set_title(f"mean ${symbol}_t$ = {mean:.2f}", fontsize=10)
    return fig
