"""Randomized truncation: unbiased by construction, fixed windows are not."""

import numpy as np
import pytest
import torch

from rnnbook.bptt import bptt
from rnnbook.decomposition import distance_decomposition, scaled_rnn_problem
from rnnbook.rnn import to_torch
from rnnbook.truncation import (
    randomized_truncation,
    reweighted_partial_sums,
    window_probabilities,
)


@pytest.mark.parametrize("c", [0.5, 0.9, 1.0])
def test_expectation_is_the_full_gradient(c):
    params, x, h0, y = scaled_rnn_problem(1.2, 30)
    parts = distance_decomposition(params, x, y, "mse_last", h0=h0)
    sums = reweighted_partial_sums(parts.W_terms, c)
    probs = window_probabilities(30, c)
    assert probs.sum() == pytest.approx(1.0, abs=1e-12) and np.all(probs >= 0)
    expectation = np.tensordot(probs, sums, axes=1)
    np.testing.assert_allclose(expectation, parts.grads["W"], rtol=1e-9, atol=1e-12)


def test_full_gradient_against_torch():
    params, x, h0, y = scaled_rnn_problem(0.9, 20)
    rnn, readout = to_torch(params)
    xt = torch.from_numpy(x)[:, None, :]
    out, _ = rnn(xt, torch.from_numpy(h0)[None, None, :])
    loss = 0.5 * ((readout(out[-1, 0]) - torch.from_numpy(y)) ** 2).sum()
    loss.backward()
    parts = distance_decomposition(params, x, y, "mse_last", h0=h0)
    np.testing.assert_allclose(parts.W_terms.sum(axis=0), rnn.weight_hh_l0.grad.numpy(),
                               rtol=1e-10, atol=1e-13)


def test_window_one_is_fixed_truncation():
    params, x, h0, y = scaled_rnn_problem(1.0, 25)
    parts = distance_decomposition(params, x, y, "mse_last", h0=h0)
    sums = reweighted_partial_sums(parts.W_terms, 1.0)
    cut = bptt(params, x, y, h0=h0, truncate=7).grads["W"]
    np.testing.assert_allclose(sums[6], cut, rtol=1e-10, atol=1e-13)


def test_average_converges_where_fixed_window_is_biased():
    params, x, h0, y = scaled_rnn_problem(1.5, 100)
    r = randomized_truncation(params, x, y, h0=h0, continue_probability=0.9)
    assert r.fixed_window == 10 and r.fixed_error > 0.05
    assert r.mean_errors[-1] < 0.1 * r.fixed_error
    assert 9 < r.mean_window < 11 and r.windows.min() >= 1 and r.windows.max() <= 100


def test_errors():
    with pytest.raises(ValueError, match="continue_probability"):
        window_probabilities(10, 1.5)
    with pytest.raises(ValueError, match="continue_probability"):
        reweighted_partial_sums(np.ones(3), 0.0)
    params, x, h0, y = scaled_rnn_problem(0.9, 10)
    with pytest.raises(ValueError, match="count"):
        randomized_truncation(params, x, y, h0=h0, draws=5, counts=(10,))
    with pytest.raises(TypeError, match="RNNParams"):
        randomized_truncation(None, x, y)
