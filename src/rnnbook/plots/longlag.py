"""Figures of the long-lag experiment (chapters 6 and 7): learning curves and success rates."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from rnnbook.experiments.longlag import LongLagResults, runs_at
from rnnbook.experiments.training import MODELS
from rnnbook.plots.common import new_figure

#: One colour per model, shared by both figures.
MODEL_COLORS = {"rnn": "#b35806", "lstm": "#2166ac", "gru": "#1b7837"}
MODEL_NAMES = {"rnn": "vanilla RNN", "lstm": "LSTM", "gru": "GRU"}
MODEL_MARKERS = {"rnn": "o", "lstm": "s", "gru": "^"}
#: Fixed y-range of the learning curves (held-out MSE).
MSE_LIMITS = (1e-5, 3.0)


def _check(results) -> LongLagResults:
    if not isinstance(results, LongLagResults):
        raise TypeError(f"results must be LongLagResults, got {type(results).__name__}")
    return results


def plot_learning_curves(results: LongLagResults, T: int) -> Figure:
    """Return one panel per model: held-out MSE against training step at length ``T``.

    Each seed is one line (log y, fixed range); the constant predictor's MSE 1/6 is dashed and
    the success threshold 0.01 dotted. A value that is NaN (a diverged run) ends its line with a
    cross; values outside the range are drawn at its edge.
    """
    results = _check(results)
    lengths = sorted({r.config.T for r in results.runs})
    if T not in lengths:
        raise ValueError(f"no runs at T = {T!r}; the stored lengths are {lengths}")
    models = [m for m in MODELS if runs_at(results, m, T)]
    fig, axes = new_figure(width=7.5, height=2.6, ncols=len(models))
    axes = np.atleast_1d(axes)
    for ax, model in zip(axes, models, strict=True):
        runs = runs_at(results, model, T)
        for run in runs:
            steps, mse = run.eval_steps, run.eval_loss
            finite = np.isfinite(mse)
            shown = np.clip(mse[finite], *MSE_LIMITS)
            ax.semilogy(steps[finite], shown, color=MODEL_COLORS[model], linewidth=1.2,
                        alpha=0.85, label=f"seed {run.config.seed}")
            if not finite.all():
                last = steps[finite][-1] if finite.any() else 0
                ax.plot([last], [MSE_LIMITS[1]], marker="x", color="#b2182b", markersize=8)
        ax.axhline(runs[0].baseline, color="0.3", linestyle="--", linewidth=1.0)
        ax.axhline(0.01, color="0.3", linestyle=":", linewidth=1.0)
        ax.set_ylim(*MSE_LIMITS)
        ax.set_xlim(0, runs[0].config.steps)
        successes = sum(r.success for r in runs)
        ax.set_title(f"{MODEL_NAMES[model]}: {successes}/{len(runs)} succeed", fontsize=10)
        ax.set_xlabel("training step")
    axes[0].set_ylabel(f"held-out MSE (T = {T})")
    axes[0].text(0.98, runs_at(results, models[0], T)[0].baseline * 1.25, "constant 1/6",
                 transform=axes[0].get_yaxis_transform(), ha="right", va="bottom", fontsize=7,
                 color="0.3")
    axes[0].text(0.98, 0.0125, "success 0.01", transform=axes[0].get_yaxis_transform(),
                 ha="right", va="bottom", fontsize=7, color="0.3")
    return fig


def plot_success(results: LongLagResults) -> Figure:
    """Return two panels against T: success rate (left) and median final MSE (right, log).

    Markers of the three models differ in shape and are offset slightly along T, so that equal
    values stay visible.
    """
    from rnnbook.experiments.longlag import results_table

    rows = results_table(_check(results))
    lengths = sorted({row["T"] for row in rows})
    fig, (left, right) = new_figure(width=7.5, height=2.9, ncols=2)
    span = (max(lengths) - min(lengths)) or 1
    for k, model in enumerate(m for m in MODELS if any(r["model"] == m for r in rows)):
        mine = [r for r in rows if r["model"] == model]
        T = np.array([r["T"] for r in mine], dtype=float) + (k - 1) * 0.02 * span
        rate = [r["success_rate"] for r in mine]
        mse = np.clip([r["median_final_mse"] for r in mine], *MSE_LIMITS)
        style = dict(color=MODEL_COLORS[model], marker=MODEL_MARKERS[model], linewidth=1.5,
                     markersize=7 - k, label=MODEL_NAMES[model])
        left.plot(T, rate, **style)
        right.semilogy(T, mse, **style)
    left.set_ylim(-0.05, 1.05)
    left.set_ylabel("success rate (MSE < 0.01)")
    right.set_ylim(*MSE_LIMITS)
    right.axhline(1 / 6, color="0.3", linestyle="--", linewidth=1.0)
    right.axhline(0.01, color="0.3", linestyle=":", linewidth=1.0)
    right.set_ylabel("median final MSE")
    for ax in (left, right):
        ax.set_xlabel("sequence length T")
        ax.set_xticks(lengths)
    fig.legend(*left.get_legend_handles_labels(), loc="outside upper center", ncols=3,
               fontsize=8, frameon=False)
    return fig
