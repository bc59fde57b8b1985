"""Pascanu's single-unit "cliff": a loss surface with a wall, and gradient descent on it.

Pascanu, Mikolov and Bengio (2013, section 2.3, eq. 8 and Fig. 6) study one recurrent unit
with no input,

    x_t = w sigma(x_{t-1}) + b,    x_0 = 0.5,    E = (sigma(x_50) - 0.7)^2,

with sigma the logistic sigmoid. For w > 4 (and b in a band) the map has two stable fixed
points, and a small change of (w, b) decides which one x_50 reaches: the loss jumps from
about 0.49 (sigma(x_50) ~ 0) to about 0.09 (sigma(x_50) ~ 1) across a thin wall where the
gradient is huge. A plain gradient step taken on the wall throws the parameters far away;
a step whose norm is clipped stays near the wall.

The gradient is computed by forward-mode differentiation (the tangents dx_t/dw and dx_t/db
are carried along with x_t):

    dx_t/dw = sigma(x_{t-1}) + w sigma'(x_{t-1}) dx_{t-1}/dw,
    dx_t/db = 1              + w sigma'(x_{t-1}) dx_{t-1}/db,    dx_0/dw = dx_0/db = 0,
    dE/dtheta = 2 (sigma(x_T) - 0.7) sigma'(x_T) dx_T/dtheta.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from rnnbook.activations import get_activation
from rnnbook.checks import check_array, check_count, check_positive, check_real, check_steps
from rnnbook.clipping import clip_by_norm

sigmoid = get_activation("sigmoid").f

#: Pascanu et al. (2013): 50 steps from x_0 = 0.5 to the target sigma(x_50) = 0.7.
STEPS = 50
X0 = 0.5
TARGET = 0.7
#: Start of both descents: below the wall, on the slope that leads up to it (found by
#: scanning starts for the largest share of (learning rate, threshold) pairs where the plain
#: descent is thrown off the wall and the clipped one is not).
START = (5.0, -2.8)
#: The view of the surface the explorer draws: w in [3, 7], b in [-4.5, 0.5].
VIEW = (3.0, 7.0, -4.5, 0.5)


def _check_pair(w, b) -> tuple[np.ndarray, np.ndarray]:
    w_arr = check_array("w", w, finite=False)
    b_arr = check_array("b", b, finite=False)
    try:
        np.broadcast_shapes(w_arr.shape, b_arr.shape)
    except ValueError:
        raise ValueError(f"w with shape {w_arr.shape} and b with shape {b_arr.shape} do not "
                         "broadcast together") from None
    for name, array in (("w", w_arr), ("b", b_arr)):
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} contains NaN or infinite values")
    return w_arr, b_arr


def _check_steps(steps: int) -> int:
    return check_steps("steps", steps)


def cliff_loss(w: ArrayLike, b: ArrayLike, *, steps: int = STEPS, x0: float = X0,
               target: float = TARGET) -> np.ndarray:
    """Return E = (sigma(x_T) - target)^2 for every (w, b), broadcast together.

    Parameters
    ----------
    w, b : float or array_like
        Recurrent weight and bias; any shapes that broadcast, e.g. ``w[None, :]`` and
        ``b[:, None]`` for a grid of shape (len(b), len(w)).
    steps : int
        T, the number of steps (50 in Pascanu et al.).
    x0, target : float
        Initial state and target of sigma(x_T).
    """
    w_arr, b_arr = _check_pair(w, b)
    steps = _check_steps(steps)
    x0, target = check_real("x0", x0), check_real("target", target)
    x = np.full(np.broadcast_shapes(w_arr.shape, b_arr.shape), float(x0))
    for _ in range(steps):
        x = w_arr * sigmoid(x) + b_arr
    return (sigmoid(x) - target) ** 2


def cliff_gradient(w: ArrayLike, b: ArrayLike, *, steps: int = STEPS, x0: float = X0,
                   target: float = TARGET) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(loss, dE/dw, dE/db)`` for every (w, b), by forward-mode differentiation.

    Parameters are as in :func:`cliff_loss`; the three arrays have the broadcast shape of
    w and b. The derivative can overflow to ``inf`` (or ``nan``) for very large |w|, roughly
    when (|w| / 4)^T exceeds 1e308; nothing is raised then, the caller decides.
    """
    w_arr, b_arr = _check_pair(w, b)
    steps = _check_steps(steps)
    x0, target = check_real("x0", x0), check_real("target", target)
    shape = np.broadcast_shapes(w_arr.shape, b_arr.shape)
    x = np.full(shape, float(x0))
    dx_dw = np.zeros(shape)
    dx_db = np.zeros(shape)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            s = sigmoid(x)
            slope = w_arr * s * (1.0 - s)
            dx_dw = s + slope * dx_dw
            dx_db = 1.0 + slope * dx_db
            x = w_arr * s + b_arr
        s = sigmoid(x)
        residual = s - target
        outer = 2.0 * residual * s * (1.0 - s)
        return residual**2, outer * dx_dw, outer * dx_db


