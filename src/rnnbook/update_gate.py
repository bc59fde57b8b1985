"""The GRU's update gate: an interpolation forward in time, a copy path backward in time.

Forward, in torch's convention, each unit of the new state is a convex combination of the old
state and the candidate,

    h_t = z_t * h_{t-1} + (1 - z_t) * n_t,   i.e.   h_t - h_{t-1} = (1 - z_t)(n_t - h_{t-1}),

so with a constant gate z the state is an exponential moving average of the candidates:
h_t = z^t h_0 + sum_{s=1}^{t} (1 - z) z^{t-s} n_s. An input is remembered with weight z^k after k
steps (:func:`interpolate`, :func:`interpolation_demo`, :func:`memory_steps`).

Backward, the one-step Jacobian is dh_t/dh_{t-1} = diag(z_t) + rest_t
(:func:`rnnbook.gru.gru_jacobian`); the product of the diag(z) terms alone, prod_j diag(z_j),
is the copy path.
:func:`update_bias_gradient_flow` shifts the update-gate bias of a random GRU and reports the
full ||dh_T/dh_k||, the copy path, and a vanilla tanh RNN's ||dh_T/dh_k|| on the same input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbook.checks import MAX_SEED, check_array, check_count, check_real, check_seed
from rnnbook.gates import gate_path_products
from rnnbook.gru import GRUParams, gru_forward, gru_jacobian
from rnnbook.jacobian import span_norms, step_jacobians
from rnnbook.rnn import RNNParams, forward


def _gate_value(name: str, value) -> np.ndarray:
    array = check_array("value", value, finite=False)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if np.any((array < 0) | (array > 1)):
        raise ValueError(f"{name} must lie in [0, 1] (a gate value), got values in "
                         f"[{array.min():g}, {array.max():g}]")
    return array


def interpolate(candidates, z, h0=0.0) -> np.ndarray:
    """Return the states h_1..h_T of h_t = z_t * h_{t-1} + (1 - z_t) * n_t, shape of ``candidates``.

    Parameters
    ----------
    candidates : array_like, shape (T,) or (T, ...)
        The candidates n_1..n_T.
    z : float or array_like, broadcastable to ``candidates``
        Update-gate values in [0, 1]; a scalar is the same gate at every step.
    h0 : float or array_like, shape ``candidates.shape[1:]``
        Initial state.
    """
    n = check_array("candidates", candidates, finite=False)
    if n.ndim == 0 or n.shape[0] == 0:
        raise ValueError(f"candidates must have shape (T, ...) with T >= 1, got {n.shape}")
    if not np.all(np.isfinite(n)):
        raise ValueError("candidates contain NaN or infinite values")
    z = _gate_value("z", z)
    try:
        gates = np.broadcast_to(z, n.shape)
        h = np.broadcast_to(check_array("h0", h0, finite=False), n.shape[1:]).copy()
    except ValueError:
        raise ValueError(f"z (shape {z.shape}) and h0 (shape {np.shape(h0)}) must broadcast to "
                         f"candidates {n.shape} and one step {n.shape[1:]}") from None
    if not np.all(np.isfinite(h)):
        raise ValueError("h0 contains NaN or infinite values")
    states = np.empty_like(n)
    for t in range(n.shape[0]):
        h = gates[t] * h + (1 - gates[t]) * n[t]
        states[t] = h
    return states


def memory_steps(z: float, fraction: float = 0.01) -> int:
    """Return the number of steps k after which z^k first falls to ``fraction`` or below.

    With a constant update gate z in (0, 1), the weight of an input (forward) and the copy
    path's gradient (backward) after k steps are both z^k.
    """
    z = check_real("z", z)
    fraction = check_real("fraction", fraction)
    if not 0 < z < 1:
        raise ValueError(f"z must lie in (0, 1) for a finite memory, got {z}")
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}")
    k = int(np.ceil(np.log(fraction) / np.log(z)))
    while z ** k > fraction:  # guard against rounding in the logarithms
        k += 1
    while k > 1 and z ** (k - 1) <= fraction:
        k -= 1
    return k


@dataclass(frozen=True, eq=False)
class Interpolation:
    """States of constant-gate interpolations of one candidate sequence.

    Attributes
    ----------
    t : ndarray, shape (T,)
        Steps 1..T.
    candidate : ndarray, shape (T,)
        The candidates n_t.
    z_values : tuple of float
        The constant update-gate values.
    states : ndarray, shape (len(z_values), T)
        h_t for each gate value, from h_0 = 0.
    """

    t: np.ndarray
    candidate: np.ndarray
    z_values: tuple[float, ...]
    states: np.ndarray


def interpolation_demo(z_values=(0.0, 0.5, 0.9, 0.98), *, T: int = 90,
                       seed: int = 0) -> Interpolation:
    """Return the :class:`Interpolation` of a noisy three-level candidate for each gate value.

    The candidate is tanh(level + noise): level 1.1 for steps 1-30, -0.7 for 31-60, 0.3 after,
    noise N(0, 0.3^2) from ``numpy.random.default_rng(seed)``.
    """
    T = check_count("T", T)
    if isinstance(z_values, str) or not np.iterable(z_values) or len(z_values) == 0:
        raise TypeError(f"z_values must be a non-empty sequence of gate values, got {z_values!r}")
    z_values = tuple(float(v) for v in _gate_value("z_values", list(z_values)))
    t = np.arange(1, T + 1)
    level = np.where(t <= 30, 1.1, np.where(t <= 60, -0.7, 0.3))
    candidate = np.tanh(level + np.random.default_rng(check_seed("seed", seed)).normal(0.0, 0.3, T))
    states = np.stack([interpolate(candidate, z) for z in z_values])
    return Interpolation(t=t, candidate=candidate, z_values=z_values, states=states)


@dataclass(frozen=True, eq=False)
class UpdateGateFlow:
    """How far a gradient travels through a GRU: full Jacobian, copy path, and a vanilla RNN.

    Attributes
    ----------
    update_bias : float
        The value added to the GRU's update-gate bias b_z.
    g : float
        Scale g of both networks' recurrent weights (std g / sqrt(n)).
    distance : ndarray, shape (T + 1,)
        T - k = 0..T.
    gru : ndarray, shape (T + 1,)
        ||dh_T/dh_k||_2 of the GRU, all paths.
    update_path : ndarray, shape (T + 1,)
        ||prod_{j=k+1}^{T} diag(z_j)||_2 = max_i prod_j z_{j,i}: the copy path alone.
    rnn : ndarray, shape (T + 1,)
        ||dh_T/dh_k||_2 of a tanh RNN on the same input (inf beyond the float range).
    update_gates : ndarray, shape (T, n)
        The GRU's update-gate values z_t.
    """

    update_bias: float
    g: float
    distance: np.ndarray
    gru: np.ndarray
    update_path: np.ndarray
    rnn: np.ndarray
    update_gates: np.ndarray

    @property
    def mean_update(self) -> float:
        """The average update-gate value over steps and units."""
        return float(self.update_gates.mean())

    def at(self, distance: int) -> tuple[float, float, float]:
        """Return (gru, update_path, rnn) norms at one distance T - k."""
        distance = check_count("distance", distance, 0)
        if distance >= self.distance.size:
            raise ValueError(f"distance must be at most {self.distance.size - 1}, got {distance}")
        return (float(self.gru[distance]), float(self.update_path[distance]),
                float(self.rnn[distance]))


def update_bias_gradient_flow(
    update_bias: float,
    g: float = 1.0,
    *,
    T: int = 100,
    n: int = 32,
    seed: int = 0,
) -> UpdateGateFlow:
    """Return the :class:`UpdateGateFlow` of a random GRU whose b_z is shifted by ``update_bias``.

    Both networks read the same input, one channel of standard normal noise
    (``default_rng([seed, 7])``), from zero states. The GRU is ``GRUParams.random(1, n,
    update_bias=..., g=..., seed=seed)``; the RNN is ``RNNParams.random(1, n, 1,
    g=..., seed=seed)`` with tanh.
    """
    update_bias = check_real("update_bias", update_bias)
    scale = check_real("g", g)
    if scale < 0:
        raise ValueError(f"g must be >= 0, got {scale}")
    T = check_count("T", T)
    n = check_count("n", n)
    seed = check_count("seed", seed, 0, MAX_SEED)
    x = np.random.default_rng([seed, 7]).normal(size=(T, 1, 1))
    params = GRUParams.random(1, n, g=scale, update_bias=update_bias, seed=seed)
    traj = gru_forward(params, x)
    gru_norms = span_norms(gru_jacobian(params, traj).total[:, 0])
    copy_path = gate_path_products(traj.z)[::-1, 0].max(axis=-1)
    rnn_params = RNNParams.random(1, n, 1, g=scale, seed=seed)
    rnn_norms = span_norms(step_jacobians(rnn_params, forward(rnn_params, x)))
    return UpdateGateFlow(update_bias=update_bias, g=scale,
                          distance=np.arange(T + 1), gru=gru_norms, update_path=copy_path,
                          rnn=rnn_norms, update_gates=traj.z[:, 0].copy())


def describe_update_flow(result: UpdateGateFlow) -> str:
    """Return a one-sentence description of an :class:`UpdateGateFlow` (alt text)."""
    if not isinstance(result, UpdateGateFlow):
        raise TypeError(f"expected an UpdateGateFlow, got {type(result).__name__}")
    far = int(result.distance[-1])
    gru, path, rnn = result.at(far)
    return (f"Gradient norms against distance for update-gate bias {result.update_bias:+g} and "
            f"recurrent scale {result.g:g}: mean update gate "
            f"{result.mean_update:.2f}; at distance {far} the GRU's norm is {gru:.1e}, the "
            f"copy path alone {path:.1e}, the tanh RNN's {rnn:.1e}.")
