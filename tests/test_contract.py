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
from rnnbook.activations import get_activation
from rnnbook.bptt import (
    _scaled_backward,
    backward_recursion,
    bptt,
    relative_error,
    term_norms,
    truncation_profile,
)
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
from rnnbook.cliff import cliff_descent, cliff_gradient, cliff_loss, cliff_surface, descend
from rnnbook.cliff_sensitivity import nearby_descents
from rnnbook.clipping import clip_by_norm, cosine_similarity, global_norm
from rnnbook.decomposition import (
    describe_profile,
    distance_decomposition,
    effective_horizon,
    far_norm_share,
    mlp_vs_rnn,
    scaled_rnn_problem,
    term_norms_by_distance,
)
from rnnbook.experiments.records import count_arg, json_floats
from rnnbook.experiments.training import make_model
from rnnbook.gates import initial_state, sequence_inputs
from rnnbook.gru import step_inputs
from rnnbook.initializers import initial_gradient, recurrent_init
from rnnbook.jacobian import alternating_saturation, bound_survey, net_jacobians, span_product
from rnnbook.linear_recurrence import (
    linear_recurrence,
    memory_horizon,
    scan_blelloch,
    scan_sequential,
    scan_timings,
)
from rnnbook.losses import ce_all, ce_all_grad, get_loss
from rnnbook.lstm import forget_bias_gradient_flow
from rnnbook.meanfield import compare_rates, entry_scale, mean_field
from rnnbook.numerics import keep_zero_product
from rnnbook.plots.diagrams import plot_unrolled
from rnnbook.plots.pulse import plot_pulse_response
from rnnbook.pulse import describe_pulse, pulse_response
from rnnbook.spectra import (
    power_norms,
    rescale_to_spectral_norm,
    rescale_to_spectral_radius,
    rescaled_running_products,
    spectral_norm,
    spectral_radius,
)
from rnnbook.tasks import as_generator, baseline_mse, get_task
from rnnbook.truncation import randomized_truncation
from rnnbook.update_gate import update_bias_gradient_flow

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


# --- the remaining fuzz cases: arguments named as the caller wrote them ----------------------

