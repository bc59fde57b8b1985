"""The LSTM cell in the book's notation, equal to ``torch.nn.LSTM``, and its gradient paths.

With s = sigmoid and * the elementwise product, one step reads

    i_t = s(U_i x_t + W_i h_{t-1} + b_i)        input gate
    f_t = s(U_f x_t + W_f h_{t-1} + b_f)        forget gate
    g_t = tanh(U_g x_t + W_g h_{t-1} + b_g)     candidate
    o_t = s(U_o x_t + W_o h_{t-1} + b_o)        output gate
    c_t = f_t * c_{t-1} + i_t * g_t             cell state
    h_t = o_t * tanh(c_t)                       hidden state

The blocks are stacked in torch's order (i, f, g, o): ``U = [U_i; U_f; U_g; U_o]`` is
``weight_ih_l0``, ``W`` is ``weight_hh_l0``. torch has two bias vectors; only their sum enters,
so one bias b = ``bias_ih_l0 + bias_hh_l0`` is kept here.

Gradient paths. The cell state's one-step Jacobian, with h_{t-1} = o_{t-1} * tanh(c_{t-1})
moving with c_{t-1} (o_{t-1} depends on h_{t-2} and x_{t-1} only), is

    C_t = dc_t/dc_{t-1} = diag(f_t) + A_t diag(o_{t-1} * tanh'(c_{t-1})),
    A_t = dc_t/dh_{t-1}|_{c_{t-1}} = diag(c_{t-1} * s'_f) W_f + diag(g_t * s'_i) W_i
          + diag(i_t * tanh'_g) W_g,

where s'_f = f_t (1 - f_t), s'_i = i_t (1 - i_t), tanh'_g = 1 - g_t^2. diag(f_t) is the forget-gate
path (the constant error carousel when f_t = 1); the rest is the paths through h_{t-1}.

Over a span the product C_T ... C_{k+1} is *not* dc_T/dc_k: h_t also depends on h_{t-1}
through o_t, a path that never passes through c_t. The exact dc_T/dc_k (perturb c_k, let
h_k = o_k * tanh(c_k) and every later step follow) comes from the Jacobians of the full state
(c_t, h_t); :func:`lstm_cell_spans` computes it that way. The two agree when W_o = 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rnnbook import gates
from rnnbook.checks import MAX_SEED, batched, check_count, check_real
from rnnbook.gates import GatedParams, SpanJacobians, initial_state, sigmoid, spectral_norms
from rnnbook.jacobian import span_norms, span_products, step_jacobians
from rnnbook.rnn import RNNParams, forward

#: Gate blocks in the order torch stacks them.
LSTM_GATES = ("i", "f", "g", "o")


@dataclass(frozen=True, eq=False)
class LSTMParams(GatedParams):
    """Weights of one LSTM layer, blocks stacked in torch's order (i, f, g, o).

    Attributes
    ----------
    U : ndarray, shape (4n, d)
        Input weights [U_i; U_f; U_g; U_o] (torch ``weight_ih_l0``).
    W : ndarray, shape (4n, n)
        Recurrent weights [W_i; W_f; W_g; W_o] (torch ``weight_hh_l0``).
    b : ndarray, shape (4n,)
        Bias [b_i; b_f; b_g; b_o] (torch ``bias_ih_l0 + bias_hh_l0``).
    """

    GATES: ClassVar[tuple[str, ...]] = LSTM_GATES
    KIND: ClassVar[str] = "LSTM"

    @classmethod
    def random(cls, n_input: int, n_hidden: int, *, g: float = 1.0, forget_bias: float = 0.0,
               seed: int = 0) -> LSTMParams:
        """Return random Gaussian weights (U 1/sqrt(d), W g/sqrt(n), biases 0.1).

        ``forget_bias`` is added to the forget-gate block b_f (Jozefowicz et al. 2015 recommend
        1).
        """
        U, W, b, _ = cls._random_blocks(n_input, n_hidden, g, seed, gate="f",
                                        bias_name="forget_bias", bias=forget_bias)
        return cls(U=U, W=W, b=b)


@dataclass(frozen=True, eq=False)
class LSTMTrajectory(gates.GatedTrajectory):
    """Everything an LSTM forward pass computed, with a batch axis always present.

    Attributes
    ----------
    x : ndarray, shape (T, B, d)
    h0, c0 : ndarray, shape (B, n)
        Initial hidden and cell states.
    i, f, g, o : ndarray, shape (T, B, n)
        Input gate, forget gate, candidate and output gate at steps 1..T (``o`` is the output
        *gate*, not the read-out o_t = V h_t + c of :mod:`rnnbook.rnn`).
    c : ndarray, shape (T, B, n)
        Cell states c_1..c_T.
    h : ndarray, shape (T, B, n)
        Hidden states h_1..h_T.
    """

    x: np.ndarray
    h0: np.ndarray
    c0: np.ndarray
    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    c: np.ndarray
    h: np.ndarray

    @property
    def c_prev(self) -> np.ndarray:
        """Cell states c_0..c_{T-1}, shape (T, B, n)."""
        return np.concatenate([self.c0[None], self.c[:-1]], axis=0)


def _check_params(params) -> LSTMParams:
    return gates.check_params(params, LSTMParams)


def _gates(params: LSTMParams, pre: np.ndarray):
    n = params.n_hidden
    i = sigmoid(pre[..., :n])
    f = sigmoid(pre[..., n:2 * n])
    g = np.tanh(pre[..., 2 * n:3 * n])
    o = sigmoid(pre[..., 3 * n:])
    return i, f, g, o


def lstm_cell(params: LSTMParams, x, h, c) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(h_t, c_t)`` after one LSTM step from ``(h_{t-1}, c_{t-1})``.

    Parameters
    ----------
    params : LSTMParams
    x : array_like, shape (d,) or (B, d)
    h, c : array_like, shape (n,) or (B, n)
        Previous hidden and cell states (same batch layout as ``x``).

    Returns
    -------
    h_t, c_t : ndarray, shape (n,) or (B, n)
    """
    params = _check_params(params)
    xb, single = batched("x", x, params.n_input, 1)
    hb = initial_state("h", h, xb.shape[0], params.n_hidden)
    cb = initial_state("c", c, xb.shape[0], params.n_hidden)
    if np.ndim(h) != np.ndim(x) or np.ndim(c) != np.ndim(x):
        raise ValueError(f"x, h, c must all have a batch axis or none: shapes {np.shape(x)}, "
                         f"{np.shape(h)}, {np.shape(c)}")
    i, f, g, o = _gates(params, xb @ params.U.T + hb @ params.W.T + params.b)
    c_new = f * cb + i * g
    h_new = o * np.tanh(c_new)
    if single:
        return h_new[0], c_new[0]
    return h_new, c_new


