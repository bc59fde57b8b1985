"""What several test modules compare against: torch's activations, random problems, gated cells."""

from __future__ import annotations

import numpy as np
import torch

from rnnbook import RNNParams

#: The book's activations as torch functions, for hand-built torch reference models.
TORCH_ACTIVATIONS = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "identity": lambda z: z,
}
#: Their names, the activations every Elman-RNN test runs through.
ACTIVATIONS = tuple(TORCH_ACTIVATIONS)
#: Agreement with torch in float64, for the Elman RNN (manual BPTT, decompositions).
TOL = 1e-10
#: Agreement with torch in float64, for the gated cells (LSTM, GRU).
GATED_TOL = 1e-12
#: (d, n, B, T) of the gated-cell tests: input size, hidden size, batch, length.
GATED_SIZES = [(1, 1, 1, 1), (3, 5, 4, 20), (7, 16, 2, 50), (2, 32, 8, 12)]


def gated_inputs(d, n, B, T, seed, *, states=1):
    """Return ``(x (T, B, d), state_1 (B, n), ..., state_states)`` from ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(T, B, d)), *(rng.normal(size=(B, n)) for _ in range(states)))


def torch_gate_blocks(module, x, h, k):
    """Return torch's own pre-activation blocks ``(input parts, recurrent parts)``, k of each.

    ``module`` is a ``torch.nn.LSTMCell`` (k = 4) or ``torch.nn.GRUCell`` (k = 3); the blocks
    are split with torch's ``chunk``, in torch's gate order.
    """
    gi = torch.nn.functional.linear(x, module.weight_ih, module.bias_ih)
    gh = torch.nn.functional.linear(h, module.weight_hh, module.bias_hh)
    return gi.chunk(k, dim=-1), gh.chunk(k, dim=-1)


def random_problem(T, B, activation, loss, seed, *, d=2, n=5, m=3, scale=1.0, input_offset=1000):
    """Return (params, x (T, B, d), y, h0 (B, n)): a random RNN and data drawn from ``seed``.

    ``y`` holds class labels (T, B) for the loss ``"ce_all"`` and targets (B, m) otherwise; the
    data come from ``default_rng(seed + input_offset)``.
    """
    params = RNNParams.random(d, n, m, activation=activation, g=scale, seed=seed)
    rng = np.random.default_rng(seed + input_offset)
    x = rng.normal(size=(T, B, d))
    h0 = rng.normal(size=(B, n))
    y = rng.integers(0, m, size=(T, B)) if loss == "ce_all" else rng.normal(size=(B, m))
    return params, x, y, h0
