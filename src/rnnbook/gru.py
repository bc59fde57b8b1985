"""The GRU cell in torch's convention, equal to ``torch.nn.GRU``, and its gradient paths.

With s = sigmoid and * the elementwise product, one step of ``torch.nn.GRU`` reads

    r_t = s(U_r x_t + W_r h_{t-1} + b_r)                      reset gate
    z_t = s(U_z x_t + W_z h_{t-1} + b_z)                      update gate
    n_t = tanh(U_n x_t + b_n + r_t * (W_n h_{t-1} + b_hn))    candidate
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

Blocks are stacked in torch's order (r, z, n): ``U = [U_r; U_z; U_n]`` is ``weight_ih_l0`` and
``W = [W_r; W_z; W_n]`` is ``weight_hh_l0``. For r and z only the sum of torch's two biases
enters, so ``b = [b_ir + b_hr; b_iz + b_hz; b_in]``; but b_hn sits inside the product with r_t,
so it cannot be folded and is kept apart.

Conventions differ between papers; which factor multiplies what:

- torch (this module): z_t multiplies the old state h_{t-1}, (1 - z_t) the candidate; the reset
  gate multiplies the recurrent term *after* the matrix product, r_t * (W_n h_{t-1} + b_hn).
- Cho et al. (2014): the same interpolation, h_t = z h_{t-1} + (1 - z) h~_t, but the reset is
  applied *before* the product: h~_t = tanh(W x_t + U (r_t * h_{t-1})).
- Chung et al. (2014): the roles of z are swapped, h_t = (1 - z) h_{t-1} + z h~_t, so there z
  multiplies the candidate; reset before the product as in Cho et al.

Gradient path. The state is h alone, so the one-step Jacobian is exact over spans:

    dh_t/dh_{t-1} = diag(z_t)                                     (the update-gate path)
                    + diag((h_{t-1} - n_t) * z_t (1 - z_t)) W_z
                    + diag((1 - z_t)(1 - n_t^2)) [diag(r_t) W_n + diag(q_t * r_t (1 - r_t)) W_r],

with q_t = W_n h_{t-1} + b_hn. When z_t is near 1 the state is copied and the gradient passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rnnbook import gates
from rnnbook.checks import batched, check_type
from rnnbook.gates import GatedParams, SpanJacobians, initial_state, sigmoid
from rnnbook.jacobian import span_norms, span_products

#: Gate blocks in the order torch stacks them.
GRU_GATES = ("r", "z", "n")


@dataclass(frozen=True, eq=False)
class GRUParams(GatedParams):
    """Weights of one GRU layer in torch's convention, blocks stacked as (r, z, n).

    Attributes
    ----------
    U : ndarray, shape (3n, d)
        Input weights [U_r; U_z; U_n] (torch ``weight_ih_l0``).
    W : ndarray, shape (3n, n)
        Recurrent weights [W_r; W_z; W_n] (torch ``weight_hh_l0``).
    b : ndarray, shape (3n,)
        [b_r; b_z; b_n] = [b_ir + b_hr; b_iz + b_hz; b_in].
    b_hn : ndarray, shape (n,)
        The candidate's recurrent bias, inside r_t * (W_n h_{t-1} + b_hn).
    """

    b_hn: np.ndarray

    GATES: ClassVar[tuple[str, ...]] = GRU_GATES
    KIND: ClassVar[str] = "GRU"
    EXTRA_BIASES: ClassVar[int] = 1

    def expected_shapes(self) -> dict[str, tuple[int, ...]]:
        """Return the shape every field must have; b_hn is (n,)."""
        return {**super().expected_shapes(), "b_hn": (self.W.shape[1],)}

    @classmethod
    def random(cls, n_input: int, n_hidden: int, *, g: float = 1.0, update_bias: float = 0.0,
               seed: int = 0) -> GRUParams:
        """Return random Gaussian weights (U 1/sqrt(d), W g/sqrt(n), biases and b_hn 0.1).

        ``update_bias`` is added to b_z (a positive value keeps z_t near 1, so the state is
        copied).
        """
        U, W, b, rng = cls._random_blocks(n_input, n_hidden, g, seed, gate="z",
                                          bias_name="update_bias", bias=update_bias)
        return cls(U=U, W=W, b=b, b_hn=rng.normal(0.0, 0.1, W.shape[1]))


@dataclass(frozen=True, eq=False)
class GRUTrajectory(gates.GatedTrajectory):
    """Everything a GRU forward pass computed, with a batch axis always present.

    Attributes
    ----------
    x : ndarray, shape (T, B, d)
    h0 : ndarray, shape (B, n)
    r, z, n : ndarray, shape (T, B, n)
        Reset gate, update gate and candidate at steps 1..T.
    h : ndarray, shape (T, B, n)
        Hidden states h_1..h_T.
    """

    x: np.ndarray
    h0: np.ndarray
    r: np.ndarray
    z: np.ndarray
    n: np.ndarray
    h: np.ndarray


def _check_params(params) -> GRUParams:
    return gates.check_params(params, GRUParams)


def _step(params: GRUParams, inputs: np.ndarray, h_prev: np.ndarray):
    """Return r, z, n, h for one step; ``inputs`` is U x_t + b, shape (B, 3n)."""
    size = params.n_hidden
    recurrent = h_prev @ params.W.T
    r = sigmoid(inputs[:, :size] + recurrent[:, :size])
    z = sigmoid(inputs[:, size:2 * size] + recurrent[:, size:2 * size])
    n = np.tanh(inputs[:, 2 * size:] + r * (recurrent[:, 2 * size:] + params.b_hn))
    h = (1 - z) * n + z * h_prev
    return r, z, n, h


def step_inputs(params: GRUParams, x, h) -> tuple[np.ndarray, np.ndarray, bool]:
    """Return ``(x, h, single)`` of one step with a batch axis, and whether none was given."""
    check_type("params", params, GRUParams)
    xb, single = batched("x", x, params.n_input, 1)
    if np.ndim(h) != np.ndim(x):
        raise ValueError(f"x and h must both have a batch axis or neither: shapes "
                         f"{np.shape(x)}, {np.shape(h)}")
    return xb, initial_state("h", h, xb.shape[0], params.n_hidden), single


def gru_cell(params: GRUParams, x, h) -> np.ndarray:
    """Return h_t after one GRU step from h_{t-1}.

    Parameters
    ----------
    params : GRUParams
    x : array_like, shape (d,) or (B, d)
    h : array_like, shape (n,) or (B, n)
        Previous hidden state (same batch layout as ``x``).

    Returns
    -------
    ndarray, shape (n,) or (B, n)
    """
    params = _check_params(params)
    xb, hb, single = step_inputs(params, x, h)
    *_, h_new = _step(params, xb @ params.U.T + params.b, hb)
    return h_new[0] if single else h_new


def gru_forward(params: GRUParams, x, h0=None) -> GRUTrajectory:
    """Run the GRU over a sequence and return the :class:`GRUTrajectory` (gates included).

    Parameters
    ----------
    params : GRUParams
    x : array_like, shape (T, d) or (T, B, d)
        Inputs x_1..x_T.
    h0 : array_like, shape (n,) or (B, n), optional
        Initial state; zeros by default.
    """
    params = _check_params(params)
    xb, inputs, (h_prev,) = gates.sequence_inputs(params, x, h0=h0)
    T, B, _ = xb.shape
    size = params.n_hidden
    h0b = h_prev
    out = {name: np.empty((T, B, size)) for name in ("r", "z", "n", "h")}
    for t in range(T):
        values = _step(params, inputs[t], h_prev)
        for name, value in zip(("r", "z", "n", "h"), values, strict=True):
            out[name][t] = value
        h_prev = out["h"][t]
    return GRUTrajectory(x=xb, h0=h0b, **out)


def gru_count_params(n_input: int, n_hidden: int, *, torch_biases: bool = True) -> int:
    """Return the number of weights of one GRU layer: three blocks of U, W and bias.

    With ``torch_biases`` (two bias vectors) 3 (n d + n n + 2 n); otherwise (as
    :class:`GRUParams`: the r and z biases folded, b_hn kept) 3 (n d + n n + n) + n.
    """
    return gates.count_gated_params(GRUParams, n_input, n_hidden, torch_biases=torch_biases)


def gru_to_torch(params: GRUParams, *, cell: bool = False):
    """Return a float64 ``torch.nn.GRU`` (or ``torch.nn.GRUCell``) with these weights.

    b goes to ``bias_ih``; ``bias_hh`` is [0; 0; b_hn].
    """
    params = _check_params(params)
    bias_hh = np.concatenate([np.zeros(2 * params.n_hidden), params.b_hn])
    return gates.gated_to_torch(params, bias_hh, cell=cell)


def gru_from_torch(module) -> GRUParams:
    """Return the :class:`GRUParams` of a one-layer ``torch.nn.GRU`` or ``torch.nn.GRUCell``.

    The r and z biases are summed (b_ir + b_hr, b_iz + b_hz); b_in and b_hn stay apart.
    """
    U, W, b_ih, b_hh = gates.torch_weights(module, "gru")
    n = W.shape[1]
    b = b_ih + np.concatenate([b_hh[:2 * n], np.zeros(n)])
    return GRUParams(U=U, W=W, b=b, b_hn=b_hh[2 * n:])


def _check_trajectory(params, traj) -> None:
    gates.check_trajectory(params, traj, GRUParams, GRUTrajectory)


@dataclass(frozen=True, eq=False)
class GRUJacobian(gates.GatePathSplit):
    """The one-step Jacobians dh_t/dh_{t-1} = diag(z_t) + rest_t, t = 1..T.

    Attributes
    ----------
    t : ndarray, shape (T,)
        Steps 1..T.
    update : ndarray, shape (T, B, n)
        z_t, the diagonal of the update-gate (copy) path.
    rest : ndarray, shape (T, B, n, n)
        The paths through the gates and the candidate.
    """

    update: np.ndarray

    GATE: ClassVar[str] = "update"


def gru_jacobian(params: GRUParams, traj: GRUTrajectory) -> GRUJacobian:
    """Return the :class:`GRUJacobian`: dh_t/dh_{t-1} split into diag(z_t) and the rest."""
    _check_trajectory(params, traj)
    _, W_r, _ = params.gate("r")
    _, W_z, _ = params.gate("z")
    _, W_n, _ = params.gate("n")
    h_prev = traj.h_prev
    r, z, n = traj.r, traj.z, traj.n
    q = h_prev @ W_n.T + params.b_hn
    through_candidate = (1 - z) * (1 - n ** 2)
    rest = ((h_prev - n) * z * (1 - z))[..., None] * W_z + through_candidate[..., None] * (
        r[..., None] * W_n + (q * r * (1 - r))[..., None] * W_r)
    return GRUJacobian(t=np.arange(1, traj.h.shape[0] + 1), update=z.copy(), rest=rest)


def gru_spans(params: GRUParams, traj: GRUTrajectory) -> SpanJacobians:
    """Return dh_T/dh_k for k = 0..T as :class:`SpanJacobians` (``gate_path`` = prod z_j)."""
    total = gru_jacobian(params, traj).total
    T = traj.h.shape[0]
    k = np.arange(0, T + 1)
    return SpanJacobians(k=k, distance=T - k, products=span_products(total)[::-1],
                         norms=span_norms(total)[::-1], gate_path=gates.gate_path_products(traj.z))
