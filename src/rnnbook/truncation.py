"""Randomized truncation of BPTT (Tallec & Ollivier 2017): unbiased where a fixed window is not.

For the last-step loss the gradient of W is a sum of terms by distance, dL/dW = sum_d g_d
(:mod:`rnnbook.decomposition`). A fixed window K keeps g_0..g_{K-1} and is biased. Randomized
truncation draws the window L at random and reweights what it keeps,

    estimate = sum_{d < L} g_d / P(L > d),

so that each term enters with expectation exactly g_d: the estimate is unbiased, and the price
is variance. Here L is geometric, P(L > d) = c^d with c the ``continue_probability`` (mean
window 1 / (1 - c)), capped at T (which keeps the estimate unbiased).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbook.bptt import relative_error
from rnnbook.checks import check_array, check_count, check_each, check_real, check_seed
from rnnbook.decomposition import distance_decomposition
from rnnbook.numerics import exponent_of, keep_zero_product
from rnnbook.rnn import RNNParams


@dataclass(frozen=True, eq=False)
class RandomizedTruncation:
    """Randomized against fixed truncation for the last-step loss.

    Attributes
    ----------
    continue_probability : float
        c: the window passes distance d with probability c^d.
    mean_window : float
        The mean of the drawn windows.
    windows : ndarray of int, shape (N,)
        The drawn window lengths L (1..T).
    single_errors : ndarray, shape (N,)
        Relative error ||estimate - dL/dW|| / ||dL/dW|| of each draw.
    counts : ndarray of int, shape (M,)
        Numbers of draws averaged.
    mean_errors : ndarray, shape (M,)
        Relative error of the average of the first ``counts[i]`` draws.
    fixed_window : int
        round(1 / (1 - c)): the fixed window with the same mean length.
    fixed_error : float
        Relative error of truncation with that fixed window (its bias).
    """

    continue_probability: float
    mean_window: float
    windows: np.ndarray
    single_errors: np.ndarray
    counts: np.ndarray
    mean_errors: np.ndarray
    fixed_window: int
    fixed_error: float


def reweighted_partial_sums(terms, continue_probability: float) -> np.ndarray:
    """Return the estimates for every window L = 1..T: sum_{d < L} terms[d] / c^d, (T, ...).

    ``terms`` (T, ...) holds the gradient's terms by distance d = 0..T-1.
    """
    terms = check_array("terms", terms, finite=False)
    if terms.ndim < 1 or terms.shape[0] == 0:
        raise ValueError(f"terms must have a non-empty first axis (T, ...), got {terms.shape}")
    c = check_real("continue_probability", continue_probability, low=0.0, strict=True)
    if c > 1:
        raise ValueError(f"continue_probability must be in (0, 1], got {c:g}")
    survival = c ** np.arange(terms.shape[0], dtype=np.float64)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        # 1 / c^d overflows to inf for a tiny c; a term that is exactly 0 stays 0
        weights = (1.0 / survival).reshape((-1,) + (1,) * (terms.ndim - 1))
        return np.cumsum(keep_zero_product(terms, weights), axis=0)


def window_probabilities(T: int, continue_probability: float) -> np.ndarray:
    """Return P(L = l) for l = 1..T: geometric with P(L > d) = c^d, capped at T, shape (T,)."""
    T = check_count("T", T)
    c = check_real("continue_probability", continue_probability, low=0.0, strict=True)
    if c > 1:
        raise ValueError(f"continue_probability must be in (0, 1], got {c:g}")
    survival = c ** np.arange(T + 1, dtype=np.float64)   # P(L > d), d = 0..T
    survival[T] = 0.0
    return survival[:-1] - survival[1:]


def randomized_truncation(params: RNNParams, x, y, *, h0=None, continue_probability: float = 0.9,
                          draws: int = 10_000, counts=(10, 100, 1000, 10_000),
                          seed: int = 0) -> RandomizedTruncation:
    """Return the :class:`RandomizedTruncation` of dL/dW for the last-step loss.

    Draws ``draws`` geometric windows (``seed``) and compares single estimates, averages of
    the first ``counts`` draws, and the fixed window of the same mean length with full BPTT.
    """
    if not isinstance(params, RNNParams):
        raise TypeError(f"params must be RNNParams, got {type(params).__name__}")
    draws = check_count("draws", draws)
    counts = np.array(check_each("counts", counts, check_count, 1, draws), dtype=int)
    seed = check_seed("seed", seed)
    parts = distance_decomposition(params, x, y, "mse_last", h0=h0)
    terms, full = parts.W_terms, parts.grads["W"]
    exponent = exponent_of(terms) if np.all(np.isfinite(terms)) else 0
    if abs(exponent) > 500 or (exponent and not np.all(np.isfinite(full))):
        # every error is a ratio: divide the terms and the gradient by one power of two (exact)
        # so that no sum overflows; a gradient that overflowed is summed again from the terms
        terms, full = np.ldexp(terms, -exponent), np.ldexp(full, -exponent)
        if not np.all(np.isfinite(full)):
            full = terms.sum(axis=0)
    T = terms.shape[0]
    sums = reweighted_partial_sums(terms, continue_probability)
    c = float(continue_probability)
    rng = np.random.default_rng(check_seed("seed", seed))
    windows = rng.choice(np.arange(1, T + 1), size=draws, p=window_probabilities(T, c))
    per_window = np.array([relative_error(estimate, full) for estimate in sums])
    drawn = np.zeros(T, dtype=bool)
    drawn[windows - 1] = True
    mean_errors = []
    for k in counts:
        tally = np.bincount(windows[:k] - 1, minlength=T)
        if np.all(np.isfinite(sums)):
            average = np.tensordot(tally, sums, axes=1) / k
        else:  # a window never drawn (tally 0) adds nothing, even where its estimate is inf
            average = np.tensordot(tally[drawn], sums[drawn], axes=1) / k
        mean_errors.append(relative_error(average, full))
    fixed = min(int(round(1.0 / (1.0 - c))), T) if c < 1 else T
    fixed_error = relative_error(terms[:fixed].sum(axis=0), full)
    return RandomizedTruncation(
        continue_probability=c, mean_window=float(windows.mean()), windows=windows,
        single_errors=per_window[windows - 1], counts=counts,
        mean_errors=np.array(mean_errors), fixed_window=fixed, fixed_error=fixed_error,
    )
