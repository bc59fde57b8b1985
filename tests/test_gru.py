"""The numpy GRU against torch.nn.GRU / GRUCell and torch.autograd, in float64."""

import numpy as np
import pytest
import torch
from torch_reference import GATED_SIZES, GATED_TOL, gated_inputs, torch_gate_blocks

from rnnbook.gates import gate_path_products, spectral_norms
from rnnbook.gru import (
    GRUParams,
    gru_cell,
    gru_count_params,
    gru_forward,
    gru_from_torch,
    gru_jacobian,
    gru_spans,
    gru_to_torch,
)
from rnnbook.jacobian import span_norms, span_products
from rnnbook.lstm import LSTMParams, lstm_count_params


def torch_gates(module: torch.nn.GRUCell, x, h):
    """torch's r, z, n from its own weights, split in torch's chunk order."""
    (i_r, i_z, i_n), (h_r, h_z, h_n) = torch_gate_blocks(module, x, h, 3)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    return r, z, torch.tanh(i_n + r * h_n)


@pytest.mark.parametrize("d, n, B, T", GATED_SIZES)
@pytest.mark.parametrize("seed", [0, 1])
def test_forward_equals_torch_gru(d, n, B, T, seed):
    params = GRUParams.random(d, n, update_bias=0.5, g=1.5, seed=seed)
    x, h0 = gated_inputs(d, n, B, T, seed + 200)
    traj = gru_forward(params, x, h0)
    out, h_T = gru_to_torch(params)(torch.from_numpy(x), torch.from_numpy(h0)[None])
    assert np.max(np.abs(traj.h - out.detach().numpy())) <= GATED_TOL
    assert np.max(np.abs(traj.h[-1] - h_T[0].detach().numpy())) <= GATED_TOL


@pytest.mark.parametrize("d, n, B, T", GATED_SIZES[:3])
def test_gates_follow_torch_convention(d, n, B, T):
    """r, z, n in torch's order, and h_t = (1 - z) n + z h_{t-1}: z multiplies the old state."""
    params = GRUParams.random(d, n, seed=3)
    x, h0 = gated_inputs(d, n, B, T, 203)
    traj = gru_forward(params, x, h0)
    cell = gru_to_torch(params, cell=True)
    h = torch.from_numpy(h0)
    for t in range(T):
        xt = torch.from_numpy(x[t])
        r, z, cand = torch_gates(cell, xt, h)
        for name, value in zip("rzn", (r, z, cand), strict=True):
            assert np.max(np.abs(getattr(traj, name)[t] - value.detach().numpy())) <= GATED_TOL
        h_next = cell(xt, h)
        assert torch.max(torch.abs(h_next - ((1 - z) * cand + z * h))) <= GATED_TOL
        h = h_next
        assert np.max(np.abs(traj.h[t] - h.detach().numpy())) <= GATED_TOL


def test_reset_is_applied_after_the_matrix_product():
    """torch's candidate is tanh(U_n x + b_n + r (W_n h + b_hn)); Cho et al.'s W_n (r h) differs."""
    params = GRUParams.random(2, 5, seed=1)
    rng = np.random.default_rng(1)
    x, h = rng.normal(size=2), rng.normal(size=5)
    traj = gru_forward(params, x[None], h)
    U_n, W_n, b_n = params.gate("n")
    r = traj.r[0, 0]
    after = np.tanh(U_n @ x + b_n + r * (W_n @ h + params.b_hn))
    before = np.tanh(U_n @ x + b_n + W_n @ (r * h) + params.b_hn)
    assert np.max(np.abs(traj.n[0, 0] - after)) <= 1e-15
    assert np.max(np.abs(traj.n[0, 0] - before)) > 1e-3


def test_torch_default_init_round_trip():
    """from_torch folds b_hr and b_hz into b and keeps b_hn apart."""
    torch.manual_seed(0)
    module = torch.nn.GRU(3, 6, dtype=torch.float64)
    params = gru_from_torch(module)
    np.testing.assert_array_equal(params.b_hn, module.bias_hh_l0.detach().numpy()[12:])
    x = np.random.default_rng(0).normal(size=(15, 2, 3))
    out, _ = module(torch.from_numpy(x))
    assert np.max(np.abs(gru_forward(params, x).h - out.detach().numpy())) <= GATED_TOL
    cell = torch.nn.GRUCell(3, 6, dtype=torch.float64)
    h = cell(torch.from_numpy(x[0]))
    ours = gru_cell(gru_from_torch(cell), x[0], np.zeros((2, 6)))
    assert np.max(np.abs(ours - h.detach().numpy())) <= GATED_TOL


