"""Diagonal linear recurrences: the LRU, the parallel scan, Mamba's selective gate and minGRU.

A diagonal linear recurrence with complex eigenvalues lambda (n,) and inputs u_t = B x_t:

    h_t = lambda * h_{t-1} + u_t                       (element by element)

has the exact Jacobian dh_T/dh_{T-d} = diag(lambda)^d (:func:`jacobian_power`): no saturation
(the map is linear) and no transient growth (the matrix is diagonal, hence normal), so
|lambda| < 1 decays at exactly the rate |lambda|^d and |lambda| = 1 keeps an input for ever.

The LRU (Orvieto et al. 2023) writes lambda = exp(-exp(nu) + i exp(theta)) so that |lambda| =
exp(-exp(nu)) < 1 for every real nu; :func:`lru_ring_init` draws |lambda| uniformly on the ring
area r_min <= |lambda| <= r_max and the phase in [0, max_phase]; :func:`lru_gamma` is the
normalisation gamma = sqrt(1 - |lambda|^2) that keeps the state's variance at the input's under
white-noise input.

h_t = a_t h_{t-1} + b_t is also an associative scan: the pairs (a, b) compose as
(a1, b1) then (a2, b2) = (a2 a1, a2 b1 + b2). :func:`scan_sequential` is the loop (T dependent
steps); :func:`scan_hillis_steele` takes ceil(log2 T) rounds of whole-array operations
(O(T log T) work); :func:`scan_blelloch` takes 2 log2 T rounds and O(T) work.

minGRU (Feng et al. 2024) computes its gate and candidate from x_t alone:
z_t = sigmoid(x_t W_z + b_z), c_t = x_t W_h + b_h, h_t = (1 - z_t) h_{t-1} + z_t c_t, a scan with
a_t = 1 - z_t and b_t = z_t c_t. Mamba's selective step (Gu & Dao 2023) gives a forget factor
a_t = exp(-Delta_t A) with Delta_t = softplus(x_t w + c) computed from the input
(:func:`selective_decay`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbook.checks import check_array, check_count, check_each, check_flag, check_real, check_seed
from rnnbook.numerics import keep_zero_product


def _complex_vector(name: str, value) -> np.ndarray:
    if isinstance(value, str | bytes):
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}")
    array = np.asarray(value)
    if array.dtype.kind not in "biufc":
        raise TypeError(f"{name} must hold numbers, got dtype {array.dtype}")
    array = array.astype(np.complex128)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty vector (n,), got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def check_stable(name: str, lam) -> np.ndarray:
    """Return ``lam`` as a complex vector, or raise ValueError if some |lambda| >= 1."""
    lam = _complex_vector(name, lam)
    worst = np.abs(lam).max()
    if worst >= 1.0:
        raise ValueError(f"{name} must satisfy |lambda| < 1 for a stable recurrence; the largest "
                         f"modulus is {worst:.6g}")
    return lam


def _sequence(name: str, value, n: int | None = None) -> np.ndarray:
    array = check_array(name, value, finite=False, complex_ok=True)
    if array.ndim < 2:
        raise ValueError(f"{name} must have shape (T, n) or (T, B, n), got shape {array.shape}")
    if array.shape[0] == 0:
        raise ValueError(f"{name} is an empty sequence (T = 0)")
    if 0 in array.shape:
        raise ValueError(f"{name} has an empty axis: shape {array.shape}")
    if n is not None and array.shape[-1] != n:
        raise ValueError(f"{name} has last axis {array.shape[-1]}, expected n = {n}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


# --- the recurrence and its exact gradient -------------------------------------------------


def linear_recurrence(lam, u, h0=None, *, stable: bool = True) -> np.ndarray:
    """Return the states h_1..h_T (T, ..., n) of h_t = lam * h_{t-1} + u_t, by the loop.

    Parameters
    ----------
    lam : array_like, shape (n,)
        Diagonal of Lambda (complex allowed). With ``stable`` (default) |lam| < 1 is required.
    u : array_like, shape (T, n) or (T, B, n)
        Inputs (B x_t already applied).
    h0 : array_like, shape u.shape[1:], optional
        Initial state, default zero.
    """
    lam = check_stable("lam", lam) if check_flag("stable", stable) else _complex_vector("lam", lam)
    u = _sequence("u", u, lam.size).astype(np.complex128)
    h = np.zeros(u.shape[1:], np.complex128) if h0 is None else _state("h0", h0, u.shape[1:])
    out = np.empty_like(u)
    for t in range(u.shape[0]):
        h = lam * h + u[t]
        out[t] = h
    return out


def _state(name: str, value, shape: tuple) -> np.ndarray:
    array = np.asarray(value).astype(np.complex128)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def linear_recurrence_backward(lam, u, h0, states, grad_h) -> dict[str, np.ndarray]:
    """Return the gradients ``u``, ``lam``, ``h0`` of a real loss L given ``grad_h`` = dL/dh.

    Complex gradients follow torch's convention (dL/dRe z + i dL/dIm z). Backward in time,
    G_t = grad_h[t] + conj(lam) G_{t+1}; then dL/du_t = G_t, dL/dlam = sum_t conj(h_{t-1}) G_t
    (summed over any batch axis) and dL/dh0 = conj(lam) G_1.
    """
    lam = _complex_vector("lam", lam)
    u = _sequence("u", u, lam.size)
    states = _state("states", states, u.shape)
    grad = _state("grad_h", grad_h, u.shape)
    h0 = np.zeros(u.shape[1:], np.complex128) if h0 is None else _state("h0", h0, u.shape[1:])
    g = np.zeros(u.shape[1:], np.complex128)
    du = np.empty_like(grad)
    for t in range(u.shape[0] - 1, -1, -1):
        g = grad[t] + np.conj(lam) * g
        du[t] = g
    previous = np.concatenate([h0[None], states[:-1]])
    dlam = np.sum(np.conj(previous) * du, axis=tuple(range(u.ndim - 1)))
    return {"u": du, "lam": dlam, "h0": np.conj(lam) * du[0]}


def jacobian_power(lam, d) -> np.ndarray:
    """Return the diagonal of dh_T/dh_{T-d} = Lambda^d for each distance in ``d``, shape (D, n)."""
    lam = _complex_vector("lam", lam)
    d = np.atleast_1d(np.asarray(d))
    if d.dtype.kind not in "iu" or np.any(d < 0):
        raise ValueError(f"d must hold integer distances >= 0, got {d}")
    return lam[None, :] ** d[:, None]


def memory_horizon(modulus, level: float = 0.01) -> np.ndarray:
    """Return the distance ln(level) / ln|lambda| after which |lambda|^d falls below ``level``.

    inf where |lambda| = 1; 0 where lambda = 0.
    """
    level = check_real("level", level, low=0.0, strict=True)
    if level >= 1:
        raise ValueError(f"level must be in (0, 1), got {level:g}")
    r = np.abs(check_array("modulus", modulus, complex_ok=True))
    if np.any(r > 1):
        raise ValueError(f"modulus must hold values with |lambda| <= 1, got a largest |lambda| "
                         f"of {np.max(r):g}")
    with np.errstate(divide="ignore"):
        return np.where(r == 1, np.inf, np.log(level) / np.log(r))


# --- the LRU parameterisation ---------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LRUInit:
    """An LRU ring initialisation: ``nu_log``, ``theta_log`` (n,) and the resulting ``lam``."""

    nu_log: np.ndarray
    theta_log: np.ndarray
    lam: np.ndarray

    @property
    def modulus(self) -> np.ndarray:
        """|lambda| = exp(-exp(nu_log))."""
        return np.abs(self.lam)

    @property
    def gamma(self) -> np.ndarray:
        """The normalisation sqrt(1 - |lambda|^2)."""
        return lru_gamma(self.lam)


def lru_lambda(nu_log, theta_log) -> np.ndarray:
    """Return lambda = exp(-exp(nu_log) + i exp(theta_log)), |lambda| < 1 for any real nu_log."""
    nu = check_array("nu_log", nu_log, finite=False)
    theta = check_array("theta_log", theta_log, finite=False)
    if nu.shape != theta.shape:
        raise ValueError(f"nu_log and theta_log must have the same shape, got {nu.shape} and "
                         f"{theta.shape}")
    if not (np.all(np.isfinite(nu)) and np.all(np.isfinite(theta))):
        raise ValueError("nu_log and theta_log must be finite")
    return np.exp(-np.exp(nu) + 1j * np.exp(theta))


def lru_ring_init(n: int, r_min: float, r_max: float, max_phase: float = 2 * np.pi, *,
                  seed: int = 0) -> LRUInit:
    """Return n eigenvalues drawn uniformly on the ring r_min <= |lambda| <= r_max.

    Following Orvieto et al. (2023): with u1, u2 ~ U(0, 1), |lambda|^2 = r_min^2 +
    u1 (r_max^2 - r_min^2) (uniform in area), nu_log = log(-log|lambda|), theta =
    u2 max_phase, theta_log = log(theta).
    """
    n = check_count("n", n)
    r_min = check_real("r_min", r_min, low=0.0)
    r_max = check_real("r_max", r_max, low=0.0, strict=True)
    if r_max >= 1:
        raise ValueError(f"r_max must be < 1 (a stable recurrence), got {r_max:g}")
    if r_min > r_max:
        raise ValueError(f"r_min must be <= r_max, got r_min = {r_min:g} > r_max = {r_max:g}")
    max_phase = check_real("max_phase", max_phase, low=0.0, strict=True)
    rng = np.random.default_rng(check_seed("seed", seed))
    u1, u2 = rng.uniform(size=n), rng.uniform(size=n)
    radius = np.sqrt(r_min ** 2 + u1 * (r_max ** 2 - r_min ** 2))
    radius = np.maximum(radius, np.finfo(float).tiny)
    nu_log = np.log(-np.log(radius))
    theta_log = np.log(np.maximum(max_phase * u2, np.finfo(float).tiny))
    return LRUInit(nu_log=nu_log, theta_log=theta_log, lam=lru_lambda(nu_log, theta_log))


def lru_gamma(lam) -> np.ndarray:
    """Return gamma = sqrt(1 - |lambda|^2) (n,), the LRU's input normalisation."""
    lam = check_stable("lam", lam)
    return np.sqrt(1.0 - np.abs(lam) ** 2)


