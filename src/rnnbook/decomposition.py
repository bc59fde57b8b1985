"""The gradient is a sum of products: dL/dW split by distance, and the deep-MLP contrast.

For the last-step loss L = L_T, BPTT writes the recurrent gradient as a sum over steps::

    dL/dW = sum_{k=1..T} g_k,   g_k = [(dL/dh_T) (dh_T/dh_k) diag(f'(z_k))]^T h_{k-1},

and term g_k sits at *distance* T - k from the loss. Far terms carry long products of
Jacobians and vanish (or explode); near terms do not, so the total is dominated by the near
terms instead of vanishing. For the all-steps loss L = sum_s L_s the same split is done per
loss term: the part of dL_s/dW that enters at step s - d is at distance d.

The terms come from :func:`rnnbook.bptt.bptt` (last-step loss) and
:func:`rnnbook.bptt.lagged_backward` (all-steps loss); nothing here re-derives them.

Contrast: a T-layer feed-forward network with the same graph but *untied* weights W_1..W_T
(layer l reads x_l and h_{l-1}) has a separate gradient dL/dW_l for each layer, and the
early layers' gradients are single products that vanish.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbook.activations import get_activation
from rnnbook.bptt import (
    ZERO_EXPONENT,
    _scaled_backward,
    _scaled_lags,
    _scaled_norms,
    _scaled_outer,
    _scaled_signals,
    _written_out,
    backward_recursion,
    bptt,
    lagged_backward,
    term_norms,
)
from rnnbook.checks import check_array, check_count, check_flag, check_real
from rnnbook.losses import get_loss
from rnnbook.numerics import exponent_of, safe_norm
from rnnbook.rnn import RNNParams, forward
from rnnbook.spectra import gaussian_matrix, rescale_to_spectral_radius


@dataclass(frozen=True, eq=False)
class DistanceDecomposition:
    """The gradients of U, W, b split into terms by distance from the loss.

    Attributes
    ----------
    loss : str
    distance : ndarray of int, shape (T,)
        0, 1, ..., T-1.
    W_terms, U_terms, b_terms : ndarray or None, shapes (T, n, n), (T, n, d), (T, n)
        ``W_terms[d]``: the sum of all terms at distance d; sum over d gives ``grads["W"]``.
        None when computed with ``keep_terms=False``.
    W_norms, U_norms, b_norms : ndarray, shape (T,)
        Frobenius norms of the terms at each distance.
    grads : dict of str to ndarray
        The total gradients (U, W, b, V, c) from full BPTT.
    """

    loss: str
    distance: np.ndarray
    W_terms: np.ndarray | None
    U_terms: np.ndarray | None
    b_terms: np.ndarray | None
    W_norms: np.ndarray
    U_norms: np.ndarray
    b_norms: np.ndarray
    grads: dict[str, np.ndarray]


def distance_decomposition(
    params: RNNParams,
    x,
    y,
    loss: str = "mse_last",
    *,
    h0=None,
    keep_terms: bool = True,
) -> DistanceDecomposition:
    """Return the :class:`DistanceDecomposition` of dL/dU, dL/dW, dL/db.

    Parameters
    ----------
    params, x, y, loss, h0
        As in :func:`rnnbook.bptt.bptt`.
    keep_terms : bool
        Return the term arrays; their norms are always returned.

    Notes
    -----
    For ``mse_last`` this is the one BPTT recursion, reordered by distance: O(T n^2). For
    ``ce_all`` every loss term is followed back separately (all of them at once, one lag per
    step), which costs O(T^2 n^2): meant for the book's sequence lengths (T up to a few
    hundred), not for long sequences.
    """
    keep_terms = check_flag("keep_terms", keep_terms)
    all_steps = get_loss(loss).all_steps
    result = bptt(params, x, y, loss, h0=h0, keep_terms=keep_terms and not all_steps,
                  keep_chain=False)
    T = result.delta.shape[0]
    distance = np.arange(T)
    if not all_steps:
        flip = slice(None, None, -1)
        return DistanceDecomposition(
            loss=result.loss,
            distance=distance,
            W_terms=result.W_terms[flip] if keep_terms else None,
            U_terms=result.U_terms[flip] if keep_terms else None,
            b_terms=result.b_terms[flip] if keep_terms else None,
            W_norms=result.W_term_norms[flip].copy(),
            U_norms=result.U_term_norms[flip].copy(),
            b_norms=result.b_term_norms[flip].copy(),
            grads=result.grads,
        )
    traj = result.trajectory
    n, d = params.n_hidden, params.n_input
    dO = get_loss(loss).grad(traj.o, y)
    h_prev = traj.h_prev
    W_terms = np.zeros((T, n, n))
    U_terms = np.zeros((T, n, d))
    b_terms = np.zeros((T, n))
    with np.errstate(over="ignore", invalid="ignore"):
        fprime = get_activation(params.activation).df(traj.z)
        lags = lagged_backward(dO @ params.V, fprime, params.W, get_loss(loss).loss_steps(T), T)
        for lag, positions, D, _ in lags:
            W_terms[lag] = np.tensordot(D, h_prev[positions], axes=([0, 1], [0, 1]))
            U_terms[lag] = np.tensordot(D, traj.x[positions], axes=([0, 1], [0, 1]))
            b_terms[lag] = D.sum(axis=(0, 1))
        norms = {name: np.linalg.norm(terms.reshape(T, -1), axis=1)
                 for name, terms in (("W", W_terms), ("U", U_terms), ("b", b_terms))}
    if traj.h_mantissa is not None or not all(np.all(np.isfinite(v)) for v in norms.values()):
        W_terms, U_terms, b_terms, norms = _scaled_terms_by_distance(params, traj, loss, y)
    return DistanceDecomposition(
        loss=result.loss,
        distance=distance,
        W_terms=W_terms if keep_terms else None,
        U_terms=U_terms if keep_terms else None,
        b_terms=b_terms if keep_terms else None,
        W_norms=norms["W"],
        U_norms=norms["U"],
        b_norms=norms["b"],
        grads=result.grads,
    )


def _scaled_terms_by_distance(params: RNNParams, traj, loss: str, y):
    """Return the all-steps loss's terms by distance (W, U, b) and their norms, after overflow.

    The loop of :func:`distance_decomposition` on mantissas times powers of two (see
    :mod:`rnnbook.bptt`'s overflow contract): +-inf beyond the float64 range, never NaN.
    """
    T, B, _ = traj.x.shape
    loss_fn = get_loss(loss)
    signals = _scaled_signals(params, traj, loss_fn, y)
    ones = (np.ones((T, B, 1)), np.zeros((T, B), dtype=np.int64))
    sources = {"W": signals.prev, "U": signals.x, "b": ones}
    mantissas = {name: np.zeros((T, params.n_hidden, m.shape[-1]))
                 for name, (m, _) in sources.items()}
    exponents = {name: np.full(T, ZERO_EXPONENT) for name in sources}
    for lag, positions, (Dm, De), _ in _scaled_lags(*signals.e, signals.fprime, params.W,
                                                    loss_fn.loss_steps(T), T):
        for name, (am, ae) in sources.items():
            mantissa, exponent = _scaled_outer(
                Dm.reshape(1, -1, Dm.shape[-1]), De.reshape(1, -1),
                am[positions].reshape(1, -1, am.shape[-1]), ae[positions].reshape(1, -1))
            mantissas[name][lag], exponents[name][lag] = mantissa[0], exponent[0]
    terms = {name: _written_out(mantissas[name], exponents[name][:, None]) for name in sources}
    norms = {name: _scaled_norms(mantissas[name], exponents[name]) for name in sources}
    return terms["W"], terms["U"], terms["b"][..., 0], norms


def _check_norms(norms) -> np.ndarray:
    array = check_array("norms", norms, finite=False)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"norms must be a non-empty 1-D array (T,), got shape {array.shape}")
    if np.any(array < 0):
        raise ValueError("norms must be non-negative")
    return array


def far_share(norms) -> np.ndarray:
    """Return, for each d, the share of the term norms that comes from distances > d, (T,).

    share(d) = sum_{d' > d} ||g_{d'}|| / sum_{d'} ||g_{d'}||.

    This is the definition the book uses: it lies in [0, 1], falls monotonically from
    share(-1) = 1 to share(T-1) = 0, and by the triangle inequality it bounds how much the far
    terms can add to the total, ||sum_{d' > d} g_{d'}|| <= share(d) * sum ||g||. The norm of a
    partial sum (:func:`far_norm_share`) can cancel and is not monotone in d.

    Parameters
    ----------
    norms : array_like, shape (T,)
        Term norms by distance, ``norms[d]`` = ||g at distance d||.

    Returns zeros if every norm is zero. Norms written out as inf have no ratio, so they give
    NaN; :func:`term_norms_by_distance` therefore takes the shares of an exploded network from
    its terms as mantissas and powers of two, which never gives NaN.
    """
    array = _check_norms(norms)
    with np.errstate(over="ignore", invalid="ignore"):
        total = array.sum()
        if total == 0.0:
            return np.zeros_like(array)
        beyond = np.concatenate([np.cumsum(array[::-1])[::-1][1:], [0.0]])
        return beyond / total


def far_norm_share(terms) -> np.ndarray:
    """Return ||F_d|| / (||N_d|| + ||F_d||) for each d, shape (T,).

    F_d = sum_{d' > d} g_{d'} is the far part of the gradient and N_d = sum_{d' <= d} g_{d'}
    the near part (so N_d + F_d is the total). The ratio lies in [0, 1] (0 if both parts are
    zero), but it is not monotone in d in general, because far terms can cancel.

    Parameters
    ----------
    terms : array_like, shape (T, ...)
        Terms by distance, e.g. ``DistanceDecomposition.W_terms``.
    """
    array = check_array("terms", terms, finite=False)
    if array.ndim < 1 or array.shape[0] == 0:
        raise ValueError(f"terms must have a non-empty distance axis, got shape {array.shape}")
    T = array.shape[0]
    # the ratio does not change when every term is divided by one power of two: scaled so
    # that the largest entry is below 1, no partial sum overflows (exact: no rounding added)
    flat = np.ldexp(array.reshape(T, -1), -exponent_of(array)) if np.all(
        np.isfinite(array)) else array.reshape(T, -1)
    with np.errstate(over="ignore", invalid="ignore"):
        near = np.cumsum(flat, axis=0)
        far = near[-1] - near
        near_norm = np.linalg.norm(near, axis=1)
        far_norm = np.linalg.norm(far, axis=1)
        denominator = near_norm + far_norm
        safe = np.where(denominator > 0, denominator, 1.0)
        return np.where(denominator > 0, far_norm / safe, 0.0)


def effective_horizon(norms, eps: float = 1e-3) -> int:
    """Return the largest distance whose term norm is at least ``eps`` times the largest one.

    Beyond the returned distance every term norm is below eps * max_d ||g_d||: the far
    dependencies past it are, to that tolerance, invisible in the gradient. Non-finite norms
    count as large.

    Parameters
    ----------
    norms : array_like, shape (T,)
        Term norms by distance.
    eps : float
        Relative tolerance in (0, 1].
    """
    array = _check_norms(norms)
    eps = check_real("eps", eps, low=0.0, strict=True, high=1.0)
    if np.isnan(array).all():
        return array.size - 1
    with np.errstate(over="ignore", invalid="ignore"):
        threshold = eps * np.nanmax(array)
        visible = np.flatnonzero(~(array < threshold))
    return int(visible[-1])


def _check_setup(rho, T, n, seed) -> None:
    check_real("rho", rho, low=0.0)
    check_count("T", T)
    check_count("n", n)
    check_count("seed", seed, 0)


def scaled_rnn_problem(
    rho: float, T: int, activation: str = "tanh", *, n: int = 32, seed: int = 0
) -> tuple[RNNParams, np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(params, x (T, 1), h0 (n,), y (1,))``: a random RNN with rho(W) set exactly.

    W is Gaussian (entries of std 1/sqrt(n)) rescaled so that its spectral radius is
    ``rho``; inputs, initial state and the last-step target are standard normal.
    h0 is random, not zero, so that the farthest term delta_1^T h_0 is not zero by design.
    """
    _check_setup(rho, T, n, seed)
    params = RNNParams.random(1, n, 1, activation=activation, seed=seed)
    params = params.replace(W=rescale_to_spectral_radius(params.W, float(rho)))
    rng = np.random.default_rng([seed, 1])
    return params, rng.normal(size=(T, 1)), rng.normal(size=n), rng.normal(size=1)


@dataclass(frozen=True, eq=False)
class DistanceProfile:
    """Norms of the terms of dL/dW against distance, for a random RNN with a set rho(W).

    Attributes
    ----------
    distance : ndarray of int, shape (T,)
        Distance T - k of term g_k from the loss.
    norms : ndarray, shape (T,)
        ||g at distance d||_F (last-step loss).
    far_share : ndarray, shape (T,)
        :func:`far_share` of ``norms``.
    far_norm_share : ndarray, shape (T,)
        :func:`far_norm_share` of the terms.
    horizon : int
        :func:`effective_horizon` of ``norms`` at ``eps``.
    total_norm : float
        ||dL/dW||_F, the norm of the sum.
    max_term_norm : float
        The largest term norm.
    rho : float
    activation : str
    eps : float
    overflow_step : int or None
        Where the gradient left float64 (:attr:`rnnbook.bptt.BPTTResult.overflow_step`;
        None: nowhere); NaN norms appear only then (inf - inf has no float64 value).
    """

    distance: np.ndarray
    norms: np.ndarray
    far_share: np.ndarray
    far_norm_share: np.ndarray
    horizon: int
    total_norm: float
    max_term_norm: float
    rho: float
    activation: str
    eps: float
    overflow_step: int | None = None


def term_norms_by_distance(rho: float, T: int, activation: str = "tanh", *, n: int = 32,
                           seed: int = 0, eps: float = 1e-3) -> DistanceProfile:
    """Return the :class:`DistanceProfile` of a random RNN (see :func:`scaled_rnn_problem`).

    Parameters
    ----------
    rho : float
        rho(W), >= 0.
    T : int
        Sequence length; the loss is the squared error of the last step.
    activation : str
    n : int
        Hidden size.
    seed : int
    eps : float
        Tolerance of the effective horizon.
    """
    params, x, h0, y = scaled_rnn_problem(rho, T, activation, n=n, seed=seed)
    parts = distance_decomposition(params, x, y, "mse_last", h0=h0)
    result = bptt(params, x, y, "mse_last", h0=h0, keep_terms=False, keep_chain=False)
    with np.errstate(over="ignore", invalid="ignore"):
        total = float(safe_norm(parts.grads["W"]))
        largest = float(np.max(parts.W_norms))
    terms, norms = parts.W_terms, parts.W_norms
    if not np.all(np.isfinite(norms)):
        # shares and the horizon are ratios: read them from the terms as mantissas and powers
        # of two, all divided by the largest power (written out, two infs have no ratio)
        mantissa, exponent = _scaled_backward(params, result.trajectory, get_loss("mse_last"),
                                              y, None)[-2]["W"]
        with np.errstate(under="ignore"):
            terms = np.ldexp(mantissa, (exponent - exponent.max())[:, None, None])[::-1]
        norms = np.linalg.norm(terms.reshape(len(terms), -1), axis=1)
    return DistanceProfile(
        distance=parts.distance,
        norms=parts.W_norms,
        far_share=far_share(norms),
        far_norm_share=far_norm_share(terms),
        horizon=effective_horizon(norms, eps),
        total_norm=total,
        max_term_norm=largest,
        rho=float(rho),
        activation=activation,
        eps=float(eps),
        overflow_step=result.overflow_step,
    )


def untied_layer_grad_norms(params: RNNParams, Ws, x, y, h0=None) -> np.ndarray:
    """Return ||dL/dW_l||_F for layers l = 1..T of the untied network, shape (T,).

    The network has the RNN's graph with one weight matrix per step,
    z_l = U x_l + W_l h_{l-1} + b, h_l = f(z_l), and the last-step loss
    L = 1/2 ||y - (V h_T + c)||^2: a T-layer feed-forward network in which layer l also reads
    x_l. Its gradients come from the same backward recursion as BPTT
    (:func:`rnnbook.bptt.backward_recursion` with a per-step W).

    Parameters
    ----------
    params : RNNParams
        Supplies U, b, V, c and the activation (its W is not used).
    Ws : array_like, shape (T, n, n)
        ``Ws[l-1]`` is W_l.
    x : array_like, shape (T, d)
    y : array_like, shape (m,)
    h0 : array_like, shape (n,), optional
    """
    if not isinstance(params, RNNParams):
        raise TypeError(f"params must be RNNParams, got {type(params).__name__}")
    weights = check_array("Ws", Ws, finite=False)
    traj = forward(params, x, h0)  # validates x and h0; its states are replaced below
    T, B, n = traj.z.shape
    if weights.shape != (T, n, n):
        raise ValueError(f"Ws must have shape (T, n, n) = {(T, n, n)} for x of length T={T} "
                         f"and hidden size n={n}, got {weights.shape}")
    if not np.all(np.isfinite(weights)):
        raise ValueError("Ws contains NaN or infinite values")
    f = get_activation(params.activation)
    z = np.empty((T, B, n))
    h = np.empty((T, B, n))
    state = traj.h0
    inputs = traj.x @ params.U.T + params.b
    with np.errstate(over="ignore", invalid="ignore"):
        for layer in range(T):
            z[layer] = inputs[layer] + state @ weights[layer].T
            h[layer] = f.f(z[layer])
            state = h[layer]
        o = h @ params.V.T + params.c
        dO = get_loss("mse_last").grad(o, y)
        delta, _, _ = backward_recursion(dO @ params.V, f.df(z), weights)
        h_prev = np.concatenate([traj.h0[None], h[:-1]], axis=0)
        return term_norms(delta, h_prev)


@dataclass(frozen=True, eq=False)
class DepthContrast:
    """Gradient norms by distance from the loss: untied deep network vs RNN.

    Attributes
    ----------
    distance : ndarray of int, shape (T,)
        Distance from the loss: layer l, or term k, sits at distance T - l (T - k).
    mlp_layer_norms : ndarray, shape (T,)
        ||dL/dW_l|| of the untied network, by distance: the last entry is the first layer's
        whole gradient.
    rnn_term_norms : ndarray, shape (T,)
        ||g at distance d|| of the RNN.
    rnn_total_norm : float
        ||dL/dW|| of the RNN, the norm of the sum of its terms.
    rho : float
    activation : str
    overflow_step : int or None
        Where the RNN's gradient left float64 (:attr:`rnnbook.bptt.BPTTResult.overflow_step`;
        None: nowhere); NaN norms appear only then (inf - inf has no float64 value).
    """

    distance: np.ndarray
    mlp_layer_norms: np.ndarray
    rnn_term_norms: np.ndarray
    rnn_total_norm: float
    rho: float
    activation: str
    overflow_step: int | None = None


def mlp_vs_rnn(rho: float, T: int, activation: str = "tanh", *, n: int = 32,
               seed: int = 0) -> DepthContrast:
    """Return the :class:`DepthContrast` of an RNN and its untied T-layer counterpart.

    Both share U, b, V, c, the inputs, h0 and the target (:func:`scaled_rnn_problem`); the
    RNN uses one W, the untied network T independent Gaussian W_l, each rescaled to the same
    spectral radius.
    """
    params, x, h0, y = scaled_rnn_problem(rho, T, activation, n=n, seed=seed)
    rng = np.random.default_rng([seed, 2])
    Ws = np.stack([rescale_to_spectral_radius(gaussian_matrix(n, 1.0, rng), float(rho))
                   for _ in range(T)])
    mlp = untied_layer_grad_norms(params, Ws, x, y, h0)
    rnn = bptt(params, x, y, "mse_last", h0=h0, keep_terms=False, keep_chain=False)
    with np.errstate(over="ignore", invalid="ignore"):
        total = float(np.linalg.norm(rnn.grads["W"]))
    overflow_step = rnn.overflow_step
    return DepthContrast(
        distance=np.arange(T),
        mlp_layer_norms=mlp[::-1].copy(),
        rnn_term_norms=rnn.W_term_norms[::-1].copy(),
        rnn_total_norm=total,
        rho=float(rho),
        activation=activation,
        overflow_step=overflow_step,
    )


def _short(value: float) -> str:
    return f"{value:.2g}" if np.isfinite(value) else "overflow (inf)"


def describe_profile(profile: DistanceProfile, beyond: int = 10) -> str:
    """Return a description of a :class:`DistanceProfile` in words and numbers (alt text).

    Names the term norms at a few distances, the norm of the whole gradient, the share of the
    term norms beyond distance ``beyond`` and the effective horizon.
    """
    if not isinstance(profile, DistanceProfile):
        raise TypeError(f"describe_profile expects a DistanceProfile, got "
                        f"{type(profile).__name__}")
    check_count("beyond", beyond, 0)
    T = profile.distance.size
    picks = dict.fromkeys(d for d in (0, 5, 10, 20, T - 1) if d < T)
    norms = ", ".join(f"{_short(profile.norms[d])} at distance {d}" for d in picks)
    beyond = min(int(beyond), T - 1)
    share = profile.far_share[beyond]
    share_text = (f"terms farther than {beyond} make up {100 * share:.2g}% of the sum of term "
                  f"norms" if np.isfinite(share) else "the share of far terms is undefined")
    return (f"Norms of the terms of dL/dW against distance, {profile.activation} RNN with "
            f"spectral radius {profile.rho:g} and T = {T}, on a log scale: "
            f"{norms}. The whole gradient has norm {_short(profile.total_norm)}; {share_text}; "
            f"effective horizon {profile.horizon} (terms above {profile.eps:g} of the largest).")
