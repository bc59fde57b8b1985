"""Backpropagation through time written out by hand, with the gradient's terms kept.

Model (book notation, 1-based steps t = 1..T; arrays are 0-based, step t is index t-1)::

    z_t = U x_t + W h_{t-1} + b,    h_t = f(z_t),    o_t = V h_t + c,    L = sum_t L_t(o_t)

One backward recursion, from t = T down to 1, computes the total derivative

    delta_t = dL/dz_t = (dL/dh_t) diag(f'(z_t)),
    dL/dh_t = (dL_t/do_t) V + delta_{t+1} W            (the second term absent at t = T)

and from it every gradient as a sum over steps of an *immediate* partial derivative times
delta_t::

    dL/dW = sum_t delta_t^T h_{t-1},   dL/dU = sum_t delta_t^T x_t,   dL/db = sum_t delta_t,
    dL/dV = sum_t (dL_t/do_t)^T h_t,   dL/dc = sum_t dL_t/do_t.

The summands are the *terms* returned in :class:`BPTTResult` (``W_terms[t-1] = delta_t^T
h_{t-1}``, summed over the batch). For the last-step loss delta_t = (dL/dh_T)(dh_T/dh_t)
diag(f'(z_t)), so term t is exactly the seed's product for distance T - t. The same recursion
also carries the chain products dh_T/dh_t = J_T J_{T-1} ... J_{t+1}, J_s = diag(f'(z_s)) W.

Cost: O(T B n (n + d + m)) for the gradients and the term norms; keeping the terms adds
O(T n (n + d)) memory, keeping the chain O(T B n^2) memory and O(T B n^3) time.

Overflow contract. Overflow is not an error, and it never turns into NaN: every quantity whose
value lies beyond the float64 range (about 1.8e308) is ``+inf`` or ``-inf`` with its true
sign, one below the range is 0, and a term that is exactly 0 stays 0 beside an overflowed
factor. ``BPTTResult.overflow_step`` records where the computation first left float64. When
something overflowed (in the forward pass, see :func:`rnnbook.rnn.forward`, or only going
back), the backward pass is run again on mantissas times powers of two (one per step and
sequence) from the forward pass's exact states, and written out at the end, so the finite
entries are exact to round-off and the infinite ones have the right sign. NaN appears only
where the mathematics is undefined: NaN in the input, or an ``+inf`` given as input. Finite
input never gives NaN.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from rnnbook.activations import get_activation
from rnnbook.checks import check_array, check_count, check_flag, check_same_shape
from rnnbook.losses import get_loss
from rnnbook.numerics import exponent_of, safe_norm
from rnnbook.rnn import RNNParams, Trajectory, forward
from rnnbook.spectra import spectral_radius

PARAMETER_NAMES = ("U", "W", "b", "V", "c")


@dataclass(frozen=True, eq=False)
class BPTTResult:
    """The gradient of an RNN loss, with its per-step terms and the chain products.

    Attributes
    ----------
    loss : str
        Name of the loss (see :mod:`rnnbook.losses`).
    value : float
        The loss L.
    grads : dict of str to ndarray
        dL/dU (n, d), dL/dW (n, n), dL/db (n,), dL/dV (m, n), dL/dc (m,).
    dh0 : ndarray, shape (B, n)
        dL/dh_0, the gradient with respect to the initial state.
    delta : ndarray, shape (T, B, n)
        delta_t = dL/dz_t, the total derivative with respect to each pre-activation.
    W_terms, U_terms, b_terms : ndarray or None, shapes (T, n, n), (T, n, d), (T, n)
        Term t of each sum: delta_t^T h_{t-1}, delta_t^T x_t, delta_t (summed over the batch).
        They add up to ``grads``. None when computed with ``keep_terms=False``.
    W_term_norms, U_term_norms, b_term_norms : ndarray, shape (T,)
        Frobenius norms of the terms, always computed (even with ``keep_terms=False``).
    chain : ndarray or None, shape (T, B, n, n)
        ``chain[t-1, b] = dh_T/dh_t`` for sequence b (the identity at t = T): the product
        J_T ... J_{t+1} of the untruncated model, whatever the loss. With the all-steps loss
        these are the products for the last loss term L_T only; a loss term L_s reaches h_t
        through dh_s/dh_t. None when computed with ``keep_chain=False``.
    truncate : int or None
        The truncation length used (None: full BPTT).
    trajectory : Trajectory
        The forward pass the gradient belongs to.
    overflow_step : int or None
        Where the computation left float64: the forward pass's ``overflow_step`` if a state
        overflowed, else the last step t (1-based) whose delta_t overflowed in the backward
        pass (the first one met going back), else None. Quantities beyond the float64 range
        are +-inf with their true sign (see the module's overflow contract), never NaN.
    """

    loss: str
    value: float
    grads: dict[str, np.ndarray]
    dh0: np.ndarray
    delta: np.ndarray
    W_terms: np.ndarray | None
    U_terms: np.ndarray | None
    b_terms: np.ndarray | None
    W_term_norms: np.ndarray
    U_term_norms: np.ndarray
    b_term_norms: np.ndarray
    chain: np.ndarray | None
    truncate: int | None
    trajectory: Trajectory

    overflow_step: int | None = None


_check_flag = check_flag


def _check_truncate(truncate) -> int | None:
    if truncate is None:
        return None
    if isinstance(truncate, bool) or not isinstance(truncate, int | np.integer):
        raise TypeError(f"truncate must be a positive integer or None, got {truncate!r}")
    if truncate < 1:
        raise ValueError(f"truncate must be >= 1 (the number of steps a loss term reaches back), "
                         f"got {truncate}")
    return int(truncate)


def backward_recursion(
    e: np.ndarray,
    fprime: np.ndarray,
    W: np.ndarray,
    *,
    keep_delta: bool = True,
    keep_chain: bool = False,
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Return ``(delta (T, B, n), dh0 (B, n), chain (T, B, n, n))`` from one backward pass.

    The one recursion of the module: delta_t = (e_t + delta_{t+1} W) * f'(z_t), run from
    t = T down to 1, and alongside it chain_{t-1} = chain_t diag(f'(z_t)) W from chain_T = I.

    Parameters
    ----------
    e : ndarray, shape (T, B, n)
        The direct error on each state, e_t = (dL_t/do_t) V.
    fprime : ndarray, shape (T, B, n)
        f'(z_t).
    W : ndarray, shape (n, n) or (T, n, n)
        Recurrent weights; one matrix per step (``W[t-1]`` maps h_{t-1} into z_t) gives the
        untied T-layer feed-forward network with the same graph.
    keep_delta, keep_chain : bool
        Compute delta and dh0 (else both are None); compute the chain (else None).

    Notes
    -----
    For finite e, f' and W nothing is NaN: when delta or the chain overflows, the recursion is
    run again on mantissas rescaled by exact powers of two (one exponent per sequence for
    delta; :func:`rnnbook.jacobian.span_products` for the chain), so that every entry beyond
    the float64 range is +-inf with its true sign and an entry that is exactly 0 stays 0.
    """
    keep_delta = check_flag("keep_delta", keep_delta)
    keep_chain = check_flag("keep_chain", keep_chain)
    e, fprime, W = _check_recursion(e, fprime, W)
    T, B, n = fprime.shape
    per_step = W.ndim == 3
    delta = np.empty((T, B, n)) if keep_delta else None
    chain = np.empty((T, B, n, n)) if keep_chain else None
    carry = np.zeros((B, n))  # delta_{t+1} W: what step t's state owes the future
    if keep_chain:
        chain[T - 1] = np.eye(n)
    for t in range(T - 1, -1, -1):
        W_t = W[t] if per_step else W
        if keep_delta:
            np.add(e[t], carry, out=delta[t])
            delta[t] *= fprime[t]
            carry = delta[t] @ W_t
        if keep_chain and t > 0:
            np.matmul(chain[t] * fprime[t][:, None, :], W_t, out=chain[t - 1])
    finite_jacobians = np.all(np.isfinite(fprime)) and np.all(np.isfinite(W))
    overflowed = keep_delta and not (np.all(np.isfinite(delta)) and np.all(np.isfinite(carry)))
    if overflowed and finite_jacobians and np.all(np.isfinite(e)):
        em, ee = _normalised(e, np.zeros(e.shape[:2], dtype=np.int64))
        dm, de, cm, ce = _rescaled_delta(em, ee, fprime, W)
        delta, carry = _written_out(dm, de), _written_out(cm, ce)
    if keep_chain and finite_jacobians and not np.all(np.isfinite(chain)):
        chain = _rescaled_chain(fprime, W)
    return delta, (carry if keep_delta else None), chain


def _rescaled_chain(fprime: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Return the chain of :func:`backward_recursion` from rescaled products (+-inf, no NaN).

    J_t = diag(f'_t) W_t is formed from f'_t and W_t divided by powers of two (so no J_t
    overflows), the products come from :func:`rnnbook.jacobian.span_products` with
    ``rescaled=True``, and every power of two is put back at the end with ``ldexp``.
    """
    from rnnbook.jacobian import span_products  # imported here: jacobian imports bptt's users

    T = fprime.shape[0]
    slope = np.maximum(_row_exponents(fprime), 0)  # (T, B); a zero row needs no scaling
    if W.ndim == 3:
        weight = np.array([exponent_of(W_t) for W_t in W])
        scaled_W = np.ldexp(W, -weight[:, None, None])[:, None]
    else:
        weight = np.full(T, exponent_of(W))
        scaled_W = np.ldexp(W, -weight[0])
    steps = np.ldexp(fprime, -slope[..., None])[..., None] * scaled_W  # J_t / 2^(s_t + w_t)
    Q, exponents = span_products(steps, rescaled=True)
    # P_d = J_{T-1} ... J_{T-d} (0-based) carries the powers of steps T-d..T-1
    powers = np.concatenate([np.zeros((1, *slope.shape[1:]), dtype=np.int64),
                             np.cumsum((slope + weight[:, None])[::-1], axis=0)])
    with np.errstate(over="ignore"):
        products = np.ldexp(Q, (exponents + powers)[..., None, None])
    return products[:T][::-1].copy()


#: The exponent given to a row that is exactly zero: below every real one, so that a zero row
#: never sets the common exponent of a sum (and 2^ZERO_EXPONENT times a mantissa is 0).
ZERO_EXPONENT = -(2**40)


def _row_exponents(v: np.ndarray) -> np.ndarray:
    """Return, per row of v (..., k), e with max |row| in [2^(e-1), 2^e) (ZERO_EXPONENT if 0)."""
    largest = np.abs(v).max(axis=-1)
    usable = largest > 0.0
    return np.where(usable, np.frexp(np.where(usable, largest, 1.0))[1], ZERO_EXPONENT)


def _normalised(v: np.ndarray, exponent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (v / 2^s, exponent + s) per row, with s such that max |row| is in [0.5, 1).

    A row that is exactly zero keeps mantissa 0 and gets :data:`ZERO_EXPONENT`.
    """
    shift = _row_exponents(v)
    zero = shift == ZERO_EXPONENT
    return (np.ldexp(v, np.where(zero, 0, -shift)[..., None]),
            np.where(zero, ZERO_EXPONENT, exponent + shift))


def _scaled_sum(am: np.ndarray, ae: np.ndarray, bm: np.ndarray, be: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Return a + b per row for a = am 2^ae and b = bm 2^be, normalised (no overflow)."""
    common = np.maximum(ae, be)
    with np.errstate(under="ignore"):
        total = np.ldexp(am, (ae - common)[..., None]) + np.ldexp(bm, (be - common)[..., None])
    return _normalised(total, common)


def _written_out(mantissa: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """Return mantissa 2^exponent per row as float64: +-inf beyond the range, 0 for a zero row."""
    with np.errstate(over="ignore", under="ignore"):
        return np.ldexp(mantissa, np.maximum(exponent, -(2**20))[..., None])


def _rescaled_delta(em: np.ndarray, ee: np.ndarray, fprime: np.ndarray, W: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return delta and dh0 of :func:`backward_recursion` as mantissas times powers of two.

    ``e`` is given the same way: e = em 2^ee, em (T, B, n) and ee (T, B). Each sequence's
    carry keeps its largest entry in [0.5, 1) with its own exponent, so nothing overflows on
    the way. Returns ``(delta mantissa (T, B, n), exponent (T, B), dh0 mantissa (B, n),
    exponent (B,))``.
    """
    T, B, n = em.shape
    dm, de = np.empty((T, B, n)), np.empty((T, B), dtype=np.int64)
    mantissa, exponent = np.zeros((B, n)), np.full(B, ZERO_EXPONENT)
    for t in range(T - 1, -1, -1):
        v, common = _scaled_sum(em[t], ee[t], mantissa, exponent)
        slope_m, slope_e = _normalised(fprime[t], np.zeros(B, dtype=np.int64))
        dm[t], de[t] = _normalised(v * slope_m, common + slope_e)
        mantissa, exponent = _normalised(dm[t] @ (W[t] if W.ndim == 3 else W), de[t])
    return dm, de, mantissa, exponent


def _check_recursion(e, fprime, W, per_step: bool = True):
    """Return e, f' (T, B, n) and W (n, n) or (T, n, n) as float arrays, or raise naming one."""
    e = check_array("e", e, ndim=3, finite=False, nonempty=True)
    fprime = check_array("fprime", fprime, ndim=3, finite=False, nonempty=True)
    check_same_shape(e=e, fprime=fprime)
    T, _, n = e.shape
    W = check_array("W", W, ndim=(2, 3) if per_step else 2)
    if W.shape[-2:] != (n, n) or (W.ndim == 3 and W.shape[0] != T):
        raise ValueError(f"W must have shape ({n}, {n})" + (f" or ({T}, {n}, {n})" if per_step
                                                              else "") + f", got {W.shape}")
    return e, fprime, W


def lagged_backward(
    e: np.ndarray,
    fprime: np.ndarray,
    W: np.ndarray,
    loss_steps: np.ndarray,
    max_lag: int,
) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(lag j, positions p, D, to_h0)``: each loss term's error j steps back.

    For every loss step s (0-based, in ``loss_steps``) with s - j >= 0, ``D`` holds the part
    of delta at position p = s - j that comes from L_s alone:
    dL_s/dz_p = e_s (dh_s/dh_p) diag(f'(z_p)). All loss terms move back together, one lag per
    iteration, so j runs over 0..max_lag-1 with vectorised work on every loss term at once.
    ``to_h0`` (B, n) is what reaches dL/dh_0 at this lag (non-zero only from the term with
    p = 0). Cost O(max_lag * len(loss_steps) * B * n^2).

    Parameters
    ----------
    e, fprime : ndarray, shape (T, B, n)
    W : ndarray, shape (n, n)
    loss_steps : ndarray of int, shape (L,)
        Ascending 0-based steps that carry a loss term.
    max_lag : int
        Number of lags to yield (a loss term reaches at most ``max_lag`` pre-activations).
    """
    e, fprime, W = _check_recursion(e, fprime, W, per_step=False)
    max_lag = check_count("max_lag", max_lag)
    steps = check_array("loss_steps", loss_steps, ndim=1)
    if steps.size == 0 or np.any(steps != np.round(steps)) or np.any(np.diff(steps) <= 0) or \
            steps[0] < 0 or steps[-1] >= e.shape[0]:
        raise ValueError(f"loss_steps must be ascending integers in [0, T - 1 = {e.shape[0] - 1}], "
                         f"got {loss_steps!r}")
    return _lagged(e, fprime, W, steps.astype(np.int64), max_lag)


def _lagged(e: np.ndarray, fprime: np.ndarray, W: np.ndarray, steps: np.ndarray,
            max_lag: int) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    signal = e[steps]  # dL_s/dh_{s-j}, one row per loss step still in range
    for lag in range(max_lag):
        first = int(np.searchsorted(steps, lag))
        if first == len(steps):
            return
        steps, signal = steps[first:], signal[first:]
        positions = steps - lag
        D = signal * fprime[positions]
        signal = D @ W
        to_h0 = signal[0] if positions[0] == 0 else np.zeros_like(signal[0])
        yield lag, positions, D, to_h0


def _outer_sum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return sum over steps and batch of a_t^T b_t, for a (T, B, n) and b (T, B, k): (n, k)."""
    return np.tensordot(a, b, axes=([0, 1], [0, 1]))


def _outer_terms(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return sum_batch a_t^T b_t for every t, shape (T, n, k), for a (T, B, n) and b (T, B, k)."""
    if a.shape[1] == 1:  # one outer product per step: a broadcast is faster than a matmul
        return a[:, 0, :, None] * b[:, 0, None, :]
    return a.transpose(0, 2, 1) @ b


def _step_exponents(a: np.ndarray) -> np.ndarray:
    """Return, per step of a (T, B, k), the exponent e with max |a_t| in [2^(e-1), 2^e)."""
    largest = np.abs(a).max(axis=(1, 2)) if a.size else np.zeros(a.shape[0])
    usable = np.isfinite(largest) & (largest > 0.0)
    return np.where(usable, np.frexp(np.where(usable, largest, 1.0))[1], 0)


def term_norms(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Return ||sum_batch a_t^T b_t||_F for every t, shape (T,), without forming the terms.

    ``a`` is (T, B, n) and ``b`` is (T, B, k) or None.

    ||sum_b a_b b_b^T||_F^2 = sum_{b, c} (a_b . a_c)(b_b . b_c); with ``b`` None the term is
    sum_b a_b and its norm is taken directly. Each step's a_t and b_t are divided by powers of
    two first, so no intermediate overflows: a norm is inf only if it exceeds float64, and a
    term that is exactly 0 (a_t = 0 or b_t = 0) has norm exactly 0 whatever the other factor.
    """
    a = check_array("a", a, ndim=3, finite=False)
    if b is None:
        with np.errstate(over="ignore", invalid="ignore"):
            sums = a.sum(axis=1)
            norms = np.linalg.norm(sums, axis=-1)
        redo = ~np.isfinite(norms)
        if redo.any():
            norms[redo] = safe_norm(sums[redo], axis=-1)
        return norms
    b = check_array("b", b, ndim=3, finite=False)
    if a.shape[:2] != b.shape[:2]:
        raise ValueError(f"a and b must have the same steps and batch (T, B), got shapes "
                         f"{a.shape} and {b.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        norms = _plain_term_norms(a, b)
        redo = ~np.isfinite(norms)
        if redo.any():  # overflow on the way: again with every step scaled by powers of two
            a, b = a[redo], b[redo]
            ea, eb = _step_exponents(a), _step_exponents(b)
            scaled = _plain_term_norms(np.ldexp(a, -ea[:, None, None]),
                                       np.ldexp(b, -eb[:, None, None]))
            zero = ~np.any(a != 0.0, axis=(1, 2)) | ~np.any(b != 0.0, axis=(1, 2))
            norms[redo] = np.where(zero, 0.0, np.ldexp(scaled, ea + eb))
    return norms


def _plain_term_norms(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.shape[1] == 1:
        return np.linalg.norm(a[:, 0], axis=-1) * np.linalg.norm(b[:, 0], axis=-1)
    gram_a = a @ a.transpose(0, 2, 1)
    gram_b = b @ b.transpose(0, 2, 1)
    return np.sqrt(np.maximum((gram_a * gram_b).sum(axis=(1, 2)), 0.0))


def bptt(
    params: RNNParams,
    x,
    y,
    loss: str = "mse_last",
    *,
    h0=None,
    truncate: int | None = None,
    keep_terms: bool = True,
    keep_chain: bool = True,
) -> BPTTResult:
    """Return the :class:`BPTTResult` of the loss: gradients, per-step terms and chain products.

    Parameters
    ----------
    params : RNNParams
    x : array_like, shape (T, d) or (T, B, d)
        Inputs x_1..x_T.
    y : array_like
        Targets: shape (m,) or (B, m) for ``mse_last``; integer classes (T,) or (T, B) for
        ``ce_all`` (see :mod:`rnnbook.losses`; both losses are summed over the batch).
    loss : str
        ``"mse_last"`` or ``"ce_all"``.
    h0 : array_like, shape (n,) or (B, n), optional
        Initial state; zeros by default.
    truncate : int, optional
        Truncated BPTT with window k = ``truncate``: each loss term L_s sends its error back
        through at most k steps, to z_s, z_{s-1}, ..., z_{s-k+1} (and to h_0 only if
        s <= k); the path through h_{s-k} is cut, as if h_{s-k} were detached for L_s. k = 1
        keeps only the immediate partial derivatives; k >= T is full BPTT. For the last-step
        loss this is one cut at h_{T-k}; for the all-steps loss every L_s has its own window of
        k steps (in torch: recompute L_s from ``h[s-k].detach()``). This is not the chunked
        scheme that detaches every k steps, where a term near the start of a chunk reaches
        back fewer steps. Cost O(k L B n^2) for L loss terms.
    keep_terms : bool
        Return the term arrays (T, n, n), (T, n, d), (T, n); their norms are always returned.
    keep_chain : bool
        Return dh_T/dh_t for every t (T, B, n, n); O(T B n^3) time.

    Notes
    -----
    Overflow is not an error: the forward pass carries overflowed states as +-inf (see
    :func:`~rnnbook.rnn.forward`; ``result.trajectory.overflow_step`` is the first step that
    left float64). Then, or when the backward pass overflows, the gradient is computed again
    on mantissas times powers of two, from the forward pass's exact states: every entry
    beyond the float64 range is +-inf with its true sign, the others are exact to round-off,
    and none is NaN for finite input (the module's overflow contract).
    """
    if not isinstance(params, RNNParams):
        raise TypeError(f"params must be RNNParams, got {type(params).__name__}")
    loss_fn = get_loss(loss)
    truncate = _check_truncate(truncate)
    keep_terms = _check_flag("keep_terms", keep_terms)
    keep_chain = _check_flag("keep_chain", keep_chain)
    traj = forward(params, x, h0)
    T = traj.x.shape[0]
    W = params.W
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            value = loss_fn.value(traj.o, y)
    except ValueError as error:  # the outputs' T and B come from x: say so
        raise ValueError(f"y does not fit the outputs of params on x (x has shape "
                         f"{np.shape(x)}): {error}") from None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        dO = loss_fn.grad(traj.o, y)
        e = dO @ params.V
        fprime = get_activation(params.activation).df(traj.z)
        full = truncate is None or truncate >= T
        delta, dh0, chain = backward_recursion(e, fprime, W, keep_delta=full,
                                               keep_chain=keep_chain)
        if not full:
            delta = np.zeros_like(traj.z)
            dh0 = np.zeros_like(traj.h0)
            for _, positions, D, to_h0 in lagged_backward(
                e, fprime, W, loss_fn.loss_steps(T), truncate
            ):
                delta[positions] += D
                dh0 += to_h0
        h_prev = traj.h_prev
        grads = {
            "U": _outer_sum(delta, traj.x),
            "W": _outer_sum(delta, h_prev),
            "b": delta.sum(axis=(0, 1)),
            "V": _outer_sum(dO, traj.h),
            "c": dO.sum(axis=(0, 1)),
        }
        W_terms = _outer_terms(delta, h_prev) if keep_terms else None
        U_terms = _outer_terms(delta, traj.x) if keep_terms else None
        b_terms = delta.sum(axis=1) if keep_terms else None
        W_norms = term_norms(delta, h_prev)
        U_norms = term_norms(delta, traj.x)
        b_norms = term_norms(delta, None)
    if traj.h_mantissa is not None or np.isnan(value) or not (
            np.all(np.isfinite(delta)) and np.all(np.isfinite(dh0))
            and all(np.all(np.isfinite(g)) for g in grads.values())):
        # something overflowed: again on mantissas times powers of two, written out at the end
        # (+-inf beyond the float64 range, never NaN from finite input)
        value, delta, dh0, grads, terms, norms, _, _ = _scaled_backward(
            params, traj, loss_fn, y, None if full else truncate)
        W_norms, U_norms, b_norms = norms
        if keep_terms:
            W_terms, U_terms, b_terms = terms
    overflow_step = traj.overflow_step
    if overflow_step is None:
        bad = np.flatnonzero(~np.all(np.isfinite(delta), axis=(1, 2)))
        overflow_step = int(bad[-1]) + 1 if bad.size else None
    return BPTTResult(
        loss=loss_fn.name, value=value, grads=grads, dh0=dh0, delta=delta,
        W_terms=W_terms, U_terms=U_terms, b_terms=b_terms,
        W_term_norms=W_norms, U_term_norms=U_norms, b_term_norms=b_norms,
        chain=chain, truncate=truncate, trajectory=traj, overflow_step=overflow_step,
    )


def _scaled_outer(am: np.ndarray, ae: np.ndarray, cm: np.ndarray, ce: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Return sum_batch a_t^T c_t per step as (mantissa (T, n, k), exponent (T,)).

    a = am 2^ae (T, B, n) and c = cm 2^ce (T, B, k), one exponent per row.
    """
    products = ae + ce
    common = products.max(axis=1)
    with np.errstate(under="ignore"):
        scaled = np.ldexp(am, (products - common[:, None])[..., None])
    return _outer_terms(scaled, cm), common


def _scaled_total(mantissa: np.ndarray, exponent: np.ndarray) -> tuple[np.ndarray, int]:
    """Return sum_t mantissa[t] 2^exponent[t] as (mantissa, exponent)."""
    common = int(exponent.max())
    with np.errstate(under="ignore"):
        total = np.ldexp(mantissa, (exponent - common).reshape(-1, *[1] * (mantissa.ndim - 1)))
    return total.sum(axis=0), common


def _scaled_relative_error(estimate: tuple[np.ndarray, int],
                           reference: tuple[np.ndarray, int]) -> float:
    """Return :func:`relative_error` of two arrays given as (mantissa, exponent)."""
    common = max(estimate[1], reference[1])
    with np.errstate(under="ignore"):
        return relative_error(np.ldexp(estimate[0], estimate[1] - common),
                              np.ldexp(reference[0], reference[1] - common))


@dataclass(frozen=True, eq=False)
class _Scaled:
    """What the backward pass reads, as mantissas (..., k) times 2^exponents (...), per row.

    dO: dL/do_t (T, B, m); e = dO V (T, B, n); h: h_t (T, B, n); prev: h_{t-1}; x: x_t.
    """

    value: float
    dO: tuple[np.ndarray, np.ndarray]
    e: tuple[np.ndarray, np.ndarray]
    h: tuple[np.ndarray, np.ndarray]
    prev: tuple[np.ndarray, np.ndarray]
    x: tuple[np.ndarray, np.ndarray]
    fprime: np.ndarray


def _scaled_signals(params: RNNParams, traj: Trajectory, loss_fn, y) -> _Scaled:
    """Return the loss, its gradient and the states of ``traj`` as mantissas and exponents.

    The states past a forward overflow come from the trajectory's ``h_mantissa`` and
    ``h_exponent``; the outputs and dL/do are formed from them without leaving float64 (the
    softmax of ``ce_all`` from logits less their largest, which changes nothing).
    """
    T, B, _ = traj.x.shape
    m = params.n_output

    def exps(*shape):
        return np.zeros(shape, dtype=np.int64)

    if traj.h_mantissa is not None:
        hm, he = _normalised(traj.h_mantissa, np.broadcast_to(traj.h_exponent[:, None], (T, B)))
    else:
        hm, he = _normalised(traj.h, exps(T, B))
    h0m, h0e = _normalised(traj.h0, exps(B))
    prev = np.concatenate([h0m[None], hm[:-1]]), np.concatenate([h0e[None], he[:-1]])
    V_exponent = exponent_of(params.V)
    V_mantissa = np.ldexp(params.V, -V_exponent)
    cm, ce = _normalised(np.broadcast_to(params.c, (T, B, m)), exps(T, B))
    om, oe = _scaled_sum(*_normalised(hm @ V_mantissa.T, he + V_exponent), cm, ce)
    if loss_fn.all_steps:  # softmax and log-softmax do not change when a logit is subtracted
        shifted = _written_out(om - om.max(axis=-1, keepdims=True), oe)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            value = loss_fn.value(shifted, y)
            dOm, dOe = _normalised(loss_fn.grad(shifted, y), exps(T, B))
    else:  # dL/do_T = o_T - y, the only non-zero step
        target = -loss_fn.grad(np.zeros((T, B, m)), y)[-1]
        tm, te = _normalised(target, exps(B))
        dOm, dOe = np.zeros((T, B, m)), np.full((T, B), ZERO_EXPONENT)
        dOm[-1], dOe[-1] = _scaled_sum(om[-1], oe[-1], -tm, te)
        with np.errstate(over="ignore", under="ignore"):
            value = float(0.5 * np.sum(np.ldexp((dOm[-1] ** 2).sum(axis=-1),
                                                2 * np.maximum(dOe[-1], -(2**20)))))
    return _Scaled(value=value, dO=(dOm, dOe),
                   e=_normalised(dOm @ V_mantissa, dOe + V_exponent), h=(hm, he), prev=prev,
                   x=_normalised(traj.x, exps(T, B)),
                   fprime=get_activation(params.activation).df(traj.z))


def _scaled_lags(em: np.ndarray, ee: np.ndarray, fprime: np.ndarray, W: np.ndarray,
                 steps: np.ndarray, max_lag: int):
    """Yield what :func:`lagged_backward` yields, as mantissas and exponents per row.

    ``(lag, positions, (D mantissa (L, B, n), exponent (L, B)), (to_h0 mantissa (B, n),
    exponent (B,)))`` for e = em 2^ee.
    """
    sm, se = em[steps], ee[steps]
    for lag in range(max_lag):
        first = int(np.searchsorted(steps, lag))
        if first == len(steps):
            return
        steps, sm, se = steps[first:], sm[first:], se[first:]
        positions = steps - lag
        Dm, De = _normalised(sm * fprime[positions], se)
        sm, se = _normalised(Dm @ W, De)
        to_h0 = (sm[0], se[0]) if positions[0] == 0 else (
            np.zeros_like(sm[0]), np.full(se.shape[1], ZERO_EXPONENT))
        yield lag, positions, (Dm, De), to_h0


def _scaled_backward(params: RNNParams, traj: Trajectory, loss_fn, y, truncate: int | None):
    """Return what :func:`bptt` computes, on mantissas times powers of two (one per row).

    Used when something overflowed. The inputs come from :func:`_scaled_signals`; delta and
    every sum over steps and sequences are carried the same way and written out at the end,
    so that an entry is +-inf only when it lies beyond the float64 range and a term that is
    exactly 0 stays 0. Returns ``(value, delta, dh0, grads, (W_terms, U_terms, b_terms),
    (W_norms, U_norms, b_norms), parts, totals)``: ``parts[name]`` the terms of each gradient
    as (mantissa (T, ...), exponent (T,)), ``totals[name]`` the gradient as (mantissa,
    exponent).
    """
    T, B, _ = traj.x.shape
    signals = _scaled_signals(params, traj, loss_fn, y)
    em, ee = signals.e
    if truncate is None:
        dm, de, gm, ge = _rescaled_delta(em, ee, signals.fprime, params.W)
    else:  # lagged_backward, carried the same way; a position's parts are added as they come
        dm, de = np.zeros_like(em), np.full((T, B), ZERO_EXPONENT)
        gm, ge = np.zeros((B, em.shape[-1])), np.full(B, ZERO_EXPONENT)
        for _, positions, (Dm, De), to_h0 in _scaled_lags(em, ee, signals.fprime, params.W,
                                                           loss_fn.loss_steps(T), truncate):
            dm[positions], de[positions] = _scaled_sum(dm[positions], de[positions], Dm, De)
            gm, ge = _scaled_sum(gm, ge, *to_h0)
    ones = (np.ones((T, B, 1)), np.zeros((T, B), dtype=np.int64))
    parts = {"W": _scaled_outer(dm, de, *signals.prev), "U": _scaled_outer(dm, de, *signals.x),
             "b": _scaled_outer(dm, de, *ones), "V": _scaled_outer(*signals.dO, *signals.h),
             "c": _scaled_outer(*signals.dO, *ones)}
    totals = {name: _scaled_total(*part) for name, part in parts.items()}
    grads = {name: _written_out(total[None], np.array([exponent]))[0]
             for name, (total, exponent) in totals.items()}
    grads["b"], grads["c"] = grads["b"][:, 0], grads["c"][:, 0]
    terms = tuple(_written_out(parts[name][0], parts[name][1][:, None]) for name in "WUb")
    norms = tuple(_scaled_norms(*parts[name]) for name in "WUb")
    return (signals.value, _written_out(dm, de), _written_out(gm, ge), grads,
            (terms[0], terms[1], terms[2][..., 0]), norms, parts, totals)


def _scaled_norms(mantissa: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """Return the Frobenius norm of each mantissa[t] 2^exponent[t] (inf beyond the range)."""
    with np.errstate(over="ignore", under="ignore"):
        return np.ldexp(np.linalg.norm(mantissa.reshape(len(mantissa), -1), axis=1),
                        np.maximum(exponent, -(2**20)))


def relative_error(estimate, reference) -> float:
    """Return ||estimate - reference|| / ||reference|| (Frobenius norms; 0 if both are zero).

    Raises
    ------
    ValueError
        If the shapes differ. (Finite input gives a finite or inf result; NaN or inf entries
        give NaN where the difference is undefined.)
    TypeError
        If an argument is not a numeric array.
    """
    a = check_array("estimate", estimate, finite=False)
    b = check_array("reference", reference, finite=False)
    check_same_shape(estimate=a, reference=b)
    # divide both by one power of two first, so that neither the difference nor a norm
    # overflows for finite input (an exact scaling: the ratio is unchanged)
    exponent = max(exponent_of(a), exponent_of(b))
    a, b = np.ldexp(a, -exponent), np.ldexp(b, -exponent)
    scale = safe_norm(b)
    diff = safe_norm(a - b)
    if scale == 0.0:
        return 0.0 if diff == 0.0 else float("inf")
    with np.errstate(over="ignore"):
        return float(diff / scale)


def truncation_error(
    params: RNNParams,
    x,
    y,
    loss: str = "mse_last",
    *,
    truncate: int,
    h0=None,
) -> dict[str, float]:
    """Return the relative error of the truncated gradient against full BPTT, per parameter.

    Keys ``U, W, b, V, c``; each value is ||g_trunc - g_full|| / ||g_full|| (see
    :func:`relative_error`). V and c have no long-range term, so their error is 0.
    """
    if truncate is None:
        raise TypeError("truncate must be a positive integer, got None")
    full = bptt(params, x, y, loss, h0=h0, keep_terms=False, keep_chain=False)
    cut = bptt(params, x, y, loss, h0=h0, truncate=truncate, keep_terms=False, keep_chain=False)
    return {name: relative_error(cut.grads[name], full.grads[name]) for name in PARAMETER_NAMES}


@dataclass(frozen=True, eq=False)
class TruncationProfile:
    """The terms of dL/dW under full and truncated BPTT, and the error for every window.

    Attributes
    ----------
    steps : ndarray of int, shape (T,)
        Steps k = 1..T; term k of dL/dW is delta_k^T h_{k-1}.
    full_norms : ndarray, shape (T,)
        ||term k||_F under full BPTT.
    truncated_norms : ndarray, shape (T,)
        ||term k||_F of the gradient truncated at ``window``.
    windows : ndarray of int, shape (T,)
        Window lengths K = 1..T.
    errors : ndarray, shape (T,)
        Relative error of truncated dL/dW for each window K (``errors[K-1]``); 0 at K = T.
    window : int
        The window K of ``truncated_norms``.
    error : float
        ``errors[window - 1]``.
    rho : float
        rho(W) of the model.
    activation : str
    loss : str
    """

    steps: np.ndarray
    full_norms: np.ndarray
    truncated_norms: np.ndarray
    windows: np.ndarray
    errors: np.ndarray
    window: int
    error: float
    rho: float
    activation: str
    loss: str


def truncation_profile(
    params: RNNParams, x, y, window: int, loss: str = "mse_last", *, h0=None
) -> TruncationProfile:
    """Return the :class:`TruncationProfile` of dL/dW for truncation windows K = 1..T.

    Every window's gradient comes from :func:`bptt` with ``truncate=K`` (T + 1 backward passes
    in all), so the errors hold for both losses.

    Parameters
    ----------
    params, x, y, loss, h0
        As in :func:`bptt`; x is (T, d) or (T, B, d).
    window : int
        The window K, 1 <= K <= T, whose terms are returned in ``truncated_norms``.
    """
    if isinstance(window, bool) or not isinstance(window, int | np.integer):
        raise TypeError(f"window must be an integer, got {window!r}")
    full = bptt(params, x, y, loss, h0=h0, keep_terms=False, keep_chain=False)
    T = full.delta.shape[0]
    if not 1 <= window <= T:
        raise ValueError(f"window must lie in [1, T] = [1, {T}] for x of length T={T}, "
                         f"got {window}")
    errors = np.empty(T)
    truncated_norms = full.W_term_norms
    # after an overflow the gradients are compared as mantissas and powers of two: two
    # gradients written out as inf have no float64 difference
    overflowed = full.trajectory.h_mantissa is not None or not np.all(
        np.isfinite(full.grads["W"]))
    if overflowed:
        loss_fn = get_loss(loss)
        reference = _scaled_backward(params, full.trajectory, loss_fn, y, None)[-1]["W"]
    for K in range(1, T + 1):
        cut = bptt(params, x, y, loss, h0=h0, truncate=K, keep_terms=False, keep_chain=False)
        if overflowed:
            estimate = _scaled_backward(params, full.trajectory, loss_fn, y,
                                        None if K >= T else K)[-1]["W"]
            errors[K - 1] = _scaled_relative_error(estimate, reference)
        else:
            with np.errstate(over="ignore", invalid="ignore"):
                errors[K - 1] = relative_error(cut.grads["W"], full.grads["W"])
        if K == window:
            truncated_norms = cut.W_term_norms
    return TruncationProfile(
        steps=np.arange(1, T + 1),
        full_norms=full.W_term_norms,
        truncated_norms=truncated_norms,
        windows=np.arange(1, T + 1),
        errors=errors,
        window=int(window),
        error=float(errors[window - 1]),
        rho=spectral_radius(params.W),
        activation=params.activation,
        loss=full.loss,
    )


def _short(value: float) -> str:
    """Return a number with 2 significant digits, or 'inf'/'nan' (for text, not for tests)."""
    return f"{value:.2g}" if np.isfinite(value) else str(value)


def describe_truncation(profile: TruncationProfile) -> str:
    """Return a short description of a :class:`TruncationProfile` (alt text of its figure)."""
    if not isinstance(profile, TruncationProfile):
        raise TypeError(f"expected a TruncationProfile, got {type(profile).__name__}")
    T, K = len(profile.steps), profile.window
    norms = profile.full_norms
    largest = float(np.max(norms))  # inf or nan when the network overflows
    if K == T:
        cut = f"A window of {K} steps is full BPTT: it keeps every term."
    elif profile.loss == "mse_last":
        cut = (f"A window of {K} steps keeps terms {T - K + 1} to {T} and drops the {T - K} "
               f"earlier ones.")
    else:
        cut = f"A window of {K} steps lets each loss term reach back {K} steps only."
    return (
        f"Norms of the {T} terms of dL/dW of an RNN (activation {profile.activation}, spectral "
        f"radius {profile.rho:.2g}), on a log scale: the last term is "
        f"{_short(float(norms[-1]))}, the first {_short(float(norms[0]))}, the largest "
        f"{_short(largest)}. {cut} The truncated gradient's relative error is "
        f"{_short(profile.error)}. A second panel shows that error for every window from 1 "
        f"to {T}."
    )
