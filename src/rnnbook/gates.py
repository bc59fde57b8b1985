"""What the gated cells (LSTM, GRU) share: the sigmoid, input checks, and span results.

A gradient that crosses many steps is multiplied by one Jacobian per step. For a sequence of
one-step Jacobians ``J_1..J_T`` (``J_t`` = d state_t / d state_{t-1}) the product over the span
from step k to step T is

    d state_T / d state_k = J_T J_{T-1} ... J_{k+1},    and the empty product (k = T) is I.

:func:`rnnbook.jacobian.span_products` computes all of them at once (indexed by the distance
T - k), for the gated cells as for the Elman RNN; :class:`SpanJacobians` holds them indexed by k.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import ClassVar, Self

import numpy as np

from rnnbook.activations import get_activation
from rnnbook.checks import (
    batched,
    check_array,
    check_choice,
    check_count,
    check_flag,
    check_real,
    check_seed,
    check_type,
    finite_array,
)
from rnnbook.spectra import gaussian_matrix

sigmoid = get_activation("sigmoid").f


@dataclass(frozen=True, eq=False)
class GatedParams:
    """Weights of a gated layer, one block per gate stacked in torch's order.

    Subclasses name their gates in ``GATES``; ``U`` is (k n, d), ``W`` is (k n, n) and ``b`` is
    (k n,) for k gates and hidden size n (taken from W's columns).
    """

    U: np.ndarray
    W: np.ndarray
    b: np.ndarray

    GATES: ClassVar[tuple[str, ...]] = ()
    KIND: ClassVar[str] = "gated"
    #: Bias vectors of size n kept apart from ``b`` (the GRU's b_hn), for the weight count.
    EXTRA_BIASES: ClassVar[int] = 0

    def expected_shapes(self) -> dict[str, tuple[int, ...]]:
        """Return the shape every field must have, given W's columns and U's columns."""
        n, k = self.W.shape[1], len(self.GATES)
        return {"U": (k * n, self.U.shape[1]), "W": (k * n, n), "b": (k * n,)}

    def __post_init__(self) -> None:
        for name in ("U", "W"):
            object.__setattr__(self, name, finite_array(name, getattr(self, name), 2))
        expected = self.expected_shapes()
        for name, shape in expected.items():
            if name not in ("U", "W"):
                array = finite_array(name, getattr(self, name), len(shape))
                object.__setattr__(self, name, array)
        n, d = self.W.shape[1], self.U.shape[1]
        for name, shape in expected.items():
            if getattr(self, name).shape != shape or n == 0 or d == 0:
                shapes = ", ".join(f"{k}{getattr(self, k).shape}" for k in expected)
                raise ValueError(
                    f"{name} has shape {getattr(self, name).shape}, expected {shape} (hidden size "
                    f"n={n} taken from W's columns; {len(self.GATES)} gate blocks "
                    f"{'/'.join(self.GATES)}); got {shapes}"
                )

    @property
    def n_input(self) -> int:
        """Input size d."""
        return self.U.shape[1]

    @property
    def n_hidden(self) -> int:
        """Hidden size n."""
        return self.W.shape[1]

    def gate(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(U_k, W_k, b_k)``, shapes (n, d), (n, n), (n,), of gate ``name``."""
        check_choice(f"{self.KIND} gate", name, self.GATES)
        n, index = self.n_hidden, self.GATES.index(name)
        block = slice(index * n, (index + 1) * n)
        return self.U[block], self.W[block], self.b[block]

    def replace(self, **changes) -> Self:
        """Return a copy with some fields replaced (validated like a new instance)."""
        names = [field.name for field in fields(self)]
        unknown = set(changes) - set(names)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field(s) {sorted(unknown)}; "
                            f"fields are {', '.join(names)}")
        return replace(self, **changes)

    @classmethod
    def _random_blocks(
        cls, n_input, n_hidden, g, seed, *, gate: str, bias_name: str, bias
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.random.Generator]:
        """Return ``(U, W, b, rng)`` drawn as the subclasses' ``random`` documents.

        Entries of U have standard deviation 1/sqrt(d), of W g/sqrt(n), of b 0.1;
        ``bias`` (the argument called ``bias_name``) is added to ``gate``'s bias block.
        """
        d = check_count("n_input", n_input)
        n = check_count("n_hidden", n_hidden)
        g = check_real("g", g)
        bias = check_real(bias_name, bias)
        k, index = len(cls.GATES), cls.GATES.index(gate)
        rng = np.random.default_rng(check_seed("seed", seed))
        b = rng.normal(0.0, 0.1, k * n)
        b[index * n:(index + 1) * n] += bias
        U = rng.normal(0.0, 1.0 / np.sqrt(d), (k * n, d))
        W = gaussian_matrix(n, g, rng, rows=k * n)
        return U, W, b, rng


