"""Data generators of the long-lag tasks: shapes, seeds, marker rules, targets, baselines."""

import numpy as np
import pytest

from rnnbook.tasks import (
    TASKS,
    Batch,
    adding_problem,
    as_generator,
    baseline_mse,
    copy_lag,
    get_task,
    make_batch,
)


@pytest.mark.parametrize("T, B", [(2, 1), (3, 5), (50, 32), (101, 7)])
def test_adding_shapes_and_ranges(T, B):
    batch = adding_problem(T, B, 0)
    assert isinstance(batch, Batch)
    assert batch.x.shape == (T, B, 2) and batch.y.shape == (B,)
    assert batch.x.dtype == np.float64 and batch.y.dtype == np.float64
    values, markers = batch.x[..., 0], batch.x[..., 1]
    assert np.all((values >= 0) & (values < 1))
    assert set(np.unique(markers)) <= {0.0, 1.0}
    assert np.all((batch.y >= 0) & (batch.y < 2))


@pytest.mark.parametrize("T", [2, 3, 4, 9, 10, 100])
def test_adding_marker_rules_and_target(T):
    batch = adding_problem(T, 500, np.random.default_rng(T))
    markers = batch.x[..., 1]
    half = T // 2
    assert np.all(markers.sum(axis=0) == 2)
    assert np.all(markers[:half].sum(axis=0) == 1)  # one marker in the first half
    assert np.all(markers[half:].sum(axis=0) == 1)  # one in the second half
    expected = np.array([batch.x[markers[:, b] == 1, b, 0].sum() for b in range(500)])
    np.testing.assert_array_equal(batch.y, expected)


def test_adding_marker_positions_cover_each_half_uniformly():
    T = 7  # first half {0, 1, 2}, second half {3, ..., 6}
    markers = adding_problem(T, 70_000, 1).x[..., 1]
    counts = markers.sum(axis=1)
    first, second = counts[:3] / 70_000, counts[3:] / 70_000
    np.testing.assert_allclose(first, 1 / 3, atol=0.01)
    np.testing.assert_allclose(second, 1 / 4, atol=0.01)


def test_seeds_reproduce_and_differ():
    a, b = adding_problem(20, 8, 3), adding_problem(20, 8, np.random.default_rng(3))
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.x, adding_problem(20, 8, 4).x)
    rng = np.random.default_rng(0)
    first, second = adding_problem(20, 8, rng), adding_problem(20, 8, rng)
    assert not np.array_equal(first.x, second.x)  # a Generator advances between calls
    c = copy_lag(10, 4, 3, 9)
    np.testing.assert_array_equal(c.x, copy_lag(10, 4, 3, 9).x)


def test_adding_baseline_is_one_sixth():
    """Predicting 1 (the target's mean) scores Var(u1 + u2) = 1/6 in expectation."""
    y = adding_problem(10, 200_000, 5).y
    assert get_task("adding").baseline_mse == pytest.approx(1 / 6)
    assert get_task("adding").baseline_prediction == 1.0
    mse = baseline_mse(y, 1.0)
    standard_error = np.std((y - 1.0) ** 2) / np.sqrt(y.size)
    assert abs(mse - 1 / 6) < 4 * standard_error
    assert abs(y.mean() - 1.0) < 4 * y.std() / np.sqrt(y.size)
    assert baseline_mse(y, 0.9) > mse and baseline_mse(y, 1.1) > mse


@pytest.mark.parametrize("T, lag", [(1, 0), (5, 0), (5, 2), (5, 4), (30, 29)])
def test_copy_lag_target_is_one_input(T, lag):
    batch = copy_lag(T, 6, lag, 0)
    assert batch.x.shape == (T, 6, 1) and batch.y.shape == (6,)
    np.testing.assert_array_equal(batch.y, batch.x[T - 1 - lag, :, 0])
    if T > 1:  # no other input carries the target
        others = np.delete(batch.x[:, :, 0], T - 1 - lag, axis=0)
        assert not np.any(others == batch.y)


def test_copy_lag_first_input_and_baseline():
    batch = make_batch("copy_lag", 12, 100_000, 2)
    np.testing.assert_array_equal(batch.y, batch.x[0, :, 0])  # default lag = T - 1
    assert get_task("copy_lag").baseline_mse == 1.0
    assert baseline_mse(batch.y, 0.0) == pytest.approx(1.0, abs=0.02)


def test_make_batch_dispatches():
    np.testing.assert_array_equal(make_batch("adding", 9, 3, 1).x, adding_problem(9, 3, 1).x)
    np.testing.assert_array_equal(make_batch("copy_lag", 9, 3, 1, lag=2).y,
                                  copy_lag(9, 3, 2, 1).y)
    assert sorted(TASKS) == ["adding", "copy_lag"]
    assert {spec.n_input for spec in TASKS.values()} == {1, 2}


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: adding_problem(1, 4, 0), ValueError, "T must be >= 2"),
        (lambda: adding_problem(10, 0, 0), ValueError, "batch must be >= 1"),
        (lambda: adding_problem(10.0, 4, 0), TypeError, "T must be an integer"),
        (lambda: adding_problem(True, 4, 0), TypeError, "T must be an integer"),
        (lambda: adding_problem(10, 4, -1), ValueError, "rng must be between 0 and"),
        (lambda: adding_problem(10, 4, 0.5), TypeError,
         r"rng must be an integer >= 0 \(or a numpy Generator\)"),
        (lambda: adding_problem(10, 4, np.random.RandomState(0)), TypeError, "Generator"),
        (lambda: copy_lag(5, 2, 5, 0), ValueError, r"at most T - 1 = 4"),
        (lambda: copy_lag(5, 2, -1, 0), ValueError, "lag must be >= 0"),
        (lambda: copy_lag(0, 2, 0, 0), ValueError, "T must be >= 1"),
        (lambda: make_batch("adding", 5, 2, 0, lag=1), ValueError, "copy_lag task only"),
        (lambda: make_batch("addition", 5, 2, 0), ValueError, "unknown task"),
        (lambda: get_task(3), TypeError, "task name must be a string"),
        (lambda: baseline_mse(np.ones((2, 2)), 1.0), ValueError, r"shape \(B,\)"),
        (lambda: baseline_mse(np.array([1.0, np.nan]), 1.0), ValueError, "finite"),
    ],
)
def test_bad_arguments_raise(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_as_generator_passes_generators_through():
    rng = np.random.default_rng(0)
    assert as_generator(rng) is rng
    assert as_generator(np.int64(3)).integers(1000) == np.random.default_rng(3).integers(1000)
