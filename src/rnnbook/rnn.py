"""The Elman RNN in the book's notation, and its conversion to and from torch.

    z_t = U x_t + W h_{t-1} + b,    h_t = f(z_t),    o_t = V h_t + c

Shapes: ``x`` is ``(T, d)`` or ``(T, B, d)``; hidden states are ``(T, n)`` or ``(T, B, n)``;
outputs ``(T, m)`` or ``(T, B, m)``.

Overflow contract of :func:`forward`. An exploding network is not an error: a value beyond
the float64 range (about 1.8e308) becomes ``+inf`` or ``-inf`` with its true sign, and
``Trajectory.overflow_step`` records the first step that overflowed. With relu or identity
the states are carried on past the overflow as mantissas times powers of two (kept in
``Trajectory.h_mantissa`` and ``h_exponent``), so later states keep their signs and an entry
that is exactly 0 stays 0; with tanh and the sigmoid the states saturate and stay finite. NaN
appears only where the mathematics is undefined (NaN in the input), never from finite input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbook.activations import get_activation
from rnnbook.checks import batched, check_array, check_count, check_real, check_seed, finite_array
from rnnbook.spectra import gaussian_matrix

TORCH_ACTIVATIONS = ("tanh", "relu")


@dataclass(frozen=True, eq=False)
class RNNParams:
    """Weights of an Elman RNN with an affine read-out.

    Attributes
    ----------
    U : ndarray, shape (n, d)
        Input weights.
    W : ndarray, shape (n, n)
        Recurrent weights.
    b : ndarray, shape (n,)
        Hidden bias.
    V : ndarray, shape (m, n)
        Output weights.
    c : ndarray, shape (m,)
        Output bias.
    activation : str
        Name of the hidden activation f (``tanh``, ``sigmoid``, ``relu`` or ``identity``).
    """

    U: np.ndarray
    W: np.ndarray
    b: np.ndarray
    V: np.ndarray
    c: np.ndarray
    activation: str = "tanh"

    def __post_init__(self) -> None:
        get_activation(self.activation)
        for name, ndim in (("U", 2), ("W", 2), ("b", 1), ("V", 2), ("c", 1)):
            object.__setattr__(self, name, finite_array(name, getattr(self, name), ndim))
        n = self.W.shape[0]
        expected = {
            "W": (n, n),
            "U": (n, self.U.shape[1]),
            "b": (n,),
            "V": (self.V.shape[0], n),
            "c": (self.V.shape[0],),
        }
        for name, shape in expected.items():
            if getattr(self, name).shape != shape:
                shapes = ", ".join(f"{k}{getattr(self, k).shape}" for k in expected)
                raise ValueError(
                    f"{name} has shape {getattr(self, name).shape}, expected {shape} "
                    f"(hidden size n={n} taken from W); got {shapes}"
                )

    @property
    def n_input(self) -> int:
        """Input size d."""
        return self.U.shape[1]

    @property
    def n_hidden(self) -> int:
        """Hidden size n."""
        return self.W.shape[0]

    @property
    def n_output(self) -> int:
        """Output size m."""
        return self.V.shape[0]

    @classmethod
    def random(
        cls,
        n_input: int,
        n_hidden: int,
        n_output: int,
        *,
        activation: str = "tanh",
        g: float = 1.0,
        seed: int = 0,
    ) -> RNNParams:
        """Return random weights: Gaussian, variance 1/fan-in, W scaled by ``g``.

        With scale ``g`` the entries of W have standard deviation g / sqrt(n), so by
        the circular law the spectral radius of W is close to g for large n.
        """
        for name, value in (("n_input", n_input), ("n_hidden", n_hidden), ("n_output", n_output)):
            check_count(name, value)
        get_activation(activation)
        g = check_real("g", g, low=0.0)
        rng = np.random.default_rng(check_seed("seed", seed))
        return cls(
            U=rng.normal(0.0, 1.0 / np.sqrt(n_input), (n_hidden, n_input)),
            W=gaussian_matrix(n_hidden, g, rng),
            b=rng.normal(0.0, 0.1, n_hidden),
            V=rng.normal(0.0, 1.0 / np.sqrt(n_hidden), (n_output, n_hidden)),
            c=rng.normal(0.0, 0.1, n_output),
            activation=activation,
        )

    def replace(self, **changes) -> RNNParams:
        """Return a copy with some fields replaced."""
        fields = {k: getattr(self, k) for k in ("U", "W", "b", "V", "c", "activation")}
        fields.update(changes)
        return RNNParams(**fields)


@dataclass(frozen=True, eq=False)
class Trajectory:
    """What a forward pass computed, with a batch axis always present.

    Attributes
    ----------
    x : ndarray, shape (T, B, d)
    h0 : ndarray, shape (B, n)
    z : ndarray, shape (T, B, n)
        Pre-activations z_1..z_T.
    h : ndarray, shape (T, B, n)
        Hidden states h_1..h_T.
    o : ndarray, shape (T, B, m)
        Outputs o_1..o_T (before any output non-linearity g).
    overflow_step : int or None
        The first step t (1-based) whose pre-activation z_t left the float64 range (some entry
        is +-inf), or None if none did.
    h_mantissa, h_exponent : ndarray or None, shapes (T, B, n) and (T,)
        For relu and identity, when a state overflowed: h_t = h_mantissa[t-1] 2^h_exponent[t-1]
        exactly, also where ``h`` holds +-inf (the exponent is 0 before the overflow). What
        :func:`rnnbook.bptt.bptt` differentiates past the overflow. None otherwise.
    """

    x: np.ndarray
    h0: np.ndarray
    z: np.ndarray
    h: np.ndarray
    o: np.ndarray
    overflow_step: int | None = None
    h_mantissa: np.ndarray | None = None
    h_exponent: np.ndarray | None = None

    @property
    def h_prev(self) -> np.ndarray:
        """Hidden states h_0..h_{T-1}, shape (T, B, n): the state each step reads."""
        return np.concatenate([self.h0[None], self.h[:-1]], axis=0)


def count_params(n_input: int, n_hidden: int, n_output: int) -> int:
    """Return the number of weights of the RNN: n d + n n + n + m n + m (no T in it)."""
    d, n, m = (check_count(name, value) for name, value in
               (("n_input", n_input), ("n_hidden", n_hidden), ("n_output", n_output)))
    return n * d + n * n + n + m * n + m


#: Activations with f(s z) = s f(z) for s > 0: their states can be followed past overflow.
HOMOGENEOUS = ("relu", "identity")


def _scaled_continuation(params: RNNParams, inputs: np.ndarray, h_prev: np.ndarray, start: int,
                         z: np.ndarray, h: np.ndarray, o: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Fill z, h, o from step ``start`` on, carrying the states as mantissa times 2^exponent.

    For a positively homogeneous f (relu, identity), h = 2^e f(z / 2^e): the recursion runs on
    mantissas whose largest entry is in [0.5, 1), so a state beyond the float64 range keeps its
    direction and sign; it is written out as +-inf (and an entry that is exactly 0 stays 0).
    Returns the states as ``(mantissa (T, B, n), exponent (T,))`` (plain states before
    ``start``).
    """
    f = get_activation(params.activation).f
    largest = float(np.abs(h_prev).max()) if h_prev.size else 0.0
    exponent = int(np.frexp(largest)[1]) if largest > 0.0 else 0
    mantissa = np.ldexp(h_prev, -exponent)
    h_mantissa, h_exponent = h.copy(), np.zeros(inputs.shape[0], dtype=np.int64)
    for t in range(start, inputs.shape[0]):
        zs = np.ldexp(inputs[t], -exponent) + mantissa @ params.W.T
        largest = float(np.abs(zs).max())
        if largest > 0.0:
            shift = int(np.frexp(largest)[1])
            zs = np.ldexp(zs, -shift)
            exponent += shift
        z[t] = np.ldexp(zs, exponent)
        h[t] = f(z[t])
        mantissa = f(zs)
        h_mantissa[t], h_exponent[t] = mantissa, exponent
        o[t] = np.ldexp(mantissa @ params.V.T + np.ldexp(params.c, -exponent), exponent)
    return h_mantissa, h_exponent


