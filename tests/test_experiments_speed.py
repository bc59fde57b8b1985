"""The speed benchmark: FLOP counts against torch's counter, the record's schema, a tiny run."""

import copy
import json

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from rnnbook.experiments.speed import (
    BenchmarkConfig,
    FlopCount,
    SpeedResults,
    dump_record,
    format_speed_table,
    load_runs,
    main,
    recurrent_flops,
    results_from_record,
    run_experiment,
    speed_table,
    validate_record,
)

LAYERS = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
TINY = BenchmarkConfig(hiddens=(3, 5), T=4, batch=2, rounds=2, steps_per_round=1, warmup=0)


def torch_flops(model, d, n, T, B):
    """Forward and backward FLOPs that torch's counter sees for one step-by-step layer."""
    previous = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False
    try:
        layer = LAYERS[model](d, n)
        x = torch.randn(T, B, d)
        with FlopCounterMode(display=False) as counter:
            states, _ = layer(x)
            forward = counter.get_total_flops()
            states[-1].sum().backward()
            total = counter.get_total_flops()
    finally:
        torch.backends.mkldnn.enabled = previous
    return forward, total - forward


@pytest.mark.parametrize("model", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("d, n, T, B", [(1, 1, 1, 1), (3, 8, 5, 2), (2, 16, 12, 3), (7, 5, 9, 4)])
def test_flops_equal_torch_counter(model, d, n, T, B):
    count = recurrent_flops(model, d, n, T=T, batch=B)
    assert (count.forward, count.backward) == torch_flops(model, d, n, T, B)


@pytest.mark.parametrize("d, n", [(1, 1), (2, 32), (10, 256)])
def test_gru_needs_three_quarters_of_the_lstm_arithmetic(d, n):
    gru, lstm = (recurrent_flops(m, d, n, T=100, batch=32) for m in ("gru", "lstm"))
    assert (gru.blocks, lstm.blocks) == (3, 4)
    assert 4 * gru.total == 3 * lstm.total
    assert 4 * gru.forward == 3 * lstm.forward
    assert gru.total == gru.forward + gru.backward


def test_flop_count_by_hand():
    # LSTM, d = 2, n = 32, T = 100, B = 32: 2*4*32*(2+32)*3200 forward.
    count = recurrent_flops("lstm", 2, 32, T=100, batch=32)
    assert isinstance(count, FlopCount)
    assert count.forward == 27_852_800
    assert count.backward == 2 * 4 * 32 * 2 * 3200 + 2 * 4 * 32 * 32 * (3200 + 99 * 32)


@pytest.fixture(scope="module")
def tiny_record():
    return run_experiment(TINY, command="python -m rnnbook.experiments.speed --tiny")


def test_tiny_benchmark_writes_a_valid_record(tiny_record):
    assert validate_record(tiny_record) == TINY
    assert len(tiny_record["timings"]) == len(TINY.combinations()) == 8
    assert tiny_record["versions"]["torch"] == torch.__version__
    assert len(tiny_record["load_average"]["before"]) == 3
    again = json.loads(dump_record(tiny_record))
    assert again == tiny_record


def test_table_ratios_follow_the_medians(tiny_record):
    results = results_from_record(tiny_record)
    rows = speed_table(results)
    assert [(r["fused"], r["hidden"]) for r in rows] == [(True, 3), (True, 5), (False, 3),
                                                         (False, 5)]
    for row in rows:
        lstm = results.timing("lstm", row["hidden"], row["fused"])
        gru = results.timing("gru", row["hidden"], row["fused"])
        assert row["ratio"] == pytest.approx(gru.median / lstm.median)
        assert row["gru_ms"] == pytest.approx(1e3 * gru.median)
        assert row["flop_ratio"] == pytest.approx(0.75)
    text = format_speed_table(rows)
    assert "oneDNN off" in text and len(text.splitlines()) == 5


def test_stored_record_is_valid_and_large_enough():
    results = load_runs()
    assert isinstance(results, SpeedResults)
    config = results.config
    assert config.rounds >= 5 and config.T == 100 and config.batch == 32
    assert len(config.hiddens) >= 3 and set(config.fused) == {True, False}
    assert {"lstm", "gru"} <= set(config.models)
    assert results.meta["command"].startswith("python -m rnnbook.speed")
    assert len(speed_table(results)) == 2 * len(config.hiddens)


@pytest.mark.parametrize("damage, message", [
    (lambda r: r.pop("machine"), "missing keys"),
    (lambda r: r["timings"].pop(), "no timing"),
    (lambda r: r["timings"].append(copy.deepcopy(r["timings"][0])), "twice"),
    (lambda r: r["timings"][0]["seconds"].pop(), "one per round"),
    (lambda r: r["timings"][0]["cpu_seconds"].__setitem__(0, -1.0), "positive"),
    (lambda r: r["timings"][0].__setitem__("hidden", 999), "not a configuration"),
    (lambda r: r["config"].__setitem__("rounds", 0), "rounds"),
    (lambda r: r.__setitem__("command", ""), "command"),
])
def test_damaged_records_are_rejected(tiny_record, damage, message):
    record = copy.deepcopy(tiny_record)
    damage(record)
    with pytest.raises(ValueError, match=message):
        validate_record(record)


def test_main_writes_the_file(tmp_path, capsys):
    output = tmp_path / "speed.json"
    main(["--hidden", "2", "--T", "3", "--batch", "2", "--rounds", "1", "--steps", "1",
          "--output", str(output)])
    record = json.loads(output.read_text())
    assert record["command"].startswith("python -m rnnbook.experiments.speed --hidden 2")
    assert validate_record(record).hiddens == (2,)
    assert "GRU/LSTM" in capsys.readouterr().out


@pytest.mark.parametrize("call, error, message", [
    (lambda: recurrent_flops("cnn", 2, 3), ValueError, "unknown model"),
    (lambda: recurrent_flops(3, 2, 3), TypeError, "model must be a string"),
    (lambda: recurrent_flops("gru", 0, 3), ValueError, "n_input"),
    (lambda: recurrent_flops("gru", 2, 3.5), TypeError, "hidden"),
    (lambda: recurrent_flops("gru", 2, 3, T=0), ValueError, "T"),
    (lambda: BenchmarkConfig(hiddens=()), TypeError, "non-empty"),
    (lambda: BenchmarkConfig(hiddens=(4, 4)), ValueError, "repeated"),
    (lambda: BenchmarkConfig(models=("lstm", "transformer")), ValueError, "unknown model"),
    (lambda: BenchmarkConfig(fused=(1,)), TypeError, "bools"),
    (lambda: BenchmarkConfig(rounds=0), ValueError, "rounds"),
    (lambda: run_experiment("fast"), TypeError, "BenchmarkConfig"),
    (lambda: validate_record([]), ValueError, "JSON object"),
    (lambda: speed_table({}), TypeError, "SpeedResults"),
    (lambda: format_speed_table([]), ValueError, "non-empty"),
])
def test_bad_input_raises(call, error, message):
    with pytest.raises(error, match=message):
        call()