def lstm_forward(params: LSTMParams, x, h0=None, c0=None) -> LSTMTrajectory:
    """Run the LSTM over a sequence and return the :class:`LSTMTrajectory` (gates included).

    Parameters
    ----------
    params : LSTMParams
    x : array_like, shape (T, d) or (T, B, d)
        Inputs x_1..x_T.
    h0, c0 : array_like, shape (n,) or (B, n), optional
        Initial states; zeros by default.
    """
    params = _check_params(params)
    xb, inputs, (h_prev, c_prev) = gates.sequence_inputs(params, x, h0=h0, c0=c0)
    T, B, _ = xb.shape
    n = params.n_hidden
    h0b, c0b = h_prev, c_prev
    values = {name: np.empty((T, B, n)) for name in LSTM_GATES}
    c = np.empty((T, B, n))
    h = np.empty((T, B, n))
    for t in range(T):
        i, f, g, o = _gates(params, inputs[t] + h_prev @ params.W.T)
        for name, value in zip(LSTM_GATES, (i, f, g, o), strict=True):
            values[name][t] = value
        c[t] = f * c_prev + i * g
        h[t] = o * np.tanh(c[t])
        h_prev, c_prev = h[t], c[t]
    return LSTMTrajectory(x=xb, h0=h0b, c0=c0b, c=c, h=h, **values)


