"""Figures of chapter 4: eigenvalues, Jacobian products and their bounds."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from rnnbook.jacobian import EigenProducts, Saturation
from rnnbook.plots.common import OVERFLOW_COLOR, new_figure, semilogy_with_overflow
from rnnbook.spectra import CircularLaw, NonnormalTransient

#: Vertical range of the product plots, fixed so that explorer frames can be compared.
PRODUCT_YLIM = (1e-40, 1e40)
_CIRCLE = np.linspace(0.0, 2.0 * np.pi, 241)


def _circle(ax: Axes, radius: float, **style) -> None:
    ax.plot(radius * np.cos(_CIRCLE), radius * np.sin(_CIRCLE), **style)


def _log_axes(ax: Axes, ylim: tuple[float, float], xmax: float) -> None:
    """Fix a log y-axis and both limits before any curve is drawn (no autoscaling to 1e308)."""
    ax.set_yscale("log")
    ax.set_ylim(*ylim)
    ax.set_xlim(0, xmax)
    ax.axhline(1.0, color="0.8", linewidth=0.8)


def _log_ticks(ax: Axes, ylim: tuple[float, float]) -> None:
    """Put round decades on a log y-axis (after plotting: ``semilogy`` resets the locator)."""
    low, high = int(np.ceil(np.log10(ylim[0]))), int(np.floor(np.log10(ylim[1])))
    every = 20 if high - low > 60 else 10 if high - low > 30 else 2
    ax.set_yticks([10.0**e for e in range(low, high + 1) if e % every == 0])
    ax.set_yticks([], minor=True)
    ax.yaxis.set_major_formatter(FuncFormatter(_power_of_ten))
    ax.set_ylim(*ylim)


_SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076"
                                             "\u2077\u2078\u2079")


def _power_of_ten(value: float, position: int | None = None) -> str:
    """Return a decade tick label such as 10\u207b\u00b2\u2070 in plain Unicode (no mathtext).

    Mathtext is parsed again for every new figure, which made it the slowest part of drawing
    an explorer frame; Unicode superscripts look the same and cost nothing.
    """
    exponent = int(round(np.log10(value))) if value > 0 else 0
    return "10" + str(exponent).translate(_SUPERSCRIPT)


def _reference_curve(ax: Axes, x: np.ndarray, y: np.ndarray, **style) -> None:
    """Draw a bound or comparison curve where it is finite and positive; the axes clip it."""
    y = np.asarray(y, dtype=float)
    keep = np.isfinite(y) & (y > 0)
    ax.plot(x[keep], y[keep], **style)


def _note_below(ax: Axes, x: np.ndarray, y: np.ndarray, bottom: float, label: str) -> None:
    """Say in the axes from which step a curve is below the plotted range."""
    y = np.asarray(y, dtype=float)
    below = np.isfinite(y) & (y > 0) & (y < bottom)
    if below.any():
        ax.text(0.98, 0.04, f"{label} below {bottom:.0e} from step {x[np.argmax(below)]}",
                transform=ax.transAxes, ha="right", va="bottom", fontsize=7, color="0.3")


def _format(value: float) -> str:
    if not np.isfinite(value):
        return "inf" if value > 0 else "nan"
    return f"{value:.3g}" if 1e-3 <= abs(value) < 1e4 or value == 0 else f"{value:.1e}"


def plot_eigen_and_products(result: EigenProducts) -> Figure:
    """Return a two-panel figure: eigenvalues of W with the unit circle, and ||prod J|| (log).

    Left: eigenvalues in the complex plane, the unit circle, the circle of radius
    sigma_max(W) (no eigenvalue lies outside it) and, for sigmoid, the circle of radius
    1/gamma. Right: ||J_T ... J_{T-d+1}|| against d beside (gamma sigma_max)^d and ||W^d||,
    on fixed axes :data:`PRODUCT_YLIM`; overflow and clipping are marked.
    """
    if not isinstance(result, EigenProducts):
        raise TypeError(f"expected an EigenProducts, got {type(result).__name__}")
    fig, (left, right) = new_figure(ncols=2)
    _circle(left, 1.0, color="k", linewidth=1.0, label="unit circle")
    _circle(left, result.sigma_max, color="tab:orange", linestyle="--", linewidth=1.0,
            label="radius \u03c3\u2098\u2090\u2093(W)")
    radius = max(1.0, result.sigma_max)
    if result.gamma != 1.0:
        _circle(left, 1.0 / result.gamma, color="tab:green", linestyle=":", linewidth=1.2,
                label="radius 1/\u03b3")
        radius = max(radius, 1.0 / result.gamma)
    values = result.eigenvalues
    left.plot(values.real, values.imag, "o", color="tab:blue", markersize=3,
              label="eigenvalues")
    radius *= 1.12
    left.set_xlim(-radius, radius)
    left.set_ylim(-radius, radius)
    left.set_aspect("equal", adjustable="box")
    left.axhline(0.0, color="0.85", linewidth=0.6, zorder=0)
    left.axvline(0.0, color="0.85", linewidth=0.6, zorder=0)
    left.set_xlabel("Re")
    left.set_ylabel("Im")
    # Per-frame titles and labels use Unicode, not mathtext: matplotlib caches parsed
    # mathtext by the whole string, and a new number in it means a new (slow) parse.
    left.set_title(f"W: \u03c1 = {result.rho:.2f}, \u03c3\u2098\u2090\u2093 = "
                   f"{result.sigma_max:.2f}", fontsize=9)
    left.legend(fontsize=7, loc="upper left", framealpha=0.8, handlelength=1.5)

    d = result.d
    _log_axes(right, PRODUCT_YLIM, d[-1])
    _reference_curve(right, d, result.bound, color="tab:orange", linestyle="--", linewidth=1.2,
                     label="(\u03b3\u03c3\u2098\u2090\u2093)\u1d48")
    _reference_curve(right, d, result.linear, color="0.6", linewidth=1.2,
                     label="linear: \u2016W\u1d48\u2016")
    semilogy_with_overflow(right, d, result.norms, ylim=PRODUCT_YLIM, color="k", linewidth=1.6,
                           label=r"$\|J_T\cdots J_{T-\ell+1}\|$")
    _note_below(right, d, result.norms, PRODUCT_YLIM[0], "product")
    _log_ticks(right, PRODUCT_YLIM)
    right.set_xlabel("steps back ℓ")
    right.set_title(f"{result.activation} (\u03b3 = {result.gamma:g}), g = {result.g:g}"
                    f": at ℓ = {d[-1]}, {_format(result.norms[-1])}", fontsize=9)
    right.legend(fontsize=7, loc="best", framealpha=0.8, handlelength=1.5)
    # Fixed positions instead of constrained layout: the axes stay in place from one explorer
    # frame to the next, and drawing is several times faster.
    fig.set_layout_engine("none")
    left.set_position((0.06, 0.16, 0.36, 0.74))
    right.set_position((0.56, 0.16, 0.42, 0.74))
    return fig


def plot_nonnormal_transient(result: NonnormalTransient) -> Figure:
    """Return a figure of ||W^k|| against k (log) for rho I and the sheared W, peak marked."""
    if not isinstance(result, NonnormalTransient):
        raise TypeError(f"expected a NonnormalTransient, got {type(result).__name__}")
    fig, ax = new_figure()
    k = result.k
    top = result.peak_height * 30.0 if np.isfinite(result.peak_height) else 1e30
    ylim = (1e-8, float(min(max(top, 10.0), 1e30)))
    _log_axes(ax, ylim, k[-1])
    _reference_curve(ax, k, result.normal, color="0.5", linewidth=1.4,
                     label="normal \u03c1I:\n\u2016W\u1d4f\u2016 = \u03c1\u1d4f")
    kind = "non-normal" if result.shear != 0 else "normal"
    semilogy_with_overflow(ax, k, result.nonnormal, ylim=ylim, color="k", linewidth=1.6,
                           label=f"shear {result.shear:g}: {kind}\n"
                                 f"(\u2016W\u2016 = {result.sigma_max:.2f})")
    if np.isfinite(result.peak_height) and result.peak_step > 0:
        ax.plot([result.peak_step], [result.peak_height], "o", color=OVERFLOW_COLOR,
                markersize=5)
        ax.annotate(f"peak {_format(result.peak_height)} at k = {result.peak_step}",
                    (result.peak_step, result.peak_height), textcoords="offset points",
                    xytext=(6, 5), fontsize=8, color=OVERFLOW_COLOR, va="bottom")
    if result.below_one_step is not None:
        ax.axvline(result.below_one_step, color="0.6", linestyle=":", linewidth=1.0)
        right_half = result.below_one_step > 0.6 * k[-1]  # keep the text inside the axes
        ax.text(result.below_one_step, 0.04,
                f"below 1 from k = {result.below_one_step} " if right_half
                else f" below 1 from k = {result.below_one_step}",
                ha="right" if right_half else "left",
                transform=ax.get_xaxis_transform(), fontsize=8, color="0.3")
    _note_below(ax, k, result.normal, ylim[0], "\u03c1\u1d4f")
    _log_ticks(ax, ylim)
    ax.set_xlabel("power k")
    ax.set_ylabel("\u2016W\u1d4f\u2016")
    growth = "different growth" if result.shear != 0 else "no shear, no transient"
    ax.set_title(f"same eigenvalues (all {result.rho:g}, n = {result.n}): {growth}", fontsize=9)
    # Outside the axes (a curve may pass through any corner of them), at a fixed place, so
    # that the axes do not move from one explorer frame to the next.
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
              frameon=False)
    fig.set_layout_engine("none")
    ax.set_position((0.1, 0.17, 0.64, 0.73))
    return fig


def plot_saturation(result: Saturation) -> Figure:
    """Return a two-panel figure: the largest tanh' per step, and ||prod J|| against ||W^d||."""
    if not isinstance(result, Saturation):
        raise TypeError(f"expected a Saturation, got {type(result).__name__}")
    fig, (left, right) = new_figure(ncols=2)
    steps = np.arange(1, result.max_slope.size + 1)
    left.plot(steps, result.max_slope, "k.-", linewidth=1.0, markersize=3)
    left.axhline(1.0 / result.sigma_max, color="tab:orange", linestyle="--", linewidth=1.0,
                 label=r"$1/\sigma_{\max}(W)$")
    left.set_ylim(0.0, 1.05)
    left.set_xlabel("step t")
    left.set_ylabel(r"$\max_i \tanh'(z_t)_i$")
    left.set_title(f"bias {result.bias:g}: the largest slope at each step", fontsize=9)
    left.legend(fontsize=7, loc="upper right")
    d = result.d
    positive = result.norms[np.isfinite(result.norms) & (result.norms > 0)]
    low = max(float(positive.min()) if positive.size else 1e-40, 1e-300)
    ylim = (min(10.0 ** (20 * np.floor(np.log10(low) / 20)), 1e-20), 1e20)
    _log_axes(right, ylim, d[-1])
    _reference_curve(right, d, result.linear, color="0.5", linewidth=1.4,
                     label=r"linear: $\|W^\ell\|$")
    semilogy_with_overflow(right, d, result.norms, ylim=ylim, color="k", linewidth=1.6,
                           label=r"tanh: $\|J_T\cdots J_{T-\ell+1}\|$")
    _log_ticks(right, ylim)
    right.set_xlabel("steps back ℓ")
    right.set_title(f"tanh RNN with $\\rho(W)$ = {result.rho:.2f}: at ℓ = {d[-1]}, "
                    f"{_format(result.norms[-1])}", fontsize=9)
    right.legend(fontsize=7, loc="lower left")
    return fig


