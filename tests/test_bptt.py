"""Manual BPTT (rnnbook.bptt) and the losses (rnnbook.losses) against torch.autograd, float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_reference import ACTIVATIONS, TOL, TORCH_ACTIVATIONS, random_problem

from rnnbook import get_activation, to_torch
from rnnbook.bptt import (
    PARAMETER_NAMES,
    TruncationProfile,
    backward_recursion,
    bptt,
    describe_truncation,
    lagged_backward,
    relative_error,
    term_norms,
    truncation_error,
    truncation_profile,
)
from rnnbook.losses import LOSSES, ce_all, ce_all_grad, get_loss, mse_last, mse_last_grad


def make_problem(T, B, d, n, m, activation, loss, seed, scale=1.0):
    """Return (params, x (T, B, d), y, h0 (B, n)) drawn from ``seed``."""
    return random_problem(T, B, activation, loss, seed, d=d, n=n, m=m, scale=scale)


def torch_loss_terms(o_t, y, loss, t):
    """Return L_t for the output o_t (B, m) of 0-based step t."""
    if loss == "mse_last":
        return 0.5 * ((torch.tensor(y) - o_t) ** 2).sum()
    return torch.nn.functional.cross_entropy(o_t, torch.tensor(y[t]), reduction="sum")


def torch_gradients(params, x, y, loss, h0, truncate=None, untie=False):
    """Return (value, grads, dh0) from torch.autograd on a hand-built float64 RNN.

    With ``truncate=k`` each loss term L_s is recomputed from ``h[s-k].detach()`` (from h0 if
    s < k): its gradient reaches back k steps. With ``untie=True`` every step uses its own
    copies of U, W, b, and grads[name] has a leading axis T: the gradient of each copy.
    """
    T = x.shape[0]
    leaves = {}
    for name in PARAMETER_NAMES:
        value = getattr(params, name)
        if untie and name in "UWb":
            value = np.repeat(value[None], T, axis=0)
        leaves[name] = torch.tensor(value, requires_grad=True)
    X = torch.tensor(x)
    H0 = torch.tensor(h0, requires_grad=True)
    f = TORCH_ACTIVATIONS[params.activation]

    def weight(name, t):
        return leaves[name][t] if untie and name in "UWb" else leaves[name]

    def step(h, t):
        return f(X[t] @ weight("U", t).T + h @ weight("W", t).T + weight("b", t))

    def output(h):
        return h @ leaves["V"].T + leaves["c"]

    states, h = [], H0
    for t in range(T):
        h = step(h, t)
        states.append(h)
    if truncate is None and loss == "ce_all":
        logits = output(torch.stack(states)).reshape(-1, params.n_output)
        total = torch.nn.functional.cross_entropy(logits, torch.tensor(y).reshape(-1),
                                                  reduction="sum")
    else:
        loss_steps = range(T) if loss == "ce_all" else [T - 1]
        total = 0.0
        for s in loss_steps:
            if truncate is None:
                h = states[s]
            else:
                start = s - truncate + 1
                h = H0 if start <= 0 else states[start - 1].detach()
                for t in range(max(start, 0), s + 1):
                    h = step(h, t)
            total = total + torch_loss_terms(output(h), y, loss, s)
    total.backward()
    grads = {name: leaf.grad.numpy() for name, leaf in leaves.items()}
    dh0 = np.zeros(h0.shape) if H0.grad is None else H0.grad.numpy()  # truncated away
    return total.item(), grads, dh0


# ---------------------------------------------------------------- losses


@pytest.mark.parametrize("B", [1, 4])
@pytest.mark.parametrize("seed", [0, 1])
def test_losses_match_torch(B, seed):
    rng = np.random.default_rng(seed)
    T, m = 6, 5
    o = rng.normal(size=(T, B, m)) * 3
    y_mse = rng.normal(size=(B, m))
    y_ce = rng.integers(0, m, size=(T, B))
    logits = torch.tensor(o, requires_grad=True)
    L = 0.5 * ((torch.tensor(y_mse) - logits[-1]) ** 2).sum()
    L.backward()
    assert mse_last(o, y_mse) == pytest.approx(L.item(), rel=1e-14)
    np.testing.assert_allclose(mse_last_grad(o, y_mse), logits.grad.numpy(), rtol=0, atol=1e-14)
    logits = torch.tensor(o, requires_grad=True)
    L = torch.nn.functional.cross_entropy(logits.reshape(-1, m), torch.tensor(y_ce).reshape(-1),
                                          reduction="sum")
    L.backward()
    assert ce_all(o, y_ce) == pytest.approx(L.item(), rel=1e-13)
    np.testing.assert_allclose(ce_all_grad(o, y_ce), logits.grad.numpy(), rtol=0, atol=1e-14)


def test_losses_accept_unbatched_outputs_and_keep_their_shape():
    rng = np.random.default_rng(3)
    o = rng.normal(size=(4, 3))
    y = rng.normal(size=3)
    classes = np.array([0, 2, 1, 1])
    assert mse_last(o, y) == pytest.approx(mse_last(o[:, None], y[None]))
    assert mse_last_grad(o, y).shape == (4, 3)
    assert ce_all(o, classes) == pytest.approx(ce_all(o[:, None], classes[:, None]))
    assert ce_all_grad(o, classes).shape == (4, 3)
    # the softmax is computed stably: huge logits give a finite loss
    assert np.isfinite(ce_all(o * 1e4, classes))


def test_loss_registry():
    assert set(LOSSES) == {"mse_last", "ce_all"}
    np.testing.assert_array_equal(get_loss("mse_last").loss_steps(5), [4])
    np.testing.assert_array_equal(get_loss("ce_all").loss_steps(3), [0, 1, 2])
    with pytest.raises(ValueError, match="unknown loss name 'mse'"):
        get_loss("mse")
    with pytest.raises(TypeError):
        get_loss(3)
    with pytest.raises(ValueError, match="T must be >= 1"):
        get_loss("ce_all").loss_steps(0)


@pytest.mark.parametrize(
    ("function", "o", "y", "error", "match"),
    [
        (mse_last, np.zeros((3, 2, 4)), np.zeros(4), ValueError, r"shape \(B, m\)"),
        (mse_last, np.zeros((3, 2, 4)), np.zeros((2, 3)), ValueError, r"shape \(B, m\)"),
        (mse_last, np.zeros((3, 1, 4)), np.full(4, np.nan), ValueError, "NaN"),
        (mse_last, np.zeros(3), np.zeros(1), ValueError, r"\(T, m\) or \(T, B, m\)"),
        (mse_last, np.zeros((0, 2)), np.zeros(2), ValueError, "at least one step"),
        (ce_all, np.zeros((3, 2, 4)), np.zeros((3, 2)), TypeError, "integer class"),
        (ce_all, np.zeros((3, 2, 4)), np.zeros((3, 2), dtype=bool), TypeError, "integer"),
        (ce_all, np.zeros((3, 2, 4)), np.zeros(3, dtype=int), ValueError, r"shape \(T, B\)"),
        (ce_all, np.zeros((3, 2, 4)), np.full((3, 2), 4), ValueError, r"\[0, 3\]"),
        (ce_all, np.zeros((3, 2, 4)), np.full((3, 2), -1), ValueError, r"\[0, 3\]"),
    ],
)
def test_losses_reject_bad_input(function, o, y, error, match):
    with pytest.raises(error, match=match):
        function(o, y)


# ---------------------------------------------------------------- full BPTT vs torch

SIZES = [(1, 2, 5, 3), (3, 3, 8, 2)]  # (B, d, n, m)


@pytest.mark.parametrize("loss", ["mse_last", "ce_all"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("T", [1, 3, 17, 50])
@pytest.mark.parametrize("sizes", SIZES)
def test_bptt_matches_torch_autograd(T, activation, loss, sizes):
    B, d, n, m = sizes
    seed = 7 * T + 13 * B + ACTIVATIONS.index(activation)
    params, x, y, h0 = make_problem(T, B, d, n, m, activation, loss, seed)
    result = bptt(params, x, y, loss, h0=h0)
    value, grads, dh0 = torch_gradients(params, x, y, loss, h0)
    assert result.value == pytest.approx(value, rel=1e-12)
    for name in PARAMETER_NAMES:
        assert relative_error(result.grads[name], grads[name]) <= TOL, name
    assert relative_error(result.dh0, dh0) <= TOL
    assert result.delta.shape == (T, B, n)
    assert result.W_terms.shape == (T, n, n)
    assert result.U_terms.shape == (T, n, d)
    assert result.b_terms.shape == (T, n)
    assert result.chain.shape == (T, B, n, n)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("loss", ["mse_last", "ce_all"])
def test_bptt_matches_torch_nn_rnn(activation, loss):
    T, B, d, n, m = 20, 2, 3, 6, 4
    params, x, y, h0 = make_problem(T, B, d, n, m, activation, loss, seed=5)
    rnn, readout = to_torch(params)
    hs, _ = rnn(torch.tensor(x), torch.tensor(h0)[None])
    o = readout(hs)
    if loss == "mse_last":
        L = 0.5 * ((torch.tensor(y) - o[-1]) ** 2).sum()
    else:
        L = torch.nn.functional.cross_entropy(o.reshape(-1, m), torch.tensor(y).reshape(-1),
                                              reduction="sum")
    L.backward()
    torch_grads = {
        "U": rnn.weight_ih_l0.grad, "W": rnn.weight_hh_l0.grad, "b": rnn.bias_ih_l0.grad,
        "V": readout.weight.grad, "c": readout.bias.grad,
    }
    result = bptt(params, x, y, loss, h0=h0)
    for name, grad in torch_grads.items():
        assert relative_error(result.grads[name], grad.numpy()) <= TOL, name
    # torch's second bias gets the same gradient as the first
    assert relative_error(result.grads["b"], rnn.bias_hh_l0.grad.numpy()) <= TOL


def test_bptt_unbatched_input_and_default_h0():
    params, x, y, _ = make_problem(9, 1, 2, 4, 3, "tanh", "mse_last", seed=2)
    result = bptt(params, x[:, 0], y[0])
    _, grads, _ = torch_gradients(params, x, y, "mse_last", np.zeros((1, 4)))
    for name in PARAMETER_NAMES:
        assert relative_error(result.grads[name], grads[name]) <= TOL
    # with h0 = 0 the first term of dW is zero: delta_1^T h_0
    assert result.W_term_norms[0] == 0.0


# ---------------------------------------------------------------- terms and chain


@pytest.mark.parametrize("loss", ["mse_last", "ce_all"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("B", [1, 3])
def test_terms_are_gradients_of_per_step_copies(loss, activation, B):
    """Term t is dL/dW_t when step t uses its own copy W_t of W (torch, untied leaves)."""
    T, d, n, m = 12, 3, 5, 4
    params, x, y, h0 = make_problem(T, B, d, n, m, activation, loss, seed=B + 11)
    result = bptt(params, x, y, loss, h0=h0)
    _, grads, _ = torch_gradients(params, x, y, loss, h0, untie=True)
    for name, terms in (("W", result.W_terms), ("U", result.U_terms), ("b", result.b_terms)):
        for t in range(T):
            assert relative_error(terms[t], grads[name][t]) <= TOL, (name, t)
        # the decomposition sums to the total
        assert relative_error(terms.sum(axis=0), result.grads[name]) <= 1e-13
        norms = np.linalg.norm(terms.reshape(T, -1), axis=1)
        np.testing.assert_allclose(getattr(result, f"{name}_term_norms"), norms,
                                   rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("loss", ["mse_last", "ce_all"])
def test_keep_flags_drop_arrays_but_not_norms_or_grads(loss):
    params, x, y, h0 = make_problem(15, 3, 2, 6, 3, "tanh", loss, seed=4)
    full = bptt(params, x, y, loss, h0=h0)
    light = bptt(params, x, y, loss, h0=h0, keep_terms=False, keep_chain=False)
    assert light.W_terms is None and light.U_terms is None and light.b_terms is None
    assert light.chain is None
    for name in PARAMETER_NAMES:
        np.testing.assert_array_equal(light.grads[name], full.grads[name])
    for name in ("W_term_norms", "U_term_norms", "b_term_norms"):
        np.testing.assert_array_equal(getattr(light, name), getattr(full, name))


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_chain_is_the_jacobian_dhT_dhk(activation):
    T, B, d, n, m = 6, 2, 2, 4, 3
    params, x, y, h0 = make_problem(T, B, d, n, m, activation, "mse_last", seed=21)
    result = bptt(params, x, y, "mse_last", h0=h0)
    f = TORCH_ACTIVATIONS[activation]
    U, W, b = (torch.tensor(getattr(params, name)) for name in "UWb")
    states = result.trajectory.h
    for k in range(1, T + 1):
        for batch in range(B):
            def run(h, k=k, batch=batch):
                for t in range(k, T):
                    h = f(U @ torch.tensor(x[t, batch]) + W @ h + b)
                return h

            jacobian = torch.autograd.functional.jacobian(run, torch.tensor(states[k - 1, batch]))
            np.testing.assert_allclose(result.chain[k - 1, batch], jacobian.numpy(),
                                       rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_last_step_delta_is_the_seed_product(activation):
    """delta_k = (dL/dh_T)(dh_T/dh_k) diag(f'(z_k)) for the last-step loss."""
    params, x, y, h0 = make_problem(10, 3, 2, 5, 2, activation, "mse_last", seed=8)
    result = bptt(params, x, y, "mse_last", h0=h0)
    dL_dhT = (result.trajectory.o[-1] - y) @ params.V
    fprime = get_activation(activation).df(result.trajectory.z)
    expected = np.einsum("bi,tbij->tbj", dL_dhT, result.chain) * fprime
    np.testing.assert_allclose(result.delta, expected, rtol=1e-11, atol=1e-15)


def test_linear_chain_is_a_power_of_W():
    params, x, y, h0 = make_problem(8, 1, 2, 5, 2, "identity", "mse_last", seed=3)
    result = bptt(params, x, y, "mse_last", h0=h0)
    for k in range(1, 9):
        np.testing.assert_allclose(result.chain[k - 1, 0],
                                   np.linalg.matrix_power(params.W, 8 - k), rtol=1e-12,
                                   atol=1e-14)


def test_backward_recursion_with_one_W_per_step_matches_tied_when_equal():
    rng = np.random.default_rng(0)
    T, B, n = 7, 2, 4
    e, fprime, W = rng.normal(size=(T, B, n)), rng.uniform(size=(T, B, n)), rng.normal(size=(n, n))
    tied = backward_recursion(e, fprime, W, keep_chain=True)
    untied = backward_recursion(e, fprime, np.repeat(W[None], T, axis=0), keep_chain=True)
    for a, b in zip(tied, untied, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-14)


def test_term_norms_with_batch_use_the_gram_identity():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(5, 4, 3)), rng.normal(size=(5, 4, 6))
    expected = np.linalg.norm(np.einsum("tbi,tbj->tij", a, b), axis=(1, 2))
    np.testing.assert_allclose(term_norms(a, b), expected, rtol=1e-12)
    np.testing.assert_allclose(term_norms(a, None), np.linalg.norm(a.sum(axis=1), axis=1))


