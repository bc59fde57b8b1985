"""Issue 20: every public function keeps its contract under bad and extreme input.

One test per case the issue lists: clear errors naming the argument, overflow shown as
overflow (+-inf or a recorded ``overflow_step``), never NaN from finite input where the
mathematics is defined, and no hang.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnbook import RNNParams, count_params, forward, span_norms, span_products, to_torch
from rnnbook.bptt import bptt, relative_error, term_norms
from rnnbook.checks import (
    MAX_STEPS,
    batched,
    check_array,
    check_flag,
    check_inside,
    check_probability,
    check_same_shape,
    check_seed,
    check_steps,
)
from rnnbook.cliff import cliff_descent, cliff_gradient, cliff_loss, descend
from rnnbook.clipping import clip_by_norm, cosine_similarity, global_norm
from rnnbook.decomposition import describe_profile, mlp_vs_rnn, term_norms_by_distance
from rnnbook.gates import initial_state
from rnnbook.initializers import recurrent_init
from rnnbook.pulse import describe_pulse, pulse_response

HUGE = 1.5e308


# --- the checks vocabulary -------------------------------------------------------------------

def test_check_steps_caps_counts_of_steps():
    assert check_steps("steps", MAX_STEPS) == MAX_STEPS
    with pytest.raises(ValueError, match=r"steps must be between 1 and 100000, got 10{12}"):
        check_steps("steps", 10**12)


@pytest.mark.parametrize("value", ["no", 1, 0, None, np.float64(1.0)])
def test_flags_must_be_real_bools(value):
    with pytest.raises(TypeError, match="keep_terms must be True or False"):
        check_flag("keep_terms", value)
    assert check_flag("keep_terms", np.bool_(True)) is True


def test_probability_and_seed():
    assert check_probability("p", 1.0) == 1.0
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\), got 1"):
        check_probability("p", 1.0, open_high=True)
    with pytest.raises(TypeError, match="seed must be an integer >= 0"):
        check_seed("seed", 1.7)
    with pytest.raises(ValueError, match="seed must be between 0 and"):
        check_seed("seed", -1)
    rng = np.random.default_rng(0)
    assert check_seed("seed", rng) is rng


@pytest.mark.parametrize(("value", "kind"), [(["a", "b"], "strings"), ([1 + 2j], "complex"),
                                             ([[1.0], "x"], "number")])
def test_arrays_of_non_numbers_name_the_argument(value, kind):
    with pytest.raises(TypeError, match=f"x must .*{kind}"):
        check_array("x", value)


def test_array_shape_ndim_and_matching_shapes():
    assert check_array("W", [[1, 2]], shape=(1, None)).shape == (1, 2)
    with pytest.raises(ValueError, match=r"W must have shape \(2, any\), got shape \(1, 2\)"):
        check_array("W", [[1, 2]], shape=(2, None))
    with pytest.raises(ValueError, match=r"x must have 1 or 2 dimension\(s\)"):
        check_array("x", 1.0, ndim=(1, 2))
    with pytest.raises(ValueError, match=r"a and b must have the same shape, got \(2,\) and"):
        check_same_shape(a=np.ones(2), b=np.ones(3))


def test_batched_says_what_width_means():
    with pytest.raises(ValueError, match=r"last axis must have size 3 \(the model's width\)"):
        batched("x", np.ones((4, 2)), 3, 2)
    with pytest.raises(TypeError, match="x must be an array of real numbers, got an array of "
                                        "strings"):
        batched("x", [["a"]], 1, 2)


def test_paths_stay_inside_the_folder(tmp_path):
    assert check_inside("file_name", "runs.json", tmp_path) == tmp_path.resolve() / "runs.json"
    for bad in ("../../../etc/passwd", "/etc/passwd", "a/../../b", ".."):
        with pytest.raises(ValueError, match="file_name must"):
            check_inside("file_name", bad, tmp_path)
    with pytest.raises(TypeError, match="file_name must be a file name"):
        check_inside("file_name", 3, tmp_path)


# --- wrong numbers from finite input -----------------------------------------------------------

def test_clip_by_norm_keeps_the_direction_of_an_overflowing_gradient():
    clipped = clip_by_norm([np.array([HUGE, HUGE])], 1.0)
    assert clipped.norm == np.inf and clipped.clipped
    np.testing.assert_allclose(clipped.grads[0], [2**-0.5, 2**-0.5], rtol=1e-15)
    assert clipped.clipped_norm == pytest.approx(1.0, rel=1e-15)
    assert global_norm([np.array([3e200]), np.array([4e200])]) == pytest.approx(5e200, rel=1e-15)


@pytest.mark.parametrize("value", [HUGE, 1e-320, 5e-324, 1e-300, 1.0])
def test_cosine_similarity_stays_in_range(value):
    g = [np.array([value, value])]
    same, opposite = cosine_similarity(g, g), cosine_similarity(g, [-g[0]])
    assert -1.0 <= opposite <= same <= 1.0
    assert same == pytest.approx(1.0, abs=4e-16) and opposite == pytest.approx(-1.0, abs=4e-16)


def test_relative_error_is_finite_for_finite_input():
    assert relative_error(np.ones(3), np.ones(3) * 1e300) == pytest.approx(1.0, rel=1e-12)
    assert relative_error(np.full(2, -HUGE), np.full(2, HUGE)) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="estimate and reference must have the same shape"):
        relative_error(np.ones(2), np.ones(3))
    with pytest.raises(TypeError, match="estimate must"):
        relative_error("abc", np.ones(3))


def test_bptt_term_norms_of_zero_terms_are_zero_beside_overflowed_inputs():
    params = RNNParams.random(1, 4, 1, seed=0)
    x = np.random.default_rng(0).normal(size=(10, 3, 1)) * 1e300
    result = bptt(params, x, np.zeros((3, 1)))
    for norms in (result.U_term_norms, result.W_term_norms, result.b_term_norms):
        assert not np.isnan(norms).any()
    # where delta is exactly 0 the U term is exactly 0
    zero = ~np.any(result.delta != 0.0, axis=(1, 2))
    assert np.all(result.U_term_norms[zero] == 0.0)


def test_term_norms_checks_its_arrays():
    with pytest.raises(ValueError, match="a and b must have the same steps and batch"):
        term_norms(np.ones((3, 2, 4)), np.ones((3, 1, 4)))
    with pytest.raises(ValueError, match=r"a must have 3 dimension\(s\)"):
        term_norms(np.ones((3, 4)), None)
    assert term_norms(np.zeros((2, 2, 3)), np.full((2, 2, 3), HUGE)).tolist() == [0.0, 0.0]
    np.testing.assert_allclose(term_norms(np.full((1, 1, 2), HUGE), np.full((1, 1, 2), 1e-300)),
                               [2 * 1.5e8], rtol=1e-14)


# --- exploding networks: inf and a report, not NaN ----------------------------------------------

def test_forward_identity_2I_carries_signed_inf():
    params = RNNParams.random(1, 4, 1, activation="identity").replace(W=2 * np.eye(4))
    trajectory = forward(params, np.ones((5000, 1)))
    assert not np.isnan(trajectory.h).any() and not np.isnan(trajectory.o).any()
    step = trajectory.overflow_step
    assert step is not None and np.isfinite(trajectory.z[:step - 1]).all()
    assert np.isinf(trajectory.h[-1]).any()
    # the signs are those of the mantissa: where h_T is not 0 its sign equals h at the last
    # finite step (W = 2I keeps signs)
    last = trajectory.h[step - 2, 0]
    assert np.array_equal(np.sign(trajectory.h[-1, 0]), np.sign(last))


@pytest.mark.parametrize("activation", ["relu", "identity"])
def test_forward_random_exploding_states_never_nan(activation):
    params = RNNParams.random(2, 8, 1, activation=activation, g=6.0, seed=1)
    trajectory = forward(params, np.random.default_rng(0).normal(size=(2000, 3, 2)))
    assert trajectory.overflow_step is not None
    assert not np.isnan(trajectory.z).any() and not np.isnan(trajectory.h).any()
    assert not np.isnan(trajectory.o).any()


def test_forward_before_overflow_is_unchanged():
    params = RNNParams.random(1, 4, 1, activation="relu", g=3.0, seed=2)
    x = np.ones((800, 1))
    trajectory = forward(params, x)
    cut = trajectory.overflow_step - 1
    np.testing.assert_array_equal(trajectory.h[:cut], forward(params, x[:cut]).h)


def test_bptt_reports_the_overflow():
    params = RNNParams.random(1, 8, 1, activation="relu", g=3.0)
    result = bptt(params, np.ones((5000, 1)), np.zeros(1), keep_terms=False, keep_chain=False)
    step = result.overflow_step
    assert step is not None and step == result.trajectory.overflow_step
    assert bptt(params, np.ones((5, 1)), np.zeros(1)).overflow_step is None


def test_span_products_overflow_like_span_norms():
    J = np.broadcast_to(3 * np.eye(2), (5000, 2, 2))
    products = span_products(J)
    assert not np.isnan(products).any()
    assert np.isinf(products[-1]).sum() == 2 and np.count_nonzero(products[-1]) == 2
    assert np.isinf(span_norms(J)[-1])
    rotation = np.array([[0.0, -3.0], [3.0, 0.0]])  # signs alternate: checked to the sign
    products = span_products(np.broadcast_to(rotation, (1000, 2, 2)))
    expected = np.sign(np.linalg.matrix_power(np.sign(rotation), 1000))
    np.testing.assert_array_equal(np.sign(products[-1]), expected)


def test_pulse_response_of_an_exploding_relu_is_inf():
    result = pulse_response(3.0, "relu", T=5000)
    assert not np.isnan(result.trace).any() and np.isinf(result.trace[-1])
    assert "inf at step 5000" in describe_pulse(result)


def test_explorers_report_where_they_overflowed():
    profile = term_norms_by_distance(3.0, 1000, "identity", n=8)
    assert profile.overflow_step is not None
    assert "overflow" in describe_profile(profile)
    assert term_norms_by_distance(0.9, 30, "tanh", n=8).overflow_step is None
    contrast = mlp_vs_rnn(3.0, 1000, "relu", n=8)
    assert contrast.overflow_step is not None


# --- bad input refused ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: count_params(-5, 1, 1), ValueError, "n_input must be >= 1, got -5"),
        (lambda: count_params(2.5, 1, 1), TypeError, "n_input must be an integer"),
        (lambda: count_params(True, 1, 1), TypeError, "n_input must be an integer"),
        (lambda: cliff_loss(1.0, 0.0, x0=np.nan), ValueError, "x0 must be finite"),
        (lambda: cliff_gradient(1.0, 0.0, target="a"), TypeError, "target must be a real"),
        (lambda: cliff_loss(1.0, 0.0, steps=10**12), ValueError, "steps must be between"),
        (lambda: cliff_gradient(1.0, 0.0, steps=10**12), ValueError, "steps must be between"),
        (lambda: descend((5.0, -2.8), 0.1, 10**12), ValueError, "steps must be between"),
        (lambda: cliff_descent(1.0, 0.1, steps=10**12), ValueError, "steps must be between"),
        (lambda: cliff_descent(np.nan, 0.1), ValueError, "threshold must be finite"),
        (lambda: pulse_response(1.0, amplitude=np.nan), ValueError, "amplitude must be finite"),
        (lambda: RNNParams.random(1, 2, 1, g=np.nan), ValueError, "g must be finite"),
        (lambda: RNNParams.random(1, 2, 1, seed=1.7), TypeError, "seed must be an integer"),
        (lambda: recurrent_init("orthogonal", 3, 0), ValueError, "scale must be > 0, got 0"),
        (lambda: initial_state("h0", None, 1, 2.5), TypeError, "width must be an integer"),
        (lambda: to_torch(None), TypeError, "params must be RNNParams"),
        (lambda: span_products(np.ones((2, 2, 2)), rescaled="no"), TypeError, "rescaled must"),
        (lambda: bptt(RNNParams.random(1, 2, 1), np.ones((3, 1)), np.zeros(1), keep_terms="no"),
         TypeError, "keep_terms must be True or False"),
        (lambda: forward(RNNParams.random(1, 2, 1), [["a"]]), TypeError, "x must"),
        (lambda: global_norm([["a"]]), TypeError, r"grads\[0\]"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_gated_flags_are_real_bools():
    from rnnbook.gru import GRUParams, gru_count_params, gru_to_torch

    with pytest.raises(TypeError, match="torch_biases must be True or False"):
        gru_count_params(2, 3, torch_biases="no")
    with pytest.raises(TypeError, match="cell must be True or False"):
        gru_to_torch(GRUParams.random(2, 3), cell="no")


def test_records_paths_and_writes(tmp_path):
    from rnnbook.experiments.records import data_path, write_record

    with pytest.raises(ValueError, match="file_name must stay inside"):
        data_path("../../../etc/passwd")
    assert data_path("lag_runs.json").name == "lag_runs.json"
    write_record(str(tmp_path / "a" / "r.json"), "{}")
    assert json.loads((tmp_path / "a" / "r.json").read_text()) == {}
    with pytest.raises(TypeError, match="path must be a str or a Path"):
        write_record(None, "{}")


def test_explorer_refuses_bad_alt_and_dpi():
    import matplotlib.pyplot as plt

    from rnnbook.explorer import render_frames

    def plot(value):
        fig, ax = plt.subplots(figsize=(1, 1))
        ax.plot([value])
        return fig

    with pytest.raises(ValueError, match=r"alt '\{zz\}' names a field that is not a grid"):
        render_frames(lambda a: a, plot, {"a": [1, 2]}, alt="{zz}")
    with pytest.raises(TypeError, match="dpi must be an integer"):
        render_frames(lambda a: a, plot, {"a": [1, 2]}, alt="a={a}", dpi=2.5)


# --- torch experiments and their command lines ------------------------------------------------

def test_training_config_and_evaluate_refuse_bad_input():
    from rnnbook.experiments.training import TrainingConfig, evaluate, make_model
    from rnnbook.tasks import Batch

    with pytest.raises(ValueError, match="forget_bias must be <= 100"):
        TrainingConfig(model="lstm", forget_bias=1e300)
    model = make_model("rnn", 1, 4)
    x = np.zeros((5, 2), dtype=np.float32)
    with pytest.raises(ValueError, match=r"batch.x must be batched, shape \(T, B, d\)"):
        evaluate(model, Batch(x=x, y=np.zeros((2, 1))))


def test_clipping_experiment_refuses_fractional_seeds():
    from rnnbook.experiments.clipping import run_experiment

    with pytest.raises(TypeError, match=r"seeds\[0\] must be an integer"):
        run_experiment(seeds=(1.7,))


@pytest.mark.parametrize("module", ["lag", "clipping", "longlag", "speed"])
@pytest.mark.parametrize("argv", [["--steps", "0"], ["--steps", "2.5"], ["--seeds", "-1"],
                                  ["--steps", str(10**12)]])
def test_cli_refuses_invalid_arguments_before_any_work(module, argv, capsys):
    import importlib

    main = importlib.import_module(f"rnnbook.experiments.{module}").main
    if module == "speed" and argv[0] == "--seeds":
        argv = ["--rounds", "-1"]
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    assert "expected an integer" in capsys.readouterr().err


@pytest.mark.parametrize("module", ["lag", "clipping", "longlag", "speed"])
def test_cli_never_overwrites_the_stored_data_unless_asked(module, capsys):
    import importlib

    experiment = importlib.import_module(f"rnnbook.experiments.{module}")
    path = experiment.STORE.default_output()
    before = path.read_bytes()
    with pytest.raises(SystemExit) as stop:
        experiment.main([])
    assert stop.value.code == 2
    assert "pass --overwrite" in capsys.readouterr().err
    assert path.read_bytes() == before
