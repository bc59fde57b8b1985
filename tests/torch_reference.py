"""What several test modules compare against: torch's activations and random RNN problems."""

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


def random_problem(T, B, activation, loss, seed, *, d=2, n=5, m=3, scale=1.0, input_offset=1000):
    """Return (params, x (T, B, d), y, h0 (B, n)): a random RNN and data drawn from ``seed``.

    ``y`` holds class labels (T, B) for the loss ``"ce_all"`` and targets (B, m) otherwise; the
    data come from ``default_rng(seed + input_offset)``.
    """
    params = RNNParams.random(d, n, m, activation=activation, recurrent_scale=scale, seed=seed)
    rng = np.random.default_rng(seed + input_offset)
    x = rng.normal(size=(T, B, d))
    h0 = rng.normal(size=(B, n))
    y = rng.integers(0, m, size=(T, B)) if loss == "ce_all" else rng.normal(size=(B, m))
    return params, x, y, h0