# ---------------------------------------------------------------- truncated BPTT


@pytest.mark.parametrize("loss", ["mse_last", "ce_all"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("truncate", [1, 2, 5, 11])
def test_truncated_bptt_matches_torch_detach(loss, activation, truncate):
    T, B, d, n, m = 12, 2, 3, 5, 4
    params, x, y, h0 = make_problem(T, B, d, n, m, activation, loss, seed=truncate + 40)
    result = bptt(params, x, y, loss, h0=h0, truncate=truncate)
    value, grads, dh0 = torch_gradients(params, x, y, loss, h0, truncate=truncate)
    assert result.truncate == truncate
    assert result.value == pytest.approx(value, rel=1e-12)
    for name in PARAMETER_NAMES:
        assert relative_error(result.grads[name], grads[name]) <= TOL, name
    assert relative_error(result.dh0, dh0) <= TOL
    assert relative_error(result.W_terms.sum(axis=0), result.grads["W"]) <= 1e-13
    if truncate <= 2:  # a short window changes the gradient: the oracle without detach differs
        _, full, _ = torch_gradients(params, x, y, loss, h0)
        assert relative_error(result.grads["W"], full["W"]) > 1e-6


@pytest.mark.parametrize("loss", ["mse_last", "ce_all"])
@pytest.mark.parametrize("truncate", [9, 10, 1000])
def test_truncate_at_least_T_is_full_bptt(loss, truncate):
    params, x, y, h0 = make_problem(9, 2, 2, 4, 3, "tanh", loss, seed=6)
    _, grads, dh0 = torch_gradients(params, x, y, loss, h0)
    result = bptt(params, x, y, loss, h0=h0, truncate=truncate)
    for name in PARAMETER_NAMES:
        assert relative_error(result.grads[name], grads[name]) <= TOL
    assert relative_error(result.dh0, dh0) <= TOL


@pytest.mark.parametrize("loss", ["mse_last", "ce_all"])
def test_lagged_backward_over_all_lags_equals_the_recursion(loss):
    """The second backward path (one lag at a time) adds up to the one recursion's delta."""
    params, x, y, h0 = make_problem(11, 2, 2, 4, 3, "sigmoid", loss, seed=9)
    result = bptt(params, x, y, loss, h0=h0)
    traj = result.trajectory
    e = get_loss(loss).grad(traj.o, y) @ params.V
    fprime = get_activation("sigmoid").df(traj.z)
    delta, dh0 = np.zeros_like(traj.z), np.zeros_like(traj.h0)
    for _, positions, D, to_h0 in lagged_backward(e, fprime, params.W,
                                                  get_loss(loss).loss_steps(11), 11):
        delta[positions] += D
        dh0 += to_h0
    np.testing.assert_allclose(delta, result.delta, rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(dh0, result.dh0, rtol=1e-12, atol=1e-16)


def test_truncation_error_shrinks_with_the_window():
    params, x, y, h0 = make_problem(40, 1, 2, 8, 2, "tanh", "ce_all", seed=12, scale=1.2)
    errors = {k: truncation_error(params, x, y, "ce_all", truncate=k, h0=h0) for k in
              (1, 3, 10, 40)}
    assert errors[40]["W"] == 0.0 and errors[40]["U"] == 0.0
    for k in (1, 3, 10):
        assert errors[k]["V"] == 0.0 and errors[k]["c"] == 0.0  # no long-range term
        assert errors[k]["W"] > 0.0
    assert errors[1]["W"] > errors[10]["W"]
    with pytest.raises(TypeError):
        truncation_error(params, x, y, "ce_all", truncate=None)


# ---------------------------------------------------------------- bad input


def _good():
    return make_problem(5, 2, 3, 4, 2, "tanh", "mse_last", seed=0)


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda p, x, y, h: (p, x[:0], y, h), ValueError, "at least one time step"),
        (lambda p, x, y, h: (p, x[..., :2], y, h), ValueError, "last axis must have size 3"),
        (lambda p, x, y, h: (p, x[None], y, h), ValueError, "dimensions"),
        (lambda p, x, y, h: (p, np.where(x > 1, np.nan, x), y, h), ValueError, "NaN"),
        (lambda p, x, y, h: (p, x, np.full_like(y, np.nan), h), ValueError, "NaN"),
        (lambda p, x, y, h: (p, x, y[:1], h), ValueError, r"shape \(B, m\)"),
        (lambda p, x, y, h: (p, x, y, np.full_like(h, np.inf)), ValueError, "NaN or infinite"),
        (lambda p, x, y, h: (p, x, y, h[:1]), ValueError, "batch size"),
        (lambda p, x, y, h: ("params", x, y, h), TypeError, "RNNParams"),
    ],
)
def test_bptt_rejects_bad_input(change, error, match):
    params, x, y, h0 = change(*_good())
    with pytest.raises(error, match=match):
        bptt(params, x, y, "mse_last", h0=h0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"loss": "mae"}, ValueError, "unknown loss"),
        ({"truncate": 0}, ValueError, "truncate must be >= 1"),
        ({"truncate": -3}, ValueError, "truncate must be >= 1"),
        ({"truncate": 2.0}, TypeError, "truncate"),
        ({"truncate": True}, TypeError, "truncate"),
        ({"keep_terms": "yes"}, TypeError, "keep_terms"),
        ({"keep_chain": None}, TypeError, "keep_chain"),
    ],
)
def test_bptt_rejects_bad_options(kwargs, error, match):
    params, x, y, h0 = _good()
    with pytest.raises(error, match=match):
        bptt(params, x, y, h0=h0, **kwargs)


