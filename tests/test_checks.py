"""The shared argument checks: what they accept, and the errors they raise."""

import numpy as np
import pytest

from rnnbook.checks import check_choice, check_count, check_positive, check_real, finite_array


def test_check_count_accepts_numpy_integers_and_bounds():
    assert check_count("n", np.int64(3)) == 3
    assert type(check_count("n", np.int64(3))) is int
    assert check_count("k", 0, 0, 5) == 0


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [(("n", 2.0), TypeError, "n must be an integer, got float"),
     (("n", True), TypeError, "n must be an integer"),
     (("n", 0), ValueError, "n must be >= 1, got 0"),
     (("k", 6, 1, 5), ValueError, "k must be between 1 and 5, got 6")],
)
def test_check_count_rejects(args, error, match):
    with pytest.raises(error, match=match):
        check_count(*args)


def test_check_real_bounds():
    assert check_real("x", np.float32(0.5)) == 0.5
    assert check_real("x", 0, low=0.0) == 0.0
    with pytest.raises(ValueError, match="x must be > 0, got 0"):
        check_real("x", 0, low=0.0, strict=True)
    with pytest.raises(ValueError, match="x must be >= 1, got 0.5"):
        check_real("x", 0.5, low=1.0)
    with pytest.raises(ValueError, match="x must be finite"):
        check_real("x", np.inf)
    with pytest.raises(TypeError, match="x must be a real number, got str"):
        check_real("x", "1")


def test_check_positive():
    assert check_positive("lr", 2) == 2.0
    with pytest.raises(ValueError, match="lr must be > 0"):
        check_positive("lr", -1.0)


def test_check_choice():
    assert check_choice("model", "gru", ("rnn", "gru")) == "gru"
    with pytest.raises(ValueError, match=r"unknown model 'lstm'; choose one of \('rnn', 'gru'\)"):
        check_choice("model", "lstm", ["rnn", "gru"])
    with pytest.raises(TypeError, match="model must be a string"):
        check_choice("model", 1, ("rnn",))


def test_finite_array():
    assert finite_array("W", [[1, 2]], 2).dtype == np.float64
    with pytest.raises(ValueError, match=r"W must have 2 dimension\(s\), got shape \(2,\)"):
        finite_array("W", [1, 2], 2)
    with pytest.raises(ValueError, match="W contains NaN"):
        finite_array("W", [[np.nan]], 2)
