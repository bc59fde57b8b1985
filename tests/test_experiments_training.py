"""The torch training harness: learning, reproducibility, clipping, JSON caching, bad configs."""

import json

import numpy as np
import pytest
import torch

from rnnbook.experiments.training import (
    SequenceModel,
    StepTiming,
    TrainingConfig,
    TrainingRun,
    evaluate,
    make_model,
    measure_step_time,
    train,
)
from rnnbook.tasks import adding_problem

EASY = TrainingConfig(model="lstm", task="adding", T=5, hidden=16, steps=150, batch=32,
                      lr=0.01, eval_every=50, eval_batch=500)


@pytest.fixture(scope="module")
def easy_run() -> TrainingRun:
    return train(EASY)


def test_tiny_run_learns_an_easy_task(easy_run):
    run = easy_run
    assert run.loss.shape == run.grad_norm.shape == run.clipped_norm.shape == (150,)
    assert run.eval_steps.tolist() == [0, 50, 100, 150]
    assert run.final_loss < 0.6 * run.baseline  # clearly better than predicting 1
    assert run.final_loss < run.eval_loss[0]
    assert np.mean(run.loss[-30:]) < np.mean(run.loss[:30])
    assert not run.diverged
    assert run.elapsed > 0
    np.testing.assert_array_equal(run.clipped_norm, run.grad_norm)  # no clipping


def test_gru_learns_to_copy_the_last_input():
    run = train(TrainingConfig(model="gru", task="copy_lag", T=4, lag=0, hidden=8, steps=150,
                               lr=0.02, eval_every=150, eval_batch=500))
    assert run.final_loss < 0.1 * run.baseline


def test_seeded_runs_are_bit_reproducible(easy_run):
    again = train(EASY)
    for name in ("loss", "grad_norm", "clipped_norm", "eval_loss"):
        np.testing.assert_array_equal(getattr(again, name), getattr(easy_run, name))
    other = train(EASY.replace(seed=1, steps=20))
    assert not np.array_equal(other.loss, easy_run.loss[:20])


def test_training_leaves_the_global_torch_generator_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train(EASY.replace(steps=2, eval_every=1))
    np.testing.assert_array_equal(torch.rand(3).numpy(), expected.numpy())


def test_held_out_batch_is_the_same_for_every_model_and_seed():
    loss = [train(TrainingConfig(model=m, T=6, hidden=4, steps=1, seed=s, eval_batch=50))
            .eval_loss[0] for m, s in (("rnn", 0), ("rnn", 0))]
    assert loss[0] == loss[1]
    torch.manual_seed(0)
    model = make_model("rnn", 2, 4)
    held_out = adding_problem(6, 50, np.random.default_rng([0, 1]))
    assert evaluate(model, held_out) == pytest.approx(loss[0], rel=1e-6)


def test_clipping_caps_the_recorded_post_clip_norm():
    run = train(TrainingConfig(model="rnn", T=10, hidden=16, steps=40, lr=0.05, clip=0.05,
                               eval_every=40))
    assert np.all(run.clipped_norm <= 0.05 * (1 + 1e-5))
    assert np.mean(run.grad_norm > 0.05) > 0.5  # clipping was active
    active = run.grad_norm > 0.05
    np.testing.assert_allclose(run.clipped_norm[active], 0.05, rtol=1e-4)
    np.testing.assert_allclose(run.clipped_norm[~active], run.grad_norm[~active], rtol=1e-5)


def test_divergence_is_recorded_and_survives_json():
    run = train(TrainingConfig(model="rnn", T=20, hidden=32, steps=50, optimizer="sgd",
                               lr=1e6, eval_every=10))
    assert run.diverged and not run.success
    assert np.isnan(run.final_loss)
    text = json.dumps(run.to_dict(), allow_nan=False)
    back = TrainingRun.from_dict(json.loads(text))
    np.testing.assert_array_equal(back.loss, run.loss)
    assert back.diverged


def test_json_round_trip(easy_run):
    back = TrainingRun.from_dict(json.loads(json.dumps(easy_run.to_dict())))
    assert back.config == easy_run.config
    for name in ("loss", "grad_norm", "clipped_norm", "eval_steps", "eval_loss"):
        np.testing.assert_array_equal(getattr(back, name), getattr(easy_run, name))
    assert back.elapsed == easy_run.elapsed
    assert back.torch_version == torch.__version__
    assert back.success == easy_run.success


