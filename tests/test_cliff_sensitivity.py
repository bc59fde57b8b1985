"""Descents on the cliff from starts that differ in the last bits."""

import numpy as np
import pytest

from rnnbook.cliff import START, cliff_descent
from rnnbook.cliff_sensitivity import NearbyDescents, nearby_descents


def test_first_start_is_the_book_run():
    near = nearby_descents(1.0, 0.3, count=3)
    run = cliff_descent(1.0, 0.3)
    assert np.all(near.shifts[0] == 0)
    assert near.plain_losses[0] == run.unclipped.final_loss
    assert near.clipped_losses[0] == run.clipped.final_loss
    assert near.clipped_max_steps[0] == run.clipped.max_step


def test_zero_size_repeats_one_run():
    near = nearby_descents(0.3, 0.1, count=4, size=0.0)
    assert NearbyDescents.spread(near.plain_losses) == 1.0


def test_learning_rate_03_is_steady_and_01_is_not():
    steady = nearby_descents(1.0, 0.3, count=8)
    assert np.all(np.abs(steady.plain_losses - 0.09) < 1e-3)
    assert NearbyDescents.spread(steady.plain_max_steps) == pytest.approx(1.0, abs=1e-4)
    fragile = nearby_descents(1.0, 0.1, count=16)
    assert NearbyDescents.spread(fragile.plain_losses) > 100
    assert fragile.plain_max_steps.min() < 1 < 10 < fragile.plain_max_steps.max()
    assert np.all(fragile.clipped_max_steps <= 0.1 * (1 + 1e-12))


def test_errors():
    with pytest.raises(ValueError, match="threshold"):
        nearby_descents(0.0, 0.1)
    with pytest.raises(ValueError, match="size"):
        nearby_descents(1.0, 0.1, size=-1.0)
    with pytest.raises(TypeError, match="count"):
        nearby_descents(1.0, 0.1, count=2.5)
    assert START == (5.0, -2.8)
