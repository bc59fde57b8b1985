"""Per-step Jacobians of an Elman RNN, their products over spans, and the bounds on them.

In the book's notation (state space)::

    J_t = dh_t/dh_{t-1} = diag(f'(z_t)) W,          t = 1..T
    dh_t/dh_k = J_t J_{t-1} ... J_{k+1}
              = D_t W D_{t-1} W ... D_{k+1} W,        D_j = diag(f'(z_j))

Seed 002 differentiates the pre-activations ("net") instead (net space)::

    K_t = dz_t/dz_{t-1} = W diag(f'(z_{t-1})) = W D_{t-1},   t = 2..T
    dz_t/dz_k = K_t ... K_{k+1} = W D_{t-1} W D_{t-2} ... W D_k

Both are right; they are Jacobians of different variables. The two chains hold the same
factors, cut at a different place, and they meet in the mixed Jacobian dh_t/dz_k::

    dh_t/dz_k = D_t (dz_t/dz_k) = (dh_t/dh_k) D_k

and W (dh_t/dh_k) = (dz_{t+1}/dz_{k+1}) W. One step has J_t = D_t W and K_{t+1} = W D_t: the
products AB and BA, which share their eigenvalues but in general not their singular values.
Both obey the same bound: each factor has norm <= gamma sigma_max(W), gamma = sup |f'|.

Spans, for every cell. :func:`span_products` and :func:`span_norms` are the one place the book
multiplies one-step Jacobians over spans, for the Elman RNN here and for the LSTM and GRU
(:mod:`rnnbook.lstm`, :mod:`rnnbook.gru`, whose Jacobians carry a batch axis). One index
convention: entry d is the span of distance d that ends at the last step,
P_d = J_T J_{T-1} ... J_{T-d+1} = ds_T/ds_{T-d}, with P_0 = I (reverse the first axis,
``[::-1]``, to index by the earlier step k = T - d). The norms are computed from a running
product rescaled by exact powers of two, so they never overflow.

Overflow contract. A product or norm beyond the float64 range (about 1.8e308) is ``+inf`` or
``-inf`` with its true sign, and one below it is 0; an entry that is exactly 0 stays 0. NaN
appears only where the input holds NaN (a forward pass given NaN): never from finite
Jacobians. ``rescaled=True`` returns the products themselves as mantissas and powers of two,
for spans far beyond the float range.

Norms are spectral norms (largest singular value) throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbook.activations import ACTIVATIONS, get_activation
from rnnbook.checks import (
    check_array,
    check_choice,
    check_count,
    check_each,
    check_flag,
    check_real,
    check_type,
)
from rnnbook.rnn import RNNParams, Trajectory, forward
from rnnbook.spectra import (
    eigenvalues,
    power_norms,
    rescale_to_spectral_radius,
    rescaled_running_products,
    running_product_log2_norms,
    spectral_norm,
    spectral_radius,
)


def _check_pair(params, trajectory) -> None:
    check_type("params", params, RNNParams)
    check_type("trajectory", trajectory, Trajectory)
    if trajectory.z.ndim != 3 or trajectory.z.shape[2] != params.n_hidden:
        raise ValueError(f"trajectory.z has shape {trajectory.z.shape}, expected (T, B, "
                         f"{params.n_hidden}) for hidden size n={params.n_hidden}")


def slopes(params: RNNParams, trajectory: Trajectory, batch: int = 0) -> np.ndarray:
    """Return f'(z_t) for t = 1..T, shape (T, n): the diagonals of D_t for one batch element.

    Where the forward pass overflowed to NaN the slope is NaN (never a silent 0).
    """
    _check_pair(params, trajectory)
    batch = check_count("batch", batch, 0, trajectory.z.shape[1] - 1)
    z = trajectory.z[:, batch]
    with np.errstate(invalid="ignore", over="ignore"):
        d = get_activation(params.activation).df(z)
    return np.where(np.isnan(z), np.nan, d)


def step_jacobians(params: RNNParams, trajectory: Trajectory, batch: int = 0) -> np.ndarray:
    """Return J_t = dh_t/dh_{t-1} = diag(f'(z_t)) W for t = 1..T, shape (T, n, n).

    ``J[t - 1]`` is J_t; ``batch`` selects the sequence of the trajectory's batch.
    """
    return slopes(params, trajectory, batch)[:, :, None] * params.W


def net_jacobians(params: RNNParams, trajectory: Trajectory, batch: int = 0) -> np.ndarray:
    """Return K_t = dz_t/dz_{t-1} = W diag(f'(z_{t-1})) for t = 2..T, shape (T - 1, n, n).

    Seed 002's net-space Jacobian; ``K[t - 2]`` is K_t (there is no z_0, so K_1 does not exist).
    """
    slope = slopes(params, trajectory, batch)  # checks params first
    return params.W * slope[:-1, None, :]


def _check_stack(jacobians) -> np.ndarray:
    if isinstance(jacobians, str) or jacobians is None:
        raise TypeError(f"jacobians must be an array (T, n, n), got {type(jacobians).__name__}")
    stack = check_array("jacobians", jacobians, finite=False)
    if stack.ndim != 3 or stack.shape[1] != stack.shape[2] or stack.shape[1] == 0:
        raise ValueError(f"jacobians must have shape (T, n, n), got {stack.shape}")
    return stack


def span_product(jacobians, t: int, k: int) -> np.ndarray:
    """Return J_t J_{t-1} ... J_{k+1}, shape (n, n), from J of shape (T, n, n) (J[j-1] = J_j).

    0 <= k <= t <= T; t = k gives the identity. The last entry of :func:`span_products` over
    J_{k+1}..J_t: an entry beyond the float64 range is +-inf with its sign, never NaN from
    finite Jacobians (use :func:`span_norm` for norms that stay finite).
    """
    stack = _check_stack(jacobians)
    T, n = stack.shape[0], stack.shape[1]
    t = check_count("t", t, 0, T)
    k = check_count("k", k, 0, t)
    return np.eye(n) if t == k else span_products(stack[k:t])[-1]


def _check_spans(jacobians) -> np.ndarray:
    if isinstance(jacobians, str) or jacobians is None:
        raise TypeError(f"jacobians must be an array (T, ..., n, n), got "
                        f"{type(jacobians).__name__}")
    stack = check_array("jacobians", jacobians, finite=False)
    if stack.ndim < 3 or stack.shape[-1] != stack.shape[-2] or stack.shape[-1] == 0:
        raise ValueError(f"jacobians must have shape (T, n, n) or (T, B, n, n), got "
                         f"{stack.shape}")
    return stack


def span_products(jacobians, *, rescaled: bool = False):
    """Return P_d = J_T J_{T-1} ... J_{T-d+1} for d = 0..T, shape (T + 1, ..., n, n); P_0 = I.

    P_d = ds_T/ds_{T-d} when J are the step Jacobians (J[t - 1] = J_t = ds_t/ds_{t-1}). One
    backward accumulation, P_d = P_{d-1} J_{T-d+1}.

    Parameters
    ----------
    jacobians : array_like, shape (T, n, n) or (T, B, n, n)
        One-step Jacobians, with optional batch axes between T and the matrix axes.
    rescaled : bool
        False: return the products as float64 arrays: an entry beyond the float64 range is
        ``+inf`` or ``-inf`` with its sign (never NaN from finite Jacobians), like
        :func:`span_norms`. True: return ``(Q, exponents)`` with P_d = Q_d 2^exponents[d], shapes
        (T + 1, ..., n, n) and (T + 1, ...): the same products to the bit, rescaled by exact
        powers of two so that they never overflow (see
        :func:`rnnbook.spectra.rescaled_running_products`); for norms of spans far beyond the
        float range, or of parts of them.
    """
    stack = _check_spans(jacobians)
    T, n = stack.shape[0], stack.shape[-1]
    if check_flag("rescaled", rescaled):
        batch = stack.shape[1:-2]
        Q = np.empty((T + 1, *batch, n, n))
        exponents = np.zeros((T + 1, *batch), dtype=np.int64)
        Q[0] = np.eye(n)
        for index in np.ndindex(*batch):
            chain = stack[(slice(None), *index)][::-1]
            for d, (product, shift) in enumerate(rescaled_running_products(chain), start=1):
                Q[(d, *index)] = product
                exponents[(d, *index)] = shift
        return Q, exponents
    products = np.empty((T + 1, *stack.shape[1:]))
    products[0] = np.eye(n)
    with np.errstate(over="ignore", invalid="ignore"):
        for d in range(1, T + 1):
            products[d] = products[d - 1] @ stack[T - d]
        if np.all(np.isfinite(stack)) and not np.all(np.isfinite(products)):
            # overflow on the way: form the products rescaled (never overflowing), then
            # write them out, so an entry beyond float64 is +-inf with its sign, not NaN
            Q, exponents = span_products(stack, rescaled=True)
            products = np.ldexp(Q, exponents[..., None, None])
    return products


def span_norms(jacobians) -> np.ndarray:
    """Return ||J_T ... J_{T-d+1}|| for d = 0..T, shape (T + 1, ...): every span ending at T.

    Entry d is ||ds_T/ds_{T-d}|| (the norms of :func:`span_products`; ``jacobians`` is
    (T, n, n) or (T, B, n, n)). One backward accumulation, P_d = P_{d-1} J_{T-d+1}, with the
    running product rescaled by exact powers of two (see
    :func:`rnnbook.spectra.running_product_log2_norms`), so it never overflows and every
    representable norm is accurate to round-off. Overflow is not an error: a norm beyond the
    float range (about 1.8e308) is ``inf``, one below it (about 5e-324) is 0; a NaN Jacobian
    (undefined input) makes that span and all longer ones NaN.
    """
    stack = _check_spans(jacobians)
    norms = np.empty((stack.shape[0] + 1, *stack.shape[1:-2]))
    for index in np.ndindex(*stack.shape[1:-2]):
        mantissa, exponent = running_product_log2_norms(stack[(slice(None), *index)][::-1])
        with np.errstate(over="ignore", under="ignore"):
            norms[(slice(None), *index)] = np.ldexp(mantissa, exponent)
    return norms


def span_norm(jacobians, t: int, k: int) -> float:
    """Return ||J_t ... J_{k+1}|| for 0 <= k <= t <= T from J of shape (T, n, n).

    Same overflow handling as :func:`span_norms` (``inf`` beyond the float range).
    """
    stack = _check_stack(jacobians)
    t = check_count("t", t, 0, stack.shape[0])
    k = check_count("k", k, 0, t)
    return float(span_norms(stack[k:t])[-1])


def state_jacobian(params: RNNParams, trajectory: Trajectory, t: int, k: int,
                   batch: int = 0) -> np.ndarray:
    """Return dh_t/dh_k = J_t ... J_{k+1}, shape (n, n), for 0 <= k <= t <= T."""
    return span_product(step_jacobians(params, trajectory, batch), t, k)


def net_jacobian(params: RNNParams, trajectory: Trajectory, t: int, k: int,
                 batch: int = 0) -> np.ndarray:
    """Return dz_t/dz_k = W D_{t-1} W D_{t-2} ... W D_k, shape (n, n), for 1 <= k <= t <= T."""
    _check_pair(params, trajectory)
    T = trajectory.z.shape[0]
    t = check_count("t", t, 1, T)
    k = check_count("k", k, 1, t)
    K = net_jacobians(params, trajectory, batch)
    product = np.eye(params.n_hidden)
    with np.errstate(over="ignore", invalid="ignore"):
        for j in range(t, k, -1):
            product = product @ K[j - 2]
    return product


@dataclass(frozen=True, eq=False)
class JacobianForms:
    """The state-space and net-space Jacobians of one span k..t, and where they meet.

    Attributes
    ----------
    t, k : int
    state : ndarray, shape (n, n)
        dh_t/dh_k = J_t ... J_{k+1} (book notation).
    net : ndarray, shape (n, n)
        dz_t/dz_k = K_t ... K_{k+1} (seed 002's net space).
    slope_t, slope_k : ndarray, shape (n,)
        f'(z_t) and f'(z_k): the diagonals of D_t and D_k.
    mixed : ndarray, shape (n, n)
        dh_t/dz_k = diag(slope_t) net = state diag(slope_k); computed here as the former.
    """

    t: int
    k: int
    state: np.ndarray
    net: np.ndarray
    slope_t: np.ndarray
    slope_k: np.ndarray
    mixed: np.ndarray


def jacobian_forms(params: RNNParams, trajectory: Trajectory, t: int, k: int,
                   batch: int = 0) -> JacobianForms:
    """Return the :class:`JacobianForms` of the span k..t (1 <= k <= t <= T).

    The identity that links the two forms is D_t (dz_t/dz_k) = (dh_t/dh_k) D_k: both sides are
    D_t W D_{t-1} ... W D_k, the derivative of h_t with respect to z_k.
    """
    net = net_jacobian(params, trajectory, t, k, batch)
    state = state_jacobian(params, trajectory, t, k, batch)
    s = slopes(params, trajectory, batch)
    slope_t, slope_k = s[t - 1], s[k - 1]
    return JacobianForms(t=t, k=k, state=state, net=net, slope_t=slope_t, slope_k=slope_k,
                         mixed=slope_t[:, None] * net)


@dataclass(frozen=True, eq=False)
class PascanuCondition:
    """Pascanu et al. (2013): the one-step bound ||J_t|| <= gamma sigma_max(W) = kappa.

    Attributes
    ----------
    gamma : float
        sup |f'| (1 for tanh, relu, identity; 1/4 for sigmoid).
    sigma_max : float
    kappa : float
        gamma sigma_max: ||J_t ... J_{k+1}|| <= kappa^(t - k).
    vanishing_guaranteed : bool
        kappa < 1 (sigma_max < 1/gamma): every product vanishes geometrically. Sufficient.
    explosion_possible : bool
        kappa > 1 (sigma_max > 1/gamma): necessary for explosion, not sufficient.
    """

    gamma: float
    sigma_max: float
    kappa: float
    vanishing_guaranteed: bool
    explosion_possible: bool


def pascanu_condition(W, activation: str) -> PascanuCondition:
    """Return the :class:`PascanuCondition` of recurrent weights W (n, n) and an activation."""
    gamma = get_activation(activation).gamma
    sigma = spectral_norm(W)
    kappa = gamma * sigma
    return PascanuCondition(gamma=gamma, sigma_max=sigma, kappa=kappa,
                            vanishing_guaranteed=kappa < 1.0, explosion_possible=kappa > 1.0)


def pascanu_bound(W, activation: str, steps: int) -> np.ndarray:
    """Return (gamma sigma_max(W))^d for d = 0..steps, shape (steps + 1,); ``inf`` on overflow.

    An upper bound on ||J_t ... J_{t-d+1}|| for every trajectory of an RNN with these
    recurrent weights, since ||diag(f'(z))|| <= gamma and the norm is submultiplicative.
    """
    steps = check_count("steps", steps, 0, 10**9)
    kappa = pascanu_condition(W, activation).kappa
    with np.errstate(over="ignore", under="ignore"):
        return kappa ** np.arange(steps + 1, dtype=float)


@dataclass(frozen=True, eq=False)
class ProductBounds:
    """||dh_T/dh_{T-d}|| along one trajectory, next to the two bounds on it.

    Attributes
    ----------
    d : ndarray, shape (T + 1,)
        Span lengths 0..T (steps back from T).
    norms : ndarray, shape (T + 1,)
        ||J_T ... J_{T-d+1}|| (``inf`` beyond the float range, NaN after a non-finite forward).
    trajectory_bound : ndarray, shape (T + 1,)
        prod_{j=T-d+1}^{T} max_i |f'(z_j)_i| sigma_max(W): the bound with the slopes this
        trajectory actually met (small when units saturate).
    bound : ndarray, shape (T + 1,)
        (gamma sigma_max(W))^d, the trajectory-free bound of Pascanu et al. (2013).
    gamma, sigma_max : float
    """

    d: np.ndarray
    norms: np.ndarray
    trajectory_bound: np.ndarray
    bound: np.ndarray
    gamma: float
    sigma_max: float


def products_and_bounds(params: RNNParams, trajectory: Trajectory,
                        batch: int = 0) -> ProductBounds:
    """Return the :class:`ProductBounds` of every span ending at T along one trajectory."""
    J = step_jacobians(params, trajectory, batch)
    T = J.shape[0]
    sigma = spectral_norm(params.W)
    gamma = get_activation(params.activation).gamma
    largest = np.max(np.abs(slopes(params, trajectory, batch)), axis=1)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        logs = np.concatenate([[0.0], np.cumsum(np.log(largest[::-1] * sigma))])
        trajectory_bound = np.exp(logs)
    return ProductBounds(
        d=np.arange(T + 1), norms=span_norms(J), trajectory_bound=trajectory_bound,
        bound=pascanu_bound(params.W, params.activation, T), gamma=gamma, sigma_max=sigma,
    )


@dataclass(frozen=True, eq=False)
class EigenProducts:
    """Spectrum of a random W and the Jacobian products of the RNN that uses it.

    Attributes
    ----------
    g : float
        W has entries N(0, g^2/n), so rho(W) is close to g (circular law).
    activation : str
    gamma : float
    eigenvalues : ndarray, shape (n,), complex
        Eigenvalues of W, by decreasing modulus.
    rho, sigma_max : float
        Spectral radius and largest singular value of W.
    d : ndarray, shape (T + 1,)
        Steps back from T.
    norms : ndarray, shape (T + 1,)
        ||J_T ... J_{T-d+1}|| along a trajectory driven by random inputs.
    bound : ndarray, shape (T + 1,)
        (gamma sigma_max)^d.
    linear : ndarray, shape (T + 1,)
        ||W^d||: the products of the linear RNN with the same W (the eigenvalue story).
    """

    g: float
    activation: str
    gamma: float
    eigenvalues: np.ndarray
    rho: float
    sigma_max: float
    d: np.ndarray
    norms: np.ndarray
    bound: np.ndarray
    linear: np.ndarray


def eigen_and_products(
    g: float,
    activation: str = "tanh",
    *,
    n: int = 32,
    T: int = 60,
    n_input: int = 4,
    input_scale: float = 1.0,
    seed: int = 0,
) -> EigenProducts:
    """Return the :class:`EigenProducts` of ``RNNParams.random(..., g=g)``.

    Parameters
    ----------
    g : float
        g >= 0, the scale of W.
    activation : str
    n : int
        The size of W.
    T : int
        The length of the trajectory (inputs N(0, input_scale^2), h_0 = 0).
    n_input : int
    input_scale : float
    seed : int
        Seeds the weights; the inputs use ``seed + 1``.
    """
    g = check_real("g", g, low=0.0)
    input_scale = check_real("input_scale", input_scale, low=0.0)
    T = check_count("T", T, 1, 100_000)
    params = RNNParams.random(n_input, n, 1, activation=activation, g=g, seed=seed)
    x = np.random.default_rng(seed + 1).normal(0.0, input_scale, (T, n_input))
    result = products_and_bounds(params, forward(params, x))
    return EigenProducts(
        g=g, activation=activation, gamma=result.gamma,
        eigenvalues=eigenvalues(params.W), rho=spectral_radius(params.W),
        sigma_max=result.sigma_max, d=result.d, norms=result.norms, bound=result.bound,
        linear=power_norms(params.W, T),
    )


@dataclass(frozen=True, eq=False)
class Saturation:
    """A tanh RNN whose W has rho > 1, yet whose Jacobian products vanish: its units saturate.

    Attributes
    ----------
    rho, sigma_max : float
        Of W (rho > 1: the linear RNN with this W explodes).
    bias : float
        Every unit's bias; it pushes |z| up, where tanh' is near 0.
    max_slope : ndarray, shape (T,)
        max_i tanh'(z_t)_i at each step: the largest gain any unit passes on.
    d : ndarray, shape (T + 1,)
    norms : ndarray, shape (T + 1,)
        ||J_T ... J_{T-d+1}|| of the saturated tanh RNN.
    trajectory_bound : ndarray, shape (T + 1,)
        prod of max_slope sigma_max over the span: below 1 per step means proven vanishing.
    linear : ndarray, shape (T + 1,)
        ||W^d||: the same W without the non-linearity.
    """

    rho: float
    sigma_max: float
    bias: float
    max_slope: np.ndarray
    d: np.ndarray
    norms: np.ndarray
    trajectory_bound: np.ndarray
    linear: np.ndarray


def saturation_example(
    rho: float = 1.5,
    bias: float = 6.0,
    *,
    n: int = 16,
    T: int = 30,
    seed: int = 0,
) -> Saturation:
    """Return the :class:`Saturation` of a tanh RNN with rho(W) = ``rho`` and a large bias.

    W is a random Gaussian matrix rescaled to spectral radius ``rho``; every unit gets bias
    ``bias``; the inputs are N(0, 1) (one input channel, seeded by ``seed + 1``).
    """
    rho = check_real("rho", rho, low=0.0, strict=True)
    bias = check_real("bias", bias)
    T = check_count("T", T, 1, 100_000)
    base = RNNParams.random(1, n, 1, activation="tanh", seed=seed)
    params = base.replace(W=rescale_to_spectral_radius(base.W, rho),
                          b=np.full(n, bias))
    x = np.random.default_rng(seed + 1).normal(0.0, 1.0, (T, 1))
    trajectory = forward(params, x)
    result = products_and_bounds(params, trajectory)
    return Saturation(
        rho=spectral_radius(params.W), sigma_max=result.sigma_max, bias=bias,
        max_slope=np.max(slopes(params, trajectory), axis=1), d=result.d, norms=result.norms,
        trajectory_bound=result.trajectory_bound, linear=power_norms(params.W, T),
    )


@dataclass(frozen=True, eq=False)
class AlternatingSaturation:
    """A two-unit tanh RNN whose inputs saturate its units in turn.

    W = a [[0, 1], [1, 0]] and the inputs are chosen so that z_t = (0, c) at odd t and (c, 0)
    at even t, with tanh'(c) = ``slope``. Then every J_t has both eigenvalues of modulus
    a sqrt(slope) (below 1 for the defaults), yet J_{t+1} J_t = a^2 diag(slope^2, 1) or
    a^2 diag(1, slope^2): the products grow like a^t.

    Attributes
    ----------
    weight : float
        a = sigma_max(W) = rho(W).
    slope : float
        tanh'(c), the slope of the saturated unit.
    params : RNNParams
        The network (n = 2, d = 2, U = I, b = 0).
    x : ndarray, shape (T, 2)
        The inputs that produce the alternating pre-activations.
    jacobians : ndarray, shape (T, 2, 2)
        J_t = diag(tanh'(z_t)) W along the trajectory.
    step_radii : ndarray, shape (T,)
        rho(J_t) for t = 1..T.
    norms : ndarray, shape (T + 1,)
        ||J_T ... J_{T-d+1}|| for d = 0..T.
    """

    weight: float
    slope: float
    params: RNNParams
    x: np.ndarray
    jacobians: np.ndarray
    step_radii: np.ndarray
    norms: np.ndarray


#: The smallest tanh' :func:`alternating_saturation` can build: below the float64 epsilon,
#: 1 - tanh(z)^2 rounds to 0 at the pre-activation that should give it.
SMALLEST_SLOPE = float(np.finfo(np.float64).eps)


def alternating_saturation(weight: float = 1.5, slope: float = 0.1,
                           T: int = 40) -> AlternatingSaturation:
    """Return the :class:`AlternatingSaturation` with W = weight [[0, 1], [1, 0]] over T steps.

    Parameters
    ----------
    weight : float
        a > 0, the off-diagonal entry of W.
    slope : float
        The value of tanh' at the saturated unit's pre-activation, in [2.2e-16, 1]
        (:data:`SMALLEST_SLOPE`, the float64 epsilon, to 1).
    T : int
        The sequence length, >= 2.
    """
    weight = check_real("weight", weight, low=0.0, strict=True)
    slope = check_real("slope", slope, low=SMALLEST_SLOPE)
    if slope > 1.0:
        raise ValueError(f"slope must be at most 1 (the largest value of tanh'), got {slope:g}")
    T = check_count("T", T, 2, 100_000)
    c = float(np.arctanh(np.sqrt(1.0 - slope)))
    W = weight * np.array([[0.0, 1.0], [1.0, 0.0]])
    targets = np.array([[0.0, c] if t % 2 == 1 else [c, 0.0] for t in range(1, T + 1)])
    previous = np.vstack([np.zeros((1, 2)), np.tanh(targets[:-1])])  # h_0 = 0, h_1, ...
    x = targets - previous @ W.T  # z_t = x_t + W h_{t-1}
    params = RNNParams(U=np.eye(2), W=W, b=np.zeros(2), V=np.ones((1, 2)), c=np.zeros(1),
                       activation="tanh")
    J = step_jacobians(params, forward(params, x))
    return AlternatingSaturation(
        weight=weight, slope=slope, params=params, x=x, jacobians=J,
        step_radii=np.array([spectral_radius(j) for j in J]), norms=span_norms(J),
    )


@dataclass(frozen=True, eq=False)
class BoundSurvey:
    """Pascanu's bound checked on many random RNNs, one entry per instance.

    Attributes
    ----------
    activation : ndarray, shape (N,), str
    g : ndarray, shape (N,)
        The scale of W (entries N(0, g^2/n)).
    n : ndarray, shape (N,), int
        The hidden size.
    kappa : ndarray, shape (N,)
        gamma sigma_max(W), the one-step bound.
    largest : ndarray, shape (N,)
        max_d ||J_T ... J_{T-d+1}|| over d = 1..T (``inf`` beyond the float range).
    final : ndarray, shape (N,)
        ||J_T ... J_1||, the product over the whole sequence.
    worst_ratio : ndarray, shape (N,)
        max_d ||J_T ... J_{T-d+1}|| / (gamma sigma_max)^d: at most 1 when the bound holds.
    T : int
        The sequence length.
    """

    activation: np.ndarray
    g: np.ndarray
    n: np.ndarray
    kappa: np.ndarray
    largest: np.ndarray
    final: np.ndarray
    worst_ratio: np.ndarray
    T: int


def bound_survey(
    activations: tuple[str, ...] = ("tanh", "sigmoid", "relu"),
    gs: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0),
    sizes: tuple[int, ...] = (4, 16, 32),
    seeds: int = 5,
    T: int = 50,
) -> BoundSurvey:
    """Return the :class:`BoundSurvey` of every activation x g x size x seed combination.

    Each instance is ``RNNParams.random(2, n, 1, activation, g=g, seed=s)`` driven
    by N(0, 1) inputs (seeded by ``1000 + s``) for ``T`` steps from h_0 = 0; the ratio is
    computed in the log domain, so it is exact even when the norms overflow.
    """
    activations = check_each("activations", activations, check_choice, tuple(ACTIVATIONS))
    gs = check_each("gs", gs, check_real, low=0.0, strict=True)
    sizes = check_each("sizes", sizes, check_count, 1, 4096)
    seeds = check_count("seeds", seeds, 1, 10_000)
    T = check_count("T", T, 1, 100_000)
    rows = []
    for activation in activations:
        gamma = get_activation(activation).gamma
        for g in gs:
            for n in sizes:
                for s in range(seeds):
                    params = RNNParams.random(2, n, 1, activation=activation,
                                              g=g, seed=s)
                    x = np.random.default_rng(1000 + s).normal(size=(T, 2))
                    J = step_jacobians(params, forward(params, x))
                    mantissa, exponent = running_product_log2_norms(J[::-1])
                    sigma = spectral_norm(params.W)
                    with np.errstate(divide="ignore", over="ignore"):
                        logs = np.log(mantissa) + exponent * np.log(2.0)
                        log_ratio = logs[1:] - np.arange(1, T + 1) * np.log(gamma * sigma)
                        norms = np.exp(logs)
                    rows.append((activation, g, n, gamma * sigma, norms[1:].max(), norms[-1],
                                 float(np.exp(np.max(log_ratio)))))
    columns = list(zip(*rows, strict=True))
    return BoundSurvey(
        activation=np.array(columns[0]), g=np.array(columns[1], dtype=float),
        n=np.array(columns[2], dtype=int), kappa=np.array(columns[3], dtype=float),
        largest=np.array(columns[4], dtype=float), final=np.array(columns[5], dtype=float),
        worst_ratio=np.array(columns[6], dtype=float), T=T,
    )
