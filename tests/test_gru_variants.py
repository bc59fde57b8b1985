"""The three GRU conventions: torch's equals torch.nn.GRUCell, Cho's and Chung's differ from it."""

import numpy as np
import pytest
import torch

from rnnbook.gru import GRUParams, gru_cell, gru_to_torch
from rnnbook.gru_variants import CONVENTIONS, flip_update_gate, gru_step

SIZES = [(1, 1, 1), (3, 5, 4), (4, 16, 2)]  # d, n, B


def inputs(d, n, B, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(B, d)), rng.normal(size=(B, n))


def reset_before_in_torch(params, x, h, z_keeps_old):
    """Cho's (z_keeps_old) or Chung's step written with torch ops from torch's weight layout."""
    n = params.n_hidden
    U, W, b, b_hn = (torch.from_numpy(a) for a in (params.U, params.W, params.b, params.b_hn))
    x, h = torch.from_numpy(x), torch.from_numpy(h)
    gi = x @ U.T + b
    r = torch.sigmoid(gi[:, :n] + h @ W[:n].T)
    z = torch.sigmoid(gi[:, n:2 * n] + h @ W[n:2 * n].T)
    cand = torch.tanh(gi[:, 2 * n:] + (r * h) @ W[2 * n:].T + b_hn)
    return (z * h + (1 - z) * cand if z_keeps_old else (1 - z) * h + z * cand).numpy()


@pytest.mark.parametrize("d, n, B", SIZES)
@pytest.mark.parametrize("seed", [0, 1])
def test_torch_convention_is_torch_gru_cell(d, n, B, seed):
    params = GRUParams.random(d, n, g=1.3, seed=seed)
    x, h = inputs(d, n, B, seed)
    with torch.no_grad():
        expected = gru_to_torch(params, cell=True)(torch.from_numpy(x), torch.from_numpy(h))
    assert np.max(np.abs(gru_step(params, x, h) - expected.numpy())) <= 1e-12
    assert np.array_equal(gru_step(params, x[0], h[0], "torch"), gru_cell(params, x[0], h[0]))


@pytest.mark.parametrize("d, n, B", SIZES)
@pytest.mark.parametrize("convention", ["cho", "chung"])
def test_reset_before_conventions_equal_their_torch_transcription(d, n, B, convention):
    params = GRUParams.random(d, n, g=1.3, seed=n)
    x, h = inputs(d, n, B, n)
    expected = reset_before_in_torch(params, x, h, z_keeps_old=convention == "cho")
    assert np.max(np.abs(gru_step(params, x, h, convention) - expected)) <= 1e-12
    assert gru_step(params, x[0], h[0], convention).shape == (n,)


@pytest.mark.parametrize("d, n, B", SIZES)
def test_chung_with_flipped_update_gate_is_cho(d, n, B):
    params = GRUParams.random(d, n, update_bias=0.7, seed=5)
    x, h = inputs(d, n, B, 5)
    chung = gru_step(flip_update_gate(params), x, h, "chung")
    assert np.max(np.abs(chung - gru_step(params, x, h, "cho"))) <= 1e-12
    assert np.array_equal(flip_update_gate(flip_update_gate(params)).U, params.U)


@pytest.mark.parametrize("d, n, B", SIZES[1:])
def test_reset_position_matters_in_general(d, n, B):
    params = GRUParams.random(d, n, g=1.5, seed=2)
    x, h = inputs(d, n, B, 2)
    assert np.max(np.abs(gru_step(params, x, h, "torch") - gru_step(params, x, h, "cho"))) > 1e-3


@pytest.mark.parametrize("d, n, B", SIZES)
def test_reset_position_is_irrelevant_for_diagonal_w_n_and_no_b_hn(d, n, B):
    params = GRUParams.random(d, n, seed=4)
    W = params.W.copy()
    W[2 * n:] = np.diag(np.random.default_rng(4).normal(size=n))
    params = params.replace(W=W, b_hn=np.zeros(n))
    x, h = inputs(d, n, B, 4)
    assert np.max(np.abs(gru_step(params, x, h, "torch") - gru_step(params, x, h, "cho"))) \
        <= 1e-12


def test_conventions_listed():
    assert CONVENTIONS == ("torch", "cho", "chung")


@pytest.mark.parametrize("call, error, message", [
    (lambda p: gru_step(p, np.zeros(2), np.zeros(3), "keras"), ValueError, "unknown convention"),
    (lambda p: gru_step("p", np.zeros(2), np.zeros(3), "cho"), TypeError, "GRUParams"),
    (lambda p: gru_step(p, np.zeros(4), np.zeros(3), "cho"), ValueError, "last axis"),
    (lambda p: gru_step(p, np.zeros((1, 2)), np.zeros(3), "cho"), ValueError, "batch axis"),
    (lambda p: gru_step(p, np.zeros((2, 2)), np.zeros((3, 3)), "chung"), ValueError,
     "batch size"),
    (lambda p: gru_step(p, np.array([np.nan, 0]), np.zeros(3), "cho"), ValueError, "NaN"),
    (lambda p: flip_update_gate(None), TypeError, "GRUParams"),
])
def test_bad_input_raises(call, error, message):
    with pytest.raises(error, match=message):
        call(GRUParams.random(2, 3))
