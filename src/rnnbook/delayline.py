"""The delay line: a linear RNN that copies its input d steps back, with a nilpotent W.

Unit 1 reads the input, unit i + 1 copies unit i at the next step, and the read-out looks at
unit d + 1, so o_T = x_{T-d} exactly. W is the shift matrix (ones just below the diagonal):
W^n = 0, so rho(W) = 0, while sigma_max(W) = 1 and ||W^k|| = 1 for every k < n. The gradient
of o_T with respect to x_{T-d} is exactly 1 along the chain. It represents lags up to n - 1
and no longer: a chain of units is not a memory that keeps a value while new inputs arrive.
"""

from __future__ import annotations

import numpy as np

from rnnbook.checks import check_count
from rnnbook.rnn import RNNParams


def delay_line(n: int, lag: int) -> RNNParams:
    """Return linear RNN weights (one input, ``n`` units, one output) with o_t = x_{t-lag}.

    Raises ``ValueError`` unless 0 <= lag <= n - 1: a chain of n units holds n - 1 past inputs
    besides the current one.
    """
    n = check_count("n", n)
    lag = check_count("lag", lag, 0, n - 1)
    U = np.zeros((n, 1))
    U[0, 0] = 1.0
    V = np.zeros((1, n))
    V[0, lag] = 1.0
    return RNNParams(U=U, W=np.eye(n, k=-1), b=np.zeros(n), V=V, c=np.zeros(1),
                     activation="identity")
