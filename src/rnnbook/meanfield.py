"""Mean field of a random RNN: the predicted per-step rate, and the measured Lyapunov factor.

For a random W with independent N(0, g^2/n) entries, a vector v sent back through one step
Jacobian J_t = diag(f'(z_t)) W comes out with squared norm close to

    ||J_t v||^2 ~ g^2 * mean_i f'(z_{t,i})^2 * ||v||^2,

because W spreads v over all units and each unit then multiplies by its own slope. When the
pre-activations are Gaussian with the variance q* at which the forward pass settles, the
mean of f'^2 is an expectation, and the rate per step is sqrt(chi) with

    chi = g^2 E[f'(z)^2],  z ~ N(0, q*),   q* = g^2 E[f(z)^2] + (input variance),

the quantity of Poole et al. (2016) and, for recurrent networks, Chen, Pennington and
Schoenholz (2018): chi < 1 predicts vanishing gradients, chi > 1 exploding or chaotic ones.

The *measured* counterpart is the top Lyapunov factor of the driven network: the average
growth per step of ||J_t ... J_1 v|| over a long trajectory (renormalising v at every step so
that nothing overflows). It is what the long products of chapters 3 and 4 grow or shrink by.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbook.activations import get_activation
from rnnbook.checks import (
    MAX_SEED,
    check_array,
    check_choice,
    check_count,
    check_each,
    check_positive,
    check_real,
    finite_array,
)
from rnnbook.numerics import safe_norm
from rnnbook.rnn import RNNParams, forward

MEAN_FIELD_ACTIVATIONS = ("tanh", "relu", "sigmoid", "identity")

#: The largest scale g :func:`mean_field` accepts: the variance q grows like g^2 and must stay
#: a float64 (g^2 < 1.8e308), with room for the input variance.
MAX_G = 1e150


def gaussian_mean(func, variance: float) -> float:
    """Return E[func(z)] for z ~ N(0, variance), by the midpoint rule on a fine grid.

    The grid spans 12 standard deviations on each side with spacing at most 0.01 (at most
    100,000 nodes: coarser only for variances above about 3.5e5), and has no
    node at 0 (it is symmetric about it), so a step in ``func`` at 0 (ReLU's slope) is
    integrated exactly and narrow features (a sigmoid slope seen at a large variance) are not
    missed.
    """
    if not callable(func):
        raise TypeError(f"func must be callable, got {type(func).__name__}")
    variance = check_real("variance", variance, low=0.0)
    if variance == 0:
        return float(func(np.zeros(1))[0])
    std = np.sqrt(variance)
    half_width = 12.0 * std
    count = min(int(np.ceil(half_width / min(0.01, std / 50))), 50_000)
    step = half_width / count
    z = (np.arange(-count, count) + 0.5) * step
    weights = np.exp(-0.5 * (z / std) ** 2)
    return float(np.dot(weights, func(z)) / weights.sum())


@dataclass(frozen=True, eq=False)
class MeanField:
    """The mean-field prediction for one scale and activation.

    Attributes
    ----------
    g : float
        Entry scale of W (entries of standard deviation g / sqrt(n)).
    activation : str
    input_variance : float
        Variance of the input drive U x_t + b added to each pre-activation.
    q : float
        Fixed point q* of the pre-activation variance.
    slope_square : float
        E[f'(z)^2] at z ~ N(0, q*).
    chi : float
        g^2 * slope_square.
    rate : float
        sqrt(chi): the predicted growth of a gradient's norm per step.
    """

    g: float
    activation: str
    input_variance: float
    q: float
    slope_square: float
    chi: float
    rate: float


def mean_field(g: float, activation: str = "tanh", *, input_variance: float = 1.01,
               iterations: int = 500) -> MeanField:
    """Return the :class:`MeanField` of a random RNN with entry scale ``g``.

    ``input_variance`` is the variance of U x_t + b per unit; the default 1.01 is that of
    :func:`rnnbook.decomposition.scaled_rnn_problem` (U ~ N(0, 1), x ~ N(0, 1), b ~ N(0, 0.01)).
    For tanh and the sigmoid q* is found by iterating q <- g^2 E[f(z)^2] + input_variance from
    q = input_variance. For ReLU and the identity it is closed-form; with g >= sqrt(2) (ReLU)
    or g >= 1 (identity) the variance grows without bound and q is returned as inf (chi does
    not depend on q for these two activations).
    """
    g = check_real("g", g, low=0.0, high=MAX_G)
    activation = check_choice("activation", activation, MEAN_FIELD_ACTIVATIONS)
    input_variance = check_real("input_variance", input_variance, low=0.0)
    iterations = check_count("iterations", iterations)
    act = get_activation(activation)
    if activation in ("relu", "identity"):
        # f'^2 does not depend on the scale of z (1/2 and 1), and E[f(z)^2] = q/2 or q, so
        # the fixed point is closed-form: q* = input_variance / (1 - g^2 E[f'^2]).
        slope_square = 0.5 if activation == "relu" else 1.0
        gain = g**2 * slope_square
        q = input_variance / (1.0 - gain) if gain < 1 else np.inf
    else:
        # Without input, q = 0 is a fixed point for tanh; above g = 1 it repels, and the
        # variance the network settles to is the other fixed point: start away from 0.
        q = input_variance if input_variance > 0 or g <= 1 else 1.0
        for _ in range(iterations):
            new = g**2 * gaussian_mean(lambda z: act.f(z) ** 2, q) + input_variance
            if abs(new - q) <= 1e-13 * max(1.0, q):
                q = new
                break
            q = new
        slope_square = gaussian_mean(lambda z: act.df(z) ** 2, q)
    chi = g**2 * slope_square
    return MeanField(g=g, activation=activation, input_variance=input_variance, q=float(q),
                     slope_square=float(slope_square), chi=float(chi), rate=float(np.sqrt(chi)))


def critical_scale(activation: str = "tanh", *, input_variance: float = 1.01) -> float:
    """Return the scale g at which chi = 1 (the edge of chaos), by bisection on [0.01, 100]."""
    activation = check_choice("activation", activation, MEAN_FIELD_ACTIVATIONS)
    low, high = 0.01, 100.0
    for _ in range(40):
        mid = np.sqrt(low * high)
        if mean_field(mid, activation, input_variance=input_variance).chi < 1:
            low = mid
        else:
            high = mid
    return float(np.sqrt(low * high))


def lyapunov_factor(params: RNNParams, x, h0=None, *, burn_in: int = 100, seed: int = 0) -> float:
    """Return the top Lyapunov factor of the RNN driven by ``x`` (T, d): growth of ||J v|| per step.

    The state runs through all T steps; a random unit vector v is multiplied by the step
    Jacobians J_t = diag(f'(z_t)) W from step ``burn_in`` + 1 on, renormalised at every step,
    and the factor is exp(mean of log ||J_t v_{t-1}||) over those steps. For a long
    trajectory this is the rate at which ||J_t ... J_{k+1}|| grows (> 1) or shrinks (< 1).
    """
    if not isinstance(params, RNNParams):
        raise TypeError(f"params must be RNNParams, got {type(params).__name__}")
    x = finite_array("x", x, 2)
    T = x.shape[0]
    burn_in = check_count("burn_in", burn_in, 0)
    if T - burn_in < 10:
        raise ValueError(f"x has {T} steps: need at least burn_in + 10 = {burn_in + 10}")
    traj = forward(params, x, h0)
    if not np.all(np.isfinite(traj.z)):
        raise ValueError("the state overflowed float64 on this trajectory; use a shorter x")
    slopes = get_activation(params.activation).df(traj.z[:, 0])   # (T, n)
    v = np.random.default_rng([seed, 11]).normal(size=params.n_hidden)
    v /= np.linalg.norm(v)
    logs = np.empty(T - burn_in)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for i, t in enumerate(range(burn_in, T)):
            v = slopes[t] * (params.W @ v)
            size = np.linalg.norm(v)
            logs[i] = np.log(size)
            if size == 0 or not np.isfinite(size):
                return 0.0 if size == 0 else float("inf")
            v /= size
    return float(np.exp(logs.mean()))


def driven_lyapunov(rho: float, activation: str = "tanh", *, T: int = 1000,
                    n: int = 32, seed: int = 0, burn_in: int = 100) -> float:
    """Return the top Lyapunov factor of ``scaled_rnn_problem(rho, T, activation)``.

    This is chapter 3's network (rho(W) set exactly, one channel of standard normal input),
    run for ``T`` steps instead of 60 so that the average is over a long trajectory.
    """
    from rnnbook.decomposition import scaled_rnn_problem

    params, x, h0, _ = scaled_rnn_problem(rho, T, activation, n=n, seed=seed)
    return lyapunov_factor(params, x, h0, burn_in=burn_in, seed=seed)


def entry_scale(W) -> float:
    """Return g = ||W||_F / sqrt(n): the entry scale that mean-field theory reads off a W (n, n)."""
    W = check_array("W", W, ndim=2, nonempty=True)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be square, got shape {W.shape}")
    return float(safe_norm(W) / np.sqrt(W.shape[0]))


@dataclass(frozen=True, eq=False)
class RateComparison:
    """Predicted (mean field) against measured (Lyapunov) rates on a grid of scales.

    Attributes
    ----------
    activation : str
    scales : ndarray, shape (S,)
        The entry scales g of W.
    predicted : ndarray, shape (S,)
        sqrt(chi) from :func:`mean_field`.
    measured : ndarray, shape (S, K)
        Top Lyapunov factors, one column per seed.
    seeds : tuple of int
    """

    activation: str
    scales: np.ndarray
    predicted: np.ndarray
    measured: np.ndarray
    seeds: tuple[int, ...]

    def lines(self, near_one: float = 0.9) -> list[str]:
        """Return one text row per scale: g, the predicted rate, the measured factors.

        Where the prediction or the median measurement is at least ``near_one``, the
        trajectory amplifies rounding (the forward pass is at or past the edge of chaos), so
        the second decimal of a measured factor depends on the BLAS: only the median's first
        decimal is printed. Elsewhere the seeds' range is printed to two decimals.
        """
        near_one = check_positive("near_one", near_one)
        rows = []
        for g, predicted, measured in zip(self.scales, self.predicted, self.measured,
                                             strict=True):
            median = float(np.median(measured))
            if predicted >= near_one or median >= near_one:
                text = f"about {median:.1f}"
            else:
                text = f"{measured.min():.2f} to {measured.max():.2f}"
            rows.append(f"{self.activation:<8} {g:5.2f} {predicted:10.2f}   {text}")
        return rows


def compare_rates(scales, activation: str = "tanh", *, seeds=(0, 1, 2, 3, 4), n: int = 200,
                  T: int = 600, burn_in: int = 100) -> RateComparison:
    """Return the :class:`RateComparison` for random RNNs with W ~ N(0, g^2/n) entries.

    Each network is ``RNNParams.random(1, n, 1, activation, g=g, seed)`` driven
    by standard normal input (its input variance is then 1 + 0.01, as :func:`mean_field`
    assumes). Mean-field theory is a large-n statement, hence the default n = 200.
    """
    activation = check_choice("activation", activation, MEAN_FIELD_ACTIVATIONS)
    scales = finite_array("scales", scales, 1)
    if scales.size == 0 or np.any(scales < 0):
        raise ValueError("scales must be a non-empty list of numbers >= 0")
    seeds = check_each("seeds", seeds, check_count, 0, MAX_SEED)
    n = check_count("n", n)
    T = check_count("T", T, 11)
    predicted = np.array([mean_field(g, activation).rate for g in scales])
    measured = np.empty((scales.size, len(seeds)))
    for i, g in enumerate(scales):
        for j, seed in enumerate(seeds):
            params = RNNParams.random(1, n, 1, activation=activation,
                                      g=float(g), seed=seed)
            x = np.random.default_rng([seed, 3]).normal(size=(T, 1))
            measured[i, j] = lyapunov_factor(params, x, burn_in=burn_in, seed=seed)
    return RateComparison(activation=activation, scales=scales, predicted=predicted,
                          measured=measured, seeds=seeds)
