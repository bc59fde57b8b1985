"""The figures of chapter 2 are drawn in normal and overflowing regimes, never blank."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from matplotlib.figure import Figure

from rnnbook.bptt import truncation_profile
from rnnbook.decomposition import scaled_rnn_problem
from rnnbook.plots.bptt import TERM_YLIM, plot_truncation


def profile(rho, window, activation="tanh", T=30):
    params, x, h0, y = scaled_rnn_problem(rho, T, activation, n=8)
    return truncation_profile(params, x, y, window, h0=h0)


def texts(fig: Figure) -> str:
    return " ".join(t.get_text() for ax in fig.axes for t in [*ax.texts, ax.title])


@pytest.mark.parametrize(("rho", "window"), [(0.5, 1), (1.0, 10), (3.0, 30)])
def test_plot_truncation_returns_a_figure_with_both_panels(rho, window):
    result = profile(rho, window)
    fig = plot_truncation(result)
    assert isinstance(fig, Figure)
    left, right = fig.axes
    assert left.get_yscale() == "log" and right.get_yscale() == "log"
    assert left.get_ylim() == pytest.approx(TERM_YLIM)
    # the full terms, the kept terms and the error curve are all drawn
    assert len(left.lines) >= 2 and len(right.lines) >= 1
    kept = left.lines[1].get_xdata()
    np.testing.assert_array_equal(kept, np.arange(30 - window + 1, 31))
    assert f"window K = {window}" in right.get_title()
    assert ("outside the window" in texts(fig)) == (window < 30)
    assert "0 at K = 30" in texts(fig)  # full BPTT's zero error is said, not dropped


def test_plot_truncation_of_a_single_step():
    fig = plot_truncation(profile(0.9, 1, T=1))
    assert isinstance(fig, Figure)
    assert "window K = 1" in fig.axes[1].get_title()


def test_plot_truncation_marks_total_overflow():
    result = profile(1e4, 5, activation="identity", T=60)
    assert not np.any(np.isfinite(result.full_norms))
    fig = plot_truncation(result)
    assert isinstance(fig, Figure)
    assert "overflow" in texts(fig)
    # the errors are compared as mantissas and powers of two: finite, not NaN (issue 20); the
    # dropped far terms are the largest by far, so cutting them loses almost all the gradient
    assert not np.isnan(result.errors).any()
    assert result.error == pytest.approx(1.0, abs=0.05)
    assert f"error {result.error:.2g}" in fig.axes[1].get_title()
    assert "0 at K = 60" in texts(fig)  # full BPTT's zero error, exact though it overflowed


def test_plot_truncation_marks_partial_overflow_and_clips_off_scale_terms():
    result = profile(1.0, 5)
    norms = result.full_norms.copy()
    norms[:3] = np.inf  # the farthest terms overflowed
    norms[3] = 1e20  # above the plotted range
    errors = result.errors.copy()
    errors[:2] = np.nan
    fig = plot_truncation(dataclasses.replace(result, full_norms=norms, errors=errors))
    assert "overflow: inf" in texts(fig)
    assert "off the scale" in texts(fig)
    # the finite terms are still drawn
    assert len(fig.axes[0].lines[0].get_xdata()) == 30 - 3


def test_plot_truncation_rejects_other_results():
    with pytest.raises(TypeError, match="TruncationProfile"):
        plot_truncation({"errors": [1.0]})
