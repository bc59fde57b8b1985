"""Figures of chapter 8: path length, the LRU ring, scan timings and the adding experiment."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Wedge

from rnnbook.linear_recurrence import RingSummary
from rnnbook.path_length import PathComparison
from rnnbook.plots.common import new_figure

MODEL_COLORS = {"rnn": "#b35806", "lstm": "#2166ac", "gru": "#1b7837", "lru": "#762a83",
                "mingru": "#c51b7d", "attention": "#01665e"}
MODEL_NAMES = {"rnn": "RNN (tanh)", "lstm": "LSTM", "gru": "GRU", "lru": "LRU",
               "mingru": "minGRU", "attention": "attention"}
#: Fixed y-range of the path-length panel, so that the frames of an explorer compare.
PATH_LIMITS = (1e-40, 10.0)


def plot_path_comparison(result: PathComparison) -> Figure:
    """Return ||dL/dx_{T-d}|| against d (log) for every model, the selected one drawn bold."""
    if not isinstance(result, PathComparison):
        raise TypeError(f"expected a PathComparison, got {type(result).__name__}")
    fig, ax = new_figure(width=6.4, height=2.9)
    for model, profile in result.profiles.items():
        bold = model == result.selected
        norm = np.where(profile.norm > 0, profile.norm, np.nan)
        ax.semilogy(profile.distance, norm, color=MODEL_COLORS[model],
                    linewidth=2.4 if bold else 1.0, alpha=1.0 if bold else 0.45,
                    label=MODEL_NAMES[model])
    ax.set_ylim(*PATH_LIMITS)
    ax.set_xlim(0, result.T - 1)
    ax.set_xlabel("distance d (steps back from T)")
    ax.set_ylabel(r"$\|\partial L/\partial x_{T-d}\|$")
    chosen = result.profiles[result.selected]
    far = chosen.norm[-1] / chosen.norm[1] if result.T > 1 else 1.0
    ax.set_title(f"T = {result.T}, {MODEL_NAMES[result.selected]}: "
                 f"far/near (d = {result.T - 1} vs d = 1) = {far:.1e}", fontsize=10)
    ax.legend(fontsize=8, loc="lower left", framealpha=0.9)
    return fig


def plot_lru_ring(result: RingSummary) -> Figure:
    """Return two panels: the eigenvalues in the complex plane, and |lambda|^d against d."""
    if not isinstance(result, RingSummary):
        raise TypeError(f"expected a RingSummary, got {type(result).__name__}")
    fig, (plane, decay) = new_figure(width=7.4, height=3.0, ncols=2)
    fig.get_layout_engine().set(w_pad=0.05)
    plane.add_patch(Wedge((0, 0), result.r_max, 0, 360, width=result.r_max - result.r_min,
                          color="#e7d4e8", zorder=0))
    plane.add_patch(Circle((0, 0), 1.0, fill=False, color="0.3", linewidth=1.0))
    plane.scatter(result.lam.real, result.lam.imag, s=9, color=MODEL_COLORS["lru"], zorder=2)
    plane.set_xlim(-1.1, 1.1)
    plane.set_ylim(-1.1, 1.1)
    plane.set_aspect("equal")
    plane.set_xlabel(r"Re $\lambda$")
    plane.set_ylabel(r"Im $\lambda$")
    plane.set_title(f"ring {result.r_min:g} <= |λ| <= {result.r_max:g}", fontsize=10)
    labels = ("smallest |λ|", "median |λ|", "largest |λ|")
    styles = (":", "--", "-")
    d = np.maximum(result.distance, 0.5)
    for curve, label, style, horizon in zip(result.decay, labels, styles, result.horizon,
                                            strict=True):
        decay.loglog(d, np.where(curve > 0, curve, np.nan), linestyle=style,
                     color=MODEL_COLORS["lru"], label=f"{label}: horizon {horizon:.0f}")
    decay.axhline(0.01, color="0.5", linewidth=0.8)
    decay.set_ylim(1e-6, 1.5)
    decay.set_xlim(0.5, result.distance.max())
    decay.set_xlabel("distance d")
    decay.set_ylabel(r"$|\partial h_T/\partial h_{T-d}| = |\lambda|^d$")
    decay.set_title(f"without γ, variance x {result.gain:.0f}", fontsize=10)
    decay.legend(fontsize=7, loc="lower left", framealpha=0.9)
    return fig


def plot_scan_timings(narrow: dict, wide: dict) -> Figure:
    """Return two panels of seconds against T: the loop and the scans, narrow and wide state."""
    fig, axes = new_figure(width=7.4, height=2.8, ncols=2)
    for ax, timings, title in ((axes[0], narrow, "one unit, one sequence"),
                               (axes[1], wide, "64 units x 8 sequences")):
        for key, label, style in (("sequential", "loop (T steps)", "-o"),
                                  ("hillis_steele", "Hillis-Steele", "-s"),
                                  ("blelloch", "Blelloch", "-^")):
            ax.loglog(timings["T"], timings[key], style, markersize=4, label=label)
        ax.set_xlabel("sequence length T")
        ax.set_ylabel("CPU seconds (this machine)")
        ax.set_title(title, fontsize=10)
    axes[0].legend(fontsize=8)
    return fig


def plot_experiment(rows: list[dict]) -> Figure:
    """Return two panels from the experiment's summary rows: successes and ms per step."""
    if not isinstance(rows, list) or not rows:
        raise TypeError("rows must be the non-empty list that summary_table returns")
    models = list(dict.fromkeys(r["model"] for r in rows))
    lengths = sorted({r["T"] for r in rows})
    fig, (left, right) = new_figure(width=7.6, height=2.9, ncols=2)
    width = 0.8 / len(lengths)
    x = np.arange(len(models))
    for j, T in enumerate(lengths):
        chosen = {r["model"]: r for r in rows if r["T"] == T}
        rate = [chosen[m]["successes"] / chosen[m]["runs"] for m in models]
        ms = [chosen[m]["ms_per_step"] for m in models]
        hatch = None if j == 0 else "//"
        left.bar(x + j * width, rate, width, color=[MODEL_COLORS[m] for m in models],
                 hatch=hatch, edgecolor="white", label=f"T = {T}")
        right.bar(x + j * width, ms, width, color=[MODEL_COLORS[m] for m in models],
                  hatch=hatch, edgecolor="white", label=f"T = {T}")
    for ax in (left, right):
        ax.set_xticks(x + width * (len(lengths) - 1) / 2,
                      [MODEL_NAMES[m].split(" ")[0] for m in models], fontsize=8, rotation=30)
    left.set_ylim(0, 1.05)
    left.set_ylabel("success rate")
    right.set_ylabel("CPU ms per training step")
    right.legend(fontsize=8)
    return fig