def stationary_gain(lam) -> np.ndarray:
    """Return E|h|^2 / E|u|^2 = 1 / (1 - |lambda|^2) under white-noise input u, per unit (n,)."""
    lam = check_stable("lam", lam)
    return 1.0 / (1.0 - np.abs(lam) ** 2)


# --- the scan -------------------------------------------------------------------------------


def _scan_inputs(a, b, h0) -> tuple[np.ndarray, np.ndarray]:
    b = _sequence("b", b)
    a = check_array("a", a, complex_ok=True)
    try:
        a = np.broadcast_to(a, b.shape)
    except ValueError:
        raise ValueError(f"a with shape {np.shape(a)} does not broadcast to b's shape "
                         f"{b.shape}") from None
    dtype = np.result_type(a.dtype, b.dtype, np.float64)
    a = a.astype(dtype)
    b = b.astype(dtype)
    if h0 is not None:
        h0 = check_array("h0", h0, shape=b.shape[1:], complex_ok=True)
        b = b.copy()
        b[0] = b[0] + a[0] * h0
    return a, b


def scan_sequential(a, b, h0=None) -> np.ndarray:
    """Return h (T, ...) with h_t = a_t h_{t-1} + b_t, h_0 = ``h0`` (default 0), by a loop."""
    a, b = _scan_inputs(a, b, h0)
    out = np.empty_like(b)
    h = np.zeros_like(b[0])
    for t in range(b.shape[0]):
        h = a[t] * h + b[t]
        out[t] = h
    return out


