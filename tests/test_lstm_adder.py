"""The hand-wired one-cell LSTM adder: solves the adding problem, gradient path = forget gates."""

import numpy as np
import pytest
import torch

from rnnbook.lstm import lstm_cell_spans, lstm_forward, lstm_to_torch
from rnnbook.lstm_adder import HandWiredAdder, hand_wired_adder
from rnnbook.tasks import adding_problem


@pytest.mark.parametrize("T", [2, 10, 100, 1000])
def test_solves_the_adding_problem_at_any_length(T):
    adder = hand_wired_adder()
    batch = adding_problem(T, 500, T)
    mse = np.mean((adder.predict(batch.x) - batch.y) ** 2)
    assert mse < 2e-4  # success needs < 0.01; the constant predictor scores 1/6


@pytest.mark.parametrize("gain, bound", [(0.05, 3e-5), (0.1, 2e-4), (0.5, 0.05)])
def test_error_comes_from_tanh_curvature(gain, bound):
    # tanh(c) ~ c - c^3/3: the error grows with the gain (larger cell values).
    batch = adding_problem(20, 500, 1)
    mse = np.mean((hand_wired_adder(gain).predict(batch.x) - batch.y) ** 2)
    assert mse < bound
    if gain == 0.5:
        assert mse > 1e-3


def test_prediction_equals_torch_lstm():
    adder = hand_wired_adder(0.2, 5.0)
    batch = adding_problem(30, 8, 2)
    lstm = lstm_to_torch(adder.params)
    with torch.no_grad():
        states, _ = lstm(torch.from_numpy(batch.x))
    np.testing.assert_allclose(adder.predict(batch.x), states[-1, :, 0].numpy() / 0.2,
                               rtol=0, atol=1e-12)


def test_gradient_path_is_the_forget_gate_product():
    adder = hand_wired_adder(0.1, 20.0)
    traj = lstm_forward(adder.params, adding_problem(50, 3, 4).x)
    spans = lstm_cell_spans(adder.params, traj)
    np.testing.assert_allclose(spans.products[..., 0, 0], spans.gate_path[..., 0],
                               rtol=1e-12, atol=0)
    assert spans.norms.min() > 0.99999  # the constant error carousel: nothing vanishes
    assert np.all(adder.params.W == 0)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"gain": 0.0}, ValueError, "gain must be in"),
        ({"gain": 1.5}, ValueError, "gain must be in"),
        ({"gain": float("nan")}, ValueError, "finite"),
        ({"sharpness": 0.5}, ValueError, "sharpness must be >= 1"),
        ({"sharpness": "big"}, TypeError, "real number"),
    ],
)
def test_bad_arguments_raise(kwargs, error, message):
    with pytest.raises(error, match=message):
        hand_wired_adder(**kwargs)


def test_bad_input_shape_raises():
    adder = hand_wired_adder()
    assert isinstance(adder, HandWiredAdder)
    with pytest.raises(ValueError, match=r"shape \(T, B, 2\)"):
        adder.predict(np.zeros((10, 2)))
    with pytest.raises(ValueError, match=r"shape \(T, B, 2\)"):
        adder.predict(np.zeros((10, 4, 3)))
