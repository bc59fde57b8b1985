"""Seeded data for long-lag tasks: the adding problem, and copying an input from d steps back.

Layout: every generator returns a :class:`Batch` with inputs ``x`` of shape ``(T, B, d)``
(sequence first, torch.nn's default and :func:`rnnbook.rnn.forward`'s layout) and targets ``y``
of shape ``(B,)``, both float64. The model reads the whole sequence and predicts y from its last
state.

The adding problem (the variant used by Le, Jaitly & Hinton 2015). Each sequence has
two channels:

- channel 0: values drawn independently and uniformly from [0, 1);
- channel 1: markers, exactly two entries equal to 1 and the rest 0. With half = T // 2, the
  first marker is at a position drawn uniformly from {0, ..., half - 1} (the first half) and the
  second at a position drawn uniformly from {half, ..., T - 1} (the second half); positions are
  0-based, so step t = position + 1;
- target: the sum of the two marked values, in [0, 2).

Predicting the constant 1 (the mean of the target) scores an expected mean squared error of
Var(u_1 + u_2) = 2/12 = 1/6; a run is counted a success below 0.01. This differs from the
original task of Hochreiter & Schmidhuber (1997, section 5.4), whose values lie in [-1, 1],
whose marker positions are restricted differently, and whose target is rescaled into [0, 1].

Copy at lag d: one channel of standard normal values; the target is the input ``lag`` steps
before the last one, y = x_{T - lag} (1-based step), so ``lag = T - 1`` asks for the first input
x_1. The target depends on that one input only. The best constant (0) scores MSE 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from rnnbook.checks import check_array, check_choice, check_count, check_real, check_seed


class Batch(NamedTuple):
    """A batch of sequences and their targets.

    Attributes
    ----------
    x : ndarray, shape (T, B, d)
        Inputs, sequence first.
    y : ndarray, shape (B,)
        One target per sequence.
    """

    x: np.ndarray
    y: np.ndarray


def as_generator(rng) -> np.random.Generator:
    """Return ``rng`` if it is a numpy Generator, else ``np.random.default_rng(rng)`` for an int."""
    return np.random.default_rng(check_seed("rng", rng))


def adding_problem(T: int, batch: int, rng: np.random.Generator | int) -> Batch:
    """Return a :class:`Batch` of the adding problem: x (T, B, 2), y (B,).

    Parameters
    ----------
    T : int
        Sequence length, >= 2 (one position in each half).
    batch : int
        Number of sequences B, >= 1.
    rng : numpy Generator or int
        Source of randomness (an int is used as a seed).
    """
    T = check_count("T", T, 2)
    batch = check_count("batch", batch, 1)
    rng = as_generator(rng)
    half = T // 2
    values = rng.uniform(0.0, 1.0, (T, batch))
    first = rng.integers(0, half, batch)
    second = rng.integers(half, T, batch)
    markers = np.zeros((T, batch))
    columns = np.arange(batch)
    markers[first, columns] = 1.0
    markers[second, columns] = 1.0
    y = values[first, columns] + values[second, columns]
    return Batch(x=np.stack([values, markers], axis=-1), y=y)


def copy_lag(T: int, batch: int, lag: int, rng: np.random.Generator | int) -> Batch:
    """Return a :class:`Batch` whose target is the input ``lag`` steps back: x (T, B, 1), y (B,).

    Parameters
    ----------
    T : int
        Sequence length, >= 1.
    batch : int
        Number of sequences B, >= 1.
    lag : int
        d in 0..T-1: y = x_{T-d} (1-based), so d = 0 is the last input, d = T - 1 the first.
    rng : numpy Generator or int
    """
    T = check_count("T", T, 1)
    batch = check_count("batch", batch, 1)
    lag = check_count("lag", lag, 0)
    if lag > T - 1:
        raise ValueError(f"lag must be at most T - 1 = {T - 1} (the first input), got {lag}")
    rng = as_generator(rng)
    x = rng.standard_normal((T, batch, 1))
    return Batch(x=x, y=x[T - 1 - lag, :, 0].copy())


@dataclass(frozen=True)
class TaskSpec:
    """What the training harness needs to know about a task.

    Attributes
    ----------
    name : str
    n_input : int
        Input channels d.
    baseline_mse : float
        Expected MSE of the best constant prediction ``baseline_prediction``.
    baseline_prediction : float
        The trivial predictor: the mean of the target.
    success_mse : float
        A run succeeds when its held-out MSE is below this.
    """

    name: str
    n_input: int
    baseline_mse: float
    baseline_prediction: float
    success_mse: float


TASKS: dict[str, TaskSpec] = {
    "adding": TaskSpec("adding", 2, 1.0 / 6.0, 1.0, 0.01),
    "copy_lag": TaskSpec("copy_lag", 1, 1.0, 0.0, 0.01),
}


def get_task(name: str) -> TaskSpec:
    """Return the :class:`TaskSpec` of task ``name`` (``adding`` or ``copy_lag``)."""
    return TASKS[check_choice("task name", name, tuple(TASKS))]


def make_batch(task: str, T: int, batch: int, rng: np.random.Generator | int, *,
               lag: int | None = None) -> Batch:
    """Return a :class:`Batch` of task ``task``; ``lag`` (copy_lag only) defaults to T - 1."""
    spec = get_task(task)
    if spec.name == "adding":
        if lag is not None:
            raise ValueError("lag applies to the copy_lag task only, not to adding")
        return adding_problem(T, batch, rng)
    T = check_count("T", T, 1)
    return copy_lag(T, batch, T - 1 if lag is None else lag, rng)


def baseline_mse(y: np.ndarray, prediction: float) -> float:
    """Return the mean squared error of predicting the constant ``prediction`` for targets y.

    Parameters
    ----------
    y : array_like, shape (B,)
    prediction : float
    """
    y = check_array("y", y, finite=False)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"y must have shape (B,) with B >= 1, got {y.shape}")
    prediction = check_real("prediction", prediction)
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinite values")
    return float(np.mean((y - prediction) ** 2))
