"""The gradient as a sum of products (rnnbook.decomposition), checked against torch.autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_reference import ACTIVATIONS, TOL, TORCH_ACTIVATIONS, random_problem

from rnnbook.bptt import bptt, relative_error
from rnnbook.decomposition import (
    DistanceProfile,
    distance_decomposition,
    effective_horizon,
    far_norm_share,
    far_share,
    mlp_vs_rnn,
    scaled_rnn_problem,
    term_norms_by_distance,
    untied_layer_grad_norms,
)


def make_problem(T, B, activation, loss, seed, d=2, n=5, m=3):
    return random_problem(T, B, activation, loss, seed, d=d, n=n, m=m, input_offset=500)


def torch_pair_grads(params, x, y, loss, h0, Ws=None):
    """Return {name: (S, T, ...)}: gradient of each loss term L_s w.r.t. step t's copy of U, W, b.

    Every step uses its own leaf copy of U, W and b; ``Ws`` (T, n, n) replaces the copies of W
    by different matrices (the untied network). S = T for ce_all, 1 for mse_last.
    """
    T = x.shape[0]
    W_values = np.repeat(params.W[None], T, axis=0) if Ws is None else Ws
    leaves = {
        "U": torch.tensor(np.repeat(params.U[None], T, axis=0), requires_grad=True),
        "W": torch.tensor(W_values, requires_grad=True),
        "b": torch.tensor(np.repeat(params.b[None], T, axis=0), requires_grad=True),
    }
    V, c, X = torch.tensor(params.V), torch.tensor(params.c), torch.tensor(x)
    f = TORCH_ACTIVATIONS[params.activation]
    h, outputs = torch.tensor(h0), []
    for t in range(T):
        h = f(X[t] @ leaves["U"][t].T + h @ leaves["W"][t].T + leaves["b"][t])
        outputs.append(h @ V.T + c)
    if loss == "mse_last":
        terms = [0.5 * ((torch.tensor(y) - outputs[-1]) ** 2).sum()]
    else:
        terms = [torch.nn.functional.cross_entropy(outputs[s], torch.tensor(y[s]),
                                                   reduction="sum") for s in range(T)]
    result = {name: [] for name in leaves}
    for term in terms:
        grads = torch.autograd.grad(term, list(leaves.values()), retain_graph=True)
        for name, grad in zip(leaves, grads, strict=True):
            result[name].append(grad.numpy())
    return {name: np.stack(values) for name, values in result.items()}


# ---------------------------------------------------------------- decomposition by distance


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("T", [1, 5, 30])
@pytest.mark.parametrize("B", [1, 3])
def test_last_step_terms_by_distance_match_torch(activation, T, B):
    params, x, y, h0 = make_problem(T, B, activation, "mse_last", seed=T + B)
    parts = distance_decomposition(params, x, y, "mse_last", h0=h0)
    pair = torch_pair_grads(params, x, y, "mse_last", h0)
    for name in ("W", "U", "b"):
        terms = getattr(parts, f"{name}_terms")
        for d in range(T):
            # the term at distance d is the gradient of step T-d's copy (0-based T-1-d)
            assert relative_error(terms[d], pair[name][0, T - 1 - d]) <= TOL, (name, d)
        # the decomposition sums to torch's total gradient
        assert relative_error(terms.sum(axis=0), pair[name][0].sum(axis=0)) <= TOL
        assert relative_error(terms.sum(axis=0), parts.grads[name]) <= 1e-13
    np.testing.assert_array_equal(parts.distance, np.arange(T))


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("B", [1, 2])
def test_all_steps_terms_by_distance_match_torch(activation, B):
    """For L = sum_s L_s the term at distance d is sum_s dL_s/d(copy at step s - d)."""
    T = 9
    params, x, y, h0 = make_problem(T, B, activation, "ce_all", seed=3 + B)
    parts = distance_decomposition(params, x, y, "ce_all", h0=h0)
    pair = torch_pair_grads(params, x, y, "ce_all", h0)
    for name in ("W", "U", "b"):
        terms = getattr(parts, f"{name}_terms")
        for d in range(T):
            expected = sum(pair[name][s, s - d] for s in range(d, T))
            assert relative_error(terms[d], expected) <= TOL, (name, d)
        total = pair[name].sum(axis=(0, 1))
        assert relative_error(terms.sum(axis=0), total) <= TOL
        norms = np.linalg.norm(terms.reshape(T, -1), axis=1)
        np.testing.assert_allclose(getattr(parts, f"{name}_norms"), norms, rtol=1e-12)
    # every distance 0..T-1 receives something (distance T-1 from L_T alone)
    assert np.all(parts.W_norms > 0)


@pytest.mark.parametrize("loss", ["mse_last", "ce_all"])
def test_norms_only_path_gives_the_same_norms(loss):
    params, x, y, h0 = make_problem(20, 3, "tanh", loss, seed=2)
    full = distance_decomposition(params, x, y, loss, h0=h0)
    light = distance_decomposition(params, x, y, loss, h0=h0, keep_terms=False)
    assert light.W_terms is None and light.U_terms is None and light.b_terms is None
    for name in ("W_norms", "U_norms", "b_norms"):
        np.testing.assert_allclose(getattr(light, name), getattr(full, name), rtol=1e-10)


def test_distance_decomposition_rejects_bad_input():
    params, x, y, h0 = make_problem(4, 1, "tanh", "mse_last", seed=0)
    with pytest.raises(ValueError, match="unknown loss"):
        distance_decomposition(params, x, y, "hinge", h0=h0)
    with pytest.raises(ValueError, match="NaN"):
        distance_decomposition(params, x * np.nan, y, h0=h0)
    with pytest.raises(TypeError, match="RNNParams"):
        distance_decomposition(None, x, y)


# ---------------------------------------------------------------- far share and horizon


def test_far_share_worked_example():
    np.testing.assert_allclose(far_share([1.0, 2.0, 3.0, 4.0]), [0.9, 0.7, 0.4, 0.0])
    np.testing.assert_array_equal(far_share([0.0, 0.0]), [0.0, 0.0])


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("rho", [0.5, 1.0, 1.3])
def test_far_share_is_a_monotone_share(activation, rho):
    profile = term_norms_by_distance(rho, 40, activation, n=16, seed=1)
    share = profile.far_share
    assert share.shape == (40,)
    assert np.all((share >= 0) & (share <= 1))
    assert np.all(np.diff(share) <= 1e-15)
    assert share[-1] == 0.0
    assert np.all((profile.far_norm_share >= 0) & (profile.far_norm_share <= 1))
    # triangle inequality: the far part's norm is bounded by the far mass
    assert profile.far_norm_share[-1] == 0.0


def test_far_norm_share_can_cancel_so_it_is_not_the_book_definition():
    terms = np.array([[1.0], [1.0], [-1.0]])
    # d = 0: far part 1 - 1 = 0; d = 1: far part -1 against near part 2
    np.testing.assert_allclose(far_norm_share(terms), [0.0, 1 / 3, 0.0])
    np.testing.assert_allclose(far_share(np.abs(terms[:, 0])), [2 / 3, 1 / 3, 0.0])


def test_effective_horizon():
    norms = [1.0, 0.5, 1e-4, 0.2, 1e-5, 1e-6]
    assert effective_horizon(norms, 0.1) == 3
    assert effective_horizon(norms, 1e-4) == 3
    assert effective_horizon(norms, 1e-5) == 4
    assert effective_horizon(norms, 1.0) == 0
    assert effective_horizon([0.0, 0.0, 0.0]) == 2
    assert effective_horizon([1.0, np.inf, 1.0]) == 1
    assert effective_horizon([np.nan, np.nan]) == 1


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: far_share([[1.0]]), ValueError, "1-D"),
        (lambda: far_share([]), ValueError, "non-empty"),
        (lambda: far_share([1.0, -1.0]), ValueError, "non-negative"),
        (lambda: far_norm_share(np.zeros((0, 2))), ValueError, "non-empty"),
        (lambda: effective_horizon([1.0], eps=0.0), ValueError, "eps"),
        (lambda: effective_horizon([1.0], eps=2.0), ValueError, "eps"),
        (lambda: term_norms_by_distance(-0.5, 10), ValueError, "rho"),
        (lambda: term_norms_by_distance(float("nan"), 10), ValueError, "rho"),
        (lambda: term_norms_by_distance("1", 10), TypeError, "rho"),
        (lambda: term_norms_by_distance(0.9, 0), ValueError, "T must be"),
        (lambda: term_norms_by_distance(0.9, 10, n=2.5), TypeError, "n must be an integer"),
        (lambda: term_norms_by_distance(0.9, 10, seed=0.5), TypeError, "seed"),
        (lambda: term_norms_by_distance(0.9, 10, "softplus"), ValueError, "unknown activation"),
        (lambda: mlp_vs_rnn(0.9, 0), ValueError, "T must be"),
    ],
)
def test_bad_input_raises(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ---------------------------------------------------------------- the chapter's claims


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_linear_rnn_terms_decay_geometrically_at_rate_rho(seed, rho):
    profile = term_norms_by_distance(rho, 70, "identity", n=32, seed=seed)
    fit = slice(5, 55)
    slope = np.polyfit(profile.distance[fit], np.log(profile.norms[fit]), 1)[0]
    assert np.exp(slope) == pytest.approx(rho, rel=0.06)
    assert profile.rho == rho


def test_profile_fields_are_consistent():
    profile = term_norms_by_distance(0.9, 25, "tanh", n=8, seed=4, eps=1e-2)
    assert isinstance(profile, DistanceProfile)
    params, x, h0, y = scaled_rnn_problem(0.9, 25, "tanh", n=8, seed=4)
    assert np.max(np.abs(np.linalg.eigvals(params.W))) == pytest.approx(0.9, rel=1e-12)
    result = bptt(params, x, y, h0=h0)
    assert profile.total_norm == pytest.approx(np.linalg.norm(result.grads["W"]), rel=1e-12)
    np.testing.assert_allclose(profile.norms, result.W_term_norms[::-1], rtol=1e-12)
    assert profile.max_term_norm == pytest.approx(profile.norms.max())
    assert profile.horizon == effective_horizon(profile.norms, 1e-2)
    assert (profile.activation, profile.eps, profile.rho) == ("tanh", 1e-2, 0.9)


def test_exploding_profile_does_not_crash():
    profile = term_norms_by_distance(3.0, 800, "identity", n=8, seed=0)
    assert not np.all(np.isfinite(profile.norms))
    assert 0 <= profile.horizon < 800


@pytest.mark.parametrize(
    ("activation", "rho"),
    [("tanh", 0.5), ("tanh", 0.9), ("sigmoid", 0.9), ("relu", 0.9), ("identity", 0.5)],
)
def test_mlp_early_layer_vanishes_but_rnn_total_does_not(activation, rho):
    contrast = mlp_vs_rnn(rho, 50, activation, n=32, seed=0)
    first_layer = contrast.mlp_layer_norms[-1]  # distance 49: the first layer's whole gradient
    last_layer = contrast.mlp_layer_norms[0]
    assert first_layer < 1e-8 * last_layer  # the product of 49 Jacobians has vanished
    # the RNN's far term vanishes as well ...
    assert contrast.rnn_term_norms[-1] < 1e-8 * contrast.rnn_term_norms.max()
    # ... but the sum does not: it is at least half of its largest (near) term
    assert contrast.rnn_total_norm > 0.5 * contrast.rnn_term_norms.max()
    assert contrast.rnn_total_norm > 1e6 * first_layer


def test_untied_layer_grads_match_torch():
    T, n = 12, 6
    params, x, y, h0 = make_problem(T, 1, "tanh", "mse_last", seed=9, n=n)
    Ws = np.random.default_rng(0).normal(0, 1 / np.sqrt(n), (T, n, n))
    norms = untied_layer_grad_norms(params, Ws, x, y, h0)
    pair = torch_pair_grads(params, x, y, "mse_last", h0, Ws=Ws)
    expected = np.linalg.norm(pair["W"][0], axis=(1, 2))
    np.testing.assert_allclose(norms, expected, rtol=1e-10)
    with pytest.raises(ValueError, match=r"Ws must have shape \(T, n, n\)"):
        untied_layer_grad_norms(params, Ws[:-1], x, y, h0)
    with pytest.raises(ValueError, match="NaN"):
        untied_layer_grad_norms(params, Ws * np.nan, x, y, h0)
    with pytest.raises(TypeError, match="RNNParams"):
        untied_layer_grad_norms("W", Ws, x, y, h0)
