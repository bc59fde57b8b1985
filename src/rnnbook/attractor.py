"""Bengio, Simard and Frasconi's (1994) dilemma, on the one-unit network of Pascanu's cliff.

The unit x_t = w sigma(x_{t-1}) + b (:mod:`rnnbook.cliff`, no input) can store one bit: for
w > 4 and b in a band it has two stable fixed points, a low one and a high one, separated by
an unstable one. Which basin the state is in is the bit.

* Storing the bit *robustly* (small perturbations of the state do not flip it) needs the map to
  contract near the attractor: |w sigma'(x*)| < 1. But then the derivative of the final state
  with respect to the initial one, prod_t w sigma'(x_{t-1}), shrinks geometrically: the
  gradient that could teach the network what to store has vanished.
* Near the boundary between the basins (the unstable fixed point) the factors exceed 1 and the
  derivative explodes, and there the bit is not robust: a little noise decides it.

This is the dilemma: the gradient is useful only where the memory is not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnnbook.checks import check_array, check_count, check_real, check_seed
from rnnbook.cliff import START

#: A point of the cliff's (w, b) plane with two attractors: START's w, and b = -w/2, which makes
#: the map symmetric about its unstable fixed point x = 0.
BISTABLE = (START[0], -START[0] / 2)


def _sigmoid(x: float) -> float:
    e = math.exp(-abs(x))
    return 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)


@dataclass(frozen=True, eq=False)
class FixedPoints:
    """The fixed points x* = w sigma(x*) + b of the one-unit map.

    Attributes
    ----------
    w, b : float
    points : ndarray, shape (K,)
        The fixed points, in increasing order (K = 1 or 3, 2 only at a tangency).
    factors : ndarray, shape (K,)
        The one-step derivative w sigma'(x*) at each: |factor| < 1 is stable.
    """

    w: float
    b: float
    points: np.ndarray
    factors: np.ndarray

    @property
    def stable(self) -> np.ndarray:
        """Whether each fixed point attracts (|w sigma'(x*)| < 1)."""
        return np.abs(self.factors) < 1


def fixed_points(w: float = BISTABLE[0], b: float = BISTABLE[1]) -> FixedPoints:
    """Return the :class:`FixedPoints` of x -> w sigma(x) + b (w >= 0), by bisection.

    Every fixed point lies in [b, b + w] (sigma is in (0, 1)); the sign changes of
    x - w sigma(x) - b on a fine grid there are refined by bisection to float precision.
    """
    w = check_real("w", w, low=0.0)
    b = check_real("b", b)
    residual = np.vectorize(lambda x: x - w * _sigmoid(x) - b)
    grid = np.linspace(b - 1.0, b + w + 1.0, 20_001)
    values = residual(grid)
    roots = []
    for i in np.nonzero(np.sign(values[:-1]) != np.sign(values[1:]))[0]:
        low, high = grid[i], grid[i + 1]
        for _ in range(200):
            mid = 0.5 * (low + high)
            if mid in (low, high):
                break
            if np.sign(residual(mid)) == np.sign(residual(low)):
                low = mid
            else:
                high = mid
        root = 0.5 * (low + high)
        if not roots or root - roots[-1] > 1e-9:      # a grid node on a root counts twice
            roots.append(root)
    points = np.array(roots)
    factors = np.array([w * _sigmoid(x) * (1 - _sigmoid(x)) for x in points])
    return FixedPoints(w=w, b=b, points=points, factors=factors)


def latch(x0: float, *, w: float = BISTABLE[0], b: float = BISTABLE[1], steps: int = 50,
          noise: float = 0.0, seed: int = 0) -> tuple[float, float]:
    """Return ``(x_T, dx_T/dx_0)`` for the unit started at ``x0``, with optional state noise.

    With ``noise`` > 0, Gaussian noise of that standard deviation is added to the state after
    every step (``seed`` fixes it); the derivative is taken along the noisy trajectory.
    """
    x = check_real("x0", x0)
    w = check_real("w", w, low=0.0)
    b = check_real("b", b)
    steps = check_count("steps", steps)
    noise = check_real("noise", noise, low=0.0)
    seed = check_seed("seed", seed)
    kicks = np.zeros(steps)
    if noise:
        kicks = np.random.default_rng(check_seed("seed", seed)).normal(scale=noise, size=steps)
    derivative = 1.0
    for kick in kicks:
        s = _sigmoid(x)
        derivative *= w * s * (1.0 - s)
        x = w * s + b + float(kick)
    return x, derivative


@dataclass(frozen=True, eq=False)
class Dilemma:
    """Where the bit is robust and where the gradient is alive, for a set of initial states.

    Attributes
    ----------
    fixed : FixedPoints
    starts : ndarray, shape (K,)
        Initial states x_0.
    bits : ndarray of int, shape (K,)
        1 if the noiseless x_T ends above the unstable fixed point, else 0.
    derivatives : ndarray, shape (K,)
        |dx_T/dx_0| along the noiseless trajectory.
    kept : ndarray, shape (K,)
        Share of ``trials`` noisy runs that end with the same bit.
    steps, trials : int
    noise : float
    """

    fixed: FixedPoints
    starts: np.ndarray
    bits: np.ndarray
    derivatives: np.ndarray
    kept: np.ndarray
    steps: int
    trials: int
    noise: float


def attractor_dilemma(starts, *, w: float = BISTABLE[0], b: float = BISTABLE[1], steps: int = 50,
                      noise: float = 0.2, trials: int = 200) -> Dilemma:
    """Return the :class:`Dilemma` for the initial states ``starts``.

    Raises ``ValueError`` if (w, b) does not have two stable fixed points.
    """
    starts = check_array("starts", starts, finite=False)
    if starts.ndim != 1 or starts.size == 0 or not np.all(np.isfinite(starts)):
        raise ValueError("starts must be a non-empty 1-D array of finite numbers")
    trials = check_count("trials", trials)
    fixed = fixed_points(w, b)
    if fixed.points.size != 3 or fixed.stable.sum() != 2:
        raise ValueError(f"(w, b) = ({w:g}, {b:g}) does not have two stable fixed points")
    boundary = fixed.points[1]
    bits, derivatives, kept = [], [], []
    for x0 in starts:
        end, derivative = latch(float(x0), w=w, b=b, steps=steps)
        bit = int(end > boundary)
        same = [int(latch(float(x0), w=w, b=b, steps=steps, noise=noise, seed=k)[0] > boundary)
                == bit for k in range(trials)]
        bits.append(bit)
        derivatives.append(abs(derivative))
        kept.append(np.mean(same))
    return Dilemma(fixed=fixed, starts=starts, bits=np.array(bits),
                   derivatives=np.array(derivatives), kept=np.array(kept),
                   steps=int(steps), trials=trials, noise=float(noise))
