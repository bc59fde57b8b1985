"""Elementwise activations with their derivatives and slope bounds."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rnnbook.checks import check_choice


@dataclass(frozen=True)
class Activation:
    """An elementwise activation f, its derivative f', and gamma = sup |f'|.

    Attributes
    ----------
    name : str
        Key in :data:`ACTIVATIONS`.
    f, df : callable
        The function and its derivative, both evaluated at the pre-activation z.
    gamma : float
        The largest slope, sup_z |f'(z)| (1 for tanh, relu, identity; 1/4 for sigmoid).
    """

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray], np.ndarray]
    gamma: float


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # Written with exp(-|z|) so that large |z| never overflows.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _dsigmoid(z: np.ndarray) -> np.ndarray:
    s = _sigmoid(z)
    return s * (1.0 - s)


ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation("tanh", np.tanh, lambda z: 1.0 - np.tanh(z) ** 2, 1.0),
    "sigmoid": Activation("sigmoid", _sigmoid, _dsigmoid, 0.25),
    "relu": Activation("relu", lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float), 1.0),
    "identity": Activation("identity", lambda z: np.asarray(z, dtype=float),
                           lambda z: np.ones_like(z, dtype=float), 1.0),
}


def get_activation(name: str) -> Activation:
    """Return the :class:`Activation` called ``name``.

    Raises
    ------
    ValueError
        If ``name`` is not one of ``ACTIVATIONS``.
    """
    return ACTIVATIONS[check_choice("activation name", name, tuple(ACTIVATIONS))]
