"""Overflow-safe numerics: norms that do not overflow, products that carry inf, not NaN.

A norm is computed on a copy divided by an exact power of two (so the scaling adds no rounding
error), then scaled back: the result is ``inf`` only when the norm itself exceeds the float64
range (about 1.8e308), and it is never NaN for finite input.

A product of a value that overflowed (``+-inf``, standing for a finite number beyond the
float64 range) and an exact 0 is 0, not NaN: :func:`keep_zero_product`.
"""

from __future__ import annotations

import numpy as np

from rnnbook.checks import check_array


def exponent_of(array: np.ndarray) -> int:
    """Return e with max |array| in [2^(e-1), 2^e) (0 for an all-zero or empty array)."""
    array = check_array("array", array, finite=False)
    largest = float(np.max(np.abs(array))) if array.size else 0.0
    return int(np.frexp(largest)[1]) if largest > 0.0 else 0


def safe_norm(array, axis=None) -> np.ndarray | float:
    """Return ``numpy.linalg.norm(array, axis=axis)`` (2-/Frobenius norm) without overflow.

    Each slice is divided by a power of two near its largest entry first; a norm beyond the
    float64 range is ``inf`` and one below it is 0. Non-finite entries give ``inf`` (an inf
    entry) or NaN (a NaN entry), as the mathematics says.
    """
    array = check_array("array", array, finite=False)
    if axis is None:
        if not np.all(np.isfinite(array)):
            return float(np.linalg.norm(array))
        exponent = exponent_of(array)
        with np.errstate(over="ignore"):
            return float(np.ldexp(np.linalg.norm(np.ldexp(array, -exponent)), exponent))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    with np.errstate(invalid="ignore"):
        largest = np.max(np.abs(array), axis=axes, keepdims=True) if array.size else \
            np.zeros(np.max(array, axis=axes, keepdims=True, initial=0).shape)
    finite = np.isfinite(largest) & (largest > 0.0)
    exponents = np.where(finite, np.frexp(np.where(finite, largest, 1.0))[1], 0)
    with np.errstate(over="ignore", invalid="ignore"):
        norms = np.linalg.norm(np.ldexp(array, -exponents), axis=axis)
        return np.ldexp(norms, np.squeeze(exponents, axis=axes))


def keep_zero_product(a, b) -> np.ndarray:
    """Return ``a * b`` (broadcast, real or complex), with 0 wherever a factor is exactly 0.

    IEEE arithmetic makes ``inf * 0`` NaN; when the inf is an overflowed finite number (its
    input was finite), the product is exactly 0. Use it where an overflowed quantity meets a
    factor that is 0 by construction (an identity element, a zero weight).
    """
    a = check_array("a", a, finite=False, complex_ok=True)
    b = check_array("b", b, finite=False, complex_ok=True)
    with np.errstate(invalid="ignore", over="ignore"):
        return np.where((a == 0) | (b == 0), np.zeros((), np.result_type(a, b)), a * b)