def test_success_criterion():
    run = train(TrainingConfig(model="lstm", T=4, hidden=4, steps=1, eval_batch=100))
    assert not run.success  # one step cannot reach MSE 0.01
    data = run.to_dict()
    data["eval_loss"] = [0.5, 0.009]
    assert TrainingRun.from_dict(data).success
    data["eval_loss"] = [0.5, 0.011]
    assert not TrainingRun.from_dict(data).success


def test_models_and_forget_bias():
    for kind, layer in (("rnn", torch.nn.RNN), ("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)):
        model = make_model(kind, 2, 8)
        assert isinstance(model, SequenceModel) and isinstance(model.recurrent, layer)
        assert model.recurrent.weight_hh_l0.dtype == torch.float32
        assert model(torch.zeros(7, 5, 2)).shape == (5,)
    assert make_model("rnn", 2, 8).recurrent.nonlinearity == "tanh"
    lstm = make_model("lstm", 2, 8, forget_bias=1.0).recurrent
    assert torch.all(lstm.bias_ih_l0[8:16] == 1.0) and torch.all(lstm.bias_hh_l0[8:16] == 0.0)
    assert not torch.all(lstm.bias_ih_l0[:8] == 1.0)
    run = train(EASY.replace(steps=1, forget_bias=2.0, eval_batch=10))
    assert run.config.forget_bias == 2.0


def test_measure_step_time_restores_torch_settings():
    threads, mkldnn = torch.get_num_threads(), torch.backends.mkldnn.enabled
    for fused in (True, False):
        timing = measure_step_time("gru", 8, T=5, batch=4, repeats=3, warmup=1, fused=fused)
        assert isinstance(timing, StepTiming)
        assert timing.seconds.shape == timing.cpu_seconds.shape == (3,)
        assert np.all(timing.seconds > 0) and np.all(timing.cpu_seconds > 0)
        assert timing.median == np.median(timing.seconds) and timing.fused is fused
        assert timing.cpu_median == np.median(timing.cpu_seconds)
    assert torch.get_num_threads() == threads and torch.backends.mkldnn.enabled == mkldnn


@pytest.mark.parametrize(
    "changes, error, message",
    [
        ({"model": "transformer"}, ValueError, "unknown model"),
        ({"optimizer": "rmsprop"}, ValueError, "unknown optimizer"),
        ({"task": "parity"}, ValueError, "unknown task"),
        ({"T": 1}, ValueError, "T must be >= 2"),
        ({"steps": 0}, ValueError, "steps must be >= 1"),
        ({"hidden": 2.5}, TypeError, "hidden must be an integer"),
        ({"lr": 0.0}, ValueError, "lr must be > 0"),
        ({"lr": float("nan")}, ValueError, "lr must be finite"),
        ({"clip": -1.0}, ValueError, "clip must be > 0"),
        ({"lag": 2}, ValueError, "copy_lag task only"),
        ({"task": "copy_lag", "T": 5, "lag": 5}, ValueError, "at most T - 1 = 4"),
        ({"model": "gru", "forget_bias": 1.0}, ValueError, "lstm model only"),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
    ],
)
def test_bad_configs_raise(changes, error, message):
    with pytest.raises(error, match=message):
        EASY.replace(**changes)


def test_bad_calls_raise(easy_run):
    with pytest.raises(TypeError, match="TrainingConfig"):
        train({"model": "lstm"})
    data = easy_run.to_dict()
    with pytest.raises(ValueError, match="missing"):
        TrainingRun.from_dict({k: v for k, v in data.items() if k != "loss"})
    with pytest.raises(ValueError, match="steps = 150"):
        TrainingRun.from_dict({**data, "loss": data["loss"][:-1]})
    with pytest.raises(ValueError, match="forget_bias"):
        make_model("rnn", 2, 4, forget_bias=1.0)
    with pytest.raises(TypeError, match="Batch"):
        evaluate(make_model("rnn", 2, 4), (np.ones((3, 1, 2)), np.ones(1)))
    with pytest.raises(ValueError, match="unknown model"):
        measure_step_time("cnn", 8)
    with pytest.raises(TypeError, match="fused"):
        measure_step_time("gru", 8, fused=1)
