"""Mean-field rates of random RNNs and the measured top Lyapunov factor."""

import numpy as np
import pytest
import torch

from rnnbook import RNNParams, forward
from rnnbook.meanfield import (
    compare_rates,
    critical_scale,
    driven_lyapunov,
    entry_scale,
    gaussian_mean,
    lyapunov_factor,
    mean_field,
)
from tests.torch_reference import TORCH_ACTIVATIONS


@pytest.mark.parametrize("variance", [0.01, 1.0, 7.0, 400.0])
def test_gaussian_mean_matches_known_moments(variance):
    assert gaussian_mean(lambda z: z**2, variance) == pytest.approx(variance, rel=1e-9)
    assert gaussian_mean(lambda z: z**4, variance) == pytest.approx(3 * variance**2, rel=1e-8)
    assert gaussian_mean(lambda z: (z > 0).astype(float), variance) == pytest.approx(0.5, abs=1e-12)


def test_gaussian_mean_against_torch_monte_carlo():
    # E[tanh'(z)^2] at z ~ N(0, 2): quadrature against a large torch sample.
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(4_000_000, generator=gen, dtype=torch.float64) * np.sqrt(2.0)
    z.requires_grad_(True)
    torch.tanh(z).sum().backward()
    sample = float((z.grad**2).mean())
    quadrature = gaussian_mean(lambda v: (1 - np.tanh(v) ** 2) ** 2, 2.0)
    assert quadrature == pytest.approx(sample, abs=1e-3)


def test_relu_critical_scale_is_sqrt_two():
    assert critical_scale("relu") == pytest.approx(np.sqrt(2), rel=1e-9)
    assert mean_field(1.0, "relu").chi == pytest.approx(0.5, abs=1e-12)
    assert mean_field(1.0, "identity").chi == pytest.approx(1.0, abs=1e-12)
    assert np.isinf(mean_field(2.0, "relu").q)


def test_tanh_fixed_point_is_self_consistent():
    m = mean_field(1.5, "tanh")
    again = 1.5**2 * gaussian_mean(lambda z: np.tanh(z) ** 2, m.q) + m.input_variance
    assert again == pytest.approx(m.q, rel=1e-10)
    assert m.rate == pytest.approx(np.sqrt(m.chi)) and m.chi == pytest.approx(2.25 * m.slope_square)
    # without input, small g: q* = 0 and chi = g^2 exactly (tanh'(0) = 1)
    assert mean_field(0.5, "tanh", input_variance=0.0).chi == pytest.approx(0.25, abs=1e-12)


def test_chi_increases_with_g():
    for activation in ("tanh", "relu", "sigmoid"):
        chis = [mean_field(g, activation).chi for g in (0.5, 1.0, 2.0, 4.0)]
        assert np.all(np.diff(chis) > 0)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_lyapunov_factor_equals_torch_product(activation):
    # The factor is the geometric mean growth of J_t ... J_{b+1} v; torch builds that product
    # from autograd Jacobians of the step.
    params = RNNParams.random(1, 6, 1, activation=activation, g=1.7, seed=3)
    x = np.random.default_rng(0).normal(size=(40, 1))
    burn = 5
    factor = lyapunov_factor(params, x, burn_in=burn, seed=2)
    traj = forward(params, x)
    U, W, b = (torch.from_numpy(a) for a in (params.U, params.W, params.b))
    f = TORCH_ACTIVATIONS[activation]
    v = np.random.default_rng([2, 11]).normal(size=6)
    v = torch.from_numpy(v / np.linalg.norm(v))
    for t in range(burn, 40):
        h_prev = torch.from_numpy(traj.h_prev[t, 0])
        x_t = torch.from_numpy(x[t])
        J = torch.autograd.functional.jacobian(lambda h, x_t=x_t: f(U @ x_t + W @ h + b), h_prev)
        v = J @ v
    expected = float(torch.linalg.vector_norm(v)) ** (1 / (40 - burn))
    assert factor == pytest.approx(expected, rel=1e-10)


def test_mean_field_predicts_measured_rates():
    for activation, scales in (("tanh", [0.5, 1.5, 3.0]), ("relu", [0.5, 1.0]),
                               ("sigmoid", [2.0, 8.0])):
        c = compare_rates(scales, activation, seeds=(0, 1), n=150, T=300)
        ratio = c.measured / c.predicted[:, None]
        assert np.all((0.85 < ratio) & (ratio < 1.2)), (activation, ratio)


def test_driven_lyapunov_orders_the_regimes():
    rates = [np.median([driven_lyapunov(rho, "tanh", T=600, seed=s) for s in range(3)])
             for rho in (1.5, 2.0, 3.0)]
    assert rates[0] < 0.95 < rates[1] < 1.06 < rates[2]


def test_entry_scale():
    W = RNNParams.random(1, 400, 1, g=1.3, seed=0).W
    assert entry_scale(W) == pytest.approx(1.3, rel=0.01)
    with pytest.raises(ValueError, match="square"):
        entry_scale(np.ones((2, 3)))


def test_errors():
    with pytest.raises(ValueError, match="activation"):
        mean_field(1.0, "softplus")
    with pytest.raises(ValueError, match="g must be >= 0"):
        mean_field(-1.0)
    with pytest.raises(TypeError, match="callable"):
        gaussian_mean(3.0, 1.0)
    with pytest.raises(TypeError, match="RNNParams"):
        lyapunov_factor("W", np.zeros((20, 1)))
    params = RNNParams.random(1, 4, 1, seed=0)
    with pytest.raises(ValueError, match="burn_in"):
        lyapunov_factor(params, np.zeros((20, 1)), burn_in=15)
    with pytest.raises(ValueError, match="scales"):
        compare_rates([], "tanh")


def test_rate_lines_print_only_robust_digits():
    c = compare_rates([0.5, 3.0], "tanh", seeds=(0, 1), n=60, T=200)
    low, high = c.lines()
    assert low.split()[:3] == ["tanh", "0.50", f"{c.predicted[0]:.2f}"] and " to " in low
    assert high.endswith(f"about {np.median(c.measured[1]):.1f}")
    with pytest.raises(ValueError, match="near_one"):
        c.lines(0.0)


def test_zero_input_tanh_settles_on_the_nonzero_variance_above_one():
    assert mean_field(0.9, "tanh", input_variance=0.0).q == 0.0
    chaotic = mean_field(2.0, "tanh", input_variance=0.0)
    again = 4.0 * gaussian_mean(lambda z: np.tanh(z) ** 2, chaotic.q)
    assert chaotic.q > 1 and again == pytest.approx(chaotic.q, rel=1e-10)
    assert chaotic.chi > 1
