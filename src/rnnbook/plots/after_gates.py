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
    ax.set_xlabel("distance ℓ (steps back from T)")
    ax.set_ylabel(r"$\|\partial L/\partial x_{T-\ell}\|$")
    chosen = result.profiles[result.selected]
    far = chosen.norm[-1] / chosen.norm[1] if result.T > 1 else 1.0
    ax.set_title(f"T = {result.T}, {MODEL_NAMES[result.selected]}: "
                 f"far/near (ℓ = {result.T - 1} vs ℓ = 1) = {far:.1e}", fontsize=10)
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
    decay.set_xlabel("distance ℓ")
    decay.set_ylabel(r"$|\partial h_T/\partial h_{T-\ell}| = |\lambda|^\ell$")
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


def plot_path_diagram(steps: int = 5) -> Figure:
    """Return two panels: the gradient's path from y_T back to x_{T-d} in an RNN and in attention.

    Left: the unrolled recurrence; the path from the output to the first input crosses every
    state (d Jacobians). Right: one causal attention layer; every input has its own arrow
    (weight P[T, s]) into the last output, so every path has length one.
    """
    from matplotlib.patches import FancyArrowPatch

    from rnnbook.plots.diagrams import _node

    if not isinstance(steps, int) or not 2 <= steps <= 7:
        raise ValueError(f"steps must be an integer from 2 to 7, got {steps!r}")
    fig, (left, right) = new_figure(width=8.4, height=2.9, ncols=2)
    labels = [f"$x_{{T-{steps - 1 - k}}}$" if k < steps - 1 else "$x_T$" for k in range(steps)]
    highlight = "#b2182b"
    for ax, title in ((left, "RNN / LSTM: ℓ steps back = ℓ Jacobians"),
                      (right, "attention: every input one step away")):
        ax.set_xlim(-0.6, 1.2 * steps - 0.2)
        ax.set_ylim(-0.5, 2.6)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(title, fontsize=10)
        for k in range(steps):
            _node(ax, 1.2 * k, 0, labels[k], "x")
    for k in range(steps):
        _node(left, 1.2 * k, 1, labels[k].replace("x", "h"), "h")
        # the highlighted path runs from y_T back to the first input through every state
        left.add_patch(FancyArrowPatch((1.2 * k, 0.22), (1.2 * k, 0.78), arrowstyle="-|>",
                                       mutation_scale=10, color=highlight if k == 0 else "0.6",
                                       linewidth=2.0 if k == 0 else 1.4))
        if k > 0:
            left.add_patch(FancyArrowPatch((1.2 * (k - 1) + 0.32, 1), (1.2 * k - 0.32, 1),
                                           arrowstyle="-|>", mutation_scale=10, color=highlight,
                                           linewidth=2.0))
            left.text(1.2 * k - 0.6, 1.16, "$J$", color=highlight, fontsize=9, ha="center")
    last = 1.2 * (steps - 1)
    _node(left, last, 2, "$y_T$", "o")
    left.add_patch(FancyArrowPatch((last, 1.22), (last, 1.78), arrowstyle="-|>",
                                   mutation_scale=10, color=highlight, linewidth=2.0))
    _node(right, last, 2, "$y_T$", "o")
    for k in range(steps):
        end = (last - 0.15 * (steps - 1 - k) / steps, 1.78)
        right.add_patch(FancyArrowPatch((1.2 * k, 0.22), end, arrowstyle="-|>", mutation_scale=10,
                                        color=highlight if k == 0 else "0.55",
                                        linewidth=2.0 if k == 0 else 1.0))
    right.text(0.9, 1.25, "$P_{T,s}$", color="0.3", fontsize=9)
    return fig
