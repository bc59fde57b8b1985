"""Cell diagrams in chapter 1's visual language: the LSTM and GRU cells, the backward flow of
the error signal through the unrolled RNN, and the sum of products split by distance.

Every function returns a matplotlib ``Figure`` and has a ``describe_*`` companion (or a fixed
``*_ALT`` string) that gives its alt text. Colours follow :mod:`rnnbook.plots.diagrams`: red
for the recurrent path, blue for the input path, orange boxes for states.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from rnnbook.checks import check_count
from rnnbook.lstm import GradientFlow
from rnnbook.plots.common import new_figure, semilogy_with_overflow
from rnnbook.plots.diagrams import COLORS

_BOX = {"boxstyle": "round,pad=0.02,rounding_size=0.08", "linewidth": 1.2}
GATE_COLOR = "#f4f4f4"
DELTA_COLOR = "#762a83"

#: Alt text of :func:`plot_lstm_cell`.
LSTM_CELL_ALT = (
    "Diagram of one LSTM cell. The cell state c_{t-1} enters at the top left and runs straight "
    "across the cell as a thick red line: it is multiplied by the forget gate f_t and then the "
    "product i_t times c̃_t is added, giving c_t, which leaves at the top right. Below, h_{t-1} "
    "and the input x_t feed four boxes: three sigmoid gates (forget f_t, input i_t, output o_t) "
    "and the tanh candidate c̃_t. The new state h_t is the output gate o_t times tanh(c_t). The "
    "gradient from c_t back to c_{t-1} along the top line is multiplied only by f_t."
)

#: Alt text of :func:`plot_gru_cell`.
GRU_CELL_ALT = (
    "Diagram of one GRU cell. The state h_{t-1} enters at the left and runs across the top as a "
    "thick red line to h_t on the right. The update gate u_t splits it: h_{t-1} is multiplied "
    "by u_t, the candidate h̃_t by 1 - u_t, and the two are added, so h_t = u_t h_{t-1} + "
    "(1 - u_t) h̃_t. Below, h_{t-1} and x_t feed the sigmoid reset gate r_t and the sigmoid "
    "update gate u_t; the candidate h̃_t is tanh of the input term plus r_t times the recurrent "
    "term. The gradient from h_t back to h_{t-1} along the top line is multiplied only by u_t."
)


def _axes(width: float, height: float, xlim, ylim) -> tuple[Figure, Axes]:
    fig, ax = new_figure(width, height)
    _frame(ax, xlim, ylim)
    return fig, ax


def _frame(ax: Axes, xlim, ylim) -> None:
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")


def _box(ax: Axes, x: float, y: float, text: str, color: str, width: float = 0.7,
         height: float = 0.5, fontsize: float = 11) -> None:
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                facecolor=color, edgecolor="0.2", zorder=3, **_BOX))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=4)


def _op(ax: Axes, x: float, y: float, symbol: str) -> None:
    """A pointwise operation: a small white circle with ``symbol`` (x, + or 1-)."""
    ax.add_patch(Circle((x, y), 0.2, facecolor="white", edgecolor="0.2", linewidth=1.2,
                        zorder=3))
    ax.text(x, y, symbol, ha="center", va="center", fontsize=10 if len(symbol) > 1 else 13,
            zorder=4)


def _line(ax: Axes, points, color: str = "0.25", width: float = 1.4, arrow: bool = True,
          alpha: float = 1.0) -> None:
    """A polyline through ``points``, with an arrow head on the last segment."""
    for (a, b) in zip(points[:-2], points[1:-1], strict=False):
        ax.plot([a[0], b[0]], [a[1], b[1]], color=color, linewidth=width, alpha=alpha,
                solid_capstyle="round", zorder=2)
    ax.add_patch(FancyArrowPatch(points[-2], points[-1], color=color, linewidth=width,
                                 alpha=alpha, zorder=2,
                                 arrowstyle="-|>" if arrow else "-",
                                 mutation_scale=10 + 2 * width))


def _lstm_cell(ax: Axes, *, c_width: float = 4.0, c_alpha: float = 1.0) -> None:
    red, blue = COLORS["W"], COLORS["U"]
    ax.add_patch(FancyBboxPatch((0.9, -0.05), 7.6, 4.55, boxstyle="round,pad=0.05",
                                facecolor="#fbfbfb", edgecolor="0.6", linewidth=1.0, zorder=0))
    # The cell-state line (the carousel): c_{t-1} -> x f_t -> + -> c_t.
    _line(ax, [(0.3, 4.0), (2.4, 4.0)], red, c_width, arrow=False, alpha=c_alpha)
    _line(ax, [(2.6, 4.0), (4.6, 4.0)], red, c_width, arrow=False, alpha=c_alpha)
    _line(ax, [(4.8, 4.0), (9.2, 4.0)], red, c_width, alpha=c_alpha)
    _op(ax, 2.5, 4.0, "×")
    _op(ax, 4.7, 4.0, "+")
    ax.text(0.3, 4.3, "$c_{t-1}$", fontsize=12, color=red, ha="left")
    ax.text(9.2, 4.3, "$c_t$", fontsize=12, color=red, ha="right")
    # The bus: h_{t-1} and x_t concatenated, feeding the four blocks.
    _line(ax, [(0.3, 0.4), (6.6, 0.4)], red, 1.6, arrow=False)
    ax.text(0.3, 0.65, "$h_{t-1}$", fontsize=12, color=red, ha="left")
    _line(ax, [(1.5, -0.7), (1.5, 0.4)], blue, 1.6, arrow=False)
    ax.text(1.65, -0.55, "$x_t$", fontsize=12, color=blue, ha="left")
    gates = [(2.5, r"$\sigma$", "$f_t$"), (3.7, r"$\sigma$", "$i_t$"),
             (4.7, "tanh", r"$\tilde c_t$"), (6.6, r"$\sigma$", "$o_t$")]
    for x, fn, name in gates:
        _line(ax, [(x, 0.4), (x, 1.3)], "0.25", 1.2)
        _box(ax, x, 1.55, fn, GATE_COLOR, width=0.75, fontsize=11 if fn != "tanh" else 9)
        ax.text(x - 0.42, 1.85, name, fontsize=11, ha="right", va="bottom")
    # f_t multiplies the carousel; i_t * c̃_t is added to it.
    _line(ax, [(2.5, 1.8), (2.5, 3.8)], "0.25", 1.2)
    _op(ax, 4.7, 2.9, "×")
    _line(ax, [(3.7, 1.8), (3.7, 2.9), (4.5, 2.9)], "0.25", 1.2)
    _line(ax, [(4.7, 1.8), (4.7, 2.7)], "0.25", 1.2)
    _line(ax, [(4.7, 3.1), (4.7, 3.8)], "0.25", 1.2)
    # h_t = o_t * tanh(c_t).
    _line(ax, [(7.6, 4.0), (7.6, 3.2)], red, 1.2)
    _box(ax, 7.6, 2.95, "tanh", "white", width=0.75, fontsize=9)
    _op(ax, 7.6, 1.55, "×")
    _line(ax, [(7.6, 2.7), (7.6, 1.75)], "0.25", 1.2)
    _line(ax, [(6.6, 1.8), (6.6, 2.2), (7.2, 2.2), (7.2, 1.55), (7.4, 1.55)], "0.25", 1.2)
    _line(ax, [(7.6, 1.35), (7.6, 0.4), (9.2, 0.4)], red, 1.6)
    ax.text(9.2, 0.65, "$h_t$", fontsize=12, color=red, ha="right")


def fit_log_limits(*curves, bounds: tuple[float, float] = (1e-30, 1e6)) -> tuple[float, float]:
    """Return log-axis limits that fit the positive finite values of ``curves``.

    The limits are whole decades, at least half a decade beyond the data on either side, always
    include 1 and stay within ``bounds`` (values outside are drawn at the edge, marked by
    :func:`~rnnbook.plots.common.semilogy_with_overflow`).
    """
    values = np.concatenate([np.ravel(np.asarray(c, dtype=float)) for c in curves])
    values = values[np.isfinite(values) & (values > 0)]
    if values.size == 0:
        return bounds
    low = min(values.min(), 1.0)
    high = max(values.max(), 1.0)
    low = 10.0 ** np.floor(np.log10(low) - 0.5)
    high = 10.0 ** np.ceil(np.log10(high) + 0.5)
    return float(max(low, bounds[0])), float(min(high, bounds[1]))


def plot_lstm_cell() -> Figure:
    """Return a diagram of one LSTM cell, with its gates and the cell-state path.

    The thick red line is the cell state c, on which the only operations are a product with the
    forget gate f_t and the addition of i_t * c̃_t. Alt text: :data:`LSTM_CELL_ALT`.
    """
    fig, ax = _axes(6.4, 3.6, (0.0, 9.4), (-0.9, 4.7))
    _lstm_cell(ax)
    return fig


def plot_gru_cell() -> Figure:
    """Return a diagram of one GRU cell, with its two gates and the update path.

    The thick red line is the state h: h_t = u_t * h_{t-1} + (1 - u_t) * h̃_t (PyTorch's
    convention with its z_t written u_t, chapter 7). Alt text: :data:`GRU_CELL_ALT`.
    """
    red, blue = COLORS["W"], COLORS["U"]
    fig, ax = _axes(6.4, 3.6, (0.0, 9.4), (-0.9, 4.7))
    ax.add_patch(FancyBboxPatch((0.9, -0.05), 7.6, 4.55, boxstyle="round,pad=0.05",
                                facecolor="#fbfbfb", edgecolor="0.6", linewidth=1.0, zorder=0))
    # The update path: h_{t-1} -> x u_t -> + -> h_t.
    _line(ax, [(0.3, 4.0), (3.6, 4.0)], red, 4.0, arrow=False)
    _line(ax, [(3.8, 4.0), (6.6, 4.0)], red, 4.0, arrow=False)
    _line(ax, [(6.8, 4.0), (9.2, 4.0)], red, 4.0)
    _op(ax, 3.7, 4.0, "×")
    _op(ax, 6.7, 4.0, "+")
    ax.text(0.3, 4.3, "$h_{t-1}$", fontsize=12, color=red, ha="left")
    ax.text(9.2, 4.3, "$h_t$", fontsize=12, color=red, ha="right")
    # h_{t-1} also goes down to the bus that feeds the gates.
    _line(ax, [(1.2, 4.0), (1.2, 0.4), (5.6, 0.4)], red, 1.6, arrow=False)
    _line(ax, [(1.9, -0.7), (1.9, 0.4)], blue, 1.6, arrow=False)
    ax.text(2.05, -0.55, "$x_t$", fontsize=12, color=blue, ha="left")
    for x, name, side in ((2.4, "$r_t$", -1), (3.7, "$u_t$", 1)):
        _line(ax, [(x, 0.4), (x, 1.3)], "0.25", 1.2)
        _box(ax, x, 1.55, r"$\sigma$", GATE_COLOR, width=0.75)
        ax.text(x + 0.42 * side, 1.85, name, fontsize=11, ha="left" if side > 0 else "right",
                va="bottom")
    # u_t multiplies the state; 1 - u_t multiplies the candidate.
    _line(ax, [(3.7, 1.8), (3.7, 3.8)], "0.25", 1.2)
    _line(ax, [(3.7, 2.5), (4.95, 2.5)], "0.25", 1.2)
    _op(ax, 5.2, 2.5, "1−")
    _line(ax, [(5.4, 2.5), (6.5, 2.5)], "0.25", 1.2)
    _op(ax, 6.7, 2.5, "×")
    _line(ax, [(6.7, 2.7), (6.7, 3.8)], "0.25", 1.2)
    # The candidate h̃_t = tanh(U_h x_t + r_t * (W_h h_{t-1})).
    _line(ax, [(5.6, 0.4), (5.6, 0.85)], "0.25", 1.2)
    _op(ax, 5.6, 1.05, "×")
    _line(ax, [(2.4, 1.8), (2.4, 2.1), (3.05, 2.1), (3.05, 1.05), (5.4, 1.05)], "0.25", 1.2)
    _line(ax, [(5.6, 1.25), (5.6, 1.6), (6.35, 1.6)], "0.25", 1.2)
    _line(ax, [(1.9, 0.4), (1.9, 0.15), (6.7, 0.15), (6.7, 1.35)], blue, 1.2)
    _box(ax, 6.7, 1.6, "tanh", GATE_COLOR, width=0.75, fontsize=9)
    ax.text(7.12, 1.85, r"$\tilde h_t$", fontsize=11, ha="left", va="bottom")
    _line(ax, [(6.7, 1.85), (6.7, 2.3)], "0.25", 1.2)
    return fig


def plot_lstm_gradient_path(result: GradientFlow) -> Figure:
    """Return the LSTM cell with its cell-state path drawn by the forget gate, beside the
    measured ||dc_T/dc_k|| against distance.

    The carousel's width and opacity follow the mean forget gate of ``result`` (a
    :class:`~rnnbook.lstm.GradientFlow`), so the picture and the measured norms move together
    in an explorer. Alt text: :func:`describe_lstm_gradient_path`.
    """
    if not isinstance(result, GradientFlow):
        raise TypeError(f"expected a GradientFlow, got {type(result).__name__}")
    fig = Figure(figsize=(7.6, 2.9), layout="constrained")
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.4, 1.0]})
    _frame(left, (0.0, 9.4), (-0.9, 4.9))
    f = result.mean_forget
    _lstm_cell(left, c_width=0.6 + 6.0 * f, c_alpha=0.15 + 0.85 * f)
    left.set_title(f"mean forget gate $f_t$ = {f:.2f}", fontsize=10)
    lstm = "#2166ac"
    semilogy_with_overflow(right, result.distance, result.lstm, color=lstm, linewidth=1.8,
                           label=r"$\|\partial c_T/\partial c_k\|$")
    semilogy_with_overflow(right, result.distance, result.forget_path, color=lstm,
                           linewidth=1.2, linestyle="--", label=r"forget path $\|\prod f_j\|$")
    right.axhline(1.0, color="0.7", linewidth=0.8)
    right.set_xlim(0, result.distance.max())
    right.set_ylim(*fit_log_limits(result.lstm, result.forget_path))
    right.set_xlabel("distance T − k (steps)")
    right.set_ylabel("spectral norm")
    right.set_title(f"forget-gate bias {result.forget_bias:+g}", fontsize=10)
    right.legend(fontsize=8, loc="lower left", framealpha=0.9)
    return fig


def describe_lstm_gradient_path(result: GradientFlow) -> str:
    """Return the alt text of :func:`plot_lstm_gradient_path` for ``result``."""
    if not isinstance(result, GradientFlow):
        raise TypeError(f"expected a GradientFlow, got {type(result).__name__}")
    f = result.mean_forget
    look = "thick and solid" if f > 0.8 else "thin and faint" if f < 0.6 else "of medium width"
    far = int(result.distance.max())
    picks = sorted({min(10, far), min(50, far), far})
    norms = "; ".join(f"at distance {d}: {result.lstm[d]:.2g} (forget path "
                      f"{result.forget_path[d]:.2g})" for d in picks)
    return (f"Left: the LSTM cell diagram with its cell-state line drawn {look}, for a mean "
            f"forget gate of {f:.2f} (forget-gate bias {result.forget_bias:+g}). Right: the "
            f"measured norm of dc_T/dc_k against the distance T - k on a log scale; {norms}.")


def plot_backward_flow(steps: int = 4) -> Figure:
    """Return the unrolled RNN of chapter 1 with the backward flow of the error signal.

    Purple arrows run right to left along the chain: delta_t = J_{t+1}^T delta_{t+1} plus the
    output's own contribution at step t, and each step adds its term delta_t h_{t-1}^T to dL/dW.
    """
    steps = check_count("steps", steps, 2)
    if steps > 8:
        raise ValueError(f"steps must be an integer from 2 to 8, got {steps}")
    red, blue = COLORS["W"], COLORS["U"]
    fig, ax = _axes(7.6, 3.2, (1.0, 1.5 * steps + 2.0), (-1.05, 2.4))
    labels = [str(k) if k < steps or steps < 4 else "T" for k in range(1, steps + 1)]
    _box(ax, 1.5, 1, "$h_0$", COLORS["h"], width=0.64, height=0.44)
    for k, label in enumerate(labels, start=1):
        x = 1.5 + 1.5 * k
        _box(ax, x, 0, f"$x_{label}$", COLORS["x"], width=0.64, height=0.44)
        _box(ax, x, 1, f"$h_{label}$", COLORS["h"], width=0.64, height=0.44)
        _box(ax, x, 2, f"$L_{label}$", COLORS["o"], width=0.64, height=0.44)
        _line(ax, [(x, 0.22), (x, 0.78)], blue, 1.2)
        _line(ax, [(x, 1.22), (x, 1.78)], "0.55", 1.2)
        _line(ax, [(x - 1.18, 0.92), (x - 0.32, 0.92)], red, 1.2)
        # Backward: from the loss down into the state, and from h_k back to h_{k-1}.
        _line(ax, [(x + 0.14, 1.78), (x + 0.14, 1.22)], DELTA_COLOR, 2.0)
        if k > 1:
            _line(ax, [(x - 0.32, 1.1), (x - 1.18, 1.1)], DELTA_COLOR, 2.4)
            ax.text(x - 0.75, 1.22, f"$J_{{{label}}}^\\top$", color=DELTA_COLOR,
                    fontsize=10, ha="center", va="bottom")
        ax.text(x, -0.42, f"$\\delta_{{{label}}} h_{{{k - 1 if label != 'T' else 'T-1'}}}"
                f"^\\top$", color=DELTA_COLOR, fontsize=9, ha="center", va="top")
    if steps >= 4:
        ax.text(1.5 + 1.5 * (steps - 0.5), 0.45, "…", fontsize=16, ha="center")
    ax.text(1.5 + 0.75 * (steps + 1), -0.85,
            r"$dL/dW = \sum_k \delta_k\, h_{k-1}^\top$:  one term per step, each "
            r"carried back by a product of $J^\top$", fontsize=10, ha="center", va="top",
            color=DELTA_COLOR)
    return fig


def backward_flow_alt(steps: int = 4) -> str:
    """Return the alt text of :func:`plot_backward_flow`."""
    steps = check_count("steps", steps, 2)
    return (f"The RNN unrolled over {steps} steps, inputs at the bottom, states in the middle, "
            "losses at the top, red arrows carrying W forward from state to state. Purple "
            "arrows run backwards: each loss sends its error into its state, and each state "
            "passes the error signal to the previous one through the transposed Jacobian "
            "J_t^T. Under every step, the term delta_k h_{k-1}^T that the step adds to dL/dW.")


def plot_terms_by_distance(term_norms, *, title: str = "") -> Figure:
    """Return the sum of products as a bar chart: one bar per term of dL/dW, by distance.

    ``term_norms[l]`` is the norm of the term whose error signal crossed ``l`` steps (l = 0 is
    the last step). Bars fade with the distance.
    """
    values = np.asarray(term_norms, dtype=float)
    if values.ndim != 1 or values.size < 2 or not np.all(np.isfinite(values)) or (
            values < 0).any():
        raise ValueError("term_norms must be a 1-D array of at least 2 finite norms >= 0")
    fig, ax = new_figure(7.0, 2.8)
    d = np.arange(values.size)
    positive = values > 0
    if not positive.any():
        raise ValueError("term_norms are all zero; there is nothing to draw")
    bars = ax.bar(d[positive], values[positive], width=0.8, color=DELTA_COLOR,
                  edgecolor="none")
    for patch, k in zip(bars, d[positive], strict=True):
        patch.set_alpha(max(0.25, 1.0 - k / values.size))
    ax.set_yscale("log")
    ax.set_xlim(-0.8, values.size - 0.2)
    top = values[positive].max()
    floor = max(values[positive].min(), top * 1e-20)
    ax.set_ylim(floor / 3, top * 3)
    ax.set_xlabel("distance ℓ = T − k of the term (steps)")
    ax.set_ylabel(r"$\|\delta_k h_{k-1}^\top\|$")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def describe_terms_by_distance(term_norms) -> str:
    """Return the alt text of :func:`plot_terms_by_distance`."""
    values = np.asarray(term_norms, dtype=float)
    if values.ndim != 1 or values.size < 2:
        raise ValueError("term_norms must be a 1-D array of at least 2 norms")
    share = values[: min(10, values.size)].sum() / values.sum() if values.sum() > 0 else 0.0
    return (f"Bar chart on a log scale of the {values.size} terms of dL/dW, one per distance "
            f"from 0 to {values.size - 1}. The nearest term is {values[0]:.2g}, the farthest "
            f"{values[-1]:.2g}; the ten nearest terms carry {100 * share:.0f}% of the sum of "
            "the norms.")
