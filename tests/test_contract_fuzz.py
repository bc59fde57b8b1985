"""Property-based tests (hypothesis) and a fuzz of the public API for the contract of issue 20.

Deterministic: ``derandomize=True`` and no example database, so CI sees the same examples.
"""

from __future__ import annotations

import numpy as np
import pytest
from fuzz_contract import cases, table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rnnbook import RNNParams, forward, span_norms, span_products
from rnnbook.bptt import relative_error, term_norms
from rnnbook.checks import check_array, check_count, check_flag, check_real
from rnnbook.clipping import clip_by_norm, cosine_similarity, global_norm

SETTINGS = settings(derandomize=True, database=None, max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

#: Finite floats of every magnitude: subnormals, ordinary numbers, and up to the float maximum.
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
vectors = hnp.arrays(np.float64, st.integers(1, 6), elements=finite)
non_zero = vectors.filter(lambda v: np.any(v != 0.0))
anything = st.one_of(st.none(), st.text(max_size=3), st.booleans(), st.floats(),
                     st.integers(-10**15, 10**15), st.lists(st.text(max_size=2), max_size=2),
                     st.complex_numbers(max_magnitude=10))


@SETTINGS
@given(non_zero, st.floats(1e-300, 1e300))
def test_clip_by_norm_never_zeroes_or_flips_a_finite_gradient(g, threshold):
    clipped = clip_by_norm([g], threshold, eps=0.0)
    out = clipped.grads[0]
    assert np.all(np.isfinite(out)) and not np.isnan(clipped.norm)
    assert clipped.clipped_norm <= threshold * (1 + 1e-12)
    assert np.all(np.sign(out) * np.sign(g) >= 0)  # same direction, entry by entry
    if clipped.clipped:
        assert clipped.clipped_norm == pytest.approx(threshold, rel=1e-12)


@SETTINGS
@given(non_zero, non_zero)
def test_cosine_similarity_is_in_range(a, b):
    if a.shape != b.shape:
        with pytest.raises(ValueError, match="differ in structure"):
            cosine_similarity([a], [b])
        return
    value = cosine_similarity([a], [b])
    assert -1.0 <= value <= 1.0
    assert cosine_similarity([a], [a]) == pytest.approx(1.0, abs=1e-15)


@SETTINGS
@given(vectors, vectors)
def test_relative_error_is_never_nan_from_finite_input(a, b):
    if a.shape != b.shape:
        with pytest.raises(ValueError, match="estimate and reference"):
            relative_error(a, b)
        return
    value = relative_error(a, b)
    assert not np.isnan(value) and value >= 0.0
    assert global_norm([a]) >= 0.0


@SETTINGS
@given(st.sampled_from(["relu", "identity", "tanh", "sigmoid"]), st.floats(0.0, 50.0),
       st.integers(1, 200), st.integers(0, 3), st.floats(-1e3, 1e3))
def test_forward_never_makes_nan_from_finite_input(activation, g, T, seed, amplitude):
    params = RNNParams.random(2, 5, 1, activation=activation, g=g, seed=seed)
    x = amplitude * np.random.default_rng(seed).normal(size=(T, 2, 2))
    trajectory = forward(params, x)
    for array in (trajectory.z, trajectory.h, trajectory.o):
        assert not np.isnan(array).any()
    if trajectory.overflow_step is None:
        assert np.isfinite(trajectory.z).all()
    else:
        assert np.isfinite(trajectory.z[:trajectory.overflow_step - 1]).all()


@SETTINGS
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 40), st.just(3), st.just(3)),
                  elements=st.floats(-1e3, 1e3)), st.floats(1e-3, 1e50))
def test_span_products_carry_inf_like_span_norms(jacobians, factor):
    stack = jacobians * factor
    products = span_products(stack)
    norms = span_norms(stack)
    assert not np.isnan(products).any() and not np.isnan(norms).any()
    overflowed = np.isinf(products).any(axis=(1, 2))
    assert np.all(np.isinf(norms[overflowed]) | (norms[overflowed] > 1e300))


@SETTINGS
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3)),
                  elements=finite))
def test_term_norms_are_never_nan_from_finite_input(a):
    norms = term_norms(a, a)
    assert not np.isnan(norms).any() and np.all(norms >= 0.0)
    assert not np.isnan(term_norms(a, None)).any()


@SETTINGS
@given(anything)
def test_checks_refuse_with_the_argument_named(value):
    for check in (lambda v: check_count("my_count", v), lambda v: check_real("my_real", v),
                  lambda v: check_flag("my_flag", v), lambda v: check_array("my_array", v)):
        try:
            check(value)
        except (TypeError, ValueError) as error:
            assert "my_" in str(error)


@pytest.fixture(scope="module")
def fuzz_rows():
    return list(cases(cap=10.0))  # the definition of a hang: over 10 s


def test_fuzz_finds_no_hang_and_no_nan_from_finite_input(fuzz_rows):
    bad = [row for row in fuzz_rows if row[3] == "hang" or row[4] == "NaN from finite input"]
    assert not bad, bad


def test_fuzz_outcomes_do_not_regress(fuzz_rows):
    counts = table(fuzz_rows)
    cases_run = sum(v for k, v in counts.items() if k != "no valid call found")
    assert cases_run > 2500  # the fuzz reaches most of the API
    assert counts["clear"] / cases_run > 0.94
    # ratchet: issue 20 measured 261 unhelpful, 82 other, 113 silent, 8 hangs with this fuzz;
    # every case is clear now (a new public function must name its arguments too)
    problems = [row for row in fuzz_rows if row[3] in ("unhelpful", "other", "silent", "hang")]
    assert not problems, problems
