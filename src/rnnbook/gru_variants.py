"""One GRU step in three published conventions: torch's, Cho et al.'s (2014), Chung et al.'s (2014).

All three share the gates r_t = s(U_r x_t + W_r h_{t-1} + b_r), z_t = s(U_z x_t + W_z h_{t-1} + b_z)
(s the sigmoid) and differ in two places:

- where the reset gate acts. torch (and cuDNN, and Keras with ``reset_after=True``) resets the
  recurrent term *after* the matrix product: n_t = tanh(U_n x_t + b_n + r_t * (W_n h_{t-1} + b_hn)).
  Cho et al. and Chung et al. reset the state *before* it: n_t = tanh(U_n x_t + b_n
  + W_n (r_t * h_{t-1}) + b_hn) (here b_hn is an ordinary bias, added outside).
- which factor z_t multiplies. torch and Cho et al.: h_t = z_t * h_{t-1} + (1 - z_t) * n_t, so z_t
  keeps the old state. Chung et al.: h_t = (1 - z_t) * h_{t-1} + z_t * n_t, so z_t admits the
  candidate. Since s(-a) = 1 - s(a), negating U_z, W_z and b_z (:func:`flip_update_gate`) turns
  one into the other.

The weights are a :class:`rnnbook.gru.GRUParams` in every case, so the same numbers can be run
through each convention and compared.
"""

from __future__ import annotations

import numpy as np

from rnnbook.checks import check_choice
from rnnbook.gates import check_params, sigmoid
from rnnbook.gru import GRUParams, gru_cell, step_inputs

CONVENTIONS = ("torch", "cho", "chung")


def gru_step(params: GRUParams, x, h, convention: str = "torch") -> np.ndarray:
    """Return h_t after one GRU step from h_{t-1} in the given convention.

    ``params``, ``x`` (d,) or (B, d), ``h`` (n,) or (B, n) and the result are as in
    :func:`rnnbook.gru.gru_cell`; ``convention`` is one of :data:`CONVENTIONS`.
    """
    check_params(params, GRUParams)
    check_choice("convention", convention, CONVENTIONS)
    if convention == "torch":
        return gru_cell(params, x, h)
    xb, hb, single = step_inputs(params, x, h)
    (U_r, W_r, b_r), (U_z, W_z, b_z), (U_n, W_n, b_n) = (params.gate(g) for g in "rzn")
    r = sigmoid(xb @ U_r.T + hb @ W_r.T + b_r)
    z = sigmoid(xb @ U_z.T + hb @ W_z.T + b_z)
    n = np.tanh(xb @ U_n.T + b_n + (r * hb) @ W_n.T + params.b_hn)
    h_new = z * hb + (1 - z) * n if convention == "cho" else (1 - z) * hb + z * n
    return h_new[0] if single else h_new


def flip_update_gate(params: GRUParams) -> GRUParams:
    """Return weights whose update gate is 1 - z: U_z, W_z and b_z negated, the rest unchanged."""
    check_params(params, GRUParams)
    n = params.n_hidden
    U, W, b = params.U.copy(), params.W.copy(), params.b.copy()
    for array in (U, W, b):
        array[n:2 * n] *= -1
    return params.replace(U=U, W=W, b=b)