def lstm_count_params(n_input: int, n_hidden: int, *, torch_biases: bool = True) -> int:
    """Return the number of weights of one LSTM layer: four blocks of U, W and bias.

    With ``torch_biases`` (torch's layout, two bias vectors) 4 (n d + n n + 2 n); otherwise
    (one bias, as :class:`LSTMParams`) 4 (n d + n n + n).
    """
    return gates.count_gated_params(LSTMParams, n_input, n_hidden, torch_biases=torch_biases)


def lstm_to_torch(params: LSTMParams, *, cell: bool = False):
    """Return a float64 ``torch.nn.LSTM`` (or ``torch.nn.LSTMCell``) with these weights.

    b goes to ``bias_ih``; ``bias_hh`` is zero.
    """
    params = _check_params(params)
    return gates.gated_to_torch(params, np.zeros_like(params.b), cell=cell)


def lstm_from_torch(module) -> LSTMParams:
    """Return the :class:`LSTMParams` of a one-layer ``torch.nn.LSTM`` or ``torch.nn.LSTMCell``.

    The two torch biases are summed: b = bias_ih + bias_hh.
    """
    U, W, b_ih, b_hh = gates.torch_weights(module, "lstm")
    return LSTMParams(U=U, W=W, b=b_ih + b_hh)


def _check_trajectory(params, traj) -> None:
    gates.check_trajectory(params, traj, LSTMParams, LSTMTrajectory)


def _dc_dh(params: LSTMParams, traj: LSTMTrajectory) -> np.ndarray:
    """Return A_t = dc_t/dh_{t-1} with c_{t-1} held fixed, shape (T, B, n, n)."""
    _, W_i, _ = params.gate("i")
    _, W_f, _ = params.gate("f")
    _, W_g, _ = params.gate("g")
    i, f, g = traj.i, traj.f, traj.g
    return ((traj.c_prev * f * (1 - f))[..., None] * W_f
            + (g * i * (1 - i))[..., None] * W_i
            + (i * (1 - g ** 2))[..., None] * W_g)


@dataclass(frozen=True, eq=False)
class LSTMCellJacobian(gates.GatePathSplit):
    """The one-step cell-state Jacobians C_t = dc_t/dc_{t-1} = diag(f_t) + rest_t, t = 2..T.

    Attributes
    ----------
    t : ndarray, shape (T - 1,)
        Steps 2..T (step 1 has no o_0: h_0 is an input, not a function of c_0).
    forget : ndarray, shape (T - 1, B, n)
        f_t, the diagonal of the forget-gate path.
    rest : ndarray, shape (T - 1, B, n, n)
        A_t diag(o_{t-1} * tanh'(c_{t-1})): every path through h_{t-1} into the gates.
    """

    forget: np.ndarray

    GATE: ClassVar[str] = "forget"


def lstm_cell_jacobian(params: LSTMParams, traj: LSTMTrajectory) -> LSTMCellJacobian:
    """Return the :class:`LSTMCellJacobian`: dc_t/dc_{t-1} split into diag(f_t) and the rest.

    The derivative is total in c_{t-1}: h_{t-1} = o_{t-1} * tanh(c_{t-1}) moves with c_{t-1}
    (o_{t-1} is held, since it depends only on h_{t-2} and x_{t-1}). Needs T >= 2.
    """
    _check_trajectory(params, traj)
    T = traj.h.shape[0]
    if T < 2:
        raise ValueError(f"the cell Jacobian needs T >= 2 steps (steps 2..T), got T = {T}")
    A = _dc_dh(params, traj)[1:]
    dh_dc = traj.o[:-1] * (1 - np.tanh(traj.c[:-1]) ** 2)
    return LSTMCellJacobian(t=np.arange(2, T + 1), forget=traj.f[1:].copy(),
                            rest=A * dh_dc[..., None, :])


