"""The long-lag experiment: stored results reproduce, the JSON schema, the table and the figures."""

import json
import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from rnnbook.experiments.longlag import (
    BASE_CONFIG,
    DEFAULT_LENGTHS,
    DEFAULT_SEEDS,
    REFERENCE_CONFIGS,
    LongLagResults,
    first_success_step,
    format_table,
    grid_configs,
    load_runs,
    main,
    reference_runs,
    results_from_record,
    results_table,
    run_experiment,
    run_from_record,
    run_to_record,
    runs_at,
)
from rnnbook.experiments.training import MODELS, TrainingConfig, TrainingRun, train
from rnnbook.plots.longlag import plot_learning_curves, plot_success

#: Tolerance of the reproduction test. On the machine and versions that wrote the file the runs
#: are bit-identical (float32, one CPU thread); another CPU may pick other SIMD kernels, whose
#: rounding differences grow slowly over 60 Adam steps.
RTOL, ATOL = 1e-4, 1e-6


@pytest.fixture(scope="module")
def results() -> LongLagResults:
    return load_runs()


@pytest.fixture(scope="module")
def tiny_record() -> dict:
    base = BASE_CONFIG.replace(hidden=4, steps=12, batch=8, eval_batch=50, eval_every=5)
    configs = grid_configs([3, 4], [0, 1], ["rnn", "gru"], base=base)
    reference = [REFERENCE_CONFIGS[0].replace(steps=6, eval_every=3)]
    return run_experiment(configs, workers=1, curve_every=5, command="test", reference=reference)


@pytest.mark.parametrize("index", range(len(REFERENCE_CONFIGS)))
def test_reference_runs_reproduce(results, index):
    stored = reference_runs(results)[index]
    assert stored.config == REFERENCE_CONFIGS[index]
    again = train(stored.config)
    for name in ("loss", "grad_norm", "clipped_norm", "eval_loss"):
        np.testing.assert_allclose(getattr(again, name), getattr(stored, name),
                                   rtol=RTOL, atol=ATOL, err_msg=name)
    assert again.success == stored.success


def test_stored_grid_schema(results):
    meta = results.meta
    assert meta["models"] == list(MODELS)
    assert len(meta["lengths"]) >= 3 and max(meta["lengths"]) >= 100
    assert len(meta["seeds"]) >= 3
    assert meta["command"].startswith("python -m rnnbook.longlag")
    assert set(meta["versions"]) == {"python", "numpy", "torch"}
    assert meta["base_config"]["clip"] is not None and meta["base_config"]["clip"] > 0
    assert meta["wall_seconds"] > 0
    assert len(results.runs) == len(meta["models"]) * len(meta["lengths"]) * len(meta["seeds"])
    keys = {(r.config.model, r.config.T, r.config.seed) for r in results.runs}
    assert len(keys) == len(results.runs)  # no duplicates: the full grid
    for run in results.runs:
        config = dict(vars(run.config))
        assert {k: config.pop(k) for k in ("model", "T", "seed")}  # the rest is shared
        assert config == meta["base_config"]
        assert run.eval_steps[0] == 0 and run.eval_steps[-1] == run.config.steps
        assert run.loss.shape == (run.config.steps,)
        assert run.torch_version == meta["versions"]["torch"]


def test_results_table_on_the_stored_file(results):
    rows = results_table(results)
    meta = results.meta
    assert len(rows) == len(meta["models"]) * len(meta["lengths"])
    assert [(r["T"], r["model"]) for r in rows] == [
        (T, m) for T in meta["lengths"] for m in meta["models"]]
    for row in rows:
        runs = runs_at(results, row["model"], row["T"])
        finals = [r.final_loss for r in runs]
        assert row["runs"] == len(meta["seeds"])
        assert row["successes"] == sum(f < 0.01 for f in finals)
        assert row["success_rate"] == row["successes"] / row["runs"]
        assert row["median_final_mse"] == pytest.approx(np.median(finals))
        assert row["median_seconds"] > 0
    text = format_table(rows)
    lines = text.splitlines()
    assert len(lines) == len(rows) + 2
    assert len({len(line) for line in lines}) == 1  # fixed width
    assert "LSTM" in text and "GRU" in text and "RNN" in text


