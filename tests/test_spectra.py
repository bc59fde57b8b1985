"""Eigenvalues, singular values, rescaling, powers and the circular law, checked against torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from rnnbook.spectra import (
    CircularLaw,
    NonnormalTransient,
    circular_law,
    eigenvalues,
    gaussian_matrix,
    gelfand_sequence,
    nonnormal_transient,
    power_norms,
    rescale_to_spectral_norm,
    rescale_to_spectral_radius,
    shear_matrix,
    singular_values,
    spectral_norm,
    spectral_radius,
    transient_peak,
)


def random_matrix(n: int, seed: int, scale: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, scale / np.sqrt(n), (n, n))


@pytest.mark.parametrize("n", [1, 3, 8, 25])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_spectral_quantities_match_torch(n, seed):
    W = random_matrix(n, seed, scale=1.7)
    Wt = torch.from_numpy(W)
    np.testing.assert_allclose(singular_values(W), torch.linalg.svdvals(Wt).numpy(),
                               rtol=1e-12, atol=1e-14)
    assert spectral_norm(W) == pytest.approx(torch.linalg.matrix_norm(Wt, ord=2).item(),
                                             rel=1e-12)
    torch_eigs = torch.linalg.eigvals(Wt).numpy()
    assert spectral_radius(W) == pytest.approx(np.abs(torch_eigs).max(), rel=1e-12)
    ours = eigenvalues(W)
    assert ours.dtype == complex and ours.shape == (n,)
    assert np.all(np.diff(np.abs(ours)) <= 1e-12), "eigenvalues must be sorted by modulus"
    # the same multiset: every torch eigenvalue has one of ours next to it, and vice versa
    distance = np.abs(ours[:, None] - torch_eigs[None, :])
    assert distance.min(axis=0).max() < 1e-10 and distance.min(axis=1).max() < 1e-10


def test_radius_is_at_most_the_norm_and_equal_for_a_normal_matrix():
    W = random_matrix(10, 4, scale=2.0)
    assert spectral_radius(W) < spectral_norm(W)
    S = W + W.T  # symmetric, hence normal: rho = sigma_max
    assert spectral_radius(S) == pytest.approx(spectral_norm(S), rel=1e-12)


@pytest.mark.parametrize("n,seed", [(2, 0), (6, 1), (30, 2)])
@pytest.mark.parametrize("target", [0.5, 1.0, 3.7])
def test_rescaling_hits_the_target(n, seed, target):
    W = random_matrix(n, seed)
    A = rescale_to_spectral_radius(W, target)
    B = rescale_to_spectral_norm(W, target)
    assert abs(spectral_radius(A) - target) < 1e-12 * max(target, 1.0)
    assert abs(spectral_norm(B) - target) < 1e-12 * max(target, 1.0)
    # positive multiples of W: same direction
    for M in (A, B):
        c = np.sum(M * W) / np.sum(W * W)
        assert c > 0
        np.testing.assert_allclose(M, c * W, rtol=1e-13, atol=1e-15)


def test_rescaling_to_zero_and_rejections():
    W = random_matrix(4, 0)
    assert np.all(rescale_to_spectral_radius(W, 0.0) == 0.0)
    nilpotent = np.triu(np.ones((3, 3)), k=1)
    with pytest.raises(ValueError, match="nilpotent"):
        rescale_to_spectral_radius(nilpotent, 1.0)
    assert spectral_norm(rescale_to_spectral_norm(nilpotent, 2.0)) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="zero matrix"):
        rescale_to_spectral_norm(np.zeros((3, 3)), 1.0)
    with pytest.raises(ValueError, match="rho must be >= 0"):
        rescale_to_spectral_radius(W, -1.0)
    with pytest.raises(ValueError, match="finite"):
        rescale_to_spectral_norm(W, np.nan)
    with pytest.raises(TypeError):
        rescale_to_spectral_norm(W, "1")


@pytest.mark.parametrize("bad", [np.ones(3), np.ones((2, 3)), np.ones((2, 2, 2)), np.ones((0, 0))])
def test_non_square_matrices_are_rejected(bad):
    for function in (eigenvalues, singular_values, spectral_radius, spectral_norm):
        with pytest.raises(ValueError, match="square"):
            function(bad)


def test_nan_and_non_numeric_matrices_are_rejected():
    W = np.eye(3)
    W[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        spectral_radius(W)
    with pytest.raises(TypeError):
        spectral_norm("abc")
    with pytest.raises(TypeError):
        spectral_norm(None)


@pytest.mark.parametrize("n,seed,scale", [(3, 0, 0.9), (7, 1, 1.3), (12, 2, 2.0)])
def test_power_norms_match_torch_matrix_power(n, seed, scale):
    W = random_matrix(n, seed, scale)
    ours = power_norms(W, 40)
    Wt = torch.from_numpy(W)
    expected = [torch.linalg.matrix_norm(torch.linalg.matrix_power(Wt, k), ord=2).item()
                for k in range(41)]
    np.testing.assert_allclose(ours, expected, rtol=1e-10)


def test_power_norms_overflow_to_inf_without_warnings():
    W = 10.0 * np.eye(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        norms = power_norms(W, 400)
    k = np.arange(401)
    finite = k <= 308
    np.testing.assert_allclose(norms[finite], 10.0 ** k[finite], rtol=1e-12)
    assert np.all(np.isinf(norms[k >= 309]))


def test_power_norms_of_a_nilpotent_matrix_reach_exact_zero():
    norms = power_norms(np.eye(3, k=1), 6)
    np.testing.assert_array_equal(norms, [1, 1, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(gelfand_sequence(np.eye(3, k=1), 5)[2:], 0.0)


@pytest.mark.parametrize("n,seed,scale", [(5, 0, 0.8), (12, 1, 1.2), (25, 2, 3.0)])
def test_gelfand_sequence_approaches_the_spectral_radius(n, seed, scale):
    W = random_matrix(n, seed, scale)
    rho, sigma = spectral_radius(W), spectral_norm(W)
    sequence = gelfand_sequence(W, 2000)
    assert sequence.shape == (2000,)
    # rho <= ||W^k||^(1/k) <= sigma_max for every k
    assert np.all(sequence >= rho * (1 - 1e-9)) and np.all(sequence <= sigma * (1 + 1e-12))
    assert sequence[0] == pytest.approx(sigma, rel=1e-12)
    assert abs(sequence[-1] - rho) < 0.01 * rho
    assert abs(sequence[-1] - rho) < abs(sequence[9] - rho)


def test_gelfand_sequence_stays_finite_when_the_powers_overflow():
    W = random_matrix(6, 3, scale=40.0)
    sequence = gelfand_sequence(W, 1000)
    assert np.isinf(power_norms(W, 1000)[-1])
    assert np.all(np.isfinite(sequence))
    assert sequence[-1] == pytest.approx(spectral_radius(W), rel=0.01)


def test_gelfand_sequence_of_a_normal_matrix_is_constant():
    S = random_matrix(8, 5)
    S = S + S.T
    np.testing.assert_allclose(gelfand_sequence(S, 50), spectral_radius(S), rtol=1e-10)


def test_power_functions_reject_bad_k():
    with pytest.raises(ValueError, match="k_max"):
        gelfand_sequence(np.eye(2), 0)
    with pytest.raises(ValueError, match="k_max"):
        power_norms(np.eye(2), -1)
    with pytest.raises(TypeError, match="k_max"):
        power_norms(np.eye(2), 2.5)
    with pytest.raises(TypeError, match="k_max"):
        power_norms(np.eye(2), True)


@pytest.fixture(scope="module")
def circular_samples() -> dict[int, CircularLaw]:
    """One n = 400 sample per seed (an eigendecomposition of 400 x 400 takes a while)."""
    return {seed: circular_law(400, 1.0, seed=seed) for seed in (0, 1)}


@pytest.mark.parametrize("seed", [0, 1])
def test_circular_law_radius_is_close_to_g(circular_samples, seed):
    result = circular_samples[seed]
    assert isinstance(result, CircularLaw)
    assert result.eigenvalues.shape == (400,)
    assert abs(result.rho - 1.0) < 0.1
    assert result.inside > 0.9
    # the largest singular value is near 2 g: the sigma_max bound is loose by about 2
    assert abs(result.sigma_max - 2.0) < 0.1
    # eigenvalues of one matrix: their sum is its trace
    trace = np.trace(gaussian_matrix(400, 1.0, seed))
    assert result.eigenvalues.sum() == pytest.approx(trace, abs=1e-9)


def test_circular_law_scales_with_g(circular_samples):
    base = circular_samples[0]
    scaled = circular_law(400, 2.5, seed=0)
    assert abs(scaled.rho - 2.5) < 0.25
    assert scaled.rho == pytest.approx(2.5 * base.rho, rel=1e-10)
    assert scaled.inside == pytest.approx(base.inside, abs=0.01)


def test_gaussian_matrix_has_the_stated_variance():
    W = gaussian_matrix(300, 1.5, seed=7)
    assert W.std() == pytest.approx(1.5 / np.sqrt(300), rel=0.02)
    assert abs(W.mean()) < 0.01
    with pytest.raises(ValueError, match="g must be >= 0"):
        gaussian_matrix(10, -1.0)
    with pytest.raises(ValueError, match="n must be >= 1"):
        gaussian_matrix(0, 1.0)


@pytest.mark.parametrize("rho,shear,n", [(0.9, 10.0, 2), (0.5, 1.0, 3), (1.1, 0.3, 5)])
def test_shear_matrix_has_one_eigenvalue_and_is_non_normal(rho, shear, n):
    W = shear_matrix(rho, shear, n)
    np.testing.assert_allclose(np.linalg.eigvals(W), rho, atol=1e-6)
    assert spectral_radius(W) == pytest.approx(rho, abs=1e-6)
    assert np.abs(W @ W.T - W.T @ W).max() > 0.1 * shear**2
    assert np.allclose(shear_matrix(rho, 0.0, n), rho * np.eye(n))


@pytest.mark.parametrize("k", [1, 5, 17, 60])
def test_shear_matrix_powers_have_the_closed_form(k):
    rho, shear = 0.9, 10.0
    expected = np.array([[rho**k, k * shear * rho ** (k - 1)], [0.0, rho**k]])
    actual = torch.linalg.matrix_power(torch.from_numpy(shear_matrix(rho, shear)), k).numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-12)


@pytest.mark.parametrize("rho", [0.8, 0.9, 0.95])
@pytest.mark.parametrize("shear", [5.0, 10.0, 20.0])
def test_nonnormal_transient_grows_then_decays(rho, shear):
    result = nonnormal_transient(rho, shear, steps=400)
    assert isinstance(result, NonnormalTransient)
    assert spectral_radius(shear_matrix(rho, shear)) < 1
    k = result.k.astype(float)
    corner = k * shear * rho ** (k - 1)
    # ||W^k|| lies between the corner entry and the corner entry plus rho^k
    assert np.all(result.nonnormal >= corner * (1 - 1e-12))
    assert np.all(result.nonnormal <= corner + rho**k + 1e-12)
    assert result.peak_height > 10
    assert abs(result.peak_step - 1 / np.log(1 / rho)) <= 1.5
    assert result.below_one_step is not None and result.below_one_step > result.peak_step
    assert np.all(result.nonnormal[result.below_one_step:] < 1)
    assert np.all(result.nonnormal[1:result.below_one_step] >= 1)
    np.testing.assert_allclose(result.normal, rho**k, rtol=1e-12)
    assert np.all(result.normal <= 1)


def test_nonnormal_transient_key_numbers():
    result = nonnormal_transient(0.9, 10.0)
    assert result.peak_height == pytest.approx(38.75, abs=0.01)
    assert (result.peak_step, result.below_one_step) == (9, 63)
    bigger = nonnormal_transient(0.9, 1.0, n=4, steps=200)
    assert bigger.peak_height > 200 and bigger.below_one_step == 123


def test_nonnormal_transient_without_shear_is_the_normal_matrix():
    result = nonnormal_transient(0.7, 0.0, steps=50)
    np.testing.assert_allclose(result.nonnormal, result.normal, rtol=1e-12)
    assert (result.peak_height, result.peak_step) == (1.0, 0)


def test_nonnormal_transient_that_overflows_reports_inf():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = nonnormal_transient(3.0, 1.0, steps=800)
    assert np.isinf(result.peak_height) and result.below_one_step is None
    assert np.isinf(result.nonnormal[-1])


def test_transient_peak_and_rejections():
    assert transient_peak([1.0, 4.0, 4.0, 2.0]) == (4.0, 1)
    with pytest.raises(ValueError, match="NaN"):
        transient_peak([1.0, np.nan])
    with pytest.raises(ValueError, match="1-d"):
        transient_peak(np.ones((2, 2)))
    with pytest.raises(ValueError, match="steps"):
        nonnormal_transient(0.9, 1.0, steps=0)
    with pytest.raises(ValueError, match="finite"):
        nonnormal_transient(np.inf, 1.0)
    with pytest.raises(TypeError, match="shear"):
        nonnormal_transient(0.9, "big")