def forward(params: RNNParams, x, h0=None) -> Trajectory:
    """Run the RNN over a sequence and return the :class:`Trajectory`.

    Parameters
    ----------
    params : RNNParams
    x : array_like, shape (T, d) or (T, B, d)
        Inputs x_1..x_T.
    h0 : array_like, shape (n,) or (B, n), optional
        Initial state; zeros by default.

    Notes
    -----
    Overflow is not an error: with ``relu`` or ``identity`` and a large W the states grow past
    the float64 range. They are then carried on as a mantissa times a power of two, so each
    entry beyond the range is written as +inf or -inf with its true sign (never NaN, since
    0 times an overflowed state is 0), and ``overflow_step`` records the first step that
    overflowed, so that a figure can show the explosion.
    """
    if not isinstance(params, RNNParams):
        raise TypeError(f"params must be RNNParams, got {type(params).__name__}")
    x_array = check_array("x", x, finite=False)
    if x_array.ndim < 1 or x_array.shape[0] == 0:
        raise ValueError(f"x must hold at least one time step, got shape {x_array.shape}")
    xb, _ = batched("x", x_array, params.n_input, 2)
    T, B, _ = xb.shape
    if h0 is None:
        h0b = np.zeros((B, params.n_hidden))
    else:
        h0b, _ = batched("h0", h0, params.n_hidden, 1)
        if h0b.shape[0] != B:
            raise ValueError(f"h0 has batch size {h0b.shape[0]} but x has batch size {B}")
    f = get_activation(params.activation).f
    z = np.empty((T, B, params.n_hidden))
    h = np.empty_like(z)
    h_prev = h0b
    overflow_step = None
    with np.errstate(over="ignore", invalid="ignore"):
        inputs = xb @ params.U.T + params.b
        for t in range(T):
            z[t] = inputs[t] + h_prev @ params.W.T
            if not np.all(np.isfinite(z[t])):
                overflow_step = t + 1
                if params.activation in HOMOGENEOUS and np.all(np.isfinite(inputs)):
                    o = np.empty((T, B, params.n_output))
                    o[:t] = h[:t] @ params.V.T + params.c
                    mantissa, exponent = _scaled_continuation(params, inputs, h_prev, t, z, h, o)
                    return Trajectory(x=xb, h0=h0b, z=z, h=h, o=o, overflow_step=overflow_step,
                                      h_mantissa=mantissa, h_exponent=exponent)
            h[t] = f(z[t])
            h_prev = h[t]
        o = h @ params.V.T + params.c
    return Trajectory(x=xb, h0=h0b, z=z, h=h, o=o, overflow_step=overflow_step)


