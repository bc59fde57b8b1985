"""Eigenvalues and singular values of a square matrix, and what they say about its powers.

For any square W, rho(W) <= ||W^k||^(1/k) <= sigma_max(W) for every k, and Gelfand's formula
says ||W^k||^(1/k) -> rho(W) as k grows. So eigenvalues decide the long-run rate of W^k, and
singular values bound every single step. For a normal W (W W^T = W^T W) the two agree:
||W^k|| = rho(W)^k. For a non-normal W they can differ for a long time: with rho(W) < 1 the
powers may grow for many steps before they decay (:func:`nonnormal_transient`).

Norms are spectral norms (largest singular value) throughout.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from rnnbook.checks import check_array, check_count, check_real, check_seed, check_steps
from rnnbook.numerics import exponent_of


def _square(name: str, value) -> np.ndarray:
    if isinstance(value, str) or value is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}")
    try:
        array = check_array("value", value, finite=False)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a real array of numbers: {error}") from None
    if array.ndim != 2 or array.shape[0] != array.shape[1] or array.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty square matrix (n, n), got shape "
                         f"{array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def eigenvalues(W) -> np.ndarray:
    """Return the eigenvalues of W, shape (n,), complex, sorted by decreasing modulus."""
    W = _square("W", W)
    values = np.linalg.eigvals(W).astype(complex)
    return values[np.argsort(-np.abs(values), kind="stable")]


def singular_values(W) -> np.ndarray:
    """Return the singular values of W, shape (n,), in decreasing order."""
    W = _square("W", W)
    return np.linalg.svd(W, compute_uv=False)


def spectral_radius(W) -> float:
    """Return rho(W), the largest modulus of an eigenvalue of W (n, n)."""
    W = _square("W", W)
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def spectral_norm(W) -> float:
    """Return sigma_max(W) = ||W||_2, the largest singular value of W (n, n)."""
    W = _square("W", W)
    return float(np.linalg.svd(W, compute_uv=False)[0])


def _rescale(W: np.ndarray, target: float, measure, impossible: str) -> np.ndarray:
    """Return W * (target / measure(W)); a zero measure reaches only a zero ``target``.

    A W whose entries are far from 1 (largest below 2^-500 or above 2^500: subnormal entries,
    or a measure that would overflow) is first divided by an exact power of two, which scales
    the measure by the same power, so the factor is computed without underflow or overflow.
    """
    exponent = exponent_of(W)
    if abs(exponent) > 500:
        W = np.ldexp(W, -exponent)
    current = measure(W)
    if current == 0.0:
        if target == 0.0:
            return W.copy() if abs(exponent) <= 500 else np.ldexp(W, exponent)
        raise ValueError(impossible)
    return W * (target / current)


def rescale_to_spectral_radius(W, rho: float) -> np.ndarray:
    """Return c W, shape (n, n), with c > 0 chosen so that rho(c W) = ``rho``.

    Raises
    ------
    ValueError
        If ``rho`` is negative or W is nilpotent (rho(W) = 0, no multiple reaches ``rho`` > 0).
    """
    W = _square("W", W)
    rho = check_real("rho", rho, low=0.0)
    return _rescale(W, rho, spectral_radius, "W has spectral radius 0 (it is nilpotent); "
                    f"no multiple of it has spectral radius {rho:g}")


def rescale_to_spectral_norm(W, sigma: float) -> np.ndarray:
    """Return c W, shape (n, n), with c >= 0 chosen so that sigma_max(c W) = ``sigma``.

    Raises
    ------
    ValueError
        If ``sigma`` is negative or W is the zero matrix while ``sigma`` > 0.
    """
    W = _square("W", W)
    sigma = check_real("sigma", sigma, low=0.0)
    return _rescale(W, sigma, spectral_norm,
                    f"W is the zero matrix; no multiple of it has sigma_max {sigma:g}")


def _check_factors(factors) -> np.ndarray:
    factors = check_array("factors", factors, finite=False)
    if factors.ndim != 3 or factors.shape[1] != factors.shape[2] or factors.shape[1] == 0:
        raise ValueError(f"factors must have shape (K, n, n), got {factors.shape}")
    return factors


def rescaled_running_products(factors) -> Iterator[tuple[np.ndarray, int]]:
    """Yield ``(Q_d, e_d)`` for d = 1..K with A_1 ... A_d = Q_d 2^e_d, never overflowing.

    ``factors`` is (K, n, n), A_1..A_K; each new factor multiplies on the right. After every
    factor the running product is rescaled by an exact power of two so that its largest entry
    lies in [0.5, 1): rescaling adds no rounding error, so Q_d is the plain product to the bit,
    times 2^-e_d. A product that is exactly zero, or not finite, is left unscaled.
    """
    return _rescaled_running_products(_check_factors(factors))


def _rescaled_running_products(factors: np.ndarray) -> Iterator[tuple[np.ndarray, int]]:
    Q = np.eye(factors.shape[1])
    shift = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for factor in factors:
            Q = Q @ factor
            largest = np.abs(Q).max()
            if np.isfinite(largest) and largest > 0.0:
                _, e = np.frexp(largest)
                Q = np.ldexp(Q, -e)
                shift += int(e)
            yield Q, shift


def running_product_log2_norms(factors) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(mantissa, exponent)``, both (K + 1,): ||A_1 ... A_d|| = mantissa 2^exponent.

    ``factors`` is (K, n, n), A_1..A_K; each new factor multiplies on the right, and d = 0 is
    the identity. The running product is :func:`rescaled_running_products`, so it never
    overflows or underflows and rescaling adds no rounding error. An exactly zero product gives
    mantissa 0 from then on; a non-finite factor gives NaN from there on.
    """
    factors = _check_factors(factors)
    K = factors.shape[0]
    mantissa = np.empty(K + 1)
    exponent = np.zeros(K + 1, dtype=np.int64)
    mantissa[0] = 1.0
    state = "finite"
    products = rescaled_running_products(factors)
    for d in range(1, K + 1):
        Q, shift = next(products)
        if not np.all(np.isfinite(factors[d - 1])):
            state = "nan"
        elif state == "finite" and np.abs(Q).max() == 0.0:
            state = "zero"
        if state != "finite":
            mantissa[d] = np.nan if state == "nan" else 0.0
            continue
        mantissa[d] = np.linalg.norm(Q, 2)
        exponent[d] = shift
    return mantissa, exponent