def _traj():
    params = RNNParams.random(2, 3, 1, seed=0)
    return params, forward(params, np.linspace(-0.5, 0.5, 10).reshape(5, 2))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: get_activation(None), TypeError, "activation name must be a string"),
        (lambda: get_activation("zz"), ValueError, "unknown activation name 'zz'"),
        (lambda: get_loss(3), TypeError, "loss name must be a string"),
        (lambda: get_task(None), TypeError, "task name must be a string"),
        (lambda: make_model("zz", 2, 3), ValueError, "unknown model kind 'zz'"),
        (lambda: recurrent_init("zz", 3), ValueError, "unknown initialiser name 'zz'"),
        (lambda: initial_gradient("orthogonal", "tanh", warmup=10**12), ValueError,
         "warmup must be between 0 and 100000"),
        (lambda: power_norms(np.eye(2), 10**12), ValueError, "k_max must be between 0 and"),
        (lambda: alternating_saturation(slope=1e-320), ValueError, "slope must be >= 2.22045e-16"),
        (lambda: bound_survey(gs=None), TypeError, "gs must be a list"),
        (lambda: bound_survey(gs=("a",)), TypeError, r"gs\[0\] must be a real number"),
        (lambda: bound_survey(sizes=object()), TypeError, "sizes must be a list"),
        (lambda: bound_survey(activations=object()), TypeError, "activations must be a list"),
        (lambda: net_jacobians(None, _traj()[1]), TypeError, "params must be RNNParams"),
        (lambda: sequence_inputs(None, np.ones((3, 1))), TypeError,
         "params must be GatedParams"),
        (lambda: memory_horizon("abc"), TypeError, "modulus must be a number"),
        (lambda: memory_horizon(True), TypeError, "modulus must be a number"),
        (lambda: scan_timings(None), TypeError, "lengths must be a list"),
        (lambda: scan_timings([5], batch=2.5), TypeError, "batch must be an integer"),
        (lambda: scan_timings([5], batch=10**12), ValueError, "batch must be at most"),
        (lambda: forget_bias_gradient_flow(1.0, seed=None), TypeError,
         "seed must be an integer"),
        (lambda: forget_bias_gradient_flow(1.0, seed=-1), ValueError, "seed must be between 0"),
        (lambda: update_bias_gradient_flow(1.0, seed=-1), ValueError, "seed must be between 0"),
        (lambda: compare_rates([0.5], seeds=None), TypeError, "seeds must be a list"),
        (lambda: compare_rates([0.5], seeds=("a",)), TypeError,
         r"seeds\[0\] must be an integer"),
        (lambda: mean_field(1e300), ValueError, r"g must be <= 1e\+150"),
        (lambda: as_generator(-1), ValueError, "rng must be between 0 and"),
        (lambda: cliff_surface(None), TypeError, "view must be a number or an array"),
        (lambda: cliff_surface(object()), TypeError, "view must be"),
        (lambda: nearby_descents(1.0, 0.1, start=None), TypeError,
         "start must be a number or an array"),
        (lambda: nearby_descents(1.0, 0.1, start="ab"), TypeError, "start must be"),
        (lambda: cliff_loss(True, 0.0), TypeError, "w must be a number or an array"),
        (lambda: cliff_gradient(True, 0.0), TypeError, "w must be a number or an array"),
        (lambda: effective_horizon(np.ones(3), eps=True), TypeError, "eps must be a real"),
        (lambda: term_norms_by_distance(0.9, 5, eps=True), TypeError, "eps must be a real"),
        (lambda: plot_unrolled(True), TypeError, "steps must be an integer"),
        (lambda: rescaled_running_products(None), TypeError, "factors must be"),
        (lambda: count_arg(10**12), ValueError, "minimum must be <= maximum"),
        (lambda: json_floats([[1.0]]), ValueError, "values must have 1 dimension"),
        (lambda: randomized_truncation(*_problem(), counts=None), TypeError,
         "counts must be a list"),
        (lambda: randomized_truncation(*_problem(), counts=("a",)), TypeError,
         r"counts\[0\] must be an integer"),
        (lambda: bptt(_problem()[0], _problem()[1][None], _problem()[2]), ValueError,
         r"y does not fit the outputs of params on x \(x has shape \(1, 5, 2\)\)"),
        (lambda: keep_zero_product(None, 1.0), TypeError, "a must be a number"),
        (lambda: step_inputs(None, np.ones(2), np.zeros(3)), TypeError,
         "params must be GRUParams"),
        (lambda: describe_pulse(None), TypeError, "result must be PulseResponse"),
        (lambda: plot_pulse_response("abc"), TypeError, "result must be PulseResponse"),
        (lambda: baseline_mse(np.zeros(3), None), TypeError, "prediction must be a real"),
        (lambda: baseline_mse(np.zeros(3), True), TypeError, "prediction must be a real"),
        (lambda: linear_recurrence([0.5], np.ones((3, 1)), stable="no"), TypeError,
         "stable must be True or False"),
    ],
)
def test_fuzz_cases_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_term_norms_b_defaults_to_none():
    a = np.arange(12.0).reshape(2, 2, 3)
    np.testing.assert_array_equal(term_norms(a), term_norms(a, None))


# --- the remaining fuzz cases: no NaN from finite input ------------------------------------------

def _problem(activation="tanh", T=5, scale=1.0):
    params = RNNParams.random(2, 3, 1, activation=activation, seed=0)
    return params, scale * np.linspace(-0.5, 0.5, 2 * T).reshape(T, 2), np.zeros(1)


def test_backward_recursion_carries_signed_inf():
    e, fprime = np.ones((5, 1, 3)), np.full((5, 1, 3), 1e300)
    W = 0.5e300 * np.eye(3)
    delta, dh0, chain = backward_recursion(e, fprime, W, keep_chain=True)
    assert delta[-1, 0, 0] == 1e300 and np.all(delta[:-1] == np.inf)
    assert np.all(dh0 == np.inf)
    assert np.all(chain[:-1][:, :, np.arange(3), np.arange(3)] == np.inf)
    off_diagonal = ~np.eye(3, dtype=bool)
    assert np.all(chain[:, :, off_diagonal] == 0.0)  # 0 beside inf, not NaN


@pytest.mark.parametrize("W_scale", [1.0, -1.0])
def test_backward_recursion_rescaled_agrees_with_the_plain_recursion(W_scale):
    rng = np.random.default_rng(0)
    e, fprime = rng.normal(size=(40, 2, 3)), rng.uniform(size=(40, 2, 3))
    W = W_scale * 3.0 * rng.normal(size=(3, 3))
    plain = backward_recursion(e, fprime, W, keep_chain=True)
    scaled = backward_recursion(e * 2.0**1000, fprime, W, keep_chain=True)
    assert np.isinf(scaled[0]).any() and np.isfinite(scaled[0]).any()  # it overflowed
    assert not any(np.isnan(a).any() for a in scaled)
    finite = np.isfinite(scaled[0])
    np.testing.assert_allclose(scaled[0][finite], plain[0][finite] * 2.0**1000, rtol=1e-12)
    assert np.all(np.sign(scaled[0][~finite]) == np.sign(plain[0][~finite]))
    np.testing.assert_array_equal(scaled[2], plain[2])


