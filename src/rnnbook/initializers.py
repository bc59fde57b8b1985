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
:func:`initial_gradient` measures what each does to the gradient at the start of training.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rnnbook.activations import get_activation
from rnnbook.checks import check_choice, check_count, check_positive, check_seed, check_steps
from rnnbook.jacobian import slopes, span_norms
from rnnbook.rnn import RNNParams, forward
from rnnbook.spectra import gaussian_matrix, power_norms, spectral_norm, spectral_radius


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
    n, gain = check_count("n", n), check_positive("gain", gain)
    a = np.random.default_rng(check_seed("seed", seed)).standard_normal((n, n))
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
    return check_positive("scale", scale) * np.eye(check_count("n", n))


def scaled_gaussian(n: int, g: float = 1.0, *, seed: int = 0) -> np.ndarray:
    """Return a matrix of independent N(0, g^2 / n) entries, shape (n, n); rho(W) ~ g.

    This is the same distribution as ``RNNParams.random(..., g=g)`` uses for W.

    Parameters
    ----------
    n : int
        Hidden size.
    g : float
        The gain, > 0; by the circular law the spectral radius tends to g as n grows.
    seed : int
        Seed of ``numpy.random.default_rng``.
    """
    n, g = check_count("n", n), check_positive("g", g)
    return gaussian_matrix(n, g, seed)


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
    initialiser = INITIALIZERS[check_choice("initialiser name", name, tuple(INITIALIZERS))]
    return initialiser(check_count("n", n), check_positive("scale", scale),
                       check_seed("seed", seed))


@dataclass(frozen=True, eq=False)
class InitialGradient:
    """How far a gradient travels back in time through a freshly initialised RNN.

    The network (:attr:`params`) has W from :func:`recurrent_init`, a one-dimensional input
    with weights U ~ N(0, input_scale^2), zero bias, and h_0 = 0. It reads N(0, 1) noise
    :attr:`x` for ``warmup + steps`` steps; the Jacobians are taken over the last ``steps``.

    Attributes
    ----------
    name, activation : str
        Initialiser and activation f.
    scale : float
        The initialiser's scale (gain, diagonal or g).
    rho, sigma_max : float
        Spectral radius and largest singular value of W.
    power_norm : float
        ||W^steps||: what the gradient would be in a linear RNN (f = identity).
    norms : ndarray, shape (steps + 1,)
        ``norms[d]`` = ||dh_T/dh_{T-d}|| for d = 0..steps, T = warmup + steps (norms[0] = 1).
    mean_slope : float
        Mean of f'(z_t) over the units and the last ``steps`` steps (ReLU: the share of
        active units).
    always_active : int
        Units with f'(z_t) > 0 at every one of the last ``steps`` steps (all n for tanh).
    state_norm : float
        ||h_T||.
    params : RNNParams
        The network.
    x : ndarray, shape (warmup + steps, 1)
        Its input.
    """

    name: str
    activation: str
    scale: float
    rho: float
    sigma_max: float
    power_norm: float
    norms: np.ndarray
    mean_slope: float
    always_active: int
    state_norm: float
    params: RNNParams
    x: np.ndarray

    @property
    def final_norm(self) -> float:
        """||dh_T/dh_{T-steps}||: the gradient after the whole span."""
        return float(self.norms[-1])


def initial_gradient(name: str, activation: str, scale: float = 1.0, *, n: int = 32,
                     steps: int = 50, warmup: int = 50, input_scale: float = 0.1,
                     seed: int = 0) -> InitialGradient:
    """Return the :class:`InitialGradient` of an RNN whose W comes from initialiser ``name``.

    Parameters
    ----------
    name : str
        ``orthogonal``, ``identity`` or ``gaussian`` (see :func:`recurrent_init`).
    activation : str
        ``tanh``, ``sigmoid``, ``relu`` or ``identity``.
    scale : float
        The initialiser's scale, > 0.
    n : int
        Hidden size.
    steps : int
        Length of the span over which the gradient is followed back, >= 1.
    warmup : int
        Steps run before the span, >= 0, so that the state is a typical one, not h_0 = 0.
    input_scale : float
        Standard deviation of the entries of U, > 0.
    seed : int
        Seeds W (``recurrent_init``) and U and the input (``default_rng([seed, 1])``).
    """
    get_activation(activation)
    check_steps("steps", steps)
    check_steps("warmup", warmup, 0)
    input_scale = check_positive("input_scale", input_scale)
    W = recurrent_init(name, n, scale, seed=seed)
    n = W.shape[0]
    rng = np.random.default_rng([seed, 1])
    params = RNNParams(U=rng.normal(0.0, input_scale, (n, 1)), W=W, b=np.zeros(n),
                       V=np.zeros((1, n)), c=np.zeros(1), activation=activation)
    x = rng.standard_normal((int(warmup) + int(steps), 1))
    with np.errstate(over="ignore", invalid="ignore"):
        trajectory = forward(params, x)
    window = slopes(params, trajectory)[int(warmup):]
    norms = span_norms(window[:, :, None] * W)
    return InitialGradient(
        name=name, activation=activation, scale=float(scale),
        rho=spectral_radius(W), sigma_max=spectral_norm(W),
        power_norm=float(power_norms(W, int(steps))[-1]),
        norms=norms,
        mean_slope=float(np.mean(window)),
        always_active=int(np.count_nonzero(np.all(window > 0, axis=0))),
        state_norm=float(np.linalg.norm(trajectory.h[-1, 0])),
        params=params, x=x,
    )
