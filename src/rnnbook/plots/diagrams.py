"""Diagrams drawn with matplotlib: the folded and the unrolled RNN."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from rnnbook.checks import check_count
from rnnbook.plots.common import new_figure

_BOX = {"boxstyle": "round,pad=0.02,rounding_size=0.08", "linewidth": 1.2}
COLORS = {"x": "#d1e5f0", "h": "#fddbc7", "o": "#e0e0e0", "W": "#b2182b", "U": "#2166ac",
          "V": "0.3"}


def _node(ax, x: float, y: float, text: str, kind: str) -> None:
    ax.add_patch(FancyBboxPatch((x - 0.32, y - 0.22), 0.64, 0.44, facecolor=COLORS[kind],
                                edgecolor="0.2", **_BOX))
    ax.text(x, y, text, ha="center", va="center", fontsize=11)


def _arrow(ax, start, end, label: str, color: str, offset=(0.12, 0.0)) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12,
                                 color=color, linewidth=1.6))
    mid = ((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1])
    ax.text(*mid, label, color=color, fontsize=10, ha="left", va="center", fontweight="bold")


def plot_unrolled(steps: int = 4) -> Figure:
    """Return the RNN folded (left) and unrolled over ``steps`` steps (right).

    Every horizontal arrow carries the same W, every upward arrow into a state the same U and
    every arrow out of a state the same V.
    """
    steps = check_count("steps", steps, 1, 8)
    fig, ax = new_figure(8.0, 3.0)
    ax.set_xlim(-0.2, 2.4 + 1.5 * steps + 0.6)
    ax.set_ylim(-0.5, 2.5)
    ax.set_aspect("equal")
    ax.axis("off")
    # Folded network with its self-loop.
    _node(ax, 0.3, 0, "$x_t$", "x")
    _node(ax, 0.3, 1, "$h_t$", "h")
    _node(ax, 0.3, 2, "$o_t$", "o")
    _arrow(ax, (0.3, 0.22), (0.3, 0.78), "U", COLORS["U"])
    _arrow(ax, (0.3, 1.22), (0.3, 1.78), "V", COLORS["V"])
    ax.add_patch(FancyArrowPatch((0.62, 1.1), (0.62, 0.9), connectionstyle="arc3,rad=-2.2",
                                 arrowstyle="-|>", mutation_scale=12, color=COLORS["W"],
                                 linewidth=1.6))
    ax.text(1.05, 1.0, "W", color=COLORS["W"], fontsize=10, fontweight="bold", va="center")
    ax.text(1.45, 1.0, "=", fontsize=18, va="center")
    # Unrolled network.
    x0 = 2.4
    _node(ax, x0, 1, "$h_0$", "h")
    for k in range(1, steps + 1):
        x = x0 + 1.5 * k
        label = f"{k}" if k < steps or steps < 4 else "T"
        _node(ax, x, 0, f"$x_{label}$", "x")
        _node(ax, x, 1, f"$h_{label}$", "h")
        _node(ax, x, 2, f"$o_{label}$", "o")
        _arrow(ax, (x, 0.22), (x, 0.78), "U", COLORS["U"])
        _arrow(ax, (x, 1.22), (x, 1.78), "V", COLORS["V"])
        _arrow(ax, (x - 1.18, 1), (x - 0.32, 1), "", COLORS["W"])
        ax.text(x - 0.75, 1.12, "W", color=COLORS["W"], fontsize=10, fontweight="bold",
                ha="center")
    if steps >= 4:
        ax.text(x0 + 1.5 * (steps - 0.5), 0.5, "…", fontsize=16, ha="center")
    return fig
