"""Pascanu's one-unit cliff: loss, gradient (against torch autograd), descents and the figure."""

import warnings

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from rnnbook.cliff import (
    START,
    STEPS,
    TARGET,
    X0,
    cliff_descent,
    cliff_gradient,
    cliff_loss,
    cliff_surface,
    descend,
    describe_cliff_descent,
)
from rnnbook.explorer import render_png
from rnnbook.plots.remedies import plot_cliff_descent

#: The explorer's grid: every frame must show the plain step flying off and the clipped not.
LEARNING_RATES = [0.1, 0.2, 0.3, 0.5, 1.0]
THRESHOLDS = [0.1, 0.3, 1.0]


def torch_loss_and_grad(w, b, steps=STEPS):
    w_t = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    b_t = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    x = torch.tensor(X0, dtype=torch.float64)
    for _ in range(steps):
        x = w_t * torch.sigmoid(x) + b_t
    loss = (torch.sigmoid(x) - TARGET) ** 2
    loss.backward()
    return loss.item(), w_t.grad.item(), b_t.grad.item()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("steps", [1, 5, 50])
def test_gradient_equals_torch_autograd(seed, steps):
    rng = np.random.default_rng(seed)
    for w, b in zip(rng.uniform(-8, 8, 5), rng.uniform(-6, 4, 5), strict=True):
        loss, dw, db = cliff_gradient(w, b, steps=steps)
        t_loss, t_dw, t_db = torch_loss_and_grad(w, b, steps)
        assert loss == pytest.approx(t_loss, rel=1e-12, abs=1e-300)
        scale = np.hypot(t_dw, t_db)
        np.testing.assert_allclose([dw, db], [t_dw, t_db], rtol=1e-9, atol=1e-12 * scale)


@pytest.mark.parametrize(("w", "b_wall"), [(4.1, -2.068), (4.3, -2.183), (4.5, -2.303),
                                           (4.7, -2.426)])
def test_gradient_equals_torch_on_the_wall(w, b_wall):
    # On the wall the gradient is large (tens to hundreds): a relative tolerance still holds.
    bs = np.linspace(b_wall - 0.01, b_wall + 0.01, 2001)
    _, dw, db = cliff_gradient(w, bs)
    steepest = int(np.argmax(np.hypot(dw, db)))
    assert np.hypot(dw[steepest], db[steepest]) > 10
    _, t_dw, t_db = torch_loss_and_grad(w, bs[steepest])
    np.testing.assert_allclose([dw[steepest], db[steepest]], [t_dw, t_db], rtol=1e-8)


def test_gradient_matches_central_differences():
    w, b, h = 4.4, -2.2, 1e-6
    _, dw, db = cliff_gradient(w, b)
    fd_w = (cliff_loss(w + h, b) - cliff_loss(w - h, b)) / (2 * h)
    fd_b = (cliff_loss(w, b + h) - cliff_loss(w, b - h)) / (2 * h)
    np.testing.assert_allclose([dw, db], [fd_w, fd_b], rtol=1e-5)


def test_loss_has_closed_form_when_w_is_zero():
    # w = 0: x_t = b for every t >= 1, so E = (sigma(b) - 0.7)^2.
    b = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(cliff_loss(0.0, b), (1 / (1 + np.exp(-b)) - 0.7) ** 2,
                               rtol=1e-14)
    assert cliff_loss(0.0, 0.0) == pytest.approx(0.04, rel=1e-14)


def test_loss_on_a_grid_is_vectorised():
    w = np.linspace(2, 8, 7)
    b = np.linspace(-4, 0, 5)
    grid = cliff_loss(w[None, :], b[:, None])
    assert grid.shape == (5, 7)
    for i, bi in enumerate(b):
        for j, wj in enumerate(w):
            assert grid[i, j] == cliff_loss(wj, bi)
    loss, dw, db = cliff_gradient(w[None, :], b[:, None])
    assert loss.shape == dw.shape == db.shape == (5, 7)
    np.testing.assert_array_equal(loss, grid)


def test_surface_has_the_two_plateaus_and_the_wall():
    surface = cliff_surface()
    assert surface.loss.shape == (surface.b.size, surface.w.size)
    # sigma(x_50) ~ 0 below the wall (loss ~ 0.49), ~ 1 above it at large w (loss ~ 0.09)
    assert surface.loss.max() > 0.45
    assert np.any(np.abs(surface.loss - 0.09) < 0.001)
    assert surface.loss.min() < 1e-4


def test_extreme_parameters_do_not_overflow_or_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for w in (1e3, -1e5, 1e300, -1e300):
            values = cliff_gradient(w, -w / 2 + 0.1)
            assert all(np.isfinite(v) for v in values)
            assert np.isfinite(cliff_loss(w, 1e300))


