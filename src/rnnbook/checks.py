"""Argument checks shared by the package: each returns the value cleaned up, or raises.

This is the one vocabulary every public function uses to check what it is given:

- :func:`check_count` and :func:`check_steps`: integers (never ``bool``) within bounds; a count
  of steps is capped at :data:`MAX_STEPS` so that a mistyped ``10**12`` cannot hang a notebook;
- :func:`check_real`, :func:`check_positive`, :func:`check_probability`: finite real numbers;
- :func:`check_flag`: a real ``bool`` (``"no"`` is not a flag);
- :func:`check_seed`: a seed of ``numpy.random.default_rng`` (an integer >= 0);
- :func:`check_choice`: one of a few strings;
- :func:`check_each`: a list (tuple, range, 1-D array) of values, each checked by one of these;
- :func:`check_type`: an instance of a given class (a parameter dataclass, a result);
- :func:`check_array`, :func:`finite_array`, :func:`batched`: numeric array-likes with a given
  number of axes, shape, and (by default) no NaN or inf;
- :func:`check_same_shape`: arrays that must match in shape;
- :func:`check_inside`: a path that stays inside a folder (the package's data folder).

A wrong type raises ``TypeError`` and a wrong value ``ValueError``; both name the argument as
the caller wrote it, say what was expected and what was given, so that a reader who mistypes a
call learns what to change.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

#: The largest count of steps (optimiser steps, powers, iterations) any function accepts.
MAX_STEPS = 100_000

#: The largest size (n, T, batch, ...) any function accepts unless it sets its own bound.
MAX_COUNT = 1_000_000

#: The largest seed accepted: numpy takes any int >= 0, torch's manual_seed needs < 2**64.
MAX_SEED = 2**63 - 1


def _shown(value) -> str:
    """Return a short description of ``value`` for an error message: its type and repr."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def check_count(name: str, value, minimum: int = 1, maximum: int | None = None) -> int:
    """Return ``value`` as an int, or raise if it is not an integer in [minimum, maximum].

    A size (``minimum`` >= 1) without an explicit ``maximum`` is capped at :data:`MAX_COUNT`,
    so that a mistyped ``10**12`` is refused instead of exhausting the memory.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {_shown(value)}")
    if maximum is None and minimum >= 1 and value > MAX_COUNT:
        raise ValueError(f"{name} must be at most {MAX_COUNT:,} (a size this large is a typo "
                         f"or would not fit in memory), got {value}")
    if maximum is not None and not minimum <= value <= maximum:
        raise ValueError(f"{name} must be between {minimum} and {maximum}, got {value}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_steps(name: str, value, minimum: int = 1, maximum: int = MAX_STEPS) -> int:
    """Return a count of steps as an int in [minimum, maximum] (at most :data:`MAX_STEPS`)."""
    return check_count(name, value, minimum, maximum)


def check_real(name: str, value, *, low: float | None = None, strict: bool = False,
               high: float | None = None) -> float:
    """Return ``value`` as a float, or raise if it is not a finite real number.

    With ``low`` the value must also be >= low (> low when ``strict``); with ``high``, <= high.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(
            value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a real number, got {_shown(value)}")
    try:
        value = float(value)
    except OverflowError:
        raise ValueError(f"{name} must be a finite float64, got an integer of "
                         f"{len(str(abs(int(value))))} digits") from None
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None and (value <= low if strict else value < low):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {low:g}, got {value:g}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high:g}, got {value:g}")
    return value


