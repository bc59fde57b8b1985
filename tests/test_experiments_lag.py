"""The lag experiment: stored runs reproduce, the schema holds, the gradient shares equal torch."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from rnnbook.experiments.lag import (
    REFERENCE,
    STORE,
    LagExperimentConfig,
    LagRun,
    default_output,
    initial_params,
    lag_gradient_shares,
    load_runs,
    main,
    results_from_record,
    window_means,
)
from rnnbook.experiments.training import train
from rnnbook.rnn import forward
from rnnbook.tasks import copy_lag, make_batch

#: Relative tolerance of the reproduction check. On the machine and versions that wrote the file
#: the reference run reproduces bit for bit (torch float32 on one CPU thread is deterministic);
#: other CPUs may round a few float32 operations differently.
REPRODUCE_RTOL = 1e-5


@pytest.fixture(scope="module")
def stored():
    return load_runs()


@pytest.fixture(scope="module")
def record():
    return json.loads(default_output().read_text(encoding="utf-8"))


def test_the_reference_run_reproduces(stored):
    reference = stored.reference
    assert reference.config == stored.config.reference_config()
    assert (reference.config.lag, reference.config.seed, reference.config.steps) == (
        REFERENCE["lag"], REFERENCE["seed"], REFERENCE["steps"])
    again = train(reference.config)
    for name in ("loss", "grad_norm", "eval_loss"):
        np.testing.assert_allclose(getattr(again, name), getattr(reference, name),
                                   rtol=REPRODUCE_RTOL, atol=0, err_msg=name)
    np.testing.assert_array_equal(again.eval_steps, reference.eval_steps)


def test_the_reference_run_is_the_start_of_the_grid_run(stored):
    # Same weights, batches and optimizer: the grid run's first windows are the reference's.
    run = next(r for r in stored.runs_at(REFERENCE["lag"]) if r.seed == REFERENCE["seed"])
    windows = REFERENCE["steps"] // stored.config.curve_every
    np.testing.assert_allclose(run.train_loss[:windows],
                               window_means(stored.reference.loss, stored.config.curve_every),
                               rtol=1e-12)
    np.testing.assert_allclose(run.grad_norm[:windows],
                               window_means(stored.reference.grad_norm,
                                            stored.config.curve_every), rtol=1e-12)


def test_stored_record_schema(record, stored):
    assert record["command"].startswith("python -m rnnbook.lag_experiment")
    assert {"python", "numpy", "torch"} <= set(record["versions"])
    assert record["lags"] == stored.lags and record["seeds"] == stored.seeds
    assert len(stored.runs) == len(stored.lags) * len(stored.seeds) >= 9
    assert stored.baseline_mse == 1.0 and stored.success_mse == 0.01
    assert stored.elapsed_total > 0 and stored.cpu_total > 0
    for run in stored.runs:
        assert run.eval_steps[0] == 0 and run.eval_steps[-1] == stored.config.steps
        assert run.curve_steps[-1] == stored.config.steps
        assert run.success == (run.final_loss < stored.success_mse)
        assert np.all(np.isfinite(run.eval_loss))
    rows = [dataclasses.asdict(row) for row in stored.summary()]
    assert len(rows) == len(record["summary"])
    for row, saved in zip(rows, record["summary"], strict=True):
        assert row["lag"] == saved["lag"] and row["successes"] == saved["successes"]
        assert row["learned"] == saved["learned"] >= row["successes"]
        assert row["median_final"] == pytest.approx(saved["median_final"], abs=1e-5)


def test_loader_reads_the_package_data_file():
    assert default_output().name == STORE.file_name == "lag_runs.json"
    assert default_output().is_file()


@pytest.mark.parametrize("breakage", ["missing_key", "missing_run", "reference_config",
                                      "bad_curve", "bad_success"])
def test_a_broken_record_is_refused(record, breakage):
    broken = json.loads(json.dumps(record))
    if breakage == "missing_key":
        del broken["versions"]
    elif breakage == "missing_run":
        broken["runs"] = broken["runs"][1:]
    elif breakage == "reference_config":
        broken["reference"]["config"]["lr"] = 0.5
    elif breakage == "bad_curve":
        broken["runs"][0]["train_loss"] = broken["runs"][0]["train_loss"][:-1]
    else:
        broken["runs"][0]["success"] = "yes"
    with pytest.raises(ValueError):
        results_from_record(broken)


def test_main_writes_a_record_that_loads(tmp_path, capsys):
    output = tmp_path / "runs.json"
    assert main(["--lags", "1", "3", "--seeds", "4", "--steps", "25", "--output",
                 str(output)]) == 0
    record = json.loads(output.read_text())
    assert record["command"] == ("python -m rnnbook.experiments.lag --lags 1 3 --seeds 4 "
                                 f"--steps 25 --output {output}")
    results = results_from_record(record)
    assert results.lags == [1, 3] and results.seeds == [4]
    assert results.config.steps == 25
    assert [row.runs for row in results.summary()] == [1, 1]
    assert "lag   3 seed 4" in capsys.readouterr().out


def test_initial_params_are_where_training_starts():
    config = LagExperimentConfig(hidden=8)
    params = initial_params(config, seed=3)
    run = train(config.training_config(lag=4, seed=3).replace(steps=1, eval_batch=50))
    held_out = make_batch("copy_lag", config.T, 50, np.random.default_rng([0, 1]), lag=4)
    prediction = forward(params, held_out.x).o[-1, :, 0]
    np.testing.assert_allclose(np.mean((prediction - held_out.y) ** 2), run.eval_loss[0],
                               rtol=1e-5)


def torch_input_term_norms(params, x, y) -> np.ndarray:
    """||dL/dU_k|| for every step k, by autograd on the RNN with one copy of U per step."""
    T = x.shape[0]
    U = [torch.tensor(params.U, requires_grad=True) for _ in range(T)]
    W, b = torch.tensor(params.W), torch.tensor(params.b)
    h = torch.zeros(x.shape[1], params.n_hidden, dtype=torch.float64)
    for k in range(T):
        h = torch.tanh(torch.from_numpy(x[k]) @ U[k].T + h @ W.T + b)
    o = h @ torch.tensor(params.V).T + torch.tensor(params.c)
    loss = 0.5 * ((o[:, 0] - torch.from_numpy(y)) ** 2).sum()
    grads = torch.autograd.grad(loss, U)
    return np.array([float(torch.linalg.norm(g)) for g in grads])


@pytest.mark.parametrize("seed,hidden,T", [(0, 8, 12), (1, 16, 20)])
def test_gradient_shares_equal_torch(seed, hidden, T):
    config = LagExperimentConfig(T=T, hidden=hidden)
    lags = [1, 4, T - 1]
    signal = lag_gradient_shares(lags, config, seed=seed, batch=16)
    params = initial_params(config, seed)
    for i, lag in enumerate(lags):
        data = copy_lag(T, 16, lag, np.random.default_rng([seed, 2]))
        norms = torch_input_term_norms(params, data.x, data.y)[::-1]  # by distance
        assert signal.input_share[i] == pytest.approx(norms[lag] / norms.sum(), rel=1e-10)
        assert signal.far_share[i] == pytest.approx(norms[lag:].sum() / norms.sum(), rel=1e-10)
    assert np.all(signal.input_share <= signal.far_share + 1e-15)
    assert np.all((signal.far_share > 0) & (signal.far_share <= 1))


def test_window_means():
    np.testing.assert_array_equal(window_means([1, 3, 5, 7, 9, 11], 2), [2, 6, 10])
    with pytest.raises(ValueError, match="multiple of 4"):
        window_means(np.arange(6), 4)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="at most T - 1"):
        lag_gradient_shares([5], LagExperimentConfig(T=5))
    with pytest.raises(ValueError, match="distinct"):
        lag_gradient_shares([2, 2])
    with pytest.raises(TypeError):
        lag_gradient_shares([2.5])
    with pytest.raises(TypeError, match="list of integers"):
        lag_gradient_shares(3)
    with pytest.raises(ValueError, match="curve_every"):
        LagExperimentConfig(steps=110, curve_every=25)
    with pytest.raises(ValueError, match="lr"):
        LagExperimentConfig(lr=-1.0)
    with pytest.raises(TypeError, match="LagExperimentConfig"):
        initial_params({"T": 41}, 0)
    with pytest.raises(TypeError, match="TrainingRun"):
        LagRun.from_training("run", 25)


def test_failing_and_nothing_learned_lags(stored):
    finals = {2: 0.001, 5: 0.2, 10: 0.9}
    runs = tuple(dataclasses.replace(run, final_loss=finals.get(run.lag, 0.95),
                                     success=finals.get(run.lag, 0.95) < 0.01)
                 for run in stored.runs)
    results = dataclasses.replace(stored, runs=runs)
    assert results.failing_lag() == 5
    assert results.nothing_learned_lag() == 10
    rows = {row.lag: row for row in results.summary()}
    assert (rows[2].successes, rows[2].learned) == (3, 3)
    assert (rows[5].successes, rows[5].learned) == (0, 3)
    assert rows[10].median_final == 0.9
    everything = dataclasses.replace(stored, runs=tuple(
        dataclasses.replace(run, final_loss=0.001, success=True) for run in stored.runs))
    assert everything.failing_lag() is None and everything.nothing_learned_lag() is None
    with pytest.raises(ValueError, match="no stored run at lag 3"):
        stored.runs_at(3)


def test_text_table_and_setup(stored):
    lines = stored.summary_table().splitlines()
    assert len(lines) == 1 + len(stored.lags)
    for line, row in zip(lines[1:], stored.summary(), strict=True):
        fields = line.split()
        assert [int(v) for v in fields[:4]] == [row.lag, row.runs, row.successes, row.learned]
        assert float(fields[4]) == pytest.approx(row.median_final, rel=5e-3)
    setup = stored.setup_text()
    assert f"T = {stored.config.T}" in setup and f"{stored.config.steps} Adam steps" in setup
    assert stored.versions["torch"] in setup and "success below 0.01" in setup