def test_surface_is_cached_and_read_only():
    first, second = cliff_surface(), cliff_surface()
    assert first is second
    with pytest.raises(ValueError):
        first.loss[0, 0] = 1.0


@pytest.mark.parametrize("threshold", [None, 0.05, 0.5])
def test_descent_follows_the_update_rule(threshold):
    run = descend((4.6, -2.6), 0.2, 30, threshold=threshold)
    assert run.points.shape == (31, 2) and run.losses.shape == (31,)
    for k in range(30):
        w, b = run.points[k]
        loss, dw, db = cliff_gradient(w, b)
        g = np.array([dw, db])
        norm = np.hypot(dw, db)
        assert run.grad_norms[k] == pytest.approx(norm, rel=1e-14)
        assert run.losses[k] == pytest.approx(loss, rel=1e-14)
        if threshold is not None and norm >= threshold:
            g = threshold * g / norm
            assert run.clipped[k]
        else:
            assert not run.clipped[k]
        np.testing.assert_allclose(run.points[k + 1], run.points[k] - 0.2 * g, rtol=1e-14)
        assert run.step_lengths[k] == pytest.approx(0.2 * np.hypot(*g), rel=1e-12)
    if threshold is not None:
        assert run.max_step <= 0.2 * threshold * (1 + 1e-12)


def test_chosen_setting_throws_the_plain_step_off_the_cliff():
    result = cliff_descent(0.3, 0.3)
    assert result.start == START
    assert result.unclipped.max_step > 20  # lands tens of units away
    assert result.step_ratio > 100
    assert result.unclipped.final_loss > 0.08  # stuck on the sigma ~ 1 plateau
    assert result.clipped.final_loss < 0.01
    assert "largest step" in describe_cliff_descent(result)


@pytest.mark.parametrize("learning_rate", LEARNING_RATES)
def test_every_explorer_frame_shows_the_difference(learning_rate):
    for threshold in THRESHOLDS:
        result = cliff_descent(threshold, learning_rate)
        assert result.step_ratio >= 10, (threshold, learning_rate)
        unclipped, clipped = result.final_losses
        assert clipped < 0.01 < 0.08 < unclipped, (threshold, learning_rate)


def test_overflowing_step_stops_the_run():
    run = descend((4.5, -2.303), 1e307, 5)
    assert run.stopped
    assert run.points.shape == (1, 2) and run.step_lengths.size == 0
    assert run.max_step == 0.0


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: cliff_loss(np.nan, 0.0), ValueError, "w contains NaN"),
        (lambda: cliff_loss(1.0, [np.inf]), ValueError, "b contains NaN"),
        (lambda: cliff_loss(np.ones(3), np.ones(4)), ValueError, "broadcast"),
        (lambda: cliff_loss(1.0, 0.0, steps=0), ValueError, "steps"),
        (lambda: cliff_gradient("a", 0.0), TypeError, "numbers"),
        (lambda: descend((1.0, 0.0), 0.0, 5), ValueError, "learning_rate"),
        (lambda: descend((1.0, 0.0), 0.1, 5, threshold=-1.0), ValueError, "threshold"),
        (lambda: descend((1.0, 0.0), "fast", 5), TypeError, "learning_rate"),
        (lambda: descend((1.0, 0.0, 2.0), 0.1, 5), ValueError, "start"),
        (lambda: descend((1.0, 0.0), 0.1, 2.5), TypeError, "steps must be an integer"),
        (lambda: cliff_surface((1.0, 0.0, 0.0, 1.0)), ValueError, "w_min < w_max"),
        (lambda: cliff_surface(nw=1), ValueError, "nw"),
        (lambda: cliff_descent(0.0, 0.1), ValueError, "threshold"),
    ],
)
def test_bad_inputs_raise(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize(("threshold", "learning_rate"), [(0.3, 0.3), (1.0, 0.1)])
def test_plot_is_a_small_figure(threshold, learning_rate):
    fig = plot_cliff_descent(cliff_descent(threshold, learning_rate))
    assert isinstance(fig, Figure)
    assert tuple(fig.get_size_inches()) == (7.0, 3.0)
    assert len(fig.axes) == 3  # surface, its colour bar, loss per step
    assert len(render_png(fig)) < 30_000


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scalar_gradient_used_by_descend_equals_the_array_one(seed):
    from rnnbook.cliff import _scalar_gradient

    rng = np.random.default_rng(seed)
    for w, b in zip(rng.uniform(-8, 8, 20), rng.uniform(-6, 4, 20), strict=True):
        np.testing.assert_allclose(_scalar_gradient(w, b), cliff_gradient(w, b), rtol=1e-12,
                                   atol=1e-300)
