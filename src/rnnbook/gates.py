"""What the gated cells (LSTM, GRU) share: the sigmoid, input checks, and Jacobian products.

A gradient that crosses many steps is multiplied by one Jacobian per step. For a sequence of
one-step Jacobians ``J_1..J_T`` (``J_t`` = d state_t / d state_{t-1}) the product over the span
from step k to step T is

    d state_T / d state_k = J_T J_{T-1} ... J_{k+1},    and the empty product (k = T) is I.

:func:`span_products` computes all of them at once, from the far end backwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbook.activations import get_activation

sigmoid = get_activation("sigmoid").f


def check_count(name: str, value, minimum: int = 1) -> int:
    """Return ``value`` as an int, or raise if it is not an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_real(name: str, value) -> float:
    """Return ``value`` as a float, or raise if it is not a finite real number."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return float(value)


def finite_array(name: str, value, ndim: int) -> np.ndarray:
    """Return ``value`` as a float64 array with ``ndim`` axes and no NaN/inf, or raise."""
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def batched(name: str, value, width: int, ndim_single: int) -> tuple[np.ndarray, bool]:
    """Return ``value`` with a batch axis before its last axis, and whether one was added.

    ``ndim_single`` is the number of axes without a batch (1 for a state ``(n,)``, 2 for a
    sequence ``(T, d)``); with a batch the array has one more (``(B, n)``, ``(T, B, d)``).
    """
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == ndim_single:
        array = np.expand_dims(array, ndim_single - 1)
        added = True
    elif array.ndim == ndim_single + 1:
        added = False
    else:
        raise ValueError(f"{name} must have {ndim_single} or {ndim_single + 1} dimensions, "
                         f"got shape {array.shape}")
    if array.shape[-1] != width:
        raise ValueError(f"{name} has shape {array.shape}: its last axis must have size {width}")
    if 0 in array.shape:
        raise ValueError(f"{name} has an empty axis: shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array, added


def initial_state(name: str, value, batch: int, width: int) -> np.ndarray:
    """Return an initial state of shape ``(batch, width)``: zeros if ``value`` is None."""
    if value is None:
        return np.zeros((batch, width))
    state, _ = batched(name, value, width, 1)
    if state.shape[0] != batch:
        raise ValueError(f"{name} has batch size {state.shape[0]} (shape {state.shape}) but x "
                         f"has batch size {batch}")
    return state


def span_products(jacobians: np.ndarray) -> np.ndarray:
    """Return all span products of one-step Jacobians, shape (T + 1, B, n, n).

    Parameters
    ----------
    jacobians : ndarray, shape (T, B, n, n)
        ``jacobians[t - 1]`` is J_t = d s_t / d s_{t-1}, for t = 1..T.

    Returns
    -------
    ndarray, shape (T + 1, B, n, n)
        Entry k is d s_T / d s_k = J_T ... J_{k+1} for k = 0..T (entry T is the identity).
        Overflow is not an error: entries may be inf or nan.
    """
    jacobians = np.asarray(jacobians, dtype=np.float64)
    if jacobians.ndim != 4 or jacobians.shape[-1] != jacobians.shape[-2]:
        raise ValueError(f"jacobians must have shape (T, B, n, n), got {jacobians.shape}")
    T, B, n, _ = jacobians.shape
    products = np.empty((T + 1, B, n, n))
    products[T] = np.eye(n)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(T - 1, -1, -1):
            products[k] = products[k + 1] @ jacobians[k]
    return products


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
    matrices = np.asarray(matrices, dtype=np.float64)
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
        Spectral norms ||d s_T / d s_k||_2 (inf where a product overflowed).
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
    gates = np.asarray(gates, dtype=np.float64)
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