def to_torch(params: RNNParams):
    """Return ``(rnn, readout)``: float64 torch.nn.RNN and torch.nn.Linear with these weights.

    torch has two hidden biases; ``bias_ih_l0`` carries b and ``bias_hh_l0`` is zero.
    """
    import torch

    if not isinstance(params, RNNParams):
        raise TypeError(f"params must be RNNParams, got {type(params).__name__}")
    if params.activation not in TORCH_ACTIVATIONS:
        raise ValueError(
            f"torch.nn.RNN supports only {TORCH_ACTIVATIONS}, not {params.activation!r}"
        )
    rnn = torch.nn.RNN(params.n_input, params.n_hidden, nonlinearity=params.activation,
                       dtype=torch.float64)
    readout = torch.nn.Linear(params.n_hidden, params.n_output, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(params.U))
        rnn.weight_hh_l0.copy_(torch.from_numpy(params.W))
        rnn.bias_ih_l0.copy_(torch.from_numpy(params.b))
        rnn.bias_hh_l0.zero_()
        readout.weight.copy_(torch.from_numpy(params.V))
        readout.bias.copy_(torch.from_numpy(params.c))
    return rnn, readout


def from_torch(rnn, readout) -> RNNParams:
    """Return the :class:`RNNParams` of a one-layer ``torch.nn.RNN`` and a ``torch.nn.Linear``.

    The two torch biases are summed: b = bias_ih_l0 + bias_hh_l0.
    """
    import torch

    if not isinstance(rnn, torch.nn.RNN) or not isinstance(readout, torch.nn.Linear):
        raise TypeError("from_torch expects a torch.nn.RNN and a torch.nn.Linear")
    if rnn.num_layers != 1 or rnn.bidirectional or not rnn.bias or rnn.batch_first:
        raise ValueError("from_torch supports one-layer, unidirectional, biased, "
                         "sequence-first torch.nn.RNN only")

    def array(tensor) -> np.ndarray:
        return tensor.detach().to(torch.float64).cpu().numpy().copy()

    return RNNParams(
        U=array(rnn.weight_ih_l0),
        W=array(rnn.weight_hh_l0),
        b=array(rnn.bias_ih_l0) + array(rnn.bias_hh_l0),
        V=array(readout.weight),
        c=array(readout.bias),
        activation=rnn.nonlinearity,
    )