def test_unknown_activation_is_rejected():
    params, *_ = _good()
    with pytest.raises(ValueError, match="unknown activation name 'softplus'"):
        params.replace(activation="softplus")


def test_ce_all_needs_integer_targets_in_bptt():
    params, x, _, h0 = _good()
    with pytest.raises(TypeError, match="integer class"):
        bptt(params, x, np.zeros((5, 2)), "ce_all", h0=h0)


def test_relative_error():
    assert relative_error([3.0, 4.0], [3.0, 4.0]) == 0.0
    assert relative_error([3.0, 5.0], [3.0, 4.0]) == pytest.approx(0.2)
    assert relative_error([0.0], [0.0]) == 0.0
    assert relative_error([1.0], [0.0]) == float("inf")
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        relative_error(np.zeros(2), np.zeros(3))


def test_exploding_network_returns_inf_not_an_error():
    params, x, y, h0 = make_problem(400, 1, 2, 8, 2, "identity", "mse_last", seed=1, scale=4.0)
    with np.errstate(over="raise", invalid="raise"):
        result = bptt(params, x, y, "mse_last", h0=h0)
    assert not np.all(np.isfinite(result.grads["W"]))


# ---------------------------------------------------------------- truncation profile


@pytest.mark.parametrize("loss", ["mse_last", "ce_all"])
@pytest.mark.parametrize("activation", ["tanh", "identity"])
def test_truncation_profile_errors_match_torch_detach(loss, activation):
    T, B, d, n, m = 9, 2, 2, 4, 3
    params, x, y, h0 = make_problem(T, B, d, n, m, activation, loss, seed=31, scale=1.1)
    profile = truncation_profile(params, x, y, 3, loss, h0=h0)
    _, full, _ = torch_gradients(params, x, y, loss, h0)
    for K in (1, 3, 6):
        _, cut, _ = torch_gradients(params, x, y, loss, h0, truncate=K)
        assert profile.errors[K - 1] == pytest.approx(relative_error(cut["W"], full["W"]),
                                                      rel=1e-8, abs=1e-14)
    assert profile.errors[-1] == 0.0
    assert profile.errors[0] > 1e-3  # a one-step window loses a visible part
    assert profile.error == profile.errors[2]
    np.testing.assert_array_equal(profile.steps, np.arange(1, T + 1))
    np.testing.assert_array_equal(profile.windows, np.arange(1, T + 1))
    assert profile.rho == pytest.approx(np.max(np.abs(np.linalg.eigvals(params.W))))
    assert profile.loss == loss and profile.activation == activation


