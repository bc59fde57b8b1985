"""The two losses of the seeds, each with its value and its gradient dL/do_t.

- ``mse_last`` (seed 000): only the last output is trained,
  L = 1/2 sum_b ||y_b - o_{T,b}||^2.
- ``ce_all`` (seed 001): softmax cross-entropy at every step,
  L = sum_t sum_b CE(softmax(o_{t,b}), y_{t,b}) with integer class targets.

Both losses are **summed** over the batch (never averaged), so that the loss of a batch is the
sum of the losses of its sequences and L = sum_t L_t holds as in the book. The torch
equivalents are ``0.5 * ((y - o[-1]) ** 2).sum()`` and
``torch.nn.functional.cross_entropy(..., reduction="sum")``.

Outputs ``o`` are ``(T, m)`` or ``(T, B, m)``; a gradient has the shape of ``o``.

Overflow contract. Outputs may hold +-inf (an exploded forward pass; not an error). A loss
beyond the float64 range is ``inf``, a gradient entry beyond it ``+inf`` or ``-inf`` with its
sign, and a softmax with one ``+inf`` logit puts all its mass there. NaN appears only where the
mathematics is undefined: a NaN output, or two ``+inf`` logits in one softmax (their ratio is
unknown). :func:`rnnbook.bptt.bptt` does better for an exploded RNN: it evaluates both losses
from the forward pass's mantissas and powers of two, so its loss and gradients are exact to
round-off whatever the overflow, and never NaN from finite input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rnnbook.checks import check_array, check_choice, check_count


def _outputs(o) -> np.ndarray:
    """Return ``o`` as a float array of shape (T, B, m), checking its shape.

    Non-finite outputs are allowed: an exploded forward pass gives a non-finite loss, which a
    figure can show, rather than an error.
    """
    array = check_array("o", o, finite=False)
    if array.ndim not in (2, 3):
        raise ValueError(f"outputs o must have shape (T, m) or (T, B, m), got {array.shape}")
    if array.shape[0] == 0 or array.shape[-1] == 0:
        raise ValueError(f"outputs o must hold at least one step and one unit, got {array.shape}")
    return array if array.ndim == 3 else array[:, None, :]


def _mse_target(y, o: np.ndarray) -> np.ndarray:
    """Return the last-step target as (B, m) for outputs ``o`` of shape (T, B, m)."""
    _, B, m = o.shape
    target = check_array("y", y, finite=False)
    if target.shape == (m,) and B == 1:
        target = target[None, :]
    if target.shape != (B, m):
        raise ValueError(
            f"mse_last needs a target y of shape (B, m) = {(B, m)} for outputs of shape "
            f"(T, B, m) = {o.shape} (or (m,) when B = 1), got {target.shape}"
        )
    if not np.all(np.isfinite(target)):
        raise ValueError("target y contains NaN or infinite values")
    return target


def _class_target(y, o: np.ndarray) -> np.ndarray:
    """Return the class targets as (T, B) integers for outputs ``o`` of shape (T, B, m)."""
    T, B, m = o.shape
    target = np.asarray(y)
    if target.dtype == bool or not np.issubdtype(target.dtype, np.integer):
        raise TypeError(f"ce_all needs integer class indices as targets, got dtype {target.dtype}")
    if target.shape == (T,) and B == 1:
        target = target[:, None]
    if target.shape != (T, B):
        raise ValueError(
            f"ce_all needs targets y of shape (T, B) = {(T, B)} for outputs of shape "
            f"(T, B, m) = {o.shape} (or (T,) when B = 1), got {target.shape}"
        )
    if target.min() < 0 or target.max() >= m:
        raise ValueError(
            f"class indices must lie in [0, {m - 1}] (m = {m} outputs), got values from "
            f"{target.min()} to {target.max()}"
        )
    return target


def mse_last(o, y) -> float:
    """Return L = 1/2 sum_b ||y_b - o_{T,b}||^2, the squared error of the last step only.

    Parameters
    ----------
    o : array_like, shape (T, m) or (T, B, m)
        Outputs o_1..o_T.
    y : array_like, shape (m,) or (B, m)
        Target of the last step.
    """
    outputs = _outputs(o)
    target = _mse_target(y, outputs)
    return float(0.5 * np.sum((target - outputs[-1]) ** 2))


def mse_last_grad(o, y) -> np.ndarray:
    """Return dL/do_t, shape of ``o``: o_T - y at the last step, zero at every other step."""
    outputs = _outputs(o)
    target = _mse_target(y, outputs)
    grad = np.zeros_like(outputs)
    grad[-1] = outputs[-1] - target
    return grad.reshape(np.shape(o))


def _log_softmax(o: np.ndarray) -> np.ndarray:
    top = o.max(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore"):
        shifted = o - top
    # one +inf logit (an overflowed output) takes all the probability: exactly 0 and -inf
    lone = np.isposinf(top) & (np.isposinf(o).sum(axis=-1, keepdims=True) == 1)
    if lone.any():
        shifted = np.where(lone, np.where(np.isposinf(o), 0.0, -np.inf), shifted)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def ce_all(o, y) -> float:
    """Return L = -sum_t sum_b log softmax(o_{t,b})[y_{t,b}], the cross-entropy of every step.

    Parameters
    ----------
    o : array_like, shape (T, m) or (T, B, m)
        Outputs (logits) o_1..o_T.
    y : array_like of int, shape (T,) or (T, B)
        Class index of every step, in [0, m).
    """
    outputs = _outputs(o)
    target = _class_target(y, outputs)
    log_p = _log_softmax(outputs)
    return float(-np.take_along_axis(log_p, target[..., None], axis=-1).sum())


def ce_all_grad(o, y) -> np.ndarray:
    """Return dL/do_t = softmax(o_t) - onehot(y_t) for every step, shape of ``o``."""
    outputs = _outputs(o)
    target = _class_target(y, outputs)
    grad = np.exp(_log_softmax(outputs))
    np.put_along_axis(grad, target[..., None],
                      np.take_along_axis(grad, target[..., None], axis=-1) - 1.0, axis=-1)
    return grad.reshape(np.shape(o))


@dataclass(frozen=True)
class Loss:
    """A loss over the outputs of a sequence, with its gradient.

    Attributes
    ----------
    name : str
        Key in :data:`LOSSES`.
    value : callable
        ``value(o, y) -> float``.
    grad : callable
        ``grad(o, y) -> ndarray``: dL/do_t, the shape of ``o``.
    all_steps : bool
        True if every step carries a loss term L_t; False if only the last step does.
    """

    name: str
    value: Callable[..., float]
    grad: Callable[..., np.ndarray]
    all_steps: bool

    def loss_steps(self, T: int) -> np.ndarray:
        """Return the 0-based indices of the steps that carry a loss term, ascending."""
        T = check_count("T", T)
        return np.arange(T) if self.all_steps else np.array([T - 1])


LOSSES: dict[str, Loss] = {
    "mse_last": Loss("mse_last", mse_last, mse_last_grad, all_steps=False),
    "ce_all": Loss("ce_all", ce_all, ce_all_grad, all_steps=True),
}


def get_loss(name: str) -> Loss:
    """Return the :class:`Loss` called ``name`` (``mse_last`` or ``ce_all``).

    Raises
    ------
    TypeError
        If ``name`` is not a string.
    ValueError
        If ``name`` is not one of ``LOSSES``.
    """
    return LOSSES[check_choice("loss name", name, tuple(LOSSES))]