def lstm_state_jacobian(params: LSTMParams, traj: LSTMTrajectory) -> np.ndarray:
    """Return d(c_t, h_t)/d(c_{t-1}, h_{t-1}) for t = 1..T, shape (T, B, 2n, 2n).

    The state is stacked as [c; h]: the top-left block is diag(f_t), the top-right
    A_t = dc_t/dh_{t-1}, the bottom-left diag(o_t tanh'(c_t) f_t), the bottom-right
    diag(tanh(c_t) o_t (1 - o_t)) W_o + diag(o_t tanh'(c_t)) A_t.
    """
    _check_trajectory(params, traj)
    T, B, n = traj.h.shape
    _, W_o, _ = params.gate("o")
    A = _dc_dh(params, traj)
    tc = np.tanh(traj.c)
    dh_dc_now = traj.o * (1 - tc ** 2)
    eye = np.eye(n)
    S = np.empty((T, B, 2 * n, 2 * n))
    S[..., :n, :n] = traj.f[..., None] * eye
    S[..., :n, n:] = A
    S[..., n:, :n] = (dh_dc_now * traj.f)[..., None] * eye
    S[..., n:, n:] = (tc * traj.o * (1 - traj.o))[..., None] * W_o + dh_dc_now[..., None] * A
    return S


def lstm_cell_spans(params: LSTMParams, traj: LSTMTrajectory) -> SpanJacobians:
    """Return the exact dc_T/dc_k for k = 1..T as :class:`SpanJacobians`.

    dc_T/dc_k is the total derivative: c_k is perturbed, h_k = o_k * tanh(c_k) follows (o_k
    held), and so do all later steps, including the output-gate path h_{t-1} -> o_t -> h_t. It
    is the c-rows of the full-state product M_k = d(c_T, h_T)/d(c_k, h_k) times
    [I; diag(o_k tanh'(c_k))]. ``gate_path`` is prod_{j=k+1}^{T} f_j.
    """
    S = lstm_state_jacobian(params, traj)
    T, B, n = traj.h.shape
    dh_dc = traj.o * (1 - np.tanh(traj.c) ** 2)

    def c_rows(M: np.ndarray) -> np.ndarray:
        return M[..., :n, :n] + M[..., :n, n:] * dh_dc[..., None, :]

    # Index by k = 1..T: reverse the distance axis of span_products and drop k = 0.
    with np.errstate(over="ignore", invalid="ignore"):
        products = c_rows(span_products(S)[::-1][1:])
    Q, exponents = span_products(S, rescaled=True)
    with np.errstate(over="ignore", under="ignore"):
        norms = np.ldexp(spectral_norms(c_rows(Q[::-1][1:])), exponents[::-1][1:])
    k = np.arange(1, T + 1)
    return SpanJacobians(k=k, distance=T - k, products=products, norms=norms,
                         gate_path=gates.gate_path_products(traj.f)[1:])


@dataclass(frozen=True, eq=False)
class GradientFlow:
    """How far a gradient travels: an LSTM's ||dc_T/dc_k|| beside a vanilla RNN's ||dh_T/dh_k||.

    Attributes
    ----------
    forget_bias : float
        The value added to the LSTM's forget-gate bias b_f.
    distance : ndarray, shape (T,)
        T - k = 0..T-1.
    lstm : ndarray, shape (T,)
        ||dc_T/dc_k||_2, the exact total derivative (all paths).
    forget_path : ndarray, shape (T,)
        ||prod_{j=k+1}^{T} diag(f_j)||_2 = max_i prod_j f_{j,i}: the forget-gate path alone.
    rnn : ndarray, shape (T,)
        ||dh_T/dh_k||_2 of a tanh RNN with the same input (computed without overflow: inf only
        beyond the float range).
    forget_gates : ndarray, shape (T, n)
        The LSTM's forget-gate values f_t along the sequence.
    g : float
        Scale g of both networks' recurrent weights (std g / sqrt(n)).
    """

    forget_bias: float
    distance: np.ndarray
    lstm: np.ndarray
    forget_path: np.ndarray
    rnn: np.ndarray
    forget_gates: np.ndarray
    g: float

    @property
    def mean_forget(self) -> float:
        """The average forget-gate value over steps and units."""
        return float(self.forget_gates.mean())


