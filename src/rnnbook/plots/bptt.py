"""Figures of chapter 2: the terms of dL/dW and what truncated BPTT cuts."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from rnnbook.bptt import TruncationProfile
from rnnbook.plots.common import OVERFLOW_COLOR, new_figure, semilogy_with_overflow

#: Vertical ranges, fixed so that explorer frames can be compared with each other.
TERM_YLIM = (1e-16, 1e12)
ERROR_YLIM = (1e-16, 10.0)
_CUT_COLOR = "0.55"
_KEEP_COLOR = "tab:blue"


def _format(value: float) -> str:
    if not np.isfinite(value):
        return str(value)
    return f"{value:.2g}"


def _decades(ax, ylim: tuple[float, float], every: int = 4) -> None:
    """Put ticks on every ``every``-th decade of a log axis, and fix its limits."""
    low, high = int(np.ceil(np.log10(ylim[0]))), int(np.floor(np.log10(ylim[1])))
    ax.set_yticks([10.0**e for e in range(low, high + 1) if (e - low) % every == 0])
    ax.set_yticks([], minor=True)
    ax.set_ylim(*ylim)


def _note_if_nothing_finite(ax, values: np.ndarray, what: str) -> None:
    """Write a note across the axes when no value can be drawn (every one inf or nan)."""
    if not np.any(np.isfinite(values)):
        ax.text(0.5, 0.5, f"{what}: every value\nis inf or nan (overflow)", transform=ax.transAxes,
                ha="center", va="center", fontsize=10, color=OVERFLOW_COLOR)


def plot_truncation(profile: TruncationProfile) -> Figure:
    """Return a two-panel figure of a :class:`TruncationProfile`.

    Left: ||term k|| of dL/dW against k (log scale). The full BPTT terms are grey; the steps
    outside the window (k <= T - K) are shaded, and the terms the truncated gradient keeps
    are drawn in colour. Right: the relative error of truncated dL/dW against the window K,
    with the chosen K marked. Both axes have fixed ranges; overflow (inf/nan) and values off
    the scale are marked, never dropped silently.
    """
    if not isinstance(profile, TruncationProfile):
        raise TypeError(f"expected a TruncationProfile, got {type(profile).__name__}")
    T, K = len(profile.steps), profile.window
    fig, (left, right) = new_figure(width=7.6, height=3.0, ncols=2)

    left.set_xlim(0.5, T + 0.5)
    if K < T:
        left.axvspan(0.5, T - K + 0.5, color="0.92", zorder=0)
        left.text(0.02, 0.97, f"outside the window\n(k ≤ {T - K})", transform=left.transAxes,
                  va="top", fontsize=8, color="0.35")
    semilogy_with_overflow(left, profile.steps, profile.full_norms, ylim=TERM_YLIM,
                           color=_CUT_COLOR, marker="o", markersize=2.5, linewidth=1.0,
                           label="full BPTT")
    kept = profile.truncated_norms.copy()
    kept[kept == 0.0] = np.nan  # dropped terms are exactly zero: shown by the shading instead
    visible = np.isfinite(kept)
    left.semilogy(profile.steps[visible], np.clip(kept[visible], *TERM_YLIM), color=_KEEP_COLOR,
                  marker="o", markersize=3.5, linestyle="none", label=f"truncated, K = {K}")
    left.set_ylim(*TERM_YLIM)
    _note_if_nothing_finite(left, profile.full_norms, "terms of dL/dW")
    left.set_xlabel("step k of the term")
    left.set_ylabel(r"$\|\delta_k h_{k-1}^\top\|$")
    left.legend(loc="lower right", fontsize=8)
    left.set_title(f"{profile.activation}, $\\rho(W)$ = {profile.rho:.2g}, "
                   f"T = {T}", fontsize=10)

    # K = T is full BPTT, error exactly 0: said in words, since a log axis cannot show it
    shown = slice(0, T - 1) if profile.errors[-1] == 0.0 and T > 1 else slice(0, T)
    semilogy_with_overflow(right, profile.windows[shown], profile.errors[shown],
                           ylim=ERROR_YLIM, color="k", linewidth=1.2)
    if shown.stop < T:
        right.text(0.97, 0.03, f"0 at K = {T}\n(full BPTT)", transform=right.transAxes,
                   ha="right", va="bottom", fontsize=8, color="0.35")
    if np.isfinite(profile.error) and profile.error > 0:
        right.plot([K], [np.clip(profile.error, *ERROR_YLIM)], "o", color=_KEEP_COLOR,
                   markersize=7)
    _note_if_nothing_finite(right, profile.errors, "relative errors")
    right.axvline(K, color=_KEEP_COLOR, linewidth=0.8, linestyle="--")
    right.set_xlim(0.5, T + 0.5)
    _decades(left, TERM_YLIM)
    _decades(right, ERROR_YLIM)
    right.set_xlabel("window K (steps)")
    right.set_ylabel("relative error of truncated dL/dW")
    right.set_title(f"window K = {K}: error {_format(profile.error)}", fontsize=10)
    return fig
