"""The one-unit latch of the cliff: fixed points, derivatives against torch, the dilemma."""

import numpy as np
import pytest
import torch

from rnnbook.attractor import BISTABLE, attractor_dilemma, fixed_points, latch


def test_fixed_points_solve_the_map():
    fixed = fixed_points()
    assert fixed.points.size == 3 and list(fixed.stable) == [True, False, True]
    w, b = BISTABLE
    np.testing.assert_allclose(w / (1 + np.exp(-fixed.points)) + b, fixed.points, atol=1e-12)
    assert abs(fixed.points[1]) < 1e-12 and fixed.factors[1] == pytest.approx(1.25)
    assert fixed.points[0] == pytest.approx(-fixed.points[2], abs=1e-12)


def test_one_fixed_point_below_the_band():
    assert fixed_points(5.0, -2.8).points.size == 1
    assert fixed_points(3.0, -1.5).points.size == 1          # w < 4: never bistable


@pytest.mark.parametrize("x0", [-1.0, 1e-6, 0.4])
def test_derivative_against_torch(x0):
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    state = x
    w, b = BISTABLE
    for _ in range(30):
        state = w * torch.sigmoid(state) + b
    state.backward()
    end, derivative = latch(x0, steps=30)
    assert end == pytest.approx(state.item(), rel=1e-12)
    assert derivative == pytest.approx(float(x.grad), rel=1e-9)


def test_the_dilemma():
    fixed = fixed_points()
    d = attractor_dilemma([fixed.points[0], -1e-9, 1e-9, fixed.points[2]], trials=100)
    assert list(d.bits) == [0, 0, 1, 1]
    robust, edge = d.derivatives[[0, 3]], d.derivatives[[1, 2]]
    assert np.all(robust < 1e-9) and np.all(edge > 1e4)            # vanishing vs exploding
    assert np.all(d.kept[[0, 3]] == 1) and np.all(np.abs(d.kept[[1, 2]] - 0.5) < 0.15)
    np.testing.assert_allclose(robust, fixed.factors[0] ** 50, rtol=1e-6)


def test_errors():
    with pytest.raises(ValueError, match="two stable"):
        attractor_dilemma([0.0], w=3.0, b=-1.5)
    with pytest.raises(ValueError, match="starts"):
        attractor_dilemma([])
    with pytest.raises(ValueError, match="noise"):
        latch(0.0, noise=-1.0)
    with pytest.raises(ValueError, match="w must be >= 0"):
        fixed_points(-1.0, 0.0)