def check_positive(name: str, value) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number > 0."""
    return check_real(name, value, low=0.0, strict=True)


def check_probability(name: str, value, *, open_low: bool = False,
                      open_high: bool = False) -> float:
    """Return ``value`` as a float in [0, 1] (without 0 if ``open_low``, 1 if ``open_high``)."""
    value = check_real(name, value)
    below = value <= 0.0 if open_low else value < 0.0
    above = value >= 1.0 if open_high else value > 1.0
    if below or above:
        interval = f"{'(' if open_low else '['}0, 1{')' if open_high else ']'}"
        raise ValueError(f"{name} must be a probability in {interval}, got {value:g}")
    return value


def check_flag(name: str, value) -> bool:
    """Return ``value`` as a bool, or raise if it is not ``True`` or ``False``.

    Truthiness is not enough: ``"no"`` and ``1`` are refused, so that a flag means what it says.
    """
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {_shown(value)}")
    return bool(value)


def check_seed(name: str, value):
    """Return a seed of ``numpy.random.default_rng``: an integer in [0, 2**63 - 1].

    A ``numpy.random.Generator`` is returned as it is (``default_rng`` passes it through).
    """
    if isinstance(value, np.random.Generator):
        return value
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer >= 0 (or a numpy Generator), got "
                        f"{_shown(value)}")
    return check_count(name, value, 0, MAX_SEED)


def check_choice(name: str, value, options: Sequence[str]) -> str:
    """Return ``value``, or raise if it is not one of the strings ``options``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {tuple(options)}, got {_shown(value)}")
    if value not in options:
        raise ValueError(f"unknown {name} {value!r}; choose one of {tuple(options)}")
    return value


def check_each(name: str, values, check: Callable, *args, nonempty: bool = True,
               **kwargs) -> tuple:
    """Return ``tuple(check(f"{name}[i]", item, *args, **kwargs) for each item of values)``.

    ``values`` is a list, tuple, range or 1-D array (a string is not a list of values); each
    item is checked by ``check`` (one of this module's checks), and a refused item is named by
    its position, ``name[i]``. With ``nonempty`` an empty list is refused.
    """
    if isinstance(values, np.ndarray) and values.ndim != 1:
        raise ValueError(f"{name} must be a list of values (1 dimension), got an array of shape "
                         f"{values.shape}")
    if not isinstance(values, list | tuple | range | np.ndarray):
        raise TypeError(f"{name} must be a list or tuple of values, got {_shown(values)}")
    if nonempty and len(values) == 0:
        raise ValueError(f"{name} is empty: it must hold at least one value, got {_shown(values)}")
    return tuple(check(f"{name}[{i}]", item, *args, **kwargs) for i, item in enumerate(values))


def check_type(name: str, value, kind: type | tuple[type, ...]):
    """Return ``value``, or raise TypeError if it is not an instance of ``kind``."""
    if not isinstance(value, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        wanted = " or ".join(k.__name__ for k in kinds)
        raise TypeError(f"{name} must be {wanted}, got {_shown(value)}")
    return value


def _numeric(name: str, value, complex_ok: bool = False) -> np.ndarray:
    """Return ``value`` as a float64 (or, if ``complex_ok``, complex128) array, or raise."""
    if value is None or isinstance(value, str | bytes | dict | set | bool | np.bool_):
        raise TypeError(f"{name} must be a number or an array of numbers, got {_shown(value)}")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a number or an array of numbers, got {_shown(value)} "
                        f"({error})") from None
    if array.dtype.kind in "biuf":
        return array.astype(np.float64, copy=False)
    if array.dtype.kind == "c" and complex_ok:
        return array.astype(np.complex128, copy=False)
    if array.dtype.kind == "O":
        for dtype in (np.float64, np.complex128) if complex_ok else (np.float64,):
            try:
                return array.astype(dtype)
            except (TypeError, ValueError, OverflowError):
                pass
    kind = {"U": "strings", "S": "bytes", "c": "complex numbers", "O": "objects",
            "M": "dates", "m": "time deltas", "V": "records"}.get(array.dtype.kind, "values")
    wanted = "numbers" if complex_ok else "real numbers"
    raise TypeError(f"{name} must be an array of {wanted}, got an array of {kind} "
                    f"(dtype {array.dtype})")


