"""Figures of chapter 7: the update gate forward and backward, and measured step times."""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from rnnbook.experiments.speed import SpeedResults, speed_table
from rnnbook.plots.common import new_figure
from rnnbook.plots.gates import gate_flow_figure
from rnnbook.update_gate import Interpolation, UpdateGateFlow

#: Fixed y-range of the gradient-norm panel, so that the frames of an explorer compare.
NORM_LIMITS = (1e-24, 1e8)
GRU_COLOR, RNN_COLOR = "#1b7837", "#b35806"
MODEL_COLORS = {"lstm": "#2166ac", "gru": GRU_COLOR}


def plot_update_flow(result: UpdateGateFlow) -> Figure:
    """Return a two-panel figure: gradient norms against distance (log), and the update gates.

    Left: the GRU's ||dh_T/dh_k|| (all paths), the copy path ||prod diag(z_j)|| alone, and a
    tanh RNN's ||dh_T/dh_k||, on a fixed log axis; values above it are marked "off the scale",
    overflow is marked, values below it leave at the bottom. Right: histogram of u_t.
    """
    if not isinstance(result, UpdateGateFlow):
        raise TypeError(f"expected an UpdateGateFlow, got {type(result).__name__}")
    return gate_flow_figure(
        result.distance,
        [(result.gru, dict(color=GRU_COLOR, linewidth=1.8,
                           label=r"GRU $\|\partial h_T/\partial h_k\|$")),
         (result.update_path, dict(color=GRU_COLOR, linewidth=1.2, linestyle="--",
                                   label=r"copy path $\|\prod \mathrm{diag}(z_j)\|$")),
         (result.rnn, dict(color=RNN_COLOR, linewidth=1.8,
                           label=r"tanh RNN $\|\partial h_T/\partial h_k\|$"))],
        result.update_gates, ylim=NORM_LIMITS,
        title=f"update-gate bias {result.update_bias:+g}, scale g = {result.g:g}",
        legend_loc="lower left", gate=("update gate", "u"), colors=("#a6dba0", GRU_COLOR),
        mean=result.mean_update,
    )


def plot_interpolation(result: Interpolation) -> Figure:
    """Return one panel: the candidates h̃_t (dots) and h_t for each constant update gate u."""
    if not isinstance(result, Interpolation):
        raise TypeError(f"expected an Interpolation, got {type(result).__name__}")
    fig, ax = new_figure(width=7.0, height=2.8)
    ax.plot(result.t, result.candidate, linestyle="none", marker=".", color="0.6",
            label=r"candidate $\tilde h_t$")
    colors = colormaps["viridis"](np.linspace(0.0, 0.85, len(result.z_values)))
    for z, states, color in zip(result.z_values, result.states, colors, strict=True):
        ax.plot(result.t, states, color=color, linewidth=1.6, label=f"$h_t$, u = {z:g}")
    ax.axhline(0.0, color="0.85", linewidth=0.8)
    ax.set_xlim(0, result.t[-1] + 1)
    ax.set_ylim(-1.1, 1.55)
    ax.set_xlabel("step t")
    ax.set_ylabel("value")
    ax.legend(fontsize=7, loc="upper center", ncols=len(result.z_values) + 1, framealpha=0.9)
    return fig


def plot_step_times(results: SpeedResults) -> Figure:
    """Return two panels (torch default, oneDNN off): ms per training step of LSTM and GRU.

    Bars are medians over rounds; the thin lines span the fastest and slowest round. Each
    GRU bar is labelled with its GRU/LSTM ratio.
    """
    if not isinstance(results, SpeedResults):
        raise TypeError(f"expected SpeedResults, got {type(results).__name__}")
    rows = speed_table(results)
    paths = list(results.config.fused)
    fig, axes = new_figure(width=7.5, height=2.8, ncols=len(paths))
    axes = np.atleast_1d(axes)
    hiddens = list(results.config.hiddens)
    positions = np.arange(len(hiddens))
    top = max(1e3 * t.seconds.max() for t in results.timings) * 1.25
    for ax, fused in zip(axes, paths, strict=True):
        for offset, model in ((-0.2, "lstm"), (0.2, "gru")):
            timings = [results.timing(model, h, fused) for h in hiddens]
            medians = np.array([1e3 * t.median for t in timings])
            low = medians - np.array([1e3 * t.seconds.min() for t in timings])
            high = np.array([1e3 * t.seconds.max() for t in timings]) - medians
            ax.bar(positions + offset, medians, width=0.38, color=MODEL_COLORS[model],
                   label=model.upper())
            ax.errorbar(positions + offset, medians, yerr=[low, high], fmt="none",
                        ecolor="0.2", linewidth=0.8, capsize=2)
        for i, hidden in enumerate(hiddens):
            row = next(r for r in rows if r["fused"] == fused and r["hidden"] == hidden)
            gru_top = 1e3 * results.timing("gru", hidden, fused).seconds.max()
            ax.text(i + 0.2, gru_top + 0.02 * top, f"{row['ratio']:.2f}x", ha="center",
                    va="bottom", fontsize=8)
        ax.set_xticks(positions, [f"n = {h}" for h in hiddens])
        ax.set_ylim(0, top)
        ax.set_ylabel("ms per training step")
        ax.set_title("torch default (oneDNN allowed)" if fused else "oneDNN switched off",
                     fontsize=10)
        ax.legend(fontsize=8, loc="upper left")
    return fig
