"""Norm and value clipping against torch.nn.utils, in float64."""

import numpy as np
import pytest
import torch

from rnnbook.clipping import (
    TORCH_EPS,
    clip_by_norm,
    clip_by_value,
    cosine_similarity,
    global_norm,
)

SHAPES = [[(5,)], [(3, 4), (4,)], [(8, 8), (8, 2), (8,), (1, 8), (1,)]]


def random_grads(shapes, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    return [scale * rng.standard_normal(shape) for shape in shapes]


def torch_params(grads):
    params = []
    for g in grads:
        p = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
        p.grad = torch.from_numpy(g.copy())
        params.append(p)
    return params


@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("ratio", [0.1, 0.5, 0.999, 1.5, 10.0])
def test_clip_by_norm_equals_torch(shapes, seed, ratio):
    grads = random_grads(shapes, seed, scale=10.0 ** (seed - 1))
    threshold = ratio * np.sqrt(sum(np.sum(g**2) for g in grads))
    params = torch_params(grads)
    torch_norm = torch.nn.utils.clip_grad_norm_(params, threshold)
    result = clip_by_norm(grads, threshold)
    assert result.norm == pytest.approx(torch_norm.item(), rel=1e-12)
    for ours, p in zip(result.grads, params, strict=True):
        np.testing.assert_allclose(ours, p.grad.numpy(), rtol=1e-12, atol=0)
    assert result.clipped == (ratio < 1)


def test_clip_by_norm_matches_torch_just_below_the_threshold():
    # torch divides by norm + 1e-6, so it shrinks a gradient whose norm is a hair below the
    # threshold; with the default eps we do the same, with eps=0 (Algorithm 1) we do not.
    grads = random_grads([(4, 3), (3,)], seed=5)
    norm = global_norm(grads)
    threshold = norm + 0.5 * TORCH_EPS
    params = torch_params(grads)
    torch.nn.utils.clip_grad_norm_(params, threshold)
    torch_grads = [p.grad.numpy() for p in params]
    assert not np.array_equal(torch_grads[0], grads[0])
    ours = clip_by_norm(grads, threshold)
    for a, b in zip(ours.grads, torch_grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)
    exact = clip_by_norm(grads, threshold, eps=0.0)
    assert not exact.clipped
    for a, b in zip(exact.grads, grads, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_algorithm_1_rescales_to_the_threshold(seed):
    grads = random_grads([(6, 6), (6,)], seed, scale=50.0)
    threshold = 0.3 * global_norm(grads)
    result = clip_by_norm(grads, threshold, eps=0.0)
    assert result.clipped
    assert result.clipped_norm == pytest.approx(threshold, rel=1e-12)
    assert global_norm(result.grads) == pytest.approx(threshold, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_norm_clipping_keeps_the_direction(seed):
    grads = random_grads([(7, 7), (7, 3), (7,)], seed, scale=100.0)
    result = clip_by_norm(grads, 1.0)
    assert result.clipped
    assert cosine_similarity(grads, result.grads) == pytest.approx(1.0, abs=1e-12)
    # and every entry is scaled by one and the same factor
    factors = np.concatenate([(c / g).ravel() for c, g in zip(result.grads, grads, strict=True)])
    np.testing.assert_allclose(factors, factors[0], rtol=1e-12)


@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("clip_value", [0.1, 0.8, 5.0])
def test_clip_by_value_equals_torch(shapes, seed, clip_value):
    grads = random_grads(shapes, seed)
    params = torch_params(grads)
    torch.nn.utils.clip_grad_value_(params, clip_value)
    result = clip_by_value(grads, clip_value)
    for ours, p in zip(result.grads, params, strict=True):
        np.testing.assert_array_equal(ours, p.grad.numpy())
    assert result.norm == pytest.approx(global_norm(grads), rel=1e-14)
    assert result.clipped == any(np.any(np.abs(g) > clip_value) for g in grads)


def test_value_clipping_changes_the_direction_counter_example():
    # g = (3, 0.5) clamped at 1 becomes (1, 0.5): the small entry keeps its size, the large
    # one loses two thirds, so the step turns by arccos(3.25 / sqrt(9.25 * 1.25)) ~ 17 degrees.
    g = np.array([3.0, 0.5])
    by_value = clip_by_value(g, 1.0)
    np.testing.assert_array_equal(by_value.grads, [1.0, 0.5])
    cosine = cosine_similarity(g, by_value.grads)
    assert cosine == pytest.approx(3.25 / np.sqrt(9.25 * 1.25), rel=1e-14)
    assert np.degrees(np.arccos(cosine)) > 17.0
    by_norm = clip_by_norm(g, 1.0)
    assert cosine_similarity(g, by_norm.grads) == pytest.approx(1.0, abs=1e-15)


def test_containers_are_kept_and_inputs_are_not_modified():
    grads = {"W": np.full((2, 2), 3.0), "b": np.array([4.0, 0.0])}
    before = {k: v.copy() for k, v in grads.items()}
    result = clip_by_norm(grads, 1.0)
    assert isinstance(result.grads, dict) and list(result.grads) == ["W", "b"]
    for key in grads:
        np.testing.assert_array_equal(grads[key], before[key])
    assert isinstance(clip_by_value(tuple(before.values()), 1.0).grads, tuple)
    assert isinstance(clip_by_norm([before["W"]], 1.0).grads, list)
    single = clip_by_norm(before["b"], 1.0)
    assert isinstance(single.grads, np.ndarray)
    np.testing.assert_allclose(single.grads, [1.0, 0.0], rtol=1e-6)


def test_small_and_zero_gradients_are_left_alone():
    g = [np.array([0.3, -0.4])]
    result = clip_by_norm(g, 1.0)
    assert not result.clipped and result.norm == pytest.approx(0.5)
    np.testing.assert_array_equal(result.grads[0], g[0])
    zero = clip_by_norm([np.zeros(3)], 1.0, eps=0.0)
    assert zero.norm == 0.0 and not zero.clipped


def test_global_norm_does_not_overflow():
    grads = [np.full(4, 1e200), np.full(5, -1e200)]
    assert global_norm(grads) == pytest.approx(3e200, rel=1e-14)
    result = clip_by_norm(grads, 2.0)
    assert result.clipped_norm == pytest.approx(2.0, rel=1e-9)


@pytest.mark.parametrize("threshold", [0.0, -1.0, np.nan, np.inf])
def test_bad_threshold_raises(threshold):
    with pytest.raises(ValueError, match="threshold"):
        clip_by_norm([np.ones(3)], threshold)
    with pytest.raises(ValueError, match="clip_value"):
        clip_by_value([np.ones(3)], threshold)


@pytest.mark.parametrize("threshold", ["1", None, True])
def test_non_numeric_threshold_raises(threshold):
    with pytest.raises(TypeError, match="threshold"):
        clip_by_norm([np.ones(3)], threshold)


@pytest.mark.parametrize(
    ("grads", "error", "match"),
    [
        ([np.array([1.0, np.nan])], ValueError, "NaN"),
        ({"W": np.array([np.inf])}, ValueError, r"grads\['W'\]"),
        ([], ValueError, "empty"),
        (3.0, TypeError, "dict, list or tuple"),
        ("abc", TypeError, "dict, list or tuple"),
        ([np.ones(2), "x"], TypeError, r"grads\[1\]"),
        ([np.ones(2), None], TypeError, r"grads\[1\]"),
    ],
)
def test_bad_gradients_raise(grads, error, match):
    with pytest.raises(error, match=match):
        clip_by_norm(grads, 1.0)


def test_bad_eps_and_cosine_inputs_raise():
    with pytest.raises(ValueError, match="eps"):
        clip_by_norm([np.ones(2)], 1.0, eps=-1e-6)
    with pytest.raises(ValueError, match="structure"):
        cosine_similarity([np.ones(2)], [np.ones(3)])
    with pytest.raises(ValueError, match="zero gradient"):
        cosine_similarity([np.zeros(2)], [np.ones(2)])