@pytest.mark.parametrize("d, n", [(1, 1), (4, 3), (10, 20)])
def test_cell_single_and_batch(d, n):
    params = GRUParams.random(d, n, seed=5)
    rng = np.random.default_rng(5)
    x, h = rng.normal(size=(4, d)), rng.normal(size=(4, n))
    h_t = gru_to_torch(params, cell=True)(torch.from_numpy(x), torch.from_numpy(h))
    ours = gru_cell(params, x, h)
    assert np.max(np.abs(ours - h_t.detach().numpy())) <= GATED_TOL
    single = gru_cell(params, x[2], h[2])
    assert single.shape == (n,)
    np.testing.assert_allclose(single, ours[2], rtol=0, atol=1e-15)


@pytest.mark.parametrize("d, n", [(1, 1), (2, 32), (10, 7), (128, 64)])
def test_param_count_matches_torch(d, n):
    assert gru_count_params(d, n) == sum(p.numel() for p in torch.nn.GRU(d, n).parameters())
    assert gru_count_params(d, n) == sum(p.numel() for p in torch.nn.GRUCell(d, n).parameters())
    params = GRUParams.random(d, n)
    sizes = params.U.size + params.W.size + params.b.size + params.b_hn.size
    assert gru_count_params(d, n, torch_biases=False) == sizes
    # three weight blocks against the LSTM's four
    assert 4 * gru_count_params(d, n) == 3 * lstm_count_params(d, n)
    lstm = LSTMParams.random(d, n)
    assert 4 * params.W.size == 3 * lstm.W.size


# --- Jacobians ----------------------------------------------------------------------------