@pytest.mark.parametrize("window", [1, 4, 10])
def test_truncation_profile_last_step_loss_keeps_the_last_terms_only(window):
    """For the last-step loss, window K keeps terms T-K+1..T unchanged and zeroes the rest."""
    T = 10
    params, x, y, h0 = make_problem(T, 1, 2, 5, 2, "tanh", "mse_last", seed=4)
    profile = truncation_profile(params, x, y, window, h0=h0)
    full = bptt(params, x, y, h0=h0)
    np.testing.assert_allclose(profile.full_norms, full.W_term_norms, rtol=1e-14)
    kept = slice(T - window, T)
    np.testing.assert_allclose(profile.truncated_norms[kept], full.W_term_norms[kept],
                               rtol=1e-12)
    assert np.all(profile.truncated_norms[: T - window] == 0.0)
    far = full.W_terms[: T - window].sum(axis=0)
    assert profile.error == pytest.approx(np.linalg.norm(far) / np.linalg.norm(full.grads["W"]),
                                          rel=1e-10, abs=1e-15)


def test_truncation_profile_rejects_bad_windows():
    params, x, y, h0 = _good()
    with pytest.raises(ValueError, match=r"\[1, T\] = \[1, 5\]"):
        truncation_profile(params, x, y, 0, h0=h0)
    with pytest.raises(ValueError, match=r"\[1, T\] = \[1, 5\]"):
        truncation_profile(params, x, y, 6, h0=h0)
    with pytest.raises(TypeError, match="window"):
        truncation_profile(params, x, y, 2.0, h0=h0)
    with pytest.raises(TypeError, match="window"):
        truncation_profile(params, x, y, True, h0=h0)
    with pytest.raises(TypeError, match="RNNParams"):
        truncation_profile("params", x, y, 2, h0=h0)