def _norms(mantissa: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """Return mantissa 2^exponent as floats: ``inf`` beyond the float range, 0 below it."""
    with np.errstate(over="ignore", under="ignore"):
        return np.ldexp(mantissa, exponent)


def _logs(mantissa: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """Return log(mantissa 2^exponent) (-inf for 0, NaN for NaN)."""
    with np.errstate(divide="ignore"):
        return np.log(mantissa) + exponent * np.log(2.0)


def power_norms(W, k_max: int) -> np.ndarray:
    """Return ||W^k|| for k = 0..k_max, shape (k_max + 1,).

    Values beyond the float range are ``inf`` (no exception or warning): the powers are carried
    rescaled by exact powers of two, so every finite entry is accurate to round-off even when
    an intermediate W^k is not representable.
    """
    W = _square("W", W)
    k_max = check_steps("k_max", k_max, minimum=0)
    factors = np.broadcast_to(W, (k_max, *W.shape))
    return _norms(*running_product_log2_norms(factors))


def gelfand_sequence(W, k_max: int) -> np.ndarray:
    """Return ||W^k||^(1/k) for k = 1..k_max, shape (k_max,); it tends to rho(W).

    Gelfand's formula. Each term is at least rho(W) and at most sigma_max(W); it is computed
    in the log domain, so it stays finite even when ||W^k|| itself overflows.
    """
    W = _square("W", W)
    k_max = check_count("k_max", k_max)
    factors = np.broadcast_to(W, (k_max, *W.shape))
    logs = _logs(*running_product_log2_norms(factors))[1:]
    return np.exp(logs / np.arange(1, k_max + 1))


def gaussian_matrix(n: int, g: float, seed: int | np.random.Generator = 0, *,
                    rows: int | None = None) -> np.ndarray:
    """Return an (n, n) matrix with independent N(0, g^2 / n) entries: the Gaussian init.

    The one place the book draws a Gaussian recurrent matrix (``RNNParams.random``, the gated
    cells' ``random``, :func:`rnnbook.initializers.scaled_gaussian` all call it). By the
    circular law its spectral radius tends to g as n grows.

    Parameters
    ----------
    n : int
        Hidden size (the fan-in: entries have standard deviation g / sqrt(n)).
    g : float
        The scale g >= 0.
    seed : int or numpy.random.Generator
        Seed of ``numpy.random.default_rng``, or a generator to draw from (it advances).
    rows : int, optional
        Draw (rows, n) instead, e.g. k gate blocks stacked, (k n, n).
    """
    n = check_count("n", n)
    g = check_real("g", g, low=0.0)
    rows = n if rows is None else check_count("rows", rows)
    rng = np.random.default_rng(check_seed("seed", seed))
    return rng.normal(0.0, g / np.sqrt(n), (rows, n))


@dataclass(frozen=True, eq=False)
class CircularLaw:
    """Eigenvalues of one random Gaussian matrix with entries N(0, g^2 / n).

    Attributes
    ----------
    g : float
        The scale: the circular law predicts eigenvalues uniform on the disc of radius g.
    n : int
    seed : int
    eigenvalues : ndarray, shape (n,), complex
    rho : float
        Empirical spectral radius (close to g for large n).
    sigma_max : float
        Largest singular value (close to 2 g for large n: the bound it gives is loose).
    inside : float
        Fraction of eigenvalues with modulus <= g.
    """

    g: float
    n: int
    seed: int
    eigenvalues: np.ndarray
    rho: float
    sigma_max: float
    inside: float


def circular_law(n: int = 400, g: float = 1.0, seed: int = 0) -> CircularLaw:
    """Return the :class:`CircularLaw` sample: eigenvalues of an (n, n) N(0, g^2/n) matrix."""
    W = gaussian_matrix(n, g, seed)
    values = eigenvalues(W)
    moduli = np.abs(values)
    return CircularLaw(
        g=float(g), n=int(n), seed=int(seed), eigenvalues=values,
        rho=float(moduli.max()), sigma_max=spectral_norm(W),
        inside=float(np.mean(moduli <= g * (1 + 1e-12))),
    )


def shear_matrix(rho: float, shear: float, n: int = 2) -> np.ndarray:
    """Return the (n, n) Jordan-like block: ``rho`` on the diagonal, ``shear`` just above it.

    Every eigenvalue is ``rho``, so rho(W) = |rho|; for ``shear`` != 0 the matrix is not normal.
    For n = 2 the powers are explicit:

        W^k = [[rho^k, k shear rho^(k-1)], [0, rho^k]],

    so for 0 < rho < 1 the corner k shear rho^(k-1) peaks near k = 1 / ln(1/rho) at about
    shear / (e rho ln(1/rho)): ``rho`` sets when the transient peaks, ``shear`` how high.
    """
    rho = check_real("rho", rho)
    shear = check_real("shear", shear)
    n = check_count("n", n)
    return rho * np.eye(n) + shear * np.eye(n, k=1)


@dataclass(frozen=True, eq=False)
class NonnormalTransient:
    """||W^k|| for a normal and a non-normal matrix with the same eigenvalues.

    Attributes
    ----------
    rho, shear : float
        Parameters of :func:`shear_matrix`; both matrices have every eigenvalue equal to rho.
    n : int
    k : ndarray, shape (K + 1,)
        Powers 0..K.
    normal : ndarray, shape (K + 1,)
        ||(rho I)^k|| = |rho|^k: the normal matrix with the same eigenvalues.
    nonnormal : ndarray, shape (K + 1,)
        ||W^k|| for W = shear_matrix(rho, shear, n); ``inf`` where it overflows.
    sigma_max : float
        ||W||: the one-step growth bound of the non-normal matrix.
    peak_height : float
        max_k ||W^k||.
    peak_step : int
        The first k where the maximum is reached.
    below_one_step : int or None
        The first k after the peak with ||W^k|| < 1, or None if that is beyond K.
    """

    rho: float
    shear: float
    n: int
    k: np.ndarray
    normal: np.ndarray
    nonnormal: np.ndarray
    sigma_max: float
    peak_height: float
    peak_step: int
    below_one_step: int | None


def transient_peak(norms) -> tuple[float, int]:
    """Return ``(height, step)``: the largest entry of a norm curve (K + 1,) and its first index.

    ``inf`` counts as the largest; NaN entries are rejected.
    """
    norms = check_array("norms", norms, finite=False)
    if norms.ndim != 1 or norms.size == 0:
        raise ValueError(f"norms must be a non-empty 1-d array, got shape {norms.shape}")
    if np.any(np.isnan(norms)):
        raise ValueError("norms contains NaN")
    step = int(np.argmax(norms))
    return float(norms[step]), step


def nonnormal_transient(rho: float, shear: float, n: int = 2, steps: int = 200
                        ) -> NonnormalTransient:
    """Return the :class:`NonnormalTransient` of shear_matrix(rho, shear, n) over k = 0..steps.

    Parameters
    ----------
    rho : float
        The common eigenvalue of both matrices (use |rho| < 1 to see growth before decay).
    shear : float
        The above-diagonal entry; 0 gives the normal matrix rho I itself.
    n : int
        Matrix size; the transient grows like k^(n-1) rho^k, so larger n gives taller peaks.
    steps : int
        K, the largest power.
    """
    W = shear_matrix(rho, shear, n)
    steps = check_count("steps", steps)
    k = np.arange(steps + 1)
    with np.errstate(over="ignore", under="ignore"):
        normal = np.abs(rho) ** k.astype(float)
    nonnormal = power_norms(W, steps)
    height, step = transient_peak(nonnormal)
    after = np.flatnonzero((k > step) & (nonnormal < 1.0))
    return NonnormalTransient(
        rho=float(rho), shear=float(shear), n=int(n), k=k, normal=normal, nonnormal=nonnormal,
        sigma_max=spectral_norm(W), peak_height=height, peak_step=step,
        below_one_step=int(after[0]) if after.size else None,
    )
