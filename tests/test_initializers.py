"""Initial recurrent weights, their spectra, and the gradient they give at initialisation."""

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from rnnbook.explorer import render_png
from rnnbook.initializers import (
    INITIALIZERS,
    InitialGradient,
    identity,
    initial_gradient,
    orthogonal,
    recurrent_init,
    scaled_gaussian,
)
from rnnbook.plots.remedies import plot_initial_gradients
from rnnbook.rnn import to_torch


@pytest.mark.parametrize("n", [1, 2, 7, 64])
@pytest.mark.parametrize("gain", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_orthogonal_spectrum(n, gain, seed):
    W = orthogonal(n, gain, seed=seed)
    assert W.shape == (n, n)
    np.testing.assert_allclose(W.T @ W, gain**2 * np.eye(n), atol=1e-12 * gain**2)
    np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False), gain, rtol=1e-12)
    np.testing.assert_allclose(np.abs(np.linalg.eigvals(W)), gain, rtol=1e-9)


@pytest.mark.parametrize("n", [3, 16, 50])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_orthogonal_is_the_sign_fixed_q_of_a_gaussian(n, seed):
    a = np.random.default_rng(seed).standard_normal((n, n))
    q = orthogonal(n, seed=seed)
    r = q.T @ a
    np.testing.assert_allclose(np.tril(r, -1), 0.0, atol=1e-12)
    assert np.all(np.diag(r) > 0)
    # torch's QR with the same sign fix (as torch.nn.init.orthogonal_ does) gives the same Q
    q_t, r_t = torch.linalg.qr(torch.from_numpy(a))
    q_t = (q_t * torch.sign(torch.diagonal(r_t))).numpy()
    np.testing.assert_allclose(q, q_t, atol=1e-12)


def test_orthogonal_without_the_sign_fix_is_not_uniform():
    # Haar-uniform Q has E[Q_11] = 0; the raw QR of numpy has a sign bias, the fixed one not.
    raw, fixed = [], []
    for seed in range(400):
        a = np.random.default_rng(seed).standard_normal((4, 4))
        raw.append(np.linalg.qr(a)[0][0, 0])
        fixed.append(orthogonal(4, seed=seed)[0, 0])
    assert abs(np.mean(raw)) > 0.3
    assert abs(np.mean(fixed)) < 0.1


@pytest.mark.parametrize("n", [1, 5, 32])
@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_identity_spectrum(n, scale):
    W = identity(n, scale)
    np.testing.assert_array_equal(W, scale * np.eye(n))
    np.testing.assert_allclose(np.linalg.eigvals(W), scale)
    np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False), scale)


# W(g) is g times W(1) for one seed, so each g gets its own seed.
@pytest.mark.parametrize(("g", "seed"), [(0.5, 0), (1.0, 1), (1.5, 2)])
def test_scaled_gaussian_spectral_radius_follows_the_circular_law(g, seed):
    n = 400
    W = scaled_gaussian(n, g, seed=seed)
    assert W.std() == pytest.approx(g / np.sqrt(n), rel=0.02)
    rho = np.max(np.abs(np.linalg.eigvals(W)))
    assert abs(rho / g - 1) < 0.1
    # the largest singular value is about 2 g: a bound with sigma_max is far from rho
    sigma_max = np.linalg.norm(W, 2)
    assert abs(sigma_max / (2 * g) - 1) < 0.1


def test_seeds_are_reproducible_and_distinct():
    np.testing.assert_array_equal(orthogonal(5, seed=3), orthogonal(5, seed=3))
    assert not np.allclose(orthogonal(5, seed=3), orthogonal(5, seed=4))
    np.testing.assert_array_equal(scaled_gaussian(5, seed=3), scaled_gaussian(5, seed=3))


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_recurrent_init_dispatches(name):
    expected = {"orthogonal": orthogonal(6, 0.9, seed=2), "identity": identity(6, 0.9),
                "gaussian": scaled_gaussian(6, 0.9, seed=2)}[name]
    np.testing.assert_array_equal(recurrent_init(name, 6, 0.9, seed=2), expected)


@pytest.mark.parametrize("n", [0, -3])
def test_bad_size_raises_value_error(n):
    for make in (orthogonal, identity, scaled_gaussian):
        with pytest.raises(ValueError, match="n must be >= 1"):
            make(n)


@pytest.mark.parametrize("n", [2.5, "4", True, None])
def test_non_integer_size_raises_type_error(n):
    for make in (orthogonal, identity, scaled_gaussian):
        with pytest.raises(TypeError, match="n must be an integer"):
            make(n)


@pytest.mark.parametrize("value", [0.0, -1.0, np.nan, np.inf])
def test_bad_scale_raises(value):
    with pytest.raises(ValueError, match="gain"):
        orthogonal(3, value)
    with pytest.raises(ValueError, match="scale"):
        identity(3, value)
    with pytest.raises(ValueError, match="g must be"):
        scaled_gaussian(3, value)
    with pytest.raises(TypeError, match="g must be a real number"):
        scaled_gaussian(3, "1")