def scan_hillis_steele(a, b, h0=None) -> np.ndarray:
    """Return the same states as :func:`scan_sequential` in ceil(log2 T) rounds.

    Round j combines every element with the one 2^j steps earlier (Hillis & Steele's inclusive
    scan): O(T log T) work, log2 T dependent rounds.
    """
    a, b = _scan_inputs(a, b, h0)
    a, b = a.copy(), b.copy()
    offset = 1
    while offset < b.shape[0]:
        b[offset:] = a[offset:] * b[:-offset] + b[offset:]
        a[offset:] = a[offset:] * a[:-offset]
        offset *= 2
    return b


def scan_blelloch(a, b, h0=None) -> np.ndarray:
    """Return the same states as :func:`scan_sequential` by Blelloch's (1990) two sweeps.

    An up-sweep builds partial compositions in a tree, a down-sweep hands each prefix down:
    2 log2 T rounds and O(T) work. T is padded to a power of two with identity pairs (1, 0).
    """
    a, b = _scan_inputs(a, b, h0)
    with np.errstate(over="ignore", invalid="ignore"):
        states = _blelloch(a, b, np.multiply)
    if np.isnan(states).any() and np.all(np.isfinite(a)) and np.all(np.isfinite(b)):
        # a product overflowed to inf and met an exact 0 (an identity pair's b, or a zero
        # coefficient): again with products that keep those zeros, so overflow stays +-inf
        states = _blelloch(a, b, keep_zero_product)
    return states


