"""Figures of chapter 5: the cliff with and without clipping, training runs with spikes, and
the gradient at initialisation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure

from rnnbook.cliff import CliffDescent, Descent
from rnnbook.experiments.clipping import ClippingComparison
from rnnbook.initializers import InitialGradient
from rnnbook.plots.common import OVERFLOW_COLOR, new_figure, semilogy_with_overflow

UNCLIPPED_COLOR = OVERFLOW_COLOR
CLIPPED_COLOR = "#2166ac"
#: Log-spaced contour levels of the cliff loss (it lies in [0, 0.49]).
LOSS_LEVELS = np.array([1e-5, 1e-4, 1e-3, 1e-2, 0.03, 0.06, 0.1, 0.2, 0.3, 0.4, 0.5])
_OUTLINE = [patheffects.withStroke(linewidth=3.2, foreground="white")]


def _exit_point(inside_point: np.ndarray, outside_point: np.ndarray,
                view: tuple[float, float, float, float]) -> np.ndarray:
    """Return where the segment from a point in the view to a point outside crosses its edge."""
    w_min, w_max, b_min, b_max = view
    delta = outside_point - inside_point
    fractions = [1.0]
    for k, (low, high) in enumerate(((w_min, w_max), (b_min, b_max))):
        if delta[k] > 0:
            fractions.append((high - inside_point[k]) / delta[k])
        elif delta[k] < 0:
            fractions.append((low - inside_point[k]) / delta[k])
    return inside_point + min(fractions) * delta


def _draw_path(ax: Axes, descent: Descent, view: tuple[float, float, float, float], *,
               color: str, linestyle: str, marker: str | None, label: str) -> None:
    """Draw a descent path; if it ends outside the view, say where it landed at the exit."""
    w_min, w_max, b_min, b_max = view
    points = descent.points
    inside = ((points[:, 0] >= w_min) & (points[:, 0] <= w_max)
              & (points[:, 1] >= b_min) & (points[:, 1] <= b_max))
    ax.plot(points[:, 0], points[:, 1], color=color, linestyle=linestyle, linewidth=1.4,
            label=label, path_effects=_OUTLINE)
    if marker is not None:
        ax.plot(points[:, 0], points[:, 1], linestyle="none", marker=marker, markersize=3.5,
                color=color, markeredgecolor="white", markeredgewidth=0.5)
    end = points[-1]
    if inside[-1]:
        ax.plot(*end, marker="X", color=color, markersize=9, markeredgecolor="white",
                zorder=5)
        return
    # The path ends outside the view: label the point where it leaves for the last time.
    last = np.flatnonzero(inside)[-1] if inside.any() else 0
    exit_point = _exit_point(points[last], points[last + 1], view)
    centre = np.array([(w_min + w_max) / 2, (b_min + b_max) / 2])
    towards_centre = centre - exit_point
    text_at = exit_point + 0.22 * towards_centre
    ax.annotate(
        f"flies off to ({end[0]:.3g}, {end[1]:.3g}),\nloss {descent.final_loss:.2g}",
        xy=exit_point, xytext=text_at, color=color, fontsize=7.5, ha="center", va="center",
        arrowprops={"arrowstyle": "->", "color": color, "linewidth": 1.2},
        bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": color,
              "alpha": 0.9},
        zorder=7,
    )


def plot_cliff_descent(result: CliffDescent) -> Figure:
    """Return a two-panel figure: the loss surface with both paths, and loss per step (log)."""
    fig, (left, right) = new_figure(7.0, 3.0, ncols=2)
    surface = result.surface
    view = (surface.w[0], surface.w[-1], surface.b[0], surface.b[-1])
    loss = np.clip(surface.loss, LOSS_LEVELS[0], LOSS_LEVELS[-1])
    norm = BoundaryNorm(LOSS_LEVELS, ncolors=256)
    filled = left.contourf(surface.w, surface.b, loss, levels=LOSS_LEVELS, norm=norm,
                           cmap="cividis")
    colorbar = fig.colorbar(filled, ax=left, ticks=[1e-4, 1e-2, 0.1, 0.3, 0.5], pad=0.02)
    colorbar.ax.set_yticklabels(["1e-4", "0.01", "0.1", "0.3", "0.5"], fontsize=7)
    colorbar.set_label("loss (log steps)", fontsize=8)
    _draw_path(left, result.unclipped, view, color=UNCLIPPED_COLOR, linestyle="-",
               marker="o", label="no clipping")
    _draw_path(left, result.clipped, view, color=CLIPPED_COLOR, linestyle="-", marker=None,
               label=f"clipped at {result.threshold:g}")
    left.plot(*result.start, marker="*", color="white", markeredgecolor="k", markersize=11,
              zorder=6)
    left.set_xlim(view[0], view[1])
    left.set_ylim(view[2], view[3])
    left.set_xlabel("w")
    left.set_ylabel("b")
    left.set_title(f"learning rate {result.learning_rate:g}", fontsize=9)
    left.legend(loc="lower right", fontsize=7, framealpha=0.85)

    for descent, color, width, name in (
        (result.unclipped, UNCLIPPED_COLOR, 2.0, "no clipping"),
        (result.clipped, CLIPPED_COLOR, 0.9, f"clipped at {result.threshold:g}"),
    ):
        steps = np.arange(descent.losses.size)
        semilogy_with_overflow(right, steps, descent.losses, color=color, linewidth=width,
                               label=f"{name}: largest step {descent.max_step:.2g}")
    right.set_ylim(1e-8, 1.0)
    right.set_xlabel("gradient step")
    right.set_ylabel("loss")
    right.set_title(
        f"final loss {result.unclipped.final_loss:.2g} vs {result.clipped.final_loss:.2g}",
        fontsize=9,
    )
    right.legend(loc="lower left", fontsize=7, framealpha=0.85)
    return fig


def plot_clipping_comparison(comparison: ClippingComparison) -> Figure:
    """Return a two-panel figure: loss and gradient norm per step, with and without clipping.

    Spike steps are marked on the loss curves; the threshold is drawn on the gradient norms.
    """
    if not isinstance(comparison, ClippingComparison):
        raise TypeError(f"expected a ClippingComparison, got {type(comparison).__name__}")
    unclipped, clipped = comparison.unclipped, comparison.clipped
    if unclipped.threshold is not None or clipped.threshold is None:
        raise ValueError("the comparison must hold a run without clipping and a run with it")
    if unclipped.seed != clipped.seed:
        raise ValueError(f"the two runs have different seeds ({unclipped.seed} and "
                         f"{clipped.seed}); compare runs from the same start")
    fig, (left, right) = new_figure(7.0, 3.0, ncols=2)
    for run, color, style, name in (
        (unclipped, UNCLIPPED_COLOR, "-", "no clipping"),
        (clipped, CLIPPED_COLOR, "-", f"clipped at {clipped.threshold:g}"),
    ):
        steps = np.arange(1, run.losses.size + 1)
        semilogy_with_overflow(left, steps, run.losses, color=color, linestyle=style,
                               linewidth=1.0, alpha=0.85,
                               label=f"{name}: {run.spike_count} spikes")
        spikes = run.spike_steps
        if spikes.size:
            left.plot(spikes + 1, run.losses[spikes], linestyle="none", marker="v",
                      color=color, markersize=5, markeredgecolor="k", markeredgewidth=0.5)
        semilogy_with_overflow(right, steps, run.grad_norms, color=color, linestyle=style,
                               linewidth=1.0, alpha=0.85, label=name)
    right.axhline(clipped.threshold, color="k", linestyle=":", linewidth=1.0)
    right.text(1, clipped.threshold, " threshold", va="bottom", fontsize=7)
    left.set_xlabel("training step")
    left.set_ylabel("training loss (MSE)")
    left.set_title(f"seed {unclipped.seed}: loss, spikes marked", fontsize=9)
    left.legend(loc="lower left", fontsize=7, framealpha=0.85)
    right.set_xlabel("training step")
    right.set_ylabel(r"$\|\nabla L\|$ before clipping")
    right.set_title("gradient norm per step", fontsize=9)
    right.legend(loc="upper left", fontsize=7, framealpha=0.85)
    return fig


#: Colour and line style of each initialiser in :func:`plot_initial_gradients`.
INIT_STYLES = {"orthogonal": ("#1b7837", "-"), "identity": ("#2166ac", "--"),
               "gaussian": ("#b35806", "-.")}


def plot_initial_gradients(results: Sequence[InitialGradient]) -> Figure:
    """Return a figure with one panel per activation: ||dh_T/dh_{T-l}|| against l (log).

    Parameters
    ----------
    results : sequence of InitialGradient
        Any initialisers and activations; panels follow the order in which activations
        first appear, one curve per result.
    """
    results = list(results)
    if not results or not all(isinstance(r, InitialGradient) for r in results):
        raise TypeError("results must be a non-empty sequence of InitialGradient")
    activations = list(dict.fromkeys(r.activation for r in results))
    fig, axes = new_figure(7.0, 2.9, ncols=len(activations))
    axes = np.atleast_1d(axes)
    for ax, activation in zip(axes, activations, strict=True):
        for r in (r for r in results if r.activation == activation):
            color, style = INIT_STYLES.get(r.name, ("0.3", ":"))
            distance = np.arange(r.norms.size)
            semilogy_with_overflow(
                ax, distance, r.norms, color=color, linestyle=style, linewidth=1.6,
                label=(f"{r.name} ({r.scale:g}): $\\rho$ = {r.rho:.2f}, "
                       f"$\\sigma_{{\\max}}$ = {r.sigma_max:.2f}"),
            )
        ax.axhline(1.0, color="0.6", linewidth=0.8, zorder=0)
        ax.set_xlabel("distance ℓ (steps back)")
        ax.set_title(f"{activation}", fontsize=9)
        ax.legend(loc="lower left", fontsize=6.5, framealpha=0.85)
    axes[0].set_ylabel(r"$\|\partial h_T / \partial h_{T-\ell}\|$")
    return fig