def test_far_norm_share_does_not_depend_on_the_scale():
    terms = np.random.default_rng(1).normal(size=(6, 2, 2))
    for scale in (1e300, 2.0**-1000):
        np.testing.assert_allclose(far_norm_share(terms * scale), far_norm_share(terms),
                                   rtol=1e-12)


def test_scan_blelloch_carries_inf_like_the_loop():
    a = np.full((4, 2, 3), 1e300)
    b = np.ones((4, 2, 3))
    blelloch, loop = scan_blelloch(a, b), scan_sequential(a, b)
    assert not np.isnan(blelloch).any()
    np.testing.assert_array_equal(blelloch, loop)


@pytest.mark.parametrize("rescale", [rescale_to_spectral_radius, rescale_to_spectral_norm])
@pytest.mark.parametrize("scale", [1e-320, 1e300])
def test_rescale_reaches_the_target_from_extreme_matrices(rescale, scale):
    W = np.array([[0.5, 0.25], [0.125, 0.375]])
    measure = spectral_radius if rescale is rescale_to_spectral_radius else spectral_norm
    assert measure(rescale(W * scale, 0.9)) == pytest.approx(0.9, rel=1e-3)
    assert measure(rescale(W * scale, 0.0)) == 0.0


def test_entry_scale_of_empty_and_huge_matrices():
    with pytest.raises(ValueError, match="W has an empty axis"):
        entry_scale(np.zeros((0, 0)))
    W = np.array([[0.5, 0.25], [0.125, 0.375]])
    assert entry_scale(W * 2.0**1000) == entry_scale(W) * 2.0**1000


@pytest.mark.parametrize(("scale", "c"), [(1e300, 0.9), (1.0, 1e-320)])
def test_randomized_truncation_is_never_nan_from_finite_input(scale, c):
    params, x, y = _problem(T=5, scale=scale)
    result = randomized_truncation(params, x, y, continue_probability=c, draws=100,
                                   counts=(10, 100))
    for array in (result.single_errors, result.mean_errors, result.fixed_error):
        assert not np.isnan(array).any()


@pytest.mark.parametrize("scale", [1.0, 1e300])
def test_span_product_carries_inf(scale):
    J = np.stack([np.array([[2.0, 0.0], [0.0, -3.0]]) * scale] * 4)
    product = span_product(J, 4, 0)
    assert not np.isnan(product).any()
    assert product[0, 1] == 0.0 and product[1, 0] == 0.0
    if scale == 1.0:
        np.testing.assert_array_equal(product, np.diag([16.0, 81.0]))
    else:
        assert product[0, 0] == np.inf and product[1, 1] == np.inf


def test_ce_all_gives_a_lone_inf_logit_all_the_mass():
    o = np.array([[np.inf, 1.0, -np.inf]])
    assert ce_all(o, [0]) == 0.0 and ce_all(o, [1]) == np.inf
    np.testing.assert_array_equal(ce_all_grad(o, [1]), [[1.0, -1.0, 0.0]])
    assert np.isnan(ce_all(np.array([[np.inf, np.inf]]), [0]))  # undefined: ratio unknown


# --- bptt past an overflow: exact, signed inf, never NaN ------------------------------------------

