"""Figures of chapter 3: the gradient as a sum of terms by distance, the deep-MLP contrast, and
the copy-at-lag-l training runs."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from rnnbook.decomposition import DepthContrast, DistanceProfile
from rnnbook.experiments.lag import LagResults
from rnnbook.plots.common import OVERFLOW_COLOR, new_figure, semilogy_with_overflow

#: Fixed log range of the explorer's term-norm axis, so that frames can be compared.
NORM_LIMITS = (1e-20, 1e20)
TERM_COLOR = "#2166ac"
TOTAL_COLOR = "#1b7837"
MLP_COLOR = "#b35806"
#: Log range of the held-out MSE axes of the training-run figure.
MSE_LIMITS = (5e-4, 3.0)
#: Lags are coloured from this map, shortest lag darkest.
LAG_CMAP = "viridis"


def _check(result, kind: type, name: str) -> None:
    if not isinstance(result, kind):
        raise TypeError(f"{name} expects a {kind.__name__}, got {type(result).__name__}")


def _note_below(ax: Axes, x: np.ndarray, y: np.ndarray, bottom: float) -> None:
    """Say where finite values fall below the axis instead of letting them vanish silently."""
    below = np.isfinite(y) & (y < bottom)
    if below.any():
        first = x[np.argmax(below)]
        ax.text(0.98, 0.04, f"below {bottom:.0e} from ℓ = {first}", color="0.35",
                transform=ax.transAxes, ha="right", fontsize=7)


def plot_distance_profile(profile: DistanceProfile) -> Figure:
    """Return a two-panel figure: term norms against distance (log), and the far-term share.

    Left: ||G_{T-l}|| on a fixed log axis (:data:`NORM_LIMITS`) with the norm of the whole gradient,
    the threshold eps * max ||G_{T-l}|| and the effective horizon; overflow is marked. Right: the
    share of the term norms that comes from distances beyond l.
    """
    _check(profile, DistanceProfile, "plot_distance_profile")
    fig, (left, right) = new_figure(7.0, 2.8, ncols=2)
    d = profile.distance
    semilogy_with_overflow(left, d, profile.norms, ylim=NORM_LIMITS, color=TERM_COLOR,
                           linewidth=1.5, marker=".", markersize=3)
    _note_below(left, d, profile.norms, NORM_LIMITS[0])
    if np.isfinite(profile.total_norm) and profile.total_norm > 0:
        total = min(profile.total_norm, NORM_LIMITS[1])
        left.axhline(total, color=TOTAL_COLOR, linestyle="--", linewidth=1.2)
        left.text(0.99, total * 3, r"$\|\partial L/\partial W\|$ (the sum)", color=TOTAL_COLOR,
                  fontsize=7, ha="right", va="bottom", transform=left.get_yaxis_transform())
    if np.isfinite(profile.max_term_norm) and profile.max_term_norm > 0:
        threshold = profile.eps * profile.max_term_norm
        left.axhline(threshold, color="0.45", linestyle=":", linewidth=1.0)
        left.text(0.99, threshold / 3, f"{profile.eps:g} × largest term", color="0.35",
                  fontsize=7, ha="right", va="top", transform=left.get_yaxis_transform())
    left.axvline(profile.horizon, color="0.3", linewidth=0.8)
    left.text(profile.horizon, 0.96, f" horizon {profile.horizon}", transform=(
        left.get_xaxis_transform()), fontsize=7, va="top",
        ha="left" if profile.horizon < 0.7 * d[-1] else "right")
    left.set_xlim(0, d[-1])
    left.set_xlabel("distance ℓ = T − k")
    left.set_ylabel(r"term norm $\|G_{T-\ell}\|$")
    left.set_title(f"{profile.activation}, ρ(W) = {profile.rho:g}, "
                   f"T = {d.size}", fontsize=10)
    share = profile.far_share
    if np.all(np.isfinite(share)):
        right.plot(d, share, color=TERM_COLOR, linewidth=1.5, drawstyle="steps-post")
        pick = min(10, d[-1])
        right.plot([pick], [share[pick]], "o", color=TERM_COLOR, markersize=4)
        right.annotate(f"{100 * share[pick]:.2g}% beyond ℓ = {pick}", (pick, share[pick]),
                       xytext=(8, 8), textcoords="offset points", fontsize=8)
    else:
        right.text(0.5, 0.5, "term norms overflow:\nthe share is undefined",
                   color=OVERFLOW_COLOR, transform=right.transAxes, ha="center", va="center")
    right.set_ylim(-0.02, 1.02)
    right.set_xlim(0, d[-1])
    right.set_xlabel("distance ℓ")
    right.set_ylabel("share of Σ‖G‖")
    right.set_title("share from terms farther than ℓ", fontsize=10)
    return fig


def plot_depth_contrast(contrast: DepthContrast) -> Figure:
    """Return a two-panel figure: each layer's gradient in the untied network, and the RNN's
    terms with the norm of their sum, on one log scale."""
    _check(contrast, DepthContrast, "plot_depth_contrast")
    fig, (left, right) = new_figure(7.0, 2.9, ncols=2)
    d = contrast.distance
    values = np.concatenate([contrast.mlp_layer_norms, contrast.rnn_term_norms,
                             [contrast.rnn_total_norm]])
    finite = values[np.isfinite(values) & (values > 0)]
    low = 10.0 ** np.floor(np.log10(finite.min())) if finite.size else 1e-16
    high = 10.0 ** np.ceil(np.log10(finite.max()) + 0.5) if finite.size else 1.0
    limits = (max(low, NORM_LIMITS[0]), min(high, NORM_LIMITS[1]))
    T = d.size
    semilogy_with_overflow(left, d, contrast.mlp_layer_norms, ylim=limits, color=MLP_COLOR,
                           marker="o", markersize=3, linewidth=1.2)
    first = contrast.mlp_layer_norms[-1]
    left.annotate(f"layer 1's whole gradient: {first:.2g}",
                  (d[-1], min(max(first, limits[0]), limits[1])), xytext=(-40, 0),
                  textcoords="offset points", ha="right", va="center", fontsize=8, color=MLP_COLOR,
                  arrowprops={"arrowstyle": "->", "color": MLP_COLOR, "linewidth": 1.0})
    left.set_title(f"untied {T}-layer net: one gradient per layer", fontsize=9.5)
    left.set_ylabel(r"$\|\partial L/\partial W_l\|$")
    semilogy_with_overflow(right, d, contrast.rnn_term_norms, ylim=limits, color=TERM_COLOR,
                           marker="o", markersize=3, linewidth=1.2, label=r"terms $G_{T-\ell}$")
    if np.isfinite(contrast.rnn_total_norm):
        right.axhline(min(contrast.rnn_total_norm, limits[1]), color=TOTAL_COLOR,
                      linestyle="--", linewidth=1.4,
                      label=rf"$\|\partial L/\partial W\|$ = {contrast.rnn_total_norm:.3g}")
    right.legend(fontsize=7.5, loc="lower left")
    right.set_title("RNN: terms of one gradient, and their sum", fontsize=9.5)
    right.set_ylabel("norm")
    left.set_xlabel("distance from the loss, T − l (layer l)")
    right.set_xlabel("distance from the loss, ℓ = T − k")
    for ax in (left, right):
        ax.set_xlim(-0.5, d[-1] + 0.5)
    fig.suptitle(f"{contrast.activation}, ρ = {contrast.rho:g} for every matrix",
                 fontsize=9)
    return fig


def _lag_colors(lags: list[int]) -> dict[int, tuple]:
    from matplotlib import colormaps

    cmap = colormaps[LAG_CMAP]
    return {lag: cmap(0.85 * i / max(len(lags) - 1, 1)) for i, lag in enumerate(lags)}


def plot_lag_results(results: LagResults) -> Figure:
    """Return a two-panel figure: held-out MSE against training step for every run (log), and
    the final held-out MSE against the lag, with the baseline and the success threshold."""
    _check(results, LagResults, "plot_lag_results")
    fig, (left, right) = new_figure(7.0, 3.0, ncols=2)
    lags = results.lags
    colors = _lag_colors(lags)
    limits = MSE_LIMITS
    for lag in lags:
        for run in results.runs_at(lag):
            semilogy_with_overflow(left, run.eval_steps, run.eval_loss, ylim=limits,
                                   color=colors[lag], linewidth=1.1, alpha=0.85)
    for ax in (left, right):
        ax.axhline(results.baseline_mse, color="0.4", linestyle="--", linewidth=1.0)
        ax.axhline(results.success_mse, color="0.4", linestyle=":", linewidth=1.0)
    left.text(0.02, results.baseline_mse * 1.25, "best constant", fontsize=7, color="0.3",
              transform=left.get_yaxis_transform())
    left.text(0.02, results.success_mse * 1.25, "success threshold", fontsize=7, color="0.3",
              transform=left.get_yaxis_transform())
    left.set_xlabel("training step")
    left.set_ylabel("held-out MSE")
    left.set_title(f"{len(results.seeds)} seeds per lag, T = {results.config.T}", fontsize=10)
    right.set_yscale("log")
    right.set_ylim(*limits)
    for lag in lags:
        finals = np.array([run.final_loss for run in results.runs_at(lag)])
        shown = np.clip(np.where(np.isfinite(finals), finals, limits[1]), *limits)
        right.plot(np.full(finals.size, lag), shown, "o", color=colors[lag], alpha=0.8,
                   markersize=5, label=f"lag {lag}")
    medians = [row.median_final for row in results.summary()]
    right.plot(lags, np.clip(medians, *limits), color="0.2", linewidth=1.0, label="median")
    right.set_xscale("log")
    right.set_xticks(lags, [str(lag) for lag in lags])
    right.minorticks_off()
    right.set_xlabel("lag ℓ")
    right.set_ylabel("final held-out MSE")
    right.set_title("end of training", fontsize=10)
    right.legend(fontsize=7, loc="upper left")
    return fig