def _scalar_gradient(w: float, b: float) -> tuple[float, float, float]:
    """Return ``(loss, dE/dw, dE/db)`` at one point: :func:`cliff_gradient` in plain floats."""
    x, dx_dw, dx_db = X0, 0.0, 0.0
    for _ in range(STEPS):
        e = math.exp(-abs(x))
        s = 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)
        slope = w * s * (1.0 - s)
        dx_dw = s + slope * dx_dw
        dx_db = 1.0 + slope * dx_db
        x = w * s + b
    e = math.exp(-abs(x))
    s = 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)
    residual = s - TARGET
    outer = 2.0 * residual * s * (1.0 - s)
    return residual * residual, outer * dx_dw, outer * dx_db


@dataclass(frozen=True, eq=False)
class CliffSurface:
    """The loss on a (w, b) grid.

    Attributes
    ----------
    w : ndarray, shape (nw,)
    b : ndarray, shape (nb,)
    loss : ndarray, shape (nb, nw)
        ``loss[i, j]`` is E at (w[j], b[i]).
    """

    w: np.ndarray
    b: np.ndarray
    loss: np.ndarray


def _read_only(*arrays: np.ndarray) -> None:
    for array in arrays:
        array.setflags(write=False)


@functools.lru_cache(maxsize=8)
def _surface(w_min: float, w_max: float, b_min: float, b_max: float, nw: int,
             nb: int) -> CliffSurface:
    w = np.linspace(w_min, w_max, nw)
    b = np.linspace(b_min, b_max, nb)
    loss = cliff_loss(w[None, :], b[:, None])
    _read_only(w, b, loss)
    return CliffSurface(w=w, b=b, loss=loss)


def cliff_surface(view: tuple[float, float, float, float] = VIEW, *, nw: int = 161,
                  nb: int = 201) -> CliffSurface:
    """Return the :class:`CliffSurface` over ``view = (w_min, w_max, b_min, b_max)``.

    The result is cached (its arrays are read-only), so an explorer computes it once.
    """
    w_min, w_max, b_min, b_max = (float(v) for v in check_array("view", view, shape=(4,)))
    if w_min >= w_max or b_min >= b_max:
        raise ValueError(f"view must be finite with w_min < w_max and b_min < b_max, got {view}")
    for name, size in (("nw", nw), ("nb", nb)):
        check_count(name, size, 2)
    return _surface(w_min, w_max, b_min, b_max, int(nw), int(nb))


@dataclass(frozen=True, eq=False)
class Descent:
    """A gradient-descent run on the cliff loss.

    Attributes
    ----------
    points : ndarray, shape (S + 1, 2)
        (w, b) before each step and after the last; S is the number of steps taken.
    losses : ndarray, shape (S + 1,)
        E at each point.
    grad_norms : ndarray, shape (S,)
        ||dE/d(w, b)|| at each point a step was taken from (before clipping).
    step_lengths : ndarray, shape (S,)
        Length of each step actually taken.
    clipped : ndarray of bool, shape (S,)
        Whether each step's gradient was rescaled.
    learning_rate : float
    threshold : float or None
        The clipping threshold, None for plain gradient descent.
    stopped : bool
        True if the run ended early because the gradient overflowed (non-finite).
    """

    points: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray
    step_lengths: np.ndarray
    clipped: np.ndarray
    learning_rate: float
    threshold: float | None
    stopped: bool

    @property
    def final_loss(self) -> float:
        """E at the last point."""
        return float(self.losses[-1])

    @property
    def max_step(self) -> float:
        """The longest step taken (0 if none was)."""
        return float(self.step_lengths.max()) if self.step_lengths.size else 0.0


def descend(start: tuple[float, float], learning_rate: float, steps: int,
            threshold: float | None = None) -> Descent:
    """Return the :class:`Descent` of gradient descent on the cliff loss from ``start``.

    Each step is (w, b) <- (w, b) - learning_rate * g, where g is the gradient, or with a
    ``threshold``, g rescaled to norm ``threshold`` whenever ||g|| >= threshold (Pascanu et al.
    2013, Algorithm 1, via :func:`rnnbook.clipping.clip_by_norm` with ``eps=0``).

    Parameters
    ----------
    start : (float, float)
        The initial (w, b).
    learning_rate : float
        > 0.
    steps : int
        The number of steps, >= 1; fewer are taken if the gradient overflows (``stopped``).
    threshold : float or None
        The clipping threshold (> 0), or None for no clipping.
    """
    learning_rate = check_positive("learning_rate", learning_rate)
    if threshold is not None:
        threshold = check_positive("threshold", threshold)
    steps = _check_steps(steps)
    point = check_array("start", start, shape=(2,))
    return _descend(float(point[0]), float(point[1]), learning_rate, steps, threshold)