class GatedTrajectory:
    """What the LSTM and GRU trajectories share: ``h0``, ``h`` and the states steps read."""

    h0: np.ndarray
    h: np.ndarray

    @property
    def h_prev(self) -> np.ndarray:
        """Hidden states h_0..h_{T-1}, shape (T, B, n): the state each step reads."""
        return np.concatenate([self.h0[None], self.h[:-1]], axis=0)


@dataclass(frozen=True, eq=False)
class GatePathSplit:
    """One-step Jacobians split as diag(gate_t) + rest_t: the gate-only path and all others.

    Subclasses add the gate's field (named by ``GATE``); ``total`` is the full Jacobian.
    """

    t: np.ndarray
    rest: np.ndarray

    GATE: ClassVar[str] = ""

    @property
    def total(self) -> np.ndarray:
        """diag(gate_t) + rest_t, shape (K, B, n, n)."""
        gate = getattr(self, self.GATE)
        return self.rest + gate[..., None] * np.eye(gate.shape[-1])


def check_params(params, cls: type[GatedParams]) -> GatedParams:
    """Return ``params``, or raise ``TypeError`` unless it is a ``cls`` instance."""
    if not isinstance(params, cls):
        raise TypeError(f"params must be {cls.__name__}, got {type(params).__name__}")
    return params


def check_trajectory(params, traj, params_cls: type[GatedParams], traj_cls: type) -> None:
    """Raise unless ``params`` is a ``params_cls`` and ``traj`` a matching ``traj_cls``."""
    check_params(params, params_cls)
    if not isinstance(traj, traj_cls):
        article = "an" if traj_cls.__name__[0] in "AEIOUL" else "a"
        raise TypeError(f"traj must be {article} {traj_cls.__name__}, got "
                        f"{type(traj).__name__}")
    if traj.h.shape[-1] != params.n_hidden or traj.x.shape[-1] != params.n_input:
        raise ValueError(f"traj (x {traj.x.shape}, h {traj.h.shape}) does not match params "
                         f"(d={params.n_input}, n={params.n_hidden})")


def count_gated_params(cls: type[GatedParams], n_input: int, n_hidden: int, *,
                       torch_biases: bool = True) -> int:
    """Return the number of weights of one gated layer of class ``cls``.

    k blocks of U (n x d), W (n x n) and a bias: k (n d + n n + n), plus k n for torch's second
    bias vector (``torch_biases``) or else ``cls.EXTRA_BIASES`` n (the biases kept apart).
    """
    d = check_count("n_input", n_input)
    n = check_count("n_hidden", n_hidden)
    k = len(cls.GATES)
    extra = k if check_flag("torch_biases", torch_biases) else cls.EXTRA_BIASES
    return k * (n * d + n * n + n) + extra * n


def gated_to_torch(params: GatedParams, bias_hh: np.ndarray, *, cell: bool = False):
    """Return a float64 torch LSTM/GRU layer (or cell) with U, W, b and this ``bias_hh``.

    b goes to ``bias_ih``; the layer type follows ``params.KIND`` ("LSTM" or "GRU").
    """
    import torch

    n_input, n_hidden = params.n_input, params.n_hidden
    if check_flag("cell", cell):
        module = getattr(torch.nn, f"{params.KIND}Cell")(n_input, n_hidden, dtype=torch.float64)
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    else:
        module = getattr(torch.nn, params.KIND)(n_input, n_hidden, dtype=torch.float64)
        names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    with torch.no_grad():
        for name, value in zip(names, (params.U, params.W, params.b, bias_hh), strict=True):
            getattr(module, name).copy_(torch.from_numpy(np.ascontiguousarray(value)))
    return module


def sequence_inputs(params: GatedParams, x, **initial) -> tuple[np.ndarray, np.ndarray, list]:
    """Return ``(x (T, B, d), U x_t + b (T, B, k n), [initial state (B, n), ...])``.

    ``initial`` names the initial states in order (``h0=...``, ``c0=...``); None gives zeros.
    """
    params = check_type("params", params, GatedParams)
    xb, _ = batched("x", x, params.n_input, 2)
    states = [initial_state(name, value, xb.shape[1], params.n_hidden)
              for name, value in initial.items()]
    return xb, xb @ params.U.T + params.b, states


