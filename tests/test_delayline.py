"""The delay line copies its input exactly; its W is nilpotent with sigma_max = 1."""

import numpy as np
import pytest
import torch

from rnnbook import forward
from rnnbook.delayline import delay_line
from rnnbook.spectra import power_norms, spectral_norm, spectral_radius


@pytest.mark.parametrize("n, lag", [(1, 0), (5, 4), (32, 20), (32, 31)])
def test_copies_the_input_lag_steps_back(n, lag):
    x = np.random.default_rng(lag).normal(size=(50, 1))
    out = forward(delay_line(n, lag), x).o[:, 0, 0]
    np.testing.assert_array_equal(out[lag:], x[: 50 - lag, 0])


def test_nilpotent_with_unit_norm():
    W = delay_line(32, 20).W
    assert spectral_radius(W) == 0 and spectral_norm(W) == 1
    norms = power_norms(W, 40)
    assert np.all(norms[:32] == 1) and np.all(norms[32:] == 0)


def test_gradient_along_the_chain_is_one_against_torch():
    params = delay_line(8, 5)
    x = torch.tensor(np.random.default_rng(0).normal(size=(12, 1)), requires_grad=True)
    U, W, V = (torch.from_numpy(a) for a in (params.U, params.W, params.V))
    h = torch.zeros(8, dtype=torch.float64)
    for t in range(12):
        h = U @ x[t] + W @ h
    (V @ h).sum().backward()
    expected = np.zeros(12)
    expected[12 - 1 - 5] = 1.0
    np.testing.assert_array_equal(x.grad.numpy()[:, 0], expected)


def test_errors():
    with pytest.raises(ValueError, match="lag must be between 0 and 31"):
        delay_line(32, 40)
    with pytest.raises(TypeError, match="integer"):
        delay_line(32.0, 3)