def _blelloch(a: np.ndarray, b: np.ndarray, times) -> np.ndarray:
    T = b.shape[0]
    size = 1 << (T - 1).bit_length()
    A = np.ones((size, *b.shape[1:]), a.dtype)
    Bv = np.zeros((size, *b.shape[1:]), b.dtype)
    A[:T], Bv[:T] = a, b
    step = 1
    while step < size:  # up-sweep: node i + 2 step - 1 absorbs node i + step - 1
        right = np.arange(2 * step - 1, size, 2 * step)
        left = right - step
        Bv[right] = times(A[right], Bv[left]) + Bv[right]
        A[right] = times(A[right], A[left])
        step *= 2
    A[size - 1], Bv[size - 1] = 1, 0  # exclusive scan: the identity at the root
    step = size // 2
    while step >= 1:  # down-sweep
        right = np.arange(2 * step - 1, size, 2 * step)
        left = right - step
        a_left, b_left = A[left].copy(), Bv[left].copy()
        A[left], Bv[left] = A[right], Bv[right]
        # right <- (prefix of right) then (left's block)
        Bv[right] = times(a_left, Bv[right]) + b_left
        A[right] = times(a_left, A[right])
        step //= 2
    # exclusive prefix (A, Bv) at t applied to h = 0, then step t itself
    return times(a, Bv[:T]) + b


def scan_rounds(T: int) -> dict[str, int]:
    """Return the dependent rounds and combine operations of each scan over T steps."""
    T = check_count("T", T)
    levels = (T - 1).bit_length()
    size = 1 << levels
    return {
        "sequential_rounds": T,
        "sequential_work": T,
        "hillis_steele_rounds": levels,
        "hillis_steele_work": sum(T - (1 << j) for j in range(levels)),
        "blelloch_rounds": 2 * levels,
        "blelloch_work": 2 * (size - 1),
    }


# --- selectivity: Mamba's Delta_t and minGRU -----------------------------------------------


def softplus(z) -> np.ndarray:
    """Return log(1 + exp(z)), computed stably."""
    z = check_array("z", z, finite=False)
    return np.logaddexp(0.0, z)