def check_array(name: str, value, *, ndim: int | Sequence[int] | None = None,
                shape: Sequence[int | None] | None = None, finite: bool = True,
                nonempty: bool = False, complex_ok: bool = False) -> np.ndarray:
    """Return ``value`` as a float64 array, or raise naming the argument ``name``.

    Parameters
    ----------
    name : str
        The argument's name as the caller wrote it.
    value : array_like
        Numbers (ints, floats, bools); strings, complex numbers and objects are refused.
    ndim : int or sequence of int, optional
        The allowed number(s) of axes.
    shape : sequence of int or None, optional
        The expected shape; None leaves that axis free.
    finite : bool
        Refuse NaN and inf (the default).
    nonempty : bool
        Refuse an array with an axis of size 0.
    complex_ok : bool
        Accept complex numbers too (the array is then complex128 if any entry is complex).
    """
    array = _numeric(name, value, complex_ok)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            wanted = " or ".join(str(k) for k in allowed)
            raise ValueError(f"{name} must have {wanted} dimension(s), got shape {array.shape}")
    if shape is not None:
        shape = tuple(shape)
        if array.ndim != len(shape) or any(
                want is not None and got != want for got, want in zip(array.shape, shape,
                                                                      strict=True)):
            wanted = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {wanted}, got shape {array.shape}")
    if nonempty and 0 in array.shape:
        raise ValueError(f"{name} has an empty axis: shape {array.shape}")
    if finite and not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def finite_array(name: str, value, ndim: int) -> np.ndarray:
    """Return ``value`` as a float64 array with ``ndim`` axes and no NaN/inf, or raise."""
    return check_array(name, value, ndim=ndim)


def check_same_shape(**arrays: np.ndarray) -> tuple[int, ...]:
    """Return the common shape of the keyword ``arrays``, or raise naming both that differ."""
    items = list(arrays.items())
    first_name, first = items[0]
    for other_name, other in items[1:]:
        if np.shape(other) != np.shape(first):
            raise ValueError(f"{first_name} and {other_name} must have the same shape, got "
                             f"{np.shape(first)} and {np.shape(other)}")
    return tuple(np.shape(first))


def batched(name: str, value, width: int, ndim_single: int) -> tuple[np.ndarray, bool]:
    """Return ``value`` with a batch axis before its last axis, and whether one was added.

    ``ndim_single`` is the number of axes without a batch (1 for a state ``(n,)``, 2 for a
    sequence ``(T, d)``); with a batch the array has one more (``(B, n)``, ``(T, B, d)``).
    """
    array = _numeric(name, value)
    if array.ndim == ndim_single:
        array = np.expand_dims(array, ndim_single - 1)
        added = True
    elif array.ndim == ndim_single + 1:
        added = False
    else:
        raise ValueError(f"{name} must have {ndim_single} or {ndim_single + 1} dimensions, "
                         f"got shape {array.shape}")
    if array.shape[-1] != width:
        raise ValueError(f"{name} has shape {array.shape}: its last axis must have size {width} "
                         f"(the model's width)")
    if 0 in array.shape:
        raise ValueError(f"{name} has an empty axis: shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array, added


def check_inside(name: str, value, folder: Path) -> Path:
    """Return ``folder / value`` resolved, or raise if it is not a relative path inside ``folder``.

    ``value`` is a file name or a relative path (str or ``os.PathLike``); ``..`` that leaves
    the folder, absolute paths and symlinks pointing out of it are refused.
    """
    if not isinstance(value, str | os.PathLike):
        raise TypeError(f"{name} must be a file name (str or path), got {_shown(value)}")
    text = os.fspath(value)
    if not text or text in (".", ".."):
        raise ValueError(f"{name} must name a file, got {text!r}")
    relative = Path(text)
    if relative.is_absolute():
        raise ValueError(f"{name} must be a path relative to {folder}, got {text!r}")
    root = Path(folder).resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or path == root:
        raise ValueError(f"{name} must stay inside {root}, got {text!r} (resolves to {path})")
    return path
