"""How much the descents on Pascanu's cliff depend on the last bits of their start.

Near the wall of the cliff (:mod:`rnnbook.cliff`) the gradient is hundreds of times larger
than elsewhere, and a gradient step multiplies a small difference in position by about the
learning rate times the second derivative, which is just as large there. A descent that touches
the wall is then a chaotic map: starts that differ in the 15th digit can end on different
plateaus. :func:`nearby_descents` runs the two descents of :func:`rnnbook.cliff.descend` from a
cloud of starts that float64 cannot tell apart in a printed table, so that a chapter prints
only what all of them agree on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbook.checks import check_array, check_count, check_positive, check_real, check_seed
from rnnbook.cliff import START, descend


@dataclass(frozen=True, eq=False)
class NearbyDescents:
    """Plain and clipped descents from ``count`` starts within about ``size`` of one point.

    Attributes
    ----------
    threshold, learning_rate, size : float
    shifts : ndarray, shape (K, 2)
        The offsets added to (w, b); the first is (0, 0).
    plain_losses, clipped_losses : ndarray, shape (K,)
        Final losses of the plain and the clipped descent from each start.
    plain_max_steps, clipped_max_steps : ndarray, shape (K,)
        The longest step each descent took.
    """

    threshold: float
    learning_rate: float
    size: float
    shifts: np.ndarray
    plain_losses: np.ndarray
    clipped_losses: np.ndarray
    plain_max_steps: np.ndarray
    clipped_max_steps: np.ndarray

    @staticmethod
    def spread(values) -> float:
        """Return max / min of positive ``values`` (1 when all are equal)."""
        values = check_array("values", values, finite=False)
        return float(values.max() / values.min())


def nearby_descents(threshold: float, learning_rate: float, *, count: int = 16,
                    size: float = 1e-14, seed: int = 0, steps: int = 200,
                    start: tuple[float, float] = START) -> NearbyDescents:
    """Return the :class:`NearbyDescents` from ``start`` and ``count - 1`` starts next to it.

    The offsets are Gaussian with standard deviation ``size`` in w and in b (``seed`` fixes
    them); the first start is ``start`` itself. Each start gets a plain descent and one
    clipped at ``threshold``, both with ``learning_rate`` and ``steps`` steps.
    """
    threshold = check_positive("threshold", threshold)
    learning_rate = check_positive("learning_rate", learning_rate)
    count = check_count("count", count, 1)
    size = check_real("size", size, low=0.0)
    seed = check_count("seed", seed, 0)
    start = check_array("start", start, shape=(2,))
    shifts = np.zeros((count, 2))
    rng = np.random.default_rng(check_seed("seed", seed))
    shifts[1:] = rng.normal(scale=size, size=(count - 1, 2))
    plain, clipped = [], []
    for dw, db in shifts:
        point = (float(start[0] + dw), float(start[1] + db))
        plain.append(descend(point, learning_rate, steps))
        clipped.append(descend(point, learning_rate, steps, threshold=threshold))
    return NearbyDescents(
        threshold=threshold, learning_rate=learning_rate, size=size, shifts=shifts,
        plain_losses=np.array([d.final_loss for d in plain]),
        clipped_losses=np.array([d.final_loss for d in clipped]),
        plain_max_steps=np.array([d.max_step for d in plain]),
        clipped_max_steps=np.array([d.max_step for d in clipped]),
    )