def sigmoid(z) -> np.ndarray:
    """Return 1 / (1 + exp(-z)), computed stably."""
    z = check_array("z", z, finite=False)
    return np.exp(-np.logaddexp(0.0, -z))


def selective_decay(delta, A) -> np.ndarray:
    """Return Mamba's forget factors a_t = exp(-Delta_t A), shape (T, n) or (T, ..., n).

    ``delta`` (T,) (one step per time, shared by the n units) or (T, ..., n) holds steps > 0.

    ``A`` (n,) holds the positive decay rates (Mamba stores -exp(A_log) and writes exp(Delta A)).
    a_t is a forget gate in (0, 1): a small step keeps the state, a large one resets it.
    """
    delta = check_array("delta", delta, finite=False)
    A = check_array("A", A, finite=False)
    if delta.ndim < 1 or delta.shape[0] == 0:
        raise ValueError(f"delta must be a sequence (T, ...) with T >= 1, got shape {delta.shape}")
    if not np.all(np.isfinite(delta)) or np.any(delta <= 0):
        raise ValueError("delta must hold finite step sizes > 0")
    if A.ndim != 1 or A.size == 0 or np.any(A <= 0) or not np.all(np.isfinite(A)):
        raise ValueError(f"A must be a non-empty vector of finite rates > 0, got {A}")
    if delta.ndim == 1:
        return np.exp(-np.multiply.outer(delta, A))
    if delta.shape[-1] != A.size:
        raise ValueError(f"delta must have shape (T,) or (T, ..., n) with n = {A.size}, got "
                         f"{delta.shape}")
    return np.exp(-delta * A)


@dataclass(frozen=True, eq=False)
class MinGRUParams:
    """minGRU weights: gate ``wz`` (d, n), ``bz`` (n,), candidate ``wh`` (d, n), ``bh`` (n,)."""

    wz: np.ndarray
    bz: np.ndarray
    wh: np.ndarray
    bh: np.ndarray

    def __post_init__(self) -> None:
        for name in ("wz", "bz", "wh", "bh"):
            value = np.asarray(getattr(self, name), dtype=np.float64)
            if not np.all(np.isfinite(value)):
                raise ValueError(f"{name} contains NaN or infinite values")
            object.__setattr__(self, name, value)
        if self.wz.ndim != 2 or 0 in self.wz.shape:
            raise ValueError(f"wz must be a non-empty matrix (d, n), got shape {self.wz.shape}")
        d, n = self.wz.shape
        for name, shape in (("wh", (d, n)), ("bz", (n,)), ("bh", (n,))):
            if getattr(self, name).shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got "
                                 f"{getattr(self, name).shape}")

    @property
    def shape(self) -> tuple[int, int]:
        """(d, n): input and state widths."""
        return self.wz.shape

    @classmethod
    def random(cls, d: int, n: int, *, seed: int = 0) -> MinGRUParams:
        """Return weights drawn from N(0, 1/d) and biases from N(0, 1)."""
        d = check_count("d", d)
        n = check_count("n", n)
        rng = np.random.default_rng(check_seed("seed", seed))
        s = 1.0 / np.sqrt(d)
        return cls(s * rng.normal(size=(d, n)), rng.normal(size=n), s * rng.normal(size=(d, n)),
                   rng.normal(size=n))


@dataclass(frozen=True, eq=False)
class MinGRUTrace:
    """A minGRU forward pass: inputs ``x``, gates ``z``, candidates ``c``, states ``h`` and h0."""

    x: np.ndarray
    z: np.ndarray
    c: np.ndarray
    h: np.ndarray
    h0: np.ndarray


