"""Initial recurrent weights W (n x n): orthogonal, identity (IRNN) and scaled Gaussian.

What each does to the spectrum of W, and so to the product of Jacobians at the start of
training:

- ``orthogonal``: every singular value equals ``gain`` and every eigenvalue has modulus
  ``gain``; with gain 1 a linear RNN neither shrinks nor grows any direction (Saxe et al. 2014).
- ``identity``: W = scale * I, the IRNN of Le, Jaitly and Hinton (2015); with ReLU and a
  non-negative state, h_t = h_{t-1} + input, so the gradient is copied back unchanged.
- ``scaled_gaussian``: entries N(0, g^2 / n); by the circular law its eigenvalues fill the
  disc of radius g for large n, so rho(W) ~ g, while sigma_max(W) ~ 2 g.

None of them is a regulariser: they set where training starts, not a penalty it optimises.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def _size(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"n must be an integer, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return int(n)


def _scale(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return value


def orthogonal(n: int, gain: float = 1.0, *, seed: int = 0) -> np.ndarray:
    """Return a random orthogonal matrix times ``gain``, shape (n, n), uniform over O(n).

    A Gaussian matrix A is factored A = Q R; the columns of Q are multiplied by the signs of
    diag(R) so that R has a positive diagonal. Without that sign fix Q is not uniformly
    distributed (Mezzadri 2007); ``torch.nn.init.orthogonal_`` makes the same fix.

    Parameters
    ----------
    n : int
        Hidden size.
    gain : float
        Every singular value of the result, > 0.
    seed : int
        Seed of ``numpy.random.default_rng`` for A.
    """
    n, gain = _size(n), _scale("gain", gain)
    a = np.random.default_rng(seed).standard_normal((n, n))
    q, r = np.linalg.qr(a)
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    return gain * q * signs


def identity(n: int, scale: float = 1.0) -> np.ndarray:
    """Return ``scale`` times the identity, shape (n, n): the IRNN's W (Le et al. 2015).

    Parameters
    ----------
    n : int
        Hidden size.
    scale : float
        The diagonal value, > 0 (1 for the IRNN; Le et al. also try smaller values).
    """
    return _scale("scale", scale) * np.eye(_size(n))


def scaled_gaussian(n: int, g: float = 1.0, *, seed: int = 0) -> np.ndarray:
    """Return a matrix of independent N(0, g^2 / n) entries, shape (n, n); rho(W) ~ g.

    This is the same distribution as ``RNNParams.random(..., recurrent_scale=g)`` uses for W.

    Parameters
    ----------
    n : int
        Hidden size.
    g : float
        The gain, > 0; by the circular law the spectral radius tends to g as n grows.
    seed : int
        Seed of ``numpy.random.default_rng``.
    """
    n, g = _size(n), _scale("g", g)
    return np.random.default_rng(seed).normal(0.0, g / np.sqrt(n), (n, n))


def _orthogonal(n: int, scale: float, seed: int) -> np.ndarray:
    return orthogonal(n, scale, seed=seed)


def _identity(n: int, scale: float, seed: int) -> np.ndarray:
    return identity(n, scale)


def _gaussian(n: int, scale: float, seed: int) -> np.ndarray:
    return scaled_gaussian(n, scale, seed=seed)


INITIALIZERS: dict[str, Callable[[int, float, int], np.ndarray]] = {
    "orthogonal": _orthogonal,
    "identity": _identity,
    "gaussian": _gaussian,
}


def recurrent_init(name: str, n: int, scale: float = 1.0, *, seed: int = 0) -> np.ndarray:
    """Return W, shape (n, n), from the initialiser called ``name`` with the given scale.

    Parameters
    ----------
    name : str
        ``orthogonal`` (scale = gain), ``identity`` (scale = diagonal) or ``gaussian``
        (scale = g).
    n : int
    scale : float
    seed : int
        Ignored by ``identity``.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    if name not in INITIALIZERS:
        raise ValueError(f"unknown initialiser {name!r}; choose one of: "
                         f"{', '.join(sorted(INITIALIZERS))}")
    return INITIALIZERS[name](n, scale, seed)
