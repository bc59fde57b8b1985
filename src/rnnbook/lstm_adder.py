"""An LSTM with one cell and hand-set weights that solves the adding problem at any length.

The weights make each gate do one job (x_t = (value u_t, marker m_t), gain a, sharpness s):

    input gate   i_t = sigmoid(2 s m_t - s)    about 1 at a marker, about 0 elsewhere
    forget gate  f_t = sigmoid(s)              about 1 always: keep the cell
    candidate    g_t = tanh(a u_t)             about a u_t for a small gain a
    output gate  o_t = sigmoid(s)              about 1: show the cell
    recurrent weights W = 0

so c_T is about a (u_first + u_second) and the read-out y_hat = h_T / a = tanh(c_T) / a is about
the target u_first + u_second. Nothing passes through h_{t-1}: dc_T/dc_k is exactly
prod_{j=k+1}^{T} f_j, Hochreiter and Schmidhuber's constant error carousel with f_j just below 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbook.checks import check_array, check_real
from rnnbook.lstm import LSTMParams, lstm_forward


@dataclass(frozen=True, eq=False)
class HandWiredAdder:
    """A one-cell LSTM and its linear read-out y_hat = h_T / gain.

    Attributes
    ----------
    params : LSTMParams
        d = 2 inputs (value, marker), n = 1 cell.
    gain : float
        a: the candidate is tanh(a u_t).
    sharpness : float
        s: how far the gates' pre-activations sit from 0.
    """

    params: LSTMParams
    gain: float
    sharpness: float

    def predict(self, x) -> np.ndarray:
        """Return the predictions h_T / gain for inputs x of shape (T, B, 2), shape (B,)."""
        x = check_array("x", x, finite=False)
        if x.ndim != 3 or x.shape[-1] != 2:
            raise ValueError(f"x must have shape (T, B, 2) (value, marker), got {x.shape}")
        return lstm_forward(self.params, x).h[-1, :, 0] / self.gain


def hand_wired_adder(gain: float = 0.1, sharpness: float = 20.0) -> HandWiredAdder:
    """Return the :class:`HandWiredAdder` with candidate gain a and gate sharpness s.

    Parameters
    ----------
    gain : float
        a in (0, 1]; smaller is closer to linear (tanh(a u) ~ a u) but leaves less margin.
    sharpness : float
        s >= 1; the gates are sigmoid(+-s), so an unmarked step leaks sigmoid(-s) of its value
        into the cell.
    """
    gain = check_real("gain", gain)
    sharpness = check_real("sharpness", sharpness)
    if not 0 < gain <= 1:
        raise ValueError(f"gain must be in (0, 1], got {gain}")
    if sharpness < 1:
        raise ValueError(f"sharpness must be >= 1, got {sharpness}")
    s = sharpness
    # Rows in torch's gate order (i, f, g, o); columns (value, marker).
    U = np.array([[0.0, 2 * s], [0.0, 0.0], [gain, 0.0], [0.0, 0.0]])
    b = np.array([-s, s, 0.0, s])
    return HandWiredAdder(params=LSTMParams(U=U, W=np.zeros((4, 1)), b=b), gain=gain,
                          sharpness=s)