def test_first_success_step():
    config = TrainingConfig(model="gru", T=3, hidden=2, steps=30, eval_every=10, eval_batch=10)
    curve = np.zeros(30)

    def run(eval_loss):
        return TrainingRun(config=config, loss=curve, grad_norm=curve, clipped_norm=curve,
                           eval_steps=np.array([0, 10, 20, 30]), eval_loss=np.array(eval_loss),
                           elapsed=1.0, torch_version="t", numpy_version="n")

    assert first_success_step(run([0.2, 0.05, 0.009, 0.02])) == 20
    assert first_success_step(run([0.2, 0.01, 0.0101, np.nan])) is None  # strictly below 0.01
    assert first_success_step(run([0.001, 0.2, 0.2, 0.2])) == 0
    with pytest.raises(TypeError, match="TrainingRun"):
        first_success_step({"eval_loss": [0.0]})


def test_format_table_rounds_stably():
    row = {"model": "lstm", "T": 100, "runs": 3, "successes": 2, "success_rate": 2 / 3,
           "median_final_mse": 0.000123456, "median_seconds": 41.6}
    last = format_table([row]).splitlines()[-1].split()
    assert last == ["LSTM", "100", "3", "2", "0.67", "1.23e-04", "42"]
    with pytest.raises(ValueError, match="keys"):
        format_table([{"model": "lstm"}])
    with pytest.raises(TypeError, match="sequence of dicts"):
        format_table(row)


def test_record_round_trip_and_pipeline(tiny_record):
    record = json.loads(json.dumps(tiny_record, allow_nan=False))
    results = results_from_record(record)
    assert len(results.runs) == 8
    assert results.meta["lengths"] == [3, 4] and results.meta["seeds"] == [0, 1]
    assert results.meta["models"] == ["rnn", "gru"]
    # Runs are stored in grid order and equal fresh runs of their configs (held-out curve exact).
    first = results.runs[0]
    assert (first.config.model, first.config.T, first.config.seed) == ("rnn", 3, 0)
    fresh = train(first.config)
    np.testing.assert_array_equal(first.eval_loss.astype(np.float32),
                                  fresh.eval_loss.astype(np.float32))
    # Training curves in blocks of 5: block means, held piecewise constant over 12 steps.
    blocks = [fresh.loss[i:i + 5].mean() for i in (0, 5, 10)]
    np.testing.assert_allclose(first.loss, np.repeat(blocks, 5)[:12], rtol=1e-6)
    np.testing.assert_allclose(first.grad_norm[:5], fresh.grad_norm[:5].max(), rtol=1e-6)
    assert [r["T"] for r in results_table(results)] == [3, 3, 4, 4]


def test_pool_path_keeps_the_grid_order(tiny_record, monkeypatch):
    # The pool path sorts runs longest first and must hand them back in grid order. A one-thread
    # pool stands in for the spawned processes (spawning two torch processes takes longer than
    # this whole file should); `python -m rnnbook.experiments.longlag` used the real one.
    import multiprocessing.dummy

    import rnnbook.experiments.longlag as longlag

    monkeypatch.setattr(longlag, "_pool", lambda workers: multiprocessing.dummy.Pool(1))
    records = [r for r in tiny_record["runs"] if r["config"]["seed"] == 0]
    configs = [TrainingConfig(**r["config"]) for r in records]
    assert [c.model for c in configs] == ["rnn", "rnn", "gru", "gru"]
    runs = longlag.run_configs(configs, workers=2)
    assert [r.config for r in runs] == configs
    for run, record in zip(runs, records, strict=True):
        assert run_to_record(run, 5)["eval_loss"] == record["eval_loss"]


def test_diverged_run_survives_the_record():
    config = TrainingConfig(model="rnn", T=3, hidden=2, steps=7, eval_every=3, eval_batch=10)
    loss = np.array([1.0, 2.0, 3.0, np.inf, np.nan, np.nan, np.nan])
    run = TrainingRun(config=config, loss=loss, grad_norm=loss, clipped_norm=loss,
                      eval_steps=np.array([0, 3, 6, 7]),
                      eval_loss=np.array([0.5, 0.4, np.nan, np.nan]), elapsed=0.1,
                      torch_version="t", numpy_version="n")
    record = json.loads(json.dumps(run_to_record(run, curve_every=3), allow_nan=False))
    assert record["loss_mean"] == [2.0, "nan", "nan"]
    assert record["diverged"] is True and record["success"] is False
    back = run_from_record(record)
    assert back.diverged and not back.success and math.isnan(back.final_loss)
    assert back.loss[:3].tolist() == [2.0, 2.0, 2.0]