def small_case(seed, n=4, d=3, B=2, T=6, **kwargs):
    params = GRUParams.random(d, n, g=2.0, seed=seed, **kwargs)
    x, h0 = gated_inputs(d, n, B, T, seed + 200)
    return params, x, gru_forward(params, x, h0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_jacobian_equals_autograd(seed):
    params, x, traj = small_case(seed)
    cell = gru_to_torch(params, cell=True)
    jac = gru_jacobian(params, traj)
    T, B, n = traj.h.shape
    np.testing.assert_array_equal(jac.t, np.arange(1, T + 1))
    for t in range(T):
        for b in range(B):
            x_t = torch.from_numpy(x[t, b])
            h_prev = torch.from_numpy(traj.h_prev[t, b])
            total = torch.autograd.functional.jacobian(lambda h, x_t=x_t: cell(x_t, h), h_prev)
            assert np.max(np.abs(jac.total[t, b] - total.numpy())) <= GATED_TOL
            # the update path: h_t = (1 - z) n + z h with z and n held fixed
            r, z, cand = (g.detach() for g in torch_gates(cell, x_t, h_prev))
            direct = torch.autograd.functional.jacobian(
                lambda h, z=z, cand=cand: (1 - z) * cand + z * h, h_prev)
            assert np.max(np.abs(np.diag(jac.update[t, b]) - direct.numpy())) <= GATED_TOL
            assert np.max(np.abs(jac.rest[t, b] - (total - direct).numpy())) <= GATED_TOL


def test_jacobian_is_update_gate_without_recurrence():
    params, _, traj = small_case(0)
    params = params.replace(W=np.zeros_like(params.W))
    traj = gru_forward(params, traj.x, traj.h0)
    jac = gru_jacobian(params, traj)
    assert np.all(jac.rest == 0)
    np.testing.assert_array_equal(np.diagonal(jac.total, axis1=-2, axis2=-1), traj.z)


@pytest.mark.parametrize("seed", [0, 3])
def test_spans_equal_autograd_for_every_k(seed):
    params, x, traj = small_case(seed, T=7)
    cell = gru_to_torch(params, cell=True)
    spans = gru_spans(params, traj)
    T, B, n = traj.h.shape
    np.testing.assert_array_equal(spans.k, np.arange(0, T + 1))
    h_all = np.concatenate([traj.h0[None], traj.h])
    for k in range(T + 1):
        for b in range(B):
            def h_T(h_k, k=k, b=b):
                h = h_k
                for t in range(k, T):
                    h = cell(torch.from_numpy(x[t, b]), h)
                return h

            expected = torch.autograd.functional.jacobian(h_T, torch.from_numpy(h_all[k, b]))
            assert np.max(np.abs(spans.products[k, b] - expected.numpy())) <= GATED_TOL
            assert spans.norms[k, b] == pytest.approx(np.linalg.norm(expected.numpy(), 2),
                                                      rel=1e-10)
    np.testing.assert_allclose(spans.gate_path[0], np.prod(traj.z, axis=0), rtol=1e-14)
    np.testing.assert_array_equal(spans.gate_path[-1], np.ones((B, n)))


def test_update_bias_keeps_the_gradient():
    """A large update-gate bias copies the state: ||dh_T/dh_0|| stays near 1."""
    far = []
    for bias in (-3.0, 0.0, 6.0):
        params = GRUParams.random(2, 8, update_bias=bias, seed=0)
        x = np.random.default_rng(0).normal(size=(60, 1, 2))
        far.append(gru_spans(params, gru_forward(params, x)).norms[0, 0])
    assert far[0] < far[1] < far[2]
    assert far[0] < 1e-10 and 0.5 < far[2] < 2.0


# --- the shared helpers ---------------------------------------------------------------------


def test_span_products_and_norms():
    rng = np.random.default_rng(0)
    J = rng.normal(size=(5, 2, 3, 3))
    P = span_products(J)  # indexed by distance d = T - k, with a batch axis
    np.testing.assert_array_equal(P[0], np.broadcast_to(np.eye(3), (2, 3, 3)))
    np.testing.assert_allclose(P[4, 1], J[4, 1] @ J[3, 1] @ J[2, 1] @ J[1, 1], rtol=1e-13)
    for b in range(2):
        np.testing.assert_array_equal(P[:, b], span_products(J[:, b]))
    np.testing.assert_allclose(spectral_norms(P)[3, 0], np.linalg.svd(P[3, 0])[1][0], rtol=1e-13)
    np.testing.assert_allclose(span_norms(J), spectral_norms(P), rtol=1e-12)
    Q, exponents = span_products(J, rescaled=True)
    assert Q.shape == P.shape and exponents.shape == (6, 2)
    np.testing.assert_array_equal(np.ldexp(Q, exponents[..., None, None]), P)
    huge = np.full((400, 1, 2, 2), 1e3)  # ||P_d|| = 2000^d
    assert np.isinf(spectral_norms(span_products(huge))[-1, 0])
    norms = span_norms(huge)[:, 0]
    np.testing.assert_allclose(norms[50], 2000.0 ** 50, rtol=1e-12)
    assert np.isinf(norms[-1]) and np.all(np.isfinite(span_products(huge, rescaled=True)[0]))
    np.testing.assert_array_equal(gate_path_products(np.full((3, 1, 2), 0.5))[:, 0, 0],
                                  [0.125, 0.25, 0.5, 1.0])
    with pytest.raises(ValueError, match=r"\(T, B, n, n\)"):
        span_products(np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"\(T, B, n\)"):
        gate_path_products(np.ones((3, 2)))


# --- bad input ------------------------------------------------------------------------------


def test_bad_params_and_inputs_raise():
    params = GRUParams.random(2, 3)
    with pytest.raises(ValueError, match=r"b_hn has shape \(2,\), expected \(3,\)"):
        params.replace(b_hn=np.ones(2))
    with pytest.raises(ValueError, match=r"U has shape \(12, 2\), expected \(9, 2\)"):
        params.replace(U=np.ones((12, 2)))
    with pytest.raises(ValueError, match="NaN"):
        params.replace(b=np.full(9, np.inf))
    with pytest.raises(ValueError, match="unknown GRU gate"):
        params.gate("f")
    with pytest.raises(ValueError, match=r"last axis must have size 2"):
        gru_forward(params, np.ones((4, 3)))
    with pytest.raises(ValueError, match="batch size"):
        gru_forward(params, np.ones((4, 5, 2)), h0=np.ones((3, 3)))
    with pytest.raises(ValueError, match="NaN"):
        gru_cell(params, np.array([0.0, np.nan]), np.zeros(3))
    with pytest.raises(ValueError, match="batch axis"):
        gru_cell(params, np.ones((1, 2)), np.ones(3))
    with pytest.raises(TypeError, match="GRUParams"):
        gru_forward(LSTMParams.random(2, 3), np.ones((4, 2)))
    with pytest.raises(TypeError, match="GRUTrajectory"):
        gru_jacobian(params, np.ones((4, 1, 3)))
    with pytest.raises(ValueError, match="n_input"):
        gru_count_params(0, 3)
    with pytest.raises(TypeError, match="torch.nn.GRU"):
        gru_from_torch(torch.nn.LSTM(2, 3))
    with pytest.raises(ValueError, match="one-layer"):
        gru_from_torch(torch.nn.GRU(2, 3, bidirectional=True))