def plot_circular_law(result: CircularLaw) -> Figure:
    """Return a figure of the eigenvalues of a Gaussian W with the circle of radius g."""
    if not isinstance(result, CircularLaw):
        raise TypeError(f"expected a CircularLaw, got {type(result).__name__}")
    fig, ax = new_figure(width=3.6, height=3.2)
    values = result.eigenvalues
    ax.plot(values.real, values.imag, ".", color="tab:blue", markersize=2)
    _circle(ax, result.g, color="k", linewidth=1.0, label=f"radius g = {result.g:g}")
    if result.g != 1.0:
        _circle(ax, 1.0, color="0.6", linestyle=":", linewidth=1.0, label="unit circle")
    radius = 1.15 * max(result.g, result.rho, 1.0)
    ax.set_xlim(-radius, radius)
    ax.set_ylim(-radius, radius)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("Re")
    ax.set_ylabel("Im")
    ax.set_title(f"n = {result.n}: $\\rho$ = {result.rho:.3f}, "
                 f"{100 * result.inside:.0f}% inside", fontsize=9)
    ax.legend(fontsize=7, loc="upper right")
    return fig


def describe_eigen_and_products(result: EigenProducts) -> str:
    """Return alt text for one frame of the eigenvalue/product explorer (numbers included)."""
    return (
        f"Left: the {result.eigenvalues.size} eigenvalues of W with scale {result.g:g} in "
        f"the complex plane, spectral radius {result.rho:.2f}, largest singular value "
        f"{result.sigma_max:.2f}, drawn with the unit circle. Right: for the RNN with "
        f"activation {result.activation}, the norm of the Jacobian product over ℓ steps on a "
        f"log scale, {_format(result.norms[-1])} at ℓ = {result.d[-1]}, at most the bound "
        f"({result.gamma:g} x {result.sigma_max:.2f})^ℓ."
    )


def describe_nonnormal_transient(result: NonnormalTransient) -> str:
    """Return alt text for one frame of the non-normal transient explorer."""
    after = ("" if result.below_one_step is None
             else f", and falls below 1 from k = {result.below_one_step}")
    return (
        f"Norm of W^k on a log scale for k up to {result.k[-1]}: the normal matrix "
        f"{result.rho:g} I decays as {result.rho:g}^k, while the sheared matrix with the same "
        f"eigenvalues and shear {result.shear:g} peaks at {_format(result.peak_height)} at "
        f"k = {result.peak_step}{after}."
    )
