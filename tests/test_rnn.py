"""The Elman RNN against torch.nn.RNN (and a torch loop for the activations torch lacks)."""

import numpy as np
import pytest
import torch
from torch_reference import TORCH_ACTIVATIONS

from rnnbook.rnn import RNNParams, count_params, forward, from_torch, to_torch


def torch_loop(params: RNNParams, x: np.ndarray) -> torch.Tensor:
    """Hidden states by a plain torch loop, for any activation."""
    U, W, b = (torch.from_numpy(a) for a in (params.U, params.W, params.b))
    h = torch.zeros(x.shape[1], params.n_hidden, dtype=torch.float64)
    states = []
    for x_t in torch.from_numpy(x):
        h = TORCH_ACTIVATIONS[params.activation](x_t @ U.T + h @ W.T + b)
        states.append(h)
    return torch.stack(states)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize(("T", "B", "d", "n", "m"), [(1, 1, 1, 1, 1), (7, 3, 4, 5, 2),
                                                     (50, 8, 3, 16, 4)])
def test_forward_equals_torch_rnn(activation, T, B, d, n, m):
    params = RNNParams.random(d, n, m, activation=activation, g=1.2, seed=T + n)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(T, B, d))
    h0 = rng.normal(size=(B, n))
    trajectory = forward(params, x, h0)
    rnn, readout = to_torch(params)
    with torch.no_grad():
        h_torch, h_last = rnn(torch.from_numpy(x), torch.from_numpy(h0)[None])
        o_torch = readout(h_torch)
    assert np.max(np.abs(trajectory.h - h_torch.numpy())) <= 1e-12
    assert np.max(np.abs(trajectory.o - o_torch.numpy())) <= 1e-12
    assert np.max(np.abs(trajectory.h[-1] - h_last[0].numpy())) <= 1e-12


@pytest.mark.parametrize("activation", ["sigmoid", "identity", "tanh", "relu"])
def test_forward_equals_torch_loop(activation):
    params = RNNParams.random(3, 6, 2, activation=activation, g=0.9, seed=3)
    x = np.random.default_rng(2).normal(size=(12, 4, 3))
    assert np.max(np.abs(forward(params, x).h - torch_loop(params, x).numpy())) <= 1e-12


def test_unbatched_input_matches_batch_of_one():
    params = RNNParams.random(2, 4, 1, seed=5)
    x = np.random.default_rng(0).normal(size=(9, 2))
    single = forward(params, x)
    batched = forward(params, x[:, None, :])
    np.testing.assert_array_equal(single.h, batched.h)
    assert single.h.shape == (9, 1, 4)


def test_pre_activation_and_previous_states_are_consistent():
    params = RNNParams.random(2, 4, 1, activation="sigmoid", seed=6)
    trajectory = forward(params, np.ones((5, 2)))
    expected_z = trajectory.x @ params.U.T + trajectory.h_prev @ params.W.T + params.b
    np.testing.assert_allclose(trajectory.z, expected_z, rtol=0, atol=1e-14)


def test_torch_round_trip_sums_the_two_biases():
    torch.manual_seed(0)
    rnn = torch.nn.RNN(3, 5, dtype=torch.float64)
    readout = torch.nn.Linear(5, 2, dtype=torch.float64)
    params = from_torch(rnn, readout)
    expected = (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().numpy()
    np.testing.assert_allclose(params.b, expected, rtol=0, atol=0)
    rnn2, readout2 = to_torch(params)
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    with torch.no_grad():
        assert torch.max(torch.abs(rnn(x)[0] - rnn2(x)[0])) <= 1e-12


@pytest.mark.parametrize(("d", "n", "m"), [(1, 1, 1), (10, 32, 5), (300, 128, 10)])
def test_parameter_count_is_independent_of_T_and_matches_torch(d, n, m):
    rnn = torch.nn.RNN(d, n)
    readout = torch.nn.Linear(n, m)
    torch_count = sum(p.numel() for p in (*rnn.parameters(), *readout.parameters()))
    # torch keeps two hidden biases (b_ih and b_hh) where the book has one b.
    assert count_params(d, n, m) == torch_count - n
    params = RNNParams.random(d, n, m)
    assert count_params(d, n, m) == sum(a.size for a in (params.U, params.W, params.b,
                                                          params.V, params.c))


def test_exploding_states_are_returned_not_raised():
    params = RNNParams.random(1, 8, 1, activation="identity", g=50.0)
    trajectory = forward(params, np.ones((400, 1)))
    assert not np.all(np.isfinite(trajectory.h[-1]))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"W": np.zeros((3, 4))}, "W has shape"),
        ({"U": np.zeros((3, 2))}, "U has shape"),
        ({"b": np.zeros(5)}, "b has shape"),
        ({"V": np.zeros((2, 5))}, "V has shape"),
        ({"c": np.zeros(3)}, "c has shape"),
        ({"b": np.zeros((4, 1))}, "b must have 1 dimension"),
        ({"W": np.full((4, 4), np.nan)}, "NaN"),
        ({"activation": "softsign"}, "unknown activation"),
    ],
)
def test_bad_parameters_raise(changes, message):
    params = RNNParams.random(2, 4, 2)
    with pytest.raises(ValueError, match=message):
        params.replace(**changes)


@pytest.mark.parametrize(
    ("x", "h0", "message"),
    [
        (np.zeros((5, 3)), None, r"x has shape \(5, 1, 3\).*size 2"),
        (np.zeros((0, 2)), None, "at least one time step"),
        (np.zeros(5), None, "x must have 2 or 3 dimensions"),
        (np.array([[np.nan, 0.0]]), None, "NaN"),
        (np.zeros((5, 2)), np.zeros(3), r"h0 has shape \(1, 3\)"),
        (np.zeros((5, 3, 2)), np.zeros((2, 4)), "batch size 2 but x has batch size 3"),
    ],
)
def test_bad_inputs_raise(x, h0, message):
    params = RNNParams.random(2, 4, 1)
    with pytest.raises(ValueError, match=message):
        forward(params, x, h0)


def test_wrong_types_raise():
    with pytest.raises(TypeError, match="RNNParams"):
        forward({"W": 1}, np.zeros((2, 1)))
    with pytest.raises(ValueError, match="n_input must be >= 1"):
        RNNParams.random(0, 3, 1)
    with pytest.raises(ValueError, match="torch.nn.RNN supports only"):
        to_torch(RNNParams.random(1, 2, 1, activation="sigmoid"))