def initial_state(name: str, value, batch: int, width: int) -> np.ndarray:
    """Return an initial state of shape ``(batch, width)``: zeros if ``value`` is None."""
    batch, width = check_count("batch", batch), check_count("width", width)
    if value is None:
        return np.zeros((batch, width))
    state, _ = batched(name, value, width, 1)
    if state.shape[0] != batch:
        raise ValueError(f"{name} has batch size {state.shape[0]} (shape {state.shape}) but x "
                         f"has batch size {batch}")
    return state


def spectral_norms(matrices: np.ndarray) -> np.ndarray:
    """Return the spectral norms (largest singular values) of a stack of matrices.

    Parameters
    ----------
    matrices : ndarray, shape (..., n, m)

    Returns
    -------
    ndarray, shape (...)
        ``inf`` wherever a matrix holds inf or nan (an overflowed product).
    """
    matrices = check_array("matrices", matrices, finite=False)
    if matrices.ndim < 2:
        raise ValueError(f"matrices must have at least 2 dimensions, got shape {matrices.shape}")
    norms = np.full(matrices.shape[:-2], np.inf)
    finite = np.all(np.isfinite(matrices), axis=(-2, -1))
    if finite.any():
        norms[finite] = np.linalg.norm(matrices[finite], ord=2, axis=(-2, -1))
    return norms


@dataclass(frozen=True, eq=False)
class SpanJacobians:
    """Jacobians of the last state with respect to earlier ones, and their norms.

    Attributes
    ----------
    k : ndarray, shape (K,)
        The earlier steps k.
    distance : ndarray, shape (K,)
        T - k, the number of steps the gradient crosses.
    products : ndarray, shape (K, B, n, n)
        d s_T / d s_k for each k and each sequence in the batch.
    norms : ndarray, shape (K, B)
        Spectral norms ||d s_T / d s_k||_2, computed without overflow (``inf`` only beyond the
        float range, where ``products`` hold +-inf: see :func:`rnnbook.jacobian.span_products`).
    gate_path : ndarray, shape (K, B, n)
        The diagonal of the gate-only path: prod_{j=k+1}^{T} f_j for the LSTM (forget gates),
        prod z_j for the GRU (update gates). Its largest entry is that path's spectral norm.
    """

    k: np.ndarray
    distance: np.ndarray
    products: np.ndarray
    norms: np.ndarray
    gate_path: np.ndarray


def gate_path_products(gates: np.ndarray) -> np.ndarray:
    """Return prod_{j=k+1}^{T} gate_j for k = 0..T, shape (T + 1, B, n).

    Parameters
    ----------
    gates : ndarray, shape (T, B, n)
        Gate values for steps 1..T; entry T of the result is all ones (an empty product).
    """
    gates = check_array("gates", gates, finite=False)
    if gates.ndim != 3:
        raise ValueError(f"gates must have shape (T, B, n), got {gates.shape}")
    ones = np.ones((1, *gates.shape[1:]))
    reversed_cumprod = np.cumprod(gates[::-1], axis=0)[::-1]
    return np.concatenate([reversed_cumprod, ones], axis=0)


def torch_weights(module, kind: str) -> list[np.ndarray]:
    """Return ``[weight_ih, weight_hh, bias_ih, bias_hh]`` of a one-layer torch LSTM/GRU (cell).

    Parameters
    ----------
    module : torch.nn.LSTM, torch.nn.LSTMCell, torch.nn.GRU or torch.nn.GRUCell
    kind : {"lstm", "gru"}

    Returns
    -------
    list of ndarray
        float64 copies, shapes (kn, d), (kn, n), (kn,), (kn,) with k = 4 (LSTM) or 3 (GRU).
    """
    import torch

    if kind not in ("lstm", "gru"):
        raise ValueError(f"kind must be 'lstm' or 'gru', got {kind!r}")
    layer_type = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    cell_type = {"lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}[kind]
    if isinstance(module, cell_type):
        if not module.bias:
            raise ValueError(f"torch.nn.{cell_type.__name__} without biases is not supported")
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    elif isinstance(module, layer_type):
        if module.num_layers != 1 or module.bidirectional or not module.bias:
            raise ValueError(f"only a one-layer, unidirectional, biased torch.nn."
                             f"{layer_type.__name__} is supported")
        if kind == "lstm" and module.proj_size:
            raise ValueError("torch.nn.LSTM with proj_size > 0 is not supported")
        names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    else:
        raise TypeError(f"expected torch.nn.{layer_type.__name__} or torch.nn."
                        f"{cell_type.__name__}, got {type(module).__name__}")
    return [getattr(module, name).detach().to(torch.float64).cpu().numpy().copy()
            for name in names]