def test_figures(results):
    for T in (min(results.meta["lengths"]), max(results.meta["lengths"])):
        fig = plot_learning_curves(results, T)
        assert isinstance(fig, Figure) and len(fig.axes) == len(results.meta["models"])
        assert fig.axes[0].get_yscale() == "log"
        assert any(len(line.get_xdata()) > 2 for line in fig.axes[0].get_lines())
    fig = plot_success(results)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    rates = fig.axes[0].get_lines()[0].get_ydata()
    assert len(rates) == len(results.meta["lengths"]) and all(0 <= r <= 1 for r in rates)


def test_figures_of_a_diverged_grid(tiny_record):
    record = json.loads(json.dumps(tiny_record))
    record["runs"][0]["eval_loss"][-2:] = ["nan", "nan"]
    fig = plot_learning_curves(results_from_record(record), 3)
    assert isinstance(fig, Figure)


def test_defaults_describe_the_full_grid():
    assert len(DEFAULT_LENGTHS) >= 3 and max(DEFAULT_LENGTHS) >= 100
    assert len(DEFAULT_SEEDS) >= 3
    assert BASE_CONFIG.clip is not None
    configs = grid_configs()
    assert len(configs) == len(MODELS) * len(DEFAULT_LENGTHS) * len(DEFAULT_SEEDS)
    assert {c.steps for c in configs} == {BASE_CONFIG.steps}  # one budget for every model


def test_main_quick_writes_a_readable_file(tmp_path, capsys, monkeypatch):
    import rnnbook.experiments.longlag as longlag

    # Shrink the quick grid further so the test stays short; the code path is main's own.
    monkeypatch.setattr(longlag, "QUICK_LENGTHS", (3,))
    monkeypatch.setattr(longlag, "QUICK_SEEDS", (0,))
    monkeypatch.setattr(longlag, "QUICK_STEPS", 4)
    monkeypatch.setattr(longlag, "REFERENCE_CONFIGS", ())
    out = tmp_path / "quick.json"
    assert main(["--quick", "--workers", "1", "--output", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["command"] == (f"python -m rnnbook.experiments.longlag --quick --workers 1 "
                                 f"--output {out}")
    assert len(record["runs"]) == 3 and record["base_config"]["steps"] == 4
    assert "median final MSE" in capsys.readouterr().out


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: grid_configs([], [0]), ValueError, "lengths must be a non-empty"),
        (lambda: grid_configs([10, 10], [0]), ValueError, "lengths must be distinct"),
        (lambda: grid_configs([1], [0]), ValueError, "T must be >= 2"),
        (lambda: grid_configs([10], [-1]), ValueError, "seed must be >= 0"),
        (lambda: grid_configs([10], [0], ["lstm", "tcn"]), ValueError, "unknown model"),
        (lambda: grid_configs([10], [0], base={"steps": 3}), TypeError, "TrainingConfig"),
        (lambda: grid_configs([10.5], [0]), TypeError, "T must be an integer"),
        (lambda: run_experiment([], workers=1), TypeError, "non-empty sequence"),
        (lambda: run_experiment([BASE_CONFIG], workers=0), ValueError, "workers must be >= 1"),
        (lambda: run_to_record("run"), TypeError, "TrainingRun"),
        (lambda: run_from_record({"config": {}}), ValueError, "missing"),
        (lambda: results_from_record({"runs": []}), ValueError, "not a valid long-lag record"),
        (lambda: results_from_record([]), TypeError, "dict"),
        (lambda: results_table({}), TypeError, "LongLagResults"),
        (lambda: plot_success(None), TypeError, "LongLagResults"),
    ],
)
def test_bad_input_raises(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_bad_records_raise(tiny_record, results):
    record = json.loads(json.dumps(tiny_record))
    record["runs"][0]["loss_mean"] = record["runs"][0]["loss_mean"][:-1]
    with pytest.raises(ValueError, match="blocks"):
        results_from_record(record)
    record = json.loads(json.dumps(tiny_record))
    record["runs"][0]["eval_loss"].append(0.1)
    with pytest.raises(ValueError, match="eval_loss has shape"):
        results_from_record(record)
    record = json.loads(json.dumps(tiny_record))
    record["runs"][0]["loss_mean"][0] = "oops"
    with pytest.raises(ValueError, match="strings 'nan'"):
        results_from_record(record)
    with pytest.raises(ValueError, match="no runs at T = 7"):
        plot_learning_curves(results, 7)