def test_describe_truncation_states_the_numbers():
    params, x, y, h0 = make_problem(12, 1, 2, 4, 2, "tanh", "mse_last", seed=2)
    profile = truncation_profile(params, x, y, 5, h0=h0)
    text = describe_truncation(profile)
    assert "12 terms" in text and "keeps terms 8 to 12" in text and "drops the 7" in text
    assert f"{profile.error:.2g}" in text
    full = describe_truncation(truncation_profile(params, x, y, 12, h0=h0))
    assert "full BPTT" in full
    params, x, y, h0 = make_problem(12, 1, 2, 4, 3, "tanh", "ce_all", seed=2)
    assert "reach back 5 steps" in describe_truncation(
        truncation_profile(params, x, y, 5, "ce_all", h0=h0))
    with pytest.raises(TypeError, match="TruncationProfile"):
        describe_truncation("profile")


def test_truncation_profile_of_an_exploding_network_is_returned_not_raised():
    params, x, y, h0 = make_problem(60, 1, 2, 6, 2, "identity", "mse_last", seed=1, scale=1e4)
    with np.errstate(over="raise", invalid="raise"):
        profile = truncation_profile(params, x, y, 10, h0=h0)
    assert isinstance(profile, TruncationProfile)
    assert not np.all(np.isfinite(profile.full_norms))
    assert "nan" in describe_truncation(profile) or "inf" in describe_truncation(profile)
