"""The numpy attention head against torch's scaled_dot_product_attention, float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook.attention import (
    AttentionParams,
    attention_backward,
    attention_cost,
    attention_forward,
    attention_weights,
    causal_mask,
    input_gradient_profile,
)

RTOL, ATOL = 1e-12, 1e-12


def torch_head(params: AttentionParams, x: np.ndarray, grad_y: np.ndarray):
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    w = {n: torch.tensor(getattr(params, n), requires_grad=True) for n in ("wq", "wk", "wv")}
    y = torch.nn.functional.scaled_dot_product_attention(
        xt @ w["wq"], xt @ w["wk"], xt @ w["wv"], is_causal=True)
    (y * torch.tensor(grad_y)).sum().backward()
    return y.detach().numpy(), {"x": xt.grad.numpy(), **{n: t.grad.numpy() for n, t in w.items()}}


@pytest.mark.parametrize("shape, k, v", [((7, 5), 3, 4), ((2, 9, 4), 4, 4), ((1, 3), 2, 1)])
def test_forward_and_gradients_equal_torch(shape, k, v):
    params = AttentionParams.random(shape[-1], k, v, seed=1)
    rng = np.random.default_rng(2)
    x = rng.normal(size=shape)
    y, cache = attention_forward(params, x)
    grad_y = rng.normal(size=y.shape)
    y_ref, grads_ref = torch_head(params, x, grad_y)
    np.testing.assert_allclose(y, y_ref, rtol=RTOL, atol=ATOL)
    grads = attention_backward(params, cache, grad_y)
    assert set(grads) == set(grads_ref)
    for name, ref in grads_ref.items():
        np.testing.assert_allclose(grads[name], ref, rtol=1e-10, atol=1e-12, err_msg=name)


def test_causal_weights_are_a_lower_triangular_stochastic_matrix():
    rng = np.random.default_rng(0)
    q, k = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    p = attention_weights(q, k)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, atol=1e-15)
    assert np.all(p[~causal_mask(6)] == 0)
    assert p[0, 0] == 1.0
    # large scores do not overflow
    p = attention_weights(1e3 * q, k)
    assert np.all(np.isfinite(p))


def test_output_at_t_ignores_later_inputs_and_the_order_of_earlier_ones():
    params = AttentionParams.random(4, 4, seed=3)
    x = np.random.default_rng(4).normal(size=(8, 4))
    y, _ = attention_forward(params, x)
    changed = x.copy()
    changed[5:] += 10.0
    np.testing.assert_allclose(attention_forward(params, changed)[0][:5], y[:5], atol=1e-14)
    # without positions, the last output is the same for any order of the earlier steps
    permuted = np.concatenate([x[:-1][np.random.default_rng(5).permutation(7)], x[-1:]])
    np.testing.assert_allclose(attention_forward(params, permuted)[0][-1], y[-1], rtol=1e-13)


def test_gradient_profile_equals_torch():
    params = AttentionParams.random(5, 5, seed=6)
    x = np.random.default_rng(7).normal(size=(10, 5))
    w = np.random.default_rng(8).normal(size=5)
    profile = input_gradient_profile(params, x, w)
    grad_y = np.zeros((10, 5))
    grad_y[-1] = w
    _, grads = torch_head(params, x, grad_y)
    np.testing.assert_allclose(profile, np.linalg.norm(grads["x"][::-1], axis=-1), rtol=1e-12)
    assert profile.shape == (10,) and np.all(profile > 0)


def test_cost_counts():
    cost = attention_cost(100, 32)
    assert cost == {"scores_and_mix": 2 * 100 * 100 * 32, "projections": 3 * 100 * 32 * 32,
                    "stored_scores": 10_000}
    assert attention_cost(200, 32)["stored_scores"] == 4 * cost["stored_scores"]


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: attention_forward(AttentionParams.random(3, 2), np.zeros((0, 3))), ValueError,
         "empty sequence"),
        (lambda: attention_forward(AttentionParams.random(3, 2), np.zeros((4, 2))), ValueError,
         "d = 3"),
        (lambda: attention_forward(AttentionParams.random(3, 2), np.zeros(4)), ValueError,
         "shape"),
        (lambda: attention_forward(AttentionParams.random(3, 2), [[np.nan, 0, 0]]), ValueError,
         "NaN"),
        (lambda: attention_forward("params", np.zeros((2, 3))), TypeError, "AttentionParams"),
        (lambda: attention_forward(AttentionParams.random(3, 2), "abc"), TypeError, "x must"),
        (lambda: AttentionParams(np.zeros((3, 2)), np.zeros((3, 4)), np.zeros((3, 2))),
         ValueError, "same shape"),
        (lambda: AttentionParams(np.zeros((3, 2)), np.zeros((3, 2)), np.zeros((4, 2))),
         ValueError, "wv must have 3 rows"),
        (lambda: AttentionParams(np.zeros(3), np.zeros(3), np.zeros(3)), ValueError, "wq"),
        (lambda: AttentionParams.random(0, 2), ValueError, "d must be >= 1"),
        (lambda: causal_mask(0), ValueError, "T must be >= 1"),
        (lambda: attention_weights(np.ones((3, 2)), np.ones((4, 2))), ValueError, "same shape"),
        (lambda: attention_weights(np.ones((0, 2)), np.ones((0, 2))), ValueError, "empty"),
        (lambda: attention_weights(np.ones(3), np.ones(3)), ValueError, "same shape"),
        (lambda: attention_cost(10, 2.5), TypeError, "d must be an integer"),
        (lambda: input_gradient_profile(AttentionParams.random(3, 2), np.zeros((4, 3)),
                                        np.zeros(3)), ValueError, "readout must have shape"),
    ],
)
def test_bad_input_raises(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_backward_rejects_a_wrong_gradient_shape():
    params = AttentionParams.random(3, 2)
    y, cache = attention_forward(params, np.ones((4, 3)))
    with pytest.raises(ValueError, match="grad_y must have the output's shape"):
        attention_backward(params, cache, np.ones((4, 3)))
    with pytest.raises(TypeError, match="AttentionCache"):
        attention_backward(params, {}, y)
