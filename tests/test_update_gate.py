"""The update gate: interpolation against the GRU itself, the copy path against torch autograd."""

import numpy as np
import pytest
import torch

from rnnbook.gru import GRUParams, gru_forward, gru_to_torch
from rnnbook.update_gate import (
    Interpolation,
    UpdateGateFlow,
    describe_update_flow,
    interpolate,
    interpolation_demo,
    memory_steps,
    update_bias_gradient_flow,
)


def constant_gate_gru(d, n, z, seed):
    """A random GRU whose update gate is the constant z (U_z = W_z = 0, b_z = logit z)."""
    params = GRUParams.random(d, n, seed=seed)
    U, W, b = params.U.copy(), params.W.copy(), params.b.copy()
    U[n:2 * n] = 0.0
    W[n:2 * n] = 0.0
    b[n:2 * n] = np.log(z / (1 - z))
    return params.replace(U=U, W=W, b=b)


@pytest.mark.parametrize("d, n, B, T", [(1, 1, 1, 5), (3, 6, 2, 30), (2, 16, 4, 12)])
@pytest.mark.parametrize("z", [0.1, 0.5, 0.95])
def test_interpolation_of_the_candidates_is_the_gru_state(d, n, B, T, z):
    params = constant_gate_gru(d, n, z, seed=n)
    rng = np.random.default_rng(T)
    x, h0 = rng.normal(size=(T, B, d)), rng.normal(size=(B, n))
    traj = gru_forward(params, x, h0)
    assert np.allclose(traj.z, z, rtol=0, atol=1e-14)
    assert np.max(np.abs(interpolate(traj.n, traj.z, h0) - traj.h)) <= 1e-12
    with torch.no_grad():
        states, _ = gru_to_torch(params)(torch.from_numpy(x), torch.from_numpy(h0)[None])
    assert np.max(np.abs(interpolate(traj.n, z, h0) - states.numpy())) <= 1e-12


@pytest.mark.parametrize("z", [0.0, 0.3, 0.9, 1.0])
def test_interpolation_is_a_moving_average(z):
    n = np.random.default_rng(1).normal(size=25)
    h0 = 0.7
    t = np.arange(1, 26)
    closed = np.array([z ** k * h0 + sum((1 - z) * z ** (k - s) * n[s - 1]
                                         for s in range(1, k + 1)) for k in t])
    assert np.allclose(interpolate(n, z, h0), closed, rtol=0, atol=1e-13)


@pytest.mark.parametrize("z, fraction, expected", [(0.5, 0.25, 2), (0.5, 0.2, 3), (0.9, 0.01, 44),
                                                    (0.99, 0.5, 69), (0.1, 0.5, 1)])
def test_memory_steps(z, fraction, expected):
    k = memory_steps(z, fraction)
    assert k == expected
    assert z ** k <= fraction < z ** (k - 1)


def test_interpolation_demo():
    demo = interpolation_demo((0.0, 0.9), T=40, seed=3)
    assert isinstance(demo, Interpolation)
    assert demo.states.shape == (2, 40) and demo.t[-1] == 40
    assert np.array_equal(demo.states[0], demo.candidate)  # z = 0 copies the candidate
    assert np.all(np.abs(demo.candidate) < 1)
    # z = 0.9 smooths: its steps are (1 - z) times the gap to the candidate.
    assert np.std(np.diff(demo.states[1])) < 0.3 * np.std(np.diff(demo.candidate))


def torch_span_norms(params, x):
    """||dh_T/dh_k|| for distance T - k = 0..T from torch autograd, one sequence."""
    gru = gru_to_torch(params)
    xt = torch.from_numpy(x)
    T, n = x.shape[0], params.n_hidden
    with torch.no_grad():
        out, _ = gru(xt, torch.zeros(1, 1, n, dtype=torch.float64))
    states = [torch.zeros(n, dtype=torch.float64), *out[:, 0]]  # h_0..h_T
    norms = [1.0]
    for k in range(T - 1, -1, -1):
        def tail(hk, k=k):
            return gru(xt[k:], hk[None, None])[0][-1, 0]
        jacobian = torch.autograd.functional.jacobian(tail, states[k])
        norms.append(float(torch.linalg.matrix_norm(jacobian, ord=2)))
    return np.array(norms)


@pytest.mark.parametrize("update_bias, scale", [(-1.0, 1.0), (2.0, 1.0), (0.0, 3.0)])
def test_gradient_flow_equals_torch_autograd(update_bias, scale):
    result = update_bias_gradient_flow(update_bias, scale, T=12, n=5, seed=2)
    x = np.random.default_rng([2, 7]).normal(size=(12, 1, 1))
    params = GRUParams.random(1, 5, g=scale, update_bias=update_bias, seed=2)
    expected = torch_span_norms(params, x)
    assert np.allclose(result.gru, expected, rtol=1e-10, atol=1e-14)
    z = gru_forward(params, x).z[:, 0]
    for d in (0, 3, 12):
        assert result.update_path[d] == pytest.approx(np.prod(z[12 - d:], axis=0).max())


def test_larger_update_bias_carries_the_gradient_further():
    low, high = (update_bias_gradient_flow(b, T=60, n=16) for b in (0.0, 4.0))
    assert isinstance(high, UpdateGateFlow)
    assert high.mean_update > 0.9 > 0.6 > low.mean_update
    assert high.gru[60] > 1e3 * low.gru[60]
    assert high.update_path[60] > 1e3 * low.update_path[60]
    assert high.distance.tolist() == list(range(61)) and high.gru[0] == pytest.approx(1.0)
    assert high.at(60) == (high.gru[60], high.update_path[60], high.rnn[60])
    assert "update-gate bias +4" in describe_update_flow(high)


@pytest.mark.parametrize("call, error, message", [
    (lambda: interpolate([], 0.5), ValueError, "T >= 1"),
    (lambda: interpolate([1.0, np.nan], 0.5), ValueError, "NaN"),
    (lambda: interpolate([1.0, 2.0], 1.5), ValueError, r"\[0, 1\]"),
    (lambda: interpolate(np.ones((4, 3)), np.ones(5) * 0.5), ValueError, "broadcast"),
    (lambda: interpolate(np.ones((4, 3)), 0.5, h0=[np.inf, 0, 0]), ValueError, "h0"),
    (lambda: memory_steps(1.0), ValueError, "finite memory"),
    (lambda: memory_steps(0.5, 2.0), ValueError, "fraction"),
    (lambda: memory_steps("0.5"), TypeError, "real number"),
    (lambda: interpolation_demo(()), TypeError, "non-empty"),
    (lambda: interpolation_demo((0.5, -0.1)), ValueError, "z_values"),
    (lambda: interpolation_demo(T=0), ValueError, "T"),
    (lambda: update_bias_gradient_flow(np.nan), ValueError, "finite"),
    (lambda: update_bias_gradient_flow(1.0, -1.0), ValueError, "g"),
    (lambda: update_bias_gradient_flow(1.0, T=1.5), TypeError, "T"),
    (lambda: update_bias_gradient_flow(0.0, T=5, n=2).at(6), ValueError, "at most 5"),
    (lambda: describe_update_flow(None), TypeError, "UpdateGateFlow"),
])
def test_bad_input_raises(call, error, message):
    with pytest.raises(error, match=message):
        call()
