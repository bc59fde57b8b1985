"""Argument checks shared by the package: each returns the value cleaned up, or raises.

A wrong type raises ``TypeError`` and a wrong value ``ValueError``; both name the argument
and say what was expected, so that a reader who mistypes a call learns what to change.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def check_count(name: str, value, minimum: int = 1, maximum: int | None = None) -> int:
    """Return ``value`` as an int, or raise if it is not an integer in [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if maximum is not None and not minimum <= value <= maximum:
        raise ValueError(f"{name} must be between {minimum} and {maximum}, got {value}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_real(name: str, value, *, low: float | None = None, strict: bool = False) -> float:
    """Return ``value`` as a float, or raise if it is not a finite real number.

    With ``low`` the value must also be >= low (> low when ``strict``).
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None and (value <= low if strict else value < low):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {low:g}, got {value:g}")
    return value


def check_positive(name: str, value) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number > 0."""
    return check_real(name, value, low=0.0, strict=True)


def check_choice(name: str, value, options: Sequence[str]) -> str:
    """Return ``value``, or raise if it is not one of the strings ``options``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if value not in options:
        raise ValueError(f"unknown {name} {value!r}; choose one of {tuple(options)}")
    return value


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
