"""Chapter 8's stored experiment: schema, the reduced re-run, the torch scan and the models."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from rnnbook.experiments.after_gates import (
    BASE_CONFIG,
    MODELS,
    REFERENCE_CONFIGS,
    AdderModel,
    AfterGatesResults,
    RunConfig,
    compress_losses,
    format_table,
    grid_configs,
    load_runs,
    main,
    make_model,
    results_from_record,
    run_experiment,
    scan_torch,
    summary_table,
    train_run,
)
from rnnbook.linear_recurrence import scan_sequential
from rnnbook.plots.after_gates import plot_experiment

#: On the machine and versions that wrote the file the reference runs are bit-identical (float32,
#: one thread); another CPU may pick other SIMD kernels, whose rounding grows over 30 Adam steps.
RTOL, ATOL = 1e-4, 1e-6


@pytest.fixture(scope="module")
def results() -> AfterGatesResults:
    return load_runs()


@pytest.fixture(scope="module")
def record(results) -> dict:
    return {**results.meta, "runs": list(results.runs)}


def test_stored_grid_schema(record):
    assert record["models"] == list(MODELS)
    assert record["lengths"] == [100, 200]
    assert len(record["seeds"]) >= 3
    assert record["command"].startswith("python -m rnnbook.experiments.after_gates")
    assert set(record["versions"]) == {"python", "numpy", "torch"}
    assert len(record["runs"]) == len(MODELS) * 2 * len(record["seeds"])
    keys = {(r["config"]["model"], r["config"]["T"], r["config"]["seed"]) for r in record["runs"]}
    assert len(keys) == len(record["runs"])
    for run in record["runs"]:
        config = dict(run["config"])
        for name in ("model", "T", "seed"):
            config.pop(name)
        assert config == record["base_config"]
        assert run["success"] == (run["steps_to_success"] is not None)
        assert run["loss_every"] == 25 and run["steps_done"] <= run["config"]["steps"]
        assert len(run["loss"]) == -(-run["steps_done"] // 25)
        if run["success"]:
            assert run["eval_loss"][-1] < 0.01 and run["eval_steps"][-1] == run["steps_done"]
    # the regeneration budget the chapter states: about ten minutes of one core
    assert record["cpu_seconds"] < 900


@pytest.mark.parametrize("index", range(len(REFERENCE_CONFIGS)))
def test_reference_runs_reproduce(record, index):
    stored = record["reference"][index]
    assert stored["loss_every"] == 1
    config = RunConfig(**stored["config"])
    assert config == REFERENCE_CONFIGS[index]
    again = train_run(config)
    np.testing.assert_allclose(again["loss"], stored["loss"], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(again["eval_loss"], stored["eval_loss"], rtol=RTOL, atol=ATOL)
    assert again["parameters"] == stored["parameters"]


def test_summary_table(results, record):
    rows = summary_table(results)
    assert [(r["T"], r["model"]) for r in rows] == [(T, m) for T in (100, 200) for m in MODELS]
    for row in rows:
        runs = [r for r in record["runs"]
                if (r["config"]["model"], r["config"]["T"]) == (row["model"], row["T"])]
        assert row["successes"] == sum(r["success"] for r in runs)
        assert row["ms_per_step"] > 0
    lines = format_table(rows).splitlines()
    assert len(lines) == len(rows) + 2 and len({len(line) for line in lines}) == 1
    assert isinstance(plot_experiment(rows), Figure)


@pytest.mark.parametrize("T", [1, 2, 7, 16, 33])
def test_torch_scan_equals_the_loop(T):
    generator = torch.Generator().manual_seed(T)
    a = torch.rand(T, 3, 4, dtype=torch.float64, generator=generator, requires_grad=True)
    b = torch.randn(T, 3, 4, dtype=torch.float64, generator=generator, requires_grad=True)
    h = scan_torch(a, b)
    np.testing.assert_allclose(h.detach().numpy(),
                               scan_sequential(a.detach().numpy(), b.detach().numpy()),
                               rtol=1e-12, atol=1e-13)
    weights = torch.randn(T, 3, 4, dtype=torch.float64, generator=generator)
    (h * weights).sum().backward()
    grads = (torch.zeros_like(a) if a.grad is None else a.grad.clone(), b.grad.clone())
    a.grad = b.grad = None
    state, loop = torch.zeros(3, 4, dtype=torch.float64), []
    for t in range(T):
        state = a[t] * state + b[t]
        loop.append(state)
    (torch.stack(loop) * weights).sum().backward()
    np.testing.assert_allclose(grads[0], a.grad, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(grads[1], b.grad, rtol=1e-12, atol=1e-13)


def test_models_shapes_and_lru_ring():
    x = torch.randn(20, 5, 2)
    for model in MODELS:
        net = make_model(BASE_CONFIG.replace(model=model, hidden=6))
        assert isinstance(net, AdderModel) and net(x).shape == (5,)
    lru = make_model(BASE_CONFIG.replace(model="lru", hidden=200)).layer
    modulus = lru.eigenvalues().abs().detach()
    assert modulus.min() >= 0.9 - 1e-6 and modulus.max() <= 0.999 + 1e-6
    # attention without positions: the last output ignores the order of the earlier steps
    net = make_model(BASE_CONFIG.replace(model="attention", hidden=6))
    order = torch.cat([torch.randperm(19), torch.tensor([19])])
    torch.testing.assert_close(net(x[order]), net(x), rtol=1e-5, atol=1e-6)


def test_pipeline_and_main(tmp_path, capsys, monkeypatch):
    import rnnbook.experiments.after_gates as module

    base = BASE_CONFIG.replace(hidden=4, steps=4, batch=4, eval_batch=20, eval_every=2)
    record = run_experiment(grid_configs([3, 4], [0], ["rnn", "lru"], base=base),
                            reference=[])
    record = json.loads(module.dump_record(record))
    assert len(record["runs"]) == 4 and record["lengths"] == [3, 4]
    assert [r["T"] for r in summary_table(results_from_record(record))] == [3, 3, 4, 4]
    # stored losses are block means of the per-step losses of a fresh run
    fresh = train_run(RunConfig(**record["runs"][0]["config"]))
    blocks = compress_losses(fresh, 3)
    assert blocks["loss"][0] == pytest.approx(np.mean(fresh["loss"][:3]), rel=1e-6)
    assert len(blocks["loss"]) == 2 and blocks["loss_every"] == 3
    monkeypatch.setattr(module, "REFERENCE_CONFIGS", ())
    monkeypatch.setattr(module, "BASE_CONFIG", base)
    out = tmp_path / "runs.json"
    assert main(["--lengths", "3", "--seeds", "0", "--models", "mingru", "--output",
                 str(out)]) == 0
    stored = json.loads(out.read_text())
    assert stored["command"].endswith(f"--models mingru --output {out}")
    assert len(stored["runs"]) == 1 and "minGRU" in capsys.readouterr().out
    assert stored["reference"] == []


def test_main_quick_never_writes_the_book_file(tmp_path, capsys, monkeypatch):
    import rnnbook.experiments.after_gates as module

    monkeypatch.setattr(module, "REFERENCE_CONFIGS", ())
    monkeypatch.setattr(module, "BASE_CONFIG",
                        BASE_CONFIG.replace(hidden=4, batch=4, eval_batch=20, eval_every=2))
    monkeypatch.setattr(module, "QUICK_LENGTHS", (3,))
    monkeypatch.setattr(module, "QUICK_STEPS", 4)
    monkeypatch.chdir(tmp_path)
    stored_text = module.default_output().read_text(encoding="utf-8")
    assert main(["--quick", "--models", "gru"]) == 0
    quick = json.loads((tmp_path / "after_gates_runs_quick.json").read_text())
    assert quick["command"] == "python -m rnnbook.experiments.after_gates --quick --models gru"
    assert len(quick["runs"]) == 1 and quick["base_config"]["steps"] == 4
    assert "GRU" in capsys.readouterr().out
    assert module.default_output().read_text(encoding="utf-8") == stored_text


@pytest.mark.parametrize("argv, message", [
    (["--steps", "0"], "steps must be >= 1"),
    (["--lengths", "1"], "T must be >= 2"),
    (["--seeds", "-1"], "seed must be >= 0"),
    (["--models", "tcn"], "unknown model"),
    (["--lengths", "10", "10"], "distinct"),
])
def test_main_refuses_bad_arguments_before_training(argv, message, monkeypatch, tmp_path):
    import rnnbook.experiments.after_gates as module

    def no_training(*args, **kwargs):
        raise AssertionError("trained before checking the arguments")

    monkeypatch.setattr(module, "train_run", no_training)
    out = tmp_path / "runs.json"
    with pytest.raises(ValueError, match=message):
        main([*argv, "--output", str(out)])
    assert not out.exists()


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: RunConfig(model="tcn"), ValueError, "unknown model"),
        (lambda: RunConfig(T=1), ValueError, "T must be >= 2"),
        (lambda: RunConfig(r_min=0.99, r_max=0.9), ValueError, "r_min <= r_max"),
        (lambda: RunConfig(r_max=1.0), ValueError, "r_max < 1"),
        (lambda: RunConfig(lr=0.0), ValueError, "lr must be > 0"),
        (lambda: grid_configs([], [0]), ValueError, "lengths must be a non-empty"),
        (lambda: grid_configs([10, 10], [0]), ValueError, "distinct"),
        (lambda: grid_configs([10], [0], base={}), TypeError, "RunConfig"),
        (lambda: train_run({"model": "rnn"}), TypeError, "RunConfig"),
        (lambda: run_experiment([]), TypeError, "non-empty"),
        (lambda: scan_torch(torch.ones(1), torch.ones(0)), ValueError, "T >= 1"),
        (lambda: summary_table({"runs": []}), TypeError, "AfterGatesResults"),
        (lambda: results_from_record([]), TypeError, "dict"),
        (lambda: results_from_record({"runs": []}), ValueError, "not a valid after-gates record"),
        (lambda: format_table({}), TypeError, "sequence of dicts"),
        (lambda: plot_experiment([]), TypeError, "non-empty"),
    ],
)
def test_bad_input_raises(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_torch_layers_equal_the_numpy_implementations():
    from rnnbook.attention import AttentionParams, attention_forward
    from rnnbook.experiments.after_gates import AttentionLayer, LRULayer, MinGRULayer
    from rnnbook.linear_recurrence import MinGRUParams, linear_recurrence, mingru_forward

    torch.manual_seed(0)
    e = torch.randn(9, 3, 5, dtype=torch.float64)
    # LRU: h_t = lambda h_{t-1} + gamma * (B e_t), B = b_re + i b_im
    lru = LRULayer(5, 0.5, 0.99, 1.0).double()
    with torch.no_grad():
        lam = lru.eigenvalues().numpy()
        b = lru.b_re.numpy() + 1j * lru.b_im.numpy()
        gamma = np.exp(lru.gamma_log.numpy())
        np.testing.assert_allclose(lru(e).numpy(),
                                   linear_recurrence(lam, gamma * (e.numpy() @ b.T)),
                                   rtol=1e-12, atol=1e-13)
        assert np.all(np.abs(lam) <= 0.99 + 1e-12) and np.all(np.abs(lam) >= 0.5 - 1e-12)
    # minGRU
    layer = MinGRULayer(5).double()
    params = MinGRUParams(layer.gate.weight.detach().numpy().T, layer.gate.bias.detach().numpy(),
                          layer.candidate.weight.detach().numpy().T,
                          layer.candidate.bias.detach().numpy())
    with torch.no_grad():
        np.testing.assert_allclose(layer(e).numpy(), mingru_forward(params, e.numpy()).h,
                                   rtol=1e-12, atol=1e-13)
    # attention (biases zeroed: the numpy head has none)
    head = AttentionLayer(5).double()
    with torch.no_grad():
        head.qkv.bias.zero_()
        wq, wk, wv = (w.numpy().T for w in head.qkv.weight.chunk(3, dim=0))
        y, _ = attention_forward(AttentionParams(wq, wk, wv), e.numpy().transpose(1, 0, 2))
        np.testing.assert_allclose(head(e).numpy(), y.transpose(1, 0, 2), rtol=1e-12,
                                   atol=1e-13)


def test_main_never_replaces_the_book_file_without_overwrite(monkeypatch, capsys):
    import rnnbook.experiments.after_gates as module

    def no_training(*args, **kwargs):
        raise AssertionError("trained before checking where to write")

    monkeypatch.setattr(module, "train_run", no_training)
    with pytest.raises(SystemExit) as exit_info:
        main(["--models", "gru"])
    assert exit_info.value.code == 2
    assert "pass --overwrite" in capsys.readouterr().err
