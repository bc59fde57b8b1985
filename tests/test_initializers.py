"""Initial recurrent weights and their spectra."""

import numpy as np
import pytest
import torch

from rnnbook.initializers import (
    INITIALIZERS,
    identity,
    orthogonal,
    recurrent_init,
    scaled_gaussian,
)


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
    with pytest.raises(TypeError, match="g must be a number"):
        scaled_gaussian(3, "1")


def test_unknown_initialiser_raises():
    with pytest.raises(ValueError, match="unknown initialiser 'xavier'"):
        recurrent_init("xavier", 3)
    with pytest.raises(TypeError, match="name"):
        recurrent_init(3, 3)
