"""Path-length profiles and chapter 8's figures."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from rnnbook.linear_recurrence import describe_ring, ring_summary, scan_timings
from rnnbook.path_length import (
    PATH_MODELS,
    _inputs,
    compare_paths,
    describe_comparison,
    gradient_profile,
)
from rnnbook.plots.after_gates import (
    plot_lru_ring,
    plot_path_comparison,
    plot_path_diagram,
    plot_scan_timings,
)


def test_rnn_profile_equals_a_cell_by_cell_torch_loop():
    T, n = 15, 6
    profile = gradient_profile("rnn", T, n=n, batch=1, seed=2)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(2)
        layer = torch.nn.RNN(n, n).double()
    cell = torch.nn.RNNCell(n, n).double()
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(layer, f"{name}_l0"))
    x, w = _inputs(T, n, 1, 2)
    xs = [torch.tensor(x[t], requires_grad=True) for t in range(T)]
    h = torch.zeros(1, n, dtype=torch.float64)
    for t in range(T):
        h = cell(xs[t], h)
    (h @ torch.tensor(w)).sum().backward()
    expected = [float(torch.linalg.vector_norm(xs[T - 1 - d].grad)) for d in range(T)]
    np.testing.assert_allclose(profile.norm, expected, rtol=1e-10)


def test_profiles_decay_or_stay_flat():
    comparison = compare_paths(60, "lstm", n=8, batch=4)
    assert comparison.selected == "lstm" and set(comparison.profiles) == set(PATH_MODELS)
    rnn, lstm, attention = (comparison.profiles[m] for m in PATH_MODELS)
    assert rnn.norm.shape == (60,) and np.array_equal(rnn.distance, np.arange(60))
    assert rnn.ratio(1, 59) < 1e-8 and lstm.ratio(1, 59) < 1e-5
    assert 0.05 < attention.ratio(1, 59) < 20
    again = gradient_profile("attention", 60, n=8, batch=4)
    np.testing.assert_array_equal(again.norm, attention.norm)
    text = describe_comparison(comparison)
    assert "T = 60" in text and "lstm drawn bold" in text


def test_figures_and_alt_text():
    fig = plot_path_comparison(compare_paths(20, n=4, batch=2))
    assert isinstance(fig, Figure) and fig.axes[0].get_yscale() == "log"
    assert len(fig.axes[0].get_lines()) == 3
    ring = ring_summary(0.5, 0.99, n=16, max_distance=500)
    assert ring.lam.shape == (16,) and ring.decay.shape == (3, ring.distance.size)
    assert np.all(np.diff(ring.horizon) >= 0) and ring.gain == pytest.approx(
        1 / (1 - np.abs(ring.lam).max() ** 2))
    fig = plot_lru_ring(ring)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert "ring between radius 0.5 and 0.99" in describe_ring(ring)
    timings = scan_timings([4, 16], n=2, batch=1, repeats=1)
    assert set(timings) == {"T", "sequential", "hillis_steele", "blelloch"}
    assert all(np.all(timings[k] >= 0) for k in timings)
    assert isinstance(plot_scan_timings(timings, timings), Figure)
    fig = plot_path_diagram(4)
    assert isinstance(fig, Figure) and len(fig.axes) == 2


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: gradient_profile("gru", 10), ValueError, "unknown model"),
        (lambda: gradient_profile("rnn", 0), ValueError, "T must be >= 1"),
        (lambda: gradient_profile("rnn", 10, n=0), ValueError, "n must be >= 1"),
        (lambda: compare_paths(10, "tcn"), ValueError, "unknown selected"),
        (lambda: describe_comparison(None), TypeError, "PathComparison"),
        (lambda: plot_path_comparison(None), TypeError, "PathComparison"),
        (lambda: plot_lru_ring(None), TypeError, "RingSummary"),
        (lambda: describe_ring(None), TypeError, "RingSummary"),
        (lambda: ring_summary(0.9, 0.5), ValueError, "r_min must be <= r_max"),
        (lambda: scan_timings([0]), ValueError, r"lengths\[0\] must be >= 1"),
        (lambda: plot_path_diagram(1), ValueError, "steps must be"),
    ],
)
def test_bad_input_raises(call, error, message):
    with pytest.raises(error, match=message):
        call()
