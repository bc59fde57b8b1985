"""Diagonal linear recurrences, the LRU, the scans and minGRU against sequential torch loops."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook.linear_recurrence import (
    MinGRUParams,
    check_stable,
    jacobian_power,
    linear_recurrence,
    linear_recurrence_backward,
    lru_gamma,
    lru_lambda,
    lru_ring_init,
    memory_horizon,
    mingru_backward,
    mingru_forward,
    scan_blelloch,
    scan_hillis_steele,
    scan_rounds,
    scan_sequential,
    selective_decay,
    sigmoid,
    softplus,
    stationary_gain,
)


def torch_recurrence(lam, u, h0):
    """A sequential torch loop with autograd: the oracle."""
    lam_t = torch.tensor(lam, requires_grad=True)
    u_t = torch.tensor(u, requires_grad=True)
    h0_t = torch.tensor(h0, requires_grad=True)
    h, out = h0_t, []
    for t in range(u.shape[0]):
        h = lam_t * h + u_t[t]
        out.append(h)
    return torch.stack(out), lam_t, u_t, h0_t


@pytest.mark.parametrize("shape", [(9, 4), (6, 3, 4), (1, 4)])
def test_recurrence_and_its_gradient_equal_torch(shape):
    rng = np.random.default_rng(0)
    lam = lru_ring_init(4, 0.5, 0.95, seed=1).lam
    u = rng.normal(size=shape) + 1j * rng.normal(size=shape)
    h0 = rng.normal(size=shape[1:]) + 1j * rng.normal(size=shape[1:])
    h = linear_recurrence(lam, u, h0)
    ref, lam_t, u_t, h0_t = torch_recurrence(lam, u, h0)
    np.testing.assert_allclose(h, ref.detach().numpy(), rtol=1e-13, atol=1e-14)
    weights = rng.normal(size=shape) + 1j * rng.normal(size=shape)
    (ref * torch.tensor(weights)).real.sum().backward()
    grad_h = np.conj(weights)  # d Re(w h) / d(Re h, Im h) in torch's convention
    grads = linear_recurrence_backward(lam, u, h0, h, grad_h)
    np.testing.assert_allclose(grads["u"], u_t.grad.numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(grads["lam"], lam_t.grad.numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(grads["h0"], h0_t.grad.numpy(), rtol=1e-12, atol=1e-13)


def test_jacobian_across_d_steps_is_lambda_to_the_d_exactly():
    lam = lru_ring_init(3, 0.8, 0.99, seed=2).lam
    T = 12
    for k in range(3):
        h0 = torch.zeros(3, dtype=torch.complex128, requires_grad=True)
        h = h0
        for _ in range(T):
            h = torch.tensor(lam) * h  # the inputs do not enter the Jacobian of a linear map
        h[k].real.backward()
        # d Re(h_T[k]) / d h0 in torch's convention is conj of the Jacobian's entry
        expected = np.zeros(3, complex)
        expected[k] = np.conj(jacobian_power(lam, T)[0, k])
        np.testing.assert_allclose(h0.grad.numpy(), expected, rtol=1e-13, atol=1e-300)
    powers = jacobian_power(lam, np.arange(5))
    np.testing.assert_allclose(np.abs(powers), np.abs(lam) ** np.arange(5)[:, None], rtol=1e-14)


@pytest.mark.parametrize("T", [1, 2, 5, 8, 13, 64, 100])
def test_scans_equal_the_loop(T):
    rng = np.random.default_rng(T)
    a = rng.uniform(0.5, 1.0, size=(T, 3, 4)) * np.exp(1j * rng.normal(size=(T, 3, 4)))
    b = rng.normal(size=(T, 3, 4)) + 1j * rng.normal(size=(T, 3, 4))
    h0 = rng.normal(size=(3, 4))
    loop = scan_sequential(a, b, h0)
    np.testing.assert_allclose(scan_hillis_steele(a, b, h0), loop, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(scan_blelloch(a, b, h0), loop, rtol=1e-12, atol=1e-13)
    # a constant diagonal a is the LRU recurrence
    lam = a[0, 0]
    np.testing.assert_allclose(scan_hillis_steele(lam, b), linear_recurrence(
        lam, b, stable=False), rtol=1e-12, atol=1e-13)


def test_scan_counts():
    rounds = scan_rounds(1024)
    assert rounds["sequential_rounds"] == 1024
    assert rounds["hillis_steele_rounds"] == 10 and rounds["blelloch_rounds"] == 20
    assert rounds["blelloch_work"] == 2046
    assert rounds["hillis_steele_work"] == sum(1024 - 2 ** j for j in range(10))
    assert scan_rounds(1)["hillis_steele_rounds"] == 0


def test_lru_ring_init():
    init = lru_ring_init(4000, 0.4, 0.9, np.pi / 5, seed=0)
    r = init.modulus
    assert r.min() >= 0.4 - 1e-12 and r.max() <= 0.9 + 1e-12
    # uniform in area: the fraction inside radius rho is (rho^2 - r_min^2)/(r_max^2 - r_min^2)
    inside = np.mean(r < 0.7)
    assert inside == pytest.approx((0.49 - 0.16) / (0.81 - 0.16), abs=0.03)
    phase = np.angle(init.lam)
    assert phase.min() >= 0 and phase.max() <= np.pi / 5
    np.testing.assert_allclose(init.lam, lru_lambda(init.nu_log, init.theta_log))
    np.testing.assert_allclose(init.gamma ** 2 + r ** 2, 1.0)
    # any real nu gives a stable eigenvalue
    assert np.all(np.abs(lru_lambda(np.linspace(-30, 5, 50), np.zeros(50))) < 1)


def test_normalisation_keeps_the_state_variance():
    lam = np.array([0.9, 0.99, 0.999])
    gain = stationary_gain(lam)
    np.testing.assert_allclose(gain, 1 / (1 - lam ** 2))
    np.testing.assert_allclose(gain * lru_gamma(lam) ** 2, 1.0)
    rng = np.random.default_rng(0)
    T = 1000
    u = rng.normal(size=(T, 1000, 3))
    h_T = linear_recurrence(lam, lru_gamma(lam) * u)[-1].real
    # Var h_T = gamma^2 sum_k lambda^(2k) = 1 - lambda^(2T) (over the batch of sequences)
    assert np.var(h_T, axis=0) == pytest.approx(1 - lam ** (2 * T), rel=0.15)
    h_T = linear_recurrence(lam, u[-200:])[-1].real  # without gamma: up to 500 times larger
    assert np.var(h_T[:, 1]) > 20


def test_memory_horizon():
    assert memory_horizon(np.array([0.5]), 0.25)[0] == pytest.approx(2.0)
    assert memory_horizon(np.exp(-0.01), np.exp(-1)) == pytest.approx(100.0)
    assert np.isinf(memory_horizon(1.0))


def test_selective_decay_is_a_zoh_forget_gate():
    delta = softplus(np.array([-5.0, 0.0, 5.0]))
    a = selective_decay(delta, np.array([1.0]))
    assert a.shape == (3, 1) and np.all((a > 0) & (a < 1))
    assert a[0, 0] > 0.99 and a[2, 0] < 0.01
    np.testing.assert_allclose(selective_decay(np.ones((2, 3)), np.arange(1.0, 4.0)),
                               np.exp(-np.arange(1.0, 4.0))[None].repeat(2, 0))
    np.testing.assert_allclose(sigmoid(np.array([0.0, 800.0, -800.0])), [0.5, 1.0, 0.0])


def torch_mingru(params, x, h0):
    w = {n: torch.tensor(getattr(params, n), requires_grad=True) for n in ("wz", "bz", "wh", "bh")}
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0, requires_grad=True)
    h, out = h0t, []
    for t in range(x.shape[0]):
        z = torch.sigmoid(xt[t] @ w["wz"] + w["bz"])
        h = (1 - z) * h + z * (xt[t] @ w["wh"] + w["bh"])
        out.append(h)
    return torch.stack(out), {"x": xt, "h0": h0t, **w}


@pytest.mark.parametrize("shape", [(11, 3), (7, 2, 3), (1, 3)])
def test_mingru_equals_a_sequential_torch_loop(shape):
    params = MinGRUParams.random(3, 5, seed=4)
    rng = np.random.default_rng(5)
    x = rng.normal(size=shape)
    h0 = rng.normal(size=(*shape[1:-1], 5))
    ref, leaves = torch_mingru(params, x, h0)
    for method in ("scan", "loop"):
        trace = mingru_forward(params, x, h0, method=method)
        np.testing.assert_allclose(trace.h, ref.detach().numpy(), rtol=1e-12, atol=1e-13)
    grad_h = rng.normal(size=ref.shape)
    (ref * torch.tensor(grad_h)).sum().backward()
    grads = mingru_backward(params, mingru_forward(params, x, h0), grad_h)
    assert set(grads) == set(leaves)
    for name, leaf in leaves.items():
        np.testing.assert_allclose(grads[name], leaf.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: linear_recurrence([0.5, 1.0], np.ones((3, 2))), ValueError, "|lambda| < 1"),
        (lambda: linear_recurrence([0.5, 1.2j], np.ones((3, 2))), ValueError, "largest modulus"),
        (lambda: linear_recurrence([0.5], np.ones((0, 1))), ValueError, "empty sequence"),
        (lambda: linear_recurrence([0.5], np.ones((3, 2))), ValueError, "expected n = 1"),
        (lambda: linear_recurrence([0.5], np.ones(3)), ValueError, "shape"),
        (lambda: linear_recurrence([], np.ones((3, 1))), ValueError, "non-empty vector"),
        (lambda: linear_recurrence("ab", np.ones((3, 1))), TypeError, "lam must be"),
        (lambda: linear_recurrence([0.5], [[np.nan]]), ValueError, "NaN"),
        (lambda: linear_recurrence([0.5], np.ones((2, 1)), h0=np.ones(2)), ValueError, "h0"),
        (lambda: check_stable("lam", [[0.5]]), ValueError, "vector"),
        (lambda: lru_ring_init(4, 0.9, 0.5), ValueError, "r_min must be <= r_max"),
        (lambda: lru_ring_init(4, 0.5, 1.0), ValueError, "r_max must be < 1"),
        (lambda: lru_ring_init(0, 0.5, 0.9), ValueError, "n must be >= 1"),
        (lambda: lru_ring_init(3, -0.1, 0.9), ValueError, "r_min must be >= 0"),
        (lambda: lru_gamma([1.0]), ValueError, "|lambda| < 1"),
        (lambda: lru_lambda([0.0], [0.0, 1.0]), ValueError, "same shape"),
        (lambda: jacobian_power([0.5], [-1]), ValueError, "d must hold integer"),
        (lambda: memory_horizon([1.5]), ValueError, "|lambda| <= 1"),
        (lambda: memory_horizon([0.5], 1.0), ValueError, "level must be in"),
        (lambda: scan_sequential(np.ones((3, 2)), np.ones((0, 2))), ValueError, "empty"),
        (lambda: scan_hillis_steele(np.ones((4, 3)), np.ones((3, 2))), ValueError,
         "does not broadcast"),
        (lambda: scan_blelloch(np.ones((3, 2)), np.ones((3, 2)), h0=np.ones(3)), ValueError, "h0"),
        (lambda: selective_decay(np.array([0.0]), np.ones(1)), ValueError, "delta must hold"),
        (lambda: selective_decay(np.ones(2), -np.ones(1)), ValueError, "A must be"),
        (lambda: selective_decay(np.ones((2, 3)), np.ones(2)), ValueError, "n = 2"),
        (lambda: MinGRUParams(np.ones((2, 3)), np.ones(2), np.ones((2, 3)), np.ones(3)),
         ValueError, "bz must have shape"),
        (lambda: mingru_forward(MinGRUParams.random(2, 3), np.ones((4, 3))), ValueError,
         "expected n = 2"),
        (lambda: mingru_forward(MinGRUParams.random(2, 3), np.ones((4, 2)), method="fft"),
         ValueError, "unknown method"),
        (lambda: mingru_forward(MinGRUParams.random(2, 3), np.ones((0, 2))), ValueError,
         "empty sequence"),
        (lambda: mingru_forward("p", np.ones((4, 2))), TypeError, "MinGRUParams"),
    ],
)
def test_bad_input_raises(call, error, message):
    with pytest.raises(error, match=message):
        call()