@functools.lru_cache(maxsize=256)
def _descend(w: float, b: float, learning_rate: float, steps: int,
             threshold: float | None) -> Descent:
    points = [(w, b)]
    losses, norms, lengths, clipped = [], [], [], []
    stopped = False
    for _ in range(steps):
        loss, dw, db = _scalar_gradient(w, b)
        grad = np.array([dw, db])
        if not np.all(np.isfinite(grad)):
            stopped = True
            break
        losses.append(loss)
        norms.append(float(np.hypot(dw, db)))
        if threshold is not None:
            result = clip_by_norm(grad, threshold, eps=0.0)
            grad, was_clipped = result.grads, result.clipped
        else:
            was_clipped = False
        with np.errstate(over="ignore", invalid="ignore"):
            w, b = w - learning_rate * grad[0], b - learning_rate * grad[1]
        if not (np.isfinite(w) and np.isfinite(b)):
            stopped = True
            break
        points.append((w, b))
        lengths.append(learning_rate * float(np.hypot(*grad)))
        clipped.append(was_clipped)
    losses.append(float(cliff_loss(*points[-1])))
    losses = losses[: len(points)]
    arrays = (np.array(points), np.array(losses), np.array(norms[: len(lengths)]),
              np.array(lengths), np.array(clipped, dtype=bool))
    _read_only(*arrays)
    return Descent(*arrays, learning_rate=learning_rate, threshold=threshold, stopped=stopped)


@dataclass(frozen=True, eq=False)
class CliffDescent:
    """The cliff surface with two descents from the same start, with and without clipping.

    Attributes
    ----------
    surface : CliffSurface
    unclipped, clipped : Descent
    start : tuple of float
    threshold, learning_rate : float

    The properties give the numbers an alt text or a caption states.
    """

    surface: CliffSurface
    unclipped: Descent
    clipped: Descent
    start: tuple[float, float]
    threshold: float
    learning_rate: float

    @property
    def step_ratio(self) -> float:
        """Largest unclipped step divided by largest clipped step."""
        return self.unclipped.max_step / self.clipped.max_step

    @property
    def final_losses(self) -> tuple[float, float]:
        """(final loss without clipping, final loss with clipping)."""
        return self.unclipped.final_loss, self.clipped.final_loss


def describe_cliff_descent(result: CliffDescent) -> str:
    """Return one sentence with the measured numbers of a :class:`CliffDescent`, for alt text."""
    if not isinstance(result, CliffDescent):
        raise TypeError(f"expected a CliffDescent, got {type(result).__name__}")
    w_u, b_u = result.unclipped.points[-1]
    w_c, b_c = result.clipped.points[-1]
    return (
        f"Cliff loss surface over w and b with two gradient-descent paths from "
        f"(w, b) = ({result.start[0]:g}, {result.start[1]:g}), learning rate "
        f"{result.learning_rate:g}. Without clipping the largest step is "
        f"{result.unclipped.max_step:.3g} and the run ends at ({w_u:.3g}, {b_u:.3g}) with loss "
        f"{result.unclipped.final_loss:.3g}; clipped at norm {result.threshold:g} the largest "
        f"step is {result.clipped.max_step:.3g} and it ends at ({w_c:.3g}, {b_c:.3g}) with "
        f"loss {result.clipped.final_loss:.3g}."
    )


def cliff_descent(threshold: float, learning_rate: float, *, steps: int = 200,
                  start: tuple[float, float] = START) -> CliffDescent:
    """Return the :class:`CliffDescent`: surface and both descents for one setting.

    Parameters
    ----------
    threshold : float
        Norm clipping threshold of the clipped run, > 0.
    learning_rate : float
        Learning rate of both runs, > 0.
    steps : int
        Gradient steps of each run.
    start : (float, float)
        The common starting point (w, b); default :data:`START`.
    """
    threshold = check_positive("threshold", threshold)
    unclipped = descend(start, learning_rate, steps)
    clipped = descend(start, learning_rate, steps, threshold=threshold)
    return CliffDescent(
        surface=cliff_surface(),
        unclipped=unclipped,
        clipped=clipped,
        start=(float(start[0]), float(start[1])),
        threshold=float(threshold),
        learning_rate=float(learning_rate),
    )