def forget_bias_gradient_flow(
    forget_bias: float,
    *,
    T: int = 100,
    n: int = 32,
    g: float = 1.0,
    seed: int = 0,
) -> GradientFlow:
    """Return the :class:`GradientFlow` of a random LSTM whose b_f is shifted by ``forget_bias``.

    Both networks read the same input, one channel of standard normal noise, from zero states.
    The LSTM is ``LSTMParams.random(1, n, forget_bias=forget_bias, g=...)``; the
    RNN is ``RNNParams.random(1, n, 1, g=...)`` with tanh. Only distances
    0..T-1 are reported for both (the LSTM's dc_T/dc_k is defined for k >= 1).
    """
    forget_bias = check_real("forget_bias", forget_bias)
    T = check_count("T", T, 2)
    n = check_count("n", n)
    scale = check_real("g", g)
    if scale < 0:
        raise ValueError(f"g must be >= 0, got {scale}")
    seed = check_count("seed", seed, 0, MAX_SEED)
    x = np.random.default_rng([seed, 7]).normal(size=(T, 1, 1))
    lstm_params = LSTMParams.random(1, n, g=scale, forget_bias=forget_bias,
                                    seed=seed)
    traj = lstm_forward(lstm_params, x)
    spans = lstm_cell_spans(lstm_params, traj)
    rnn_params = RNNParams.random(1, n, 1, g=scale, seed=seed)
    rnn_norms = span_norms(step_jacobians(rnn_params, forward(rnn_params, x)))
    return GradientFlow(
        forget_bias=forget_bias,
        distance=spans.distance[::-1].copy(),
        lstm=spans.norms[::-1, 0].copy(),
        forget_path=spans.gate_path[::-1, 0].max(axis=-1),
        rnn=rnn_norms[:T],
        forget_gates=traj.f[:, 0].copy(),
        g=scale,
    )


def _norm_text(value: float) -> str:
    return "overflow (inf)" if not np.isfinite(value) else f"{value:.2g}"


def describe_gradient_flow(result: GradientFlow, distances: tuple[int, ...] = (10, 50)) -> str:
    """Return a one-paragraph description of a :class:`GradientFlow` (alt text of its figure).

    It names the forget-gate bias, the scale g, the mean forget gate and, at each of
    ``distances`` (clipped to the longest available) and at the longest distance, the LSTM's
    ||dc_T/dc_k||, the forget-gate path and the vanilla RNN's ||dh_T/dh_k||.
    """
    if not isinstance(result, GradientFlow):
        raise TypeError(f"expected a GradientFlow, got {type(result).__name__}")
    longest = int(result.distance.max())
    picks = sorted({min(check_count("distance", d, 0), longest) for d in distances} | {longest})
    parts = [
        f"at distance {d}: LSTM {_norm_text(result.lstm[d])}, forget path "
        f"{_norm_text(result.forget_path[d])}, RNN {_norm_text(result.rnn[d])}"
        for d in picks
    ]
    return (f"Gradient norms against distance T - k on a log scale, forget-gate bias "
            f"{result.forget_bias:+g}, recurrent scale g = {result.g:g}, mean "
            f"forget gate {result.mean_forget:.2f}; " + "; ".join(parts) + ".")