def test_unknown_initialiser_raises():
    with pytest.raises(ValueError, match="unknown initialiser name 'xavier'"):
        recurrent_init("xavier", 3)
    with pytest.raises(TypeError, match="name"):
        recurrent_init(3, 3)


def torch_span_norm(result: InitialGradient, d: int) -> float:
    """||dh_T/dh_{T-d}|| of the result's network, by torch.autograd on torch.nn.RNN."""
    rnn, _ = to_torch(result.params)
    x = torch.from_numpy(result.x)[:, None, :]  # (T, 1, 1)
    T = x.shape[0]
    with torch.no_grad():
        _, h_start = rnn(x[: T - d])  # h_{T-d}, shape (1, 1, n)

    def final_state(h):
        return rnn(x[T - d:], h.reshape(1, 1, -1))[1].reshape(-1)

    jacobian = torch.autograd.functional.jacobian(final_state, h_start.reshape(-1))
    return float(torch.linalg.matrix_norm(jacobian, ord=2))


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize(("scale", "seed"), [(1.0, 0), (1.3, 1)])
def test_initial_gradient_equals_torch_autograd(name, activation, scale, seed):
    result = initial_gradient(name, activation, scale, n=8, steps=12, warmup=5,
                              input_scale=0.7, seed=seed)
    assert result.norms.shape == (13,) and result.norms[0] == 1.0
    for d in (1, 5, 12):
        assert result.norms[d] == pytest.approx(torch_span_norm(result, d), rel=1e-9,
                                                abs=1e-300)
    W = result.params.W
    np.testing.assert_array_equal(W, recurrent_init(name, 8, scale, seed=seed))
    assert result.rho == pytest.approx(np.max(np.abs(np.linalg.eigvals(W))))
    assert result.sigma_max == pytest.approx(np.linalg.norm(W, 2))
    assert result.power_norm == pytest.approx(np.linalg.norm(np.linalg.matrix_power(W, 12), 2))
    with torch.no_grad():
        states, _ = to_torch(result.params)[0](torch.from_numpy(result.x)[:, None, :])
    assert result.state_norm == pytest.approx(float(states[-1].norm()))


@pytest.mark.parametrize("seed", [0, 3])
def test_linear_rnn_with_orthogonal_w_keeps_every_gradient(seed):
    result = initial_gradient("orthogonal", "identity", n=16, steps=40, seed=seed)
    np.testing.assert_allclose(result.norms, 1.0, rtol=1e-10)
    assert result.mean_slope == 1.0 and result.always_active == 16


@pytest.mark.parametrize("scale", [1.0, 1.1, 1.2])
def test_irnn_copies_the_gradient_through_active_units(scale):
    # ReLU with W = s I: dh_T/dh_{T-d} is diagonal with entries s^d (active) or 0.
    result = initial_gradient("identity", "relu", scale, n=32, steps=30, warmup=30, seed=2)
    assert result.always_active > 0
    np.testing.assert_allclose(result.norms, scale ** np.arange(31), rtol=1e-12)


def test_relu_with_mixing_w_loses_the_gradient_but_identity_does_not():
    # the chapter's claim: half the units are off at each step, and W mixes directions
    for name in ("orthogonal", "gaussian"):
        result = initial_gradient(name, "relu")
        assert 0.3 < result.mean_slope < 0.6 and result.final_norm < 1e-6
    assert initial_gradient("identity", "relu").final_norm == 1.0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [({"name": "xavier"}, ValueError, "unknown initialiser"),
     ({"activation": "softplus"}, ValueError, "softplus"),
     ({"steps": 0}, ValueError, "steps must be between 1 and 100000, got 0"),
     ({"warmup": -1}, ValueError, "warmup must be between 0 and 100000, got -1"),
     ({"steps": 2.5}, TypeError, "steps must be an integer"),
     ({"input_scale": 0.0}, ValueError, "input_scale"),
     ({"scale": np.nan}, ValueError, "scale must be finite"),
     ({"n": 0}, ValueError, "n must be >= 1")],
)
def test_initial_gradient_rejects_bad_input(kwargs, error, match):
    arguments = {"name": "orthogonal", "activation": "tanh", **kwargs}
    with pytest.raises(error, match=match):
        initial_gradient(**arguments)


def test_initial_gradient_plot_has_a_panel_per_activation():
    results = [initial_gradient(name, activation, n=8, steps=10)
               for activation in ("tanh", "relu") for name in ("orthogonal", "identity")]
    fig = plot_initial_gradients(results)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert [ax.get_title() for ax in fig.axes] == ["tanh", "relu"]
    assert all(len(ax.get_lines()) == 3 for ax in fig.axes)  # two curves and the line at 1
    assert len(render_png(fig)) < 30_000
    with pytest.raises(TypeError, match="InitialGradient"):
        plot_initial_gradients([])