def mingru_forward(params: MinGRUParams, x, h0=None, *, method: str = "scan") -> MinGRUTrace:
    """Return the :class:`MinGRUTrace` of minGRU over x (T, d) or (T, B, d).

    ``method`` is ``"scan"`` (:func:`scan_hillis_steele`) or ``"loop"``; they agree to round-off.
    """
    if not isinstance(params, MinGRUParams):
        raise TypeError(f"params must be MinGRUParams, got {type(params).__name__}")
    d, n = params.shape
    x = np.asarray(_sequence("x", x, d), dtype=np.float64)
    h0 = np.zeros((*x.shape[1:-1], n)) if h0 is None else check_array("h0", h0, finite=False)
    if h0.shape != (*x.shape[1:-1], n):
        raise ValueError(f"h0 must have shape {(*x.shape[1:-1], n)}, got {h0.shape}")
    z = sigmoid(x @ params.wz + params.bz)
    c = x @ params.wh + params.bh
    if method == "scan":
        h = scan_hillis_steele(1.0 - z, z * c, h0)
    elif method == "loop":
        h = scan_sequential(1.0 - z, z * c, h0)
    else:
        raise ValueError(f"unknown method {method!r}; choose one of ('scan', 'loop')")
    return MinGRUTrace(x=x, z=z, c=c, h=h, h0=h0)


