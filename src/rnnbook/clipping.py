"""Gradient clipping: by global norm (Pascanu et al. 2013, Algorithm 1) and by value.

Norm clipping treats the gradients of all parameters as one vector g:

    if ||g|| >= threshold:  g <- (threshold / ||g||) g

so a clipped step keeps the direction of g and only shortens it. Value clipping clamps each
entry to [-c, c] (the element-wise rule of Mikolov's thesis); it bounds the step too, but it
changes the direction whenever some entries are clamped and others are not.

Gradients are given as a dict of arrays, a list or tuple of arrays, or a single array; the
result holds copies in the same container, the inputs are never modified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnbook.checks import check_array, check_positive, check_real

#: torch.nn.utils.clip_grad_norm_ divides by (total_norm + 1e-6); this is the default eps.
TORCH_EPS = 1e-6

Gradients = Mapping[str, Any] | Sequence[Any] | np.ndarray


@dataclass(frozen=True, eq=False)
class Clipped:
    """Clipped copies of some gradients, with the norms before and after.

    Attributes
    ----------
    grads : dict, list, tuple or ndarray
        The clipped gradients, in the container type they were given in (arrays are float64).
    norm : float
        ||g||, the global 2-norm of all gradients together before clipping.
    clipped_norm : float
        The global 2-norm after clipping.
    clipped : bool
        Whether any gradient was changed.
    """

    grads: Any
    norm: float
    clipped_norm: float
    clipped: bool


def _arrays(grads: Gradients, label: str = "grads") -> list[np.ndarray]:
    """Return the gradients as a list of float64 arrays, checking type and values."""
    if isinstance(grads, np.ndarray):
        items = [(label, grads)]
    elif isinstance(grads, Mapping):
        items = [(f"{label}[{key!r}]", value) for key, value in grads.items()]
    elif isinstance(grads, list | tuple):
        items = [(f"{label}[{i}]", value) for i, value in enumerate(grads)]
    else:
        raise TypeError(
            f"{label} must be a dict, list or tuple of arrays, or one array; got "
            f"{type(grads).__name__}"
        )
    if not items:
        raise ValueError(f"{label} is empty: give at least one gradient array")
    arrays = []
    for name, value in items:
        if isinstance(value, str | bytes) or value is None:
            raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}")
        try:
            array = check_array("value", value, finite=False).copy()
        except (TypeError, ValueError) as error:
            raise TypeError(f"{name} cannot be read as an array of numbers: {error}") from None
        if not np.all(np.isfinite(array)):
            raise ValueError(
                f"{name} (shape {array.shape}) contains NaN or infinite values; a non-finite "
                "gradient has no direction to keep, so it cannot be clipped"
            )
        arrays.append(array)
    return arrays


def _rebuild(grads: Gradients, arrays: list[np.ndarray]) -> Any:
    """Return ``arrays`` in the container type of ``grads``."""
    if isinstance(grads, np.ndarray):
        return arrays[0]
    if isinstance(grads, Mapping):
        return dict(zip(grads.keys(), arrays, strict=True))
    if isinstance(grads, tuple):
        return tuple(arrays)
    return list(arrays)


def _scaled(arrays: list[np.ndarray]) -> tuple[list[np.ndarray], float, int]:
    """Return ``(mantissas, r, e)``: the arrays divided by 2^e, and their global norm r.

    The largest entry of the mantissas is in [0.5, 1), so r is in [0.5, sqrt(size)] and no
    step overflows or underflows; the global norm is r 2^e (which may exceed float64). All
    zero: ``(arrays, 0.0, 0)``.
    """
    largest = max((float(np.max(np.abs(a))) for a in arrays if a.size), default=0.0)
    if largest == 0.0:
        return arrays, 0.0, 0
    exponent = int(np.frexp(largest)[1])
    mantissas = [np.ldexp(a, -exponent) for a in arrays]
    r = float(np.linalg.norm(np.array([np.linalg.norm(m.ravel()) for m in mantissas])))
    return mantissas, r, exponent


def _norm(arrays: list[np.ndarray]) -> float:
    """Return the global 2-norm, computed without overflow: inf only if it exceeds float64."""
    scale = max((float(np.max(np.abs(a))) for a in arrays if a.size), default=0.0)
    if scale == 0.0:
        return 0.0
    per_array = np.array([np.linalg.norm(a.ravel() / scale) for a in arrays])
    with np.errstate(over="ignore"):
        return float(scale * np.linalg.norm(per_array))


def global_norm(grads: Gradients) -> float:
    """Return ||g||, the 2-norm of all gradients taken together as one vector.

    Parameters
    ----------
    grads : dict, list or tuple of array_like, or ndarray
        The gradient of each parameter, any shapes.
    """
    return _norm(_arrays(grads))


def clip_by_norm(grads: Gradients, threshold: float, *, eps: float = TORCH_EPS) -> Clipped:
    """Return the gradients rescaled so that their global norm is at most ``threshold``.

    Every gradient is multiplied by the same factor min(1, threshold / (||g|| + eps)), so the
    direction of g is kept (Pascanu et al. 2013, Algorithm 1).

    Parameters
    ----------
    grads : dict, list or tuple of array_like, or ndarray
        The gradient of each parameter, any shapes; all are clipped together.
    threshold : float
        The largest norm allowed, > 0.
    eps : float
        Added to ||g|| in the denominator. The default 1e-6 is what
        ``torch.nn.utils.clip_grad_norm_`` uses, so the result equals torch's to round-off;
        ``eps=0`` is Algorithm 1 exactly (clip when ||g|| >= threshold, to norm threshold).

    Returns
    -------
    Clipped
        Copies of the gradients, the norm before and after, and whether they were scaled.

    Raises
    ------
    TypeError, ValueError
        If a gradient is not numeric or not finite, or ``threshold`` is not > 0, or ``eps`` < 0.
    """
    threshold = check_positive("threshold", threshold)
    eps = check_real("eps", eps, low=0.0)
    arrays = _arrays(grads)
    norm = _norm(arrays)
    if np.isfinite(norm):
        denominator = norm + float(eps)
        factor = 1.0 if denominator == 0.0 else min(1.0, threshold / denominator)
        if factor >= np.finfo(np.float64).tiny:
            clipped = [a * factor for a in arrays]
        else:  # a subnormal factor loses digits: divide by the norm first
            clipped = [(a / denominator) * threshold for a in arrays]
        scaled = factor < 1.0
    else:
        # ||g|| is beyond float64 (reported as inf): rescale the mantissas, g / ||g|| =
        # mantissa / r, so the direction is kept and eps (tiny beside ||g||) drops out.
        mantissas, r, _ = _scaled(arrays)
        clipped = [m * (threshold / r) for m in mantissas]
        scaled = True
    return Clipped(
        grads=_rebuild(grads, clipped),
        norm=norm,
        clipped_norm=_norm(clipped),
        clipped=scaled,
    )


def clip_by_value(grads: Gradients, clip_value: float) -> Clipped:
    """Return the gradients with every entry clamped to [-clip_value, clip_value].

    Parameters
    ----------
    grads : dict, list or tuple of array_like, or ndarray
        The gradient of each parameter, any shapes.
    clip_value : float
        The largest absolute value allowed for one entry, > 0.

    Returns
    -------
    Clipped
        Copies of the gradients, the norm before and after, and whether any entry was clamped.
        The clipped gradient generally points in a different direction (see
        :func:`cosine_similarity`).
    """
    clip_value = check_positive("clip_value", clip_value)
    arrays = _arrays(grads)
    clamped = [np.clip(a, -clip_value, clip_value) for a in arrays]
    return Clipped(
        grads=_rebuild(grads, clamped),
        norm=_norm(arrays),
        clipped_norm=_norm(clamped),
        clipped=any(np.any(np.abs(a) > clip_value) for a in arrays),
    )


def cosine_similarity(first: Gradients, second: Gradients) -> float:
    """Return cos(angle) between two gradients, each taken as one vector over all parameters.

    Parameters
    ----------
    first, second : dict, list or tuple of array_like, or ndarray
        Two gradients with the same structure and shapes (e.g. before and after clipping).

    Raises
    ------
    ValueError
        If the structures or shapes differ, or either gradient is zero.
    """
    a, b = _arrays(first, "first"), _arrays(second, "second")
    if len(a) != len(b) or any(x.shape != y.shape for x, y in zip(a, b, strict=False)):
        raise ValueError(
            f"the gradients differ in structure: shapes {[x.shape for x in a]} vs "
            f"{[y.shape for y in b]}"
        )
    norm_a, norm_b = _norm(a), _norm(b)
    if norm_a == 0.0 or norm_b == 0.0:
        raise ValueError("a zero gradient has no direction: the cosine is undefined")
    tiny = np.finfo(np.float64).tiny
    if not (np.isfinite(norm_a) and np.isfinite(norm_b)) or min(norm_a, norm_b) < tiny:
        # a norm beyond float64 or among the subnormals: use the mantissas instead
        (a, norm_a, _), (b, norm_b, _) = _scaled(a), _scaled(b)
    dot = sum(float(np.sum((x / norm_a) * (y / norm_b))) for x, y in zip(a, b, strict=True))
    return min(1.0, max(-1.0, dot))  # round-off can step just outside [-1, 1]