def _exact_mse_grad_W(params: RNNParams, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dL/dW of the last-step loss in exact rational arithmetic, written out as float64."""
    from fractions import Fraction

    n, T = params.n_hidden, x.shape[0]
    q = np.vectorize(Fraction, otypes=[object])
    W, U, b, V, c = (q(params.W), q(params.U), q(params.b), q(params.V), q(params.c))
    relu = params.activation == "relu"
    h, zs = [np.array([Fraction(0)] * n, dtype=object)], []
    for t in range(T):
        z = U @ q(x[t]) + b + W @ h[-1]
        zs.append(z)
        h.append(np.array([max(v, Fraction(0)) for v in z], dtype=object) if relu else z)
    dO = V @ h[-1] + c - q(y)
    carry, grad = np.array([Fraction(0)] * n, dtype=object), np.zeros((n, n), dtype=object)
    for t in range(T - 1, -1, -1):
        slope = np.array([Fraction(int(v > 0)) if relu else Fraction(1) for v in zs[t]],
                         dtype=object)
        delta = ((dO @ V if t == T - 1 else 0) + carry) * slope
        grad = grad + np.outer(delta, h[t])
        carry = delta @ W

    def written(value):
        try:
            return float(value)
        except OverflowError:
            return np.inf if value > 0 else -np.inf

    return np.vectorize(written, otypes=[float])(grad)


@pytest.mark.parametrize(("activation", "seed"), [("identity", 0), ("identity", 1),
                                                  ("relu", 2), ("relu", 4)])
def test_bptt_past_a_forward_overflow_is_exact(activation, seed):
    rng = np.random.default_rng(seed)
    params = RNNParams(U=rng.normal(size=(2, 2)), W=rng.normal(size=(2, 2)) * 1e120,
                       b=rng.normal(size=2), V=rng.normal(size=(1, 2)), c=rng.normal(size=1),
                       activation=activation)
    x, y = rng.normal(size=(6, 2)), rng.normal(size=1)
    result = bptt(params, x, y)
    assert result.trajectory.overflow_step is not None
    exact = _exact_mse_grad_W(params, x, y)
    got = result.grads["W"]
    assert np.all(np.isinf(got) == np.isinf(exact)) and np.all(got[np.isinf(got)]
                                                                == exact[np.isinf(exact)])
    np.testing.assert_allclose(got[np.isfinite(got)], exact[np.isfinite(exact)], rtol=1e-12)


@pytest.mark.parametrize(("activation", "g", "seed"), [("relu", 8.0, 1), ("identity", 3.0, 0)])
@pytest.mark.parametrize("loss", ["mse_last", "ce_all"])
@pytest.mark.parametrize("truncate", [None, 20])
def test_bptt_of_an_exploding_network_is_never_nan(activation, g, seed, loss, truncate):
    params = RNNParams.random(2, 4, 3, activation=activation, g=g, seed=seed)
    x = np.random.default_rng(0).normal(size=(800, 2, 2))
    y = np.zeros((2, 3)) if loss == "mse_last" else np.zeros((800, 2), dtype=int)
    result = bptt(params, x, y, loss, truncate=truncate)
    assert result.overflow_step == result.trajectory.overflow_step is not None
    arrays = [result.value, result.delta, result.dh0, result.chain, result.W_terms,
              result.U_terms, result.b_terms, result.W_term_norms, result.U_term_norms,
              result.b_term_norms, *result.grads.values()]
    assert not any(np.isnan(a).any() for a in arrays)
    assert np.isinf(result.grads["W"]).any()
    parts = distance_decomposition(params, x, y, loss)
    assert not any(np.isnan(a).any() for a in (parts.W_norms, parts.U_terms, parts.b_norms))


@pytest.mark.parametrize("loss", ["mse_last", "ce_all"])
@pytest.mark.parametrize("truncate", [None, 3])
def test_bptt_scaled_path_agrees_with_the_plain_one(loss, truncate):
    params = RNNParams.random(2, 4, 3, activation="relu", g=0.9, seed=1)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(12, 3, 2))
    y = rng.normal(size=(3, 3)) if loss == "mse_last" else rng.integers(0, 3, size=(12, 3))
    plain = bptt(params, x, y, loss, truncate=truncate)
    value, delta, dh0, grads, terms, norms, _, _ = _scaled_backward(
        params, plain.trajectory, get_loss(loss), y, truncate)
    assert value == pytest.approx(plain.value, rel=1e-14)
    np.testing.assert_allclose(delta, plain.delta, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(dh0, plain.dh0, rtol=1e-13, atol=1e-300)
    for name in grads:
        np.testing.assert_allclose(grads[name], plain.grads[name], rtol=1e-12, atol=1e-15)
    for got, want in zip(terms + norms, (plain.W_terms, plain.U_terms, plain.b_terms,
                                         plain.W_term_norms, plain.U_term_norms,
                                         plain.b_term_norms), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_truncation_profile_and_shares_of_an_exploding_network_are_numbers():
    params, x, h0, y = scaled_rnn_problem(1e4, 60, "identity", n=8)
    profile = truncation_profile(params, x, y, 5, h0=h0)
    assert not np.isnan(profile.errors).any() and profile.errors[-1] == 0.0
    distances = term_norms_by_distance(3.0, 1000, "identity")
    assert distances.overflow_step is not None
    share = distances.far_share
    assert not np.isnan(share).any() and np.all(np.diff(share) <= 0) and share[-1] == 0.0
    assert not np.isnan(distances.far_norm_share).any()