def _outer_sum(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    return x.reshape(-1, x.shape[-1]).T @ g.reshape(-1, g.shape[-1])


def mingru_backward(params: MinGRUParams, trace: MinGRUTrace, grad_h) -> dict[str, np.ndarray]:
    """Return the gradients ``x``, ``h0``, ``wz``, ``bz``, ``wh``, ``bh`` given dL/dh (T, ..., n).

    Backward in time G_t = grad_h[t] + (1 - z_{t+1}) G_{t+1}; then dL/dc_t = z_t G_t and
    dL/dz_t = (c_t - h_{t-1}) G_t.
    """
    if not isinstance(params, MinGRUParams):
        raise TypeError(f"params must be MinGRUParams, got {type(params).__name__}")
    if not isinstance(trace, MinGRUTrace):
        raise TypeError(f"trace must be a MinGRUTrace, got {type(trace).__name__}")
    g_h = check_array("grad_h", grad_h, finite=False)
    if g_h.shape != trace.h.shape:
        raise ValueError(f"grad_h must have shape {trace.h.shape}, got {g_h.shape}")
    # G_t = g_t + (1 - z_{t+1}) G_{t+1}: the same scan, run backward in time.
    a_next = np.concatenate([1.0 - trace.z[1:], np.zeros_like(trace.z[:1])])
    G = scan_hillis_steele(a_next[::-1], g_h[::-1])[::-1]
    previous = np.concatenate([trace.h0[None], trace.h[:-1]])
    dc = trace.z * G
    dz = (trace.c - previous) * G
    dz_pre = dz * trace.z * (1.0 - trace.z)
    axes = tuple(range(trace.x.ndim - 1))
    return {
        "x": dz_pre @ params.wz.T + dc @ params.wh.T,
        "h0": (1.0 - trace.z[0]) * G[0],
        "wz": _outer_sum(trace.x, dz_pre),
        "bz": dz_pre.sum(axis=axes),
        "wh": _outer_sum(trace.x, dc),
        "bh": dc.sum(axis=axes),
    }


# --- what the chapter's explorer and timings show -------------------------------------------


@dataclass(frozen=True, eq=False)
class RingSummary:
    """An LRU ring initialisation and what it implies for memory.

    Attributes
    ----------
    r_min, r_max : float
    lam : ndarray, shape (n,)
        The eigenvalues drawn on the ring.
    distance : ndarray, shape (D,)
    decay : ndarray, shape (3, D)
        |lambda|^d for the smallest, the median and the largest drawn modulus.
    horizon : ndarray, shape (3,)
        Distance after which each of those three falls below 1% (:func:`memory_horizon`).
    gain : float
        Largest state-variance gain 1 / (1 - |lambda|^2) without the normalisation gamma.
    """

    r_min: float
    r_max: float
    lam: np.ndarray
    distance: np.ndarray
    decay: np.ndarray
    horizon: np.ndarray
    gain: float


def ring_summary(r_min: float, r_max: float, *, n: int = 64, max_phase: float = 2 * np.pi,
                 max_distance: int = 1000, seed: int = 0) -> RingSummary:
    """Return the :class:`RingSummary` of :func:`lru_ring_init` (n eigenvalues, seed)."""
    init = lru_ring_init(n, r_min, r_max, max_phase, seed=seed)
    max_distance = check_count("max_distance", max_distance)
    r = np.sort(init.modulus)
    chosen = np.array([r[0], np.median(r), r[-1]])
    distance = np.unique(np.round(np.geomspace(1, max_distance, 200)).astype(int))
    distance = np.concatenate([[0], distance])
    return RingSummary(r_min=float(r_min), r_max=float(r_max), lam=init.lam, distance=distance,
                       decay=chosen[:, None] ** distance[None, :],
                       horizon=memory_horizon(chosen), gain=float(stationary_gain(r[-1:])[0]))


#: The most entries T * batch * n :func:`scan_timings` accepts for its complex inputs.
MAX_SCAN_ENTRIES = 2**23


def scan_timings(lengths, *, n: int = 64, batch: int = 8, repeats: int = 5,
                 seed: int = 0) -> dict[str, np.ndarray]:
    """Return median CPU seconds of the loop and of the two scans for each T in ``lengths``.

    Keys ``T``, ``sequential``, ``hillis_steele``, ``blelloch`` (arrays of len(lengths)). The
    inputs are complex (T, batch, n). CPU time of this process (``time.process_time``) is less
    sensitive than wall-clock time to other programs sharing the cores, but timings still depend
    on the machine and its load: read only orderings that hold by a wide margin.
    """
    import time

    lengths = list(check_each("lengths", lengths, check_count))
    n = check_count("n", n)
    batch = check_count("batch", batch)
    if max(lengths) * batch * n > MAX_SCAN_ENTRIES:
        raise ValueError(f"lengths, batch and n make inputs of up to {max(lengths) * batch * n:,} "
                         f"entries; at most {MAX_SCAN_ENTRIES:,} (134 MB of complex numbers) are "
                         f"allowed")
    repeats = check_count("repeats", repeats)
    rng = np.random.default_rng(check_seed("seed", seed))
    out = {"T": np.array(lengths), "sequential": [], "hillis_steele": [], "blelloch": []}
    for T in lengths:
        lam = lru_ring_init(n, 0.9, 0.999, seed=seed).lam
        b = rng.normal(size=(T, batch, n)) + 1j * rng.normal(size=(T, batch, n))
        for name, scan in (("sequential", scan_sequential), ("hillis_steele", scan_hillis_steele),
                           ("blelloch", scan_blelloch)):
            times = []
            for _ in range(repeats):
                start = time.process_time()
                scan(lam, b)
                times.append(time.process_time() - start)
            out[name].append(float(np.median(times)))
    return {k: np.asarray(v) for k, v in out.items()}


def describe_ring(result: RingSummary) -> str:
    """Return alt text for :func:`rnnbook.plots.after_gates.plot_lru_ring`."""
    if not isinstance(result, RingSummary):
        raise TypeError(f"expected a RingSummary, got {type(result).__name__}")
    low, mid, high = (f"{h:.0f}" for h in result.horizon)
    return (f"Left: {result.lam.size} LRU eigenvalues scattered on the ring between radius "
            f"{result.r_min:g} and {result.r_max:g} inside the unit circle. Right: |lambda|^ℓ "
            f"against the distance ℓ on log-log axes; the gradient falls below 1% after {low} "
            f"steps for the smallest modulus, {mid} for the median and {high} for the largest. "
            f"Without the normalisation psi the state's variance would grow "
            f"{result.gain:.0f}-fold.")
