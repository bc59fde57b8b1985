"""Stored clipping runs: spike detection, the stored claim, and a reduced re-run."""

import dataclasses
import json

import numpy as np
import pytest
from matplotlib.figure import Figure

from rnnbook.experiments.clipping import (
    ClippingComparison,
    ExperimentConfig,
    count_spike_events,
    describe_clipping_comparison,
    find_spikes,
    load_runs,
    main,
    results_from_record,
    train,
)
from rnnbook.explorer import render_png
from rnnbook.plots.remedies import plot_clipping_comparison

#: Steps of the reduced re-run. float32 on one thread is deterministic on one machine (the
#: numbers come out bit-identical here); another CPU or BLAS build may round differently, and
#: the differences grow during training, so the check allows a relative 1e-4.
REDUCED_STEPS = 100
REPRODUCE_RTOL = 1e-4


@pytest.fixture(scope="module")
def stored():
    return load_runs()


def test_find_spikes_flags_jumps_over_the_running_median():
    losses = np.ones(40)
    losses[20] = 3.5
    losses[21] = 3.2
    losses[30] = 2.9  # below 3 x median: not a spike
    losses[35] = np.nan
    np.testing.assert_array_equal(find_spikes(losses, 3.0, 10), [20, 21, 35])
    assert count_spike_events(find_spikes(losses, 3.0, 10)) == 2
    assert find_spikes(losses[:10], 3.0, 10).size == 0  # no history yet


def test_a_slow_decrease_and_noise_are_not_spikes():
    rng = np.random.default_rng(0)
    losses = np.exp(-np.linspace(0, 5, 300)) * rng.uniform(0.7, 1.3, 300)
    assert find_spikes(losses).size == 0


def test_count_spike_events():
    assert count_spike_events([]) == 0
    assert count_spike_events([4]) == 1
    assert count_spike_events([3, 4, 5, 10, 11, 20]) == 3


def test_stored_file_records_how_it_was_made(stored):
    assert stored.command.startswith("python -m rnnbook.clipping_experiment")
    assert set(stored.versions) >= {"python", "numpy", "torch"}
    assert stored.config == ExperimentConfig()
    assert stored.seeds == [0, 1, 2, 3, 4]
    for run in stored.runs:
        assert run.losses.shape == run.grad_norms.shape == (stored.config.steps,)


def test_stored_runs_spike_without_clipping_and_not_with_it(stored):
    # The claim the chapter prints: at the first threshold no seed spikes; without clipping
    # every seed does, several times, with gradient norms far above the threshold.
    threshold = stored.config.thresholds[0]
    for seed in stored.seeds:
        pair = stored.compare(seed)
        assert pair.unclipped.spike_count >= 5
        assert pair.clipped.spike_count == 0
        assert pair.unclipped.grad_norms.max() > 3 * threshold
        assert pair.clipped.final_loss < pair.unclipped.final_loss


@pytest.mark.parametrize("threshold_index", [None, 0])
def test_reduced_configuration_reproduces_the_stored_numbers(stored, threshold_index):
    threshold = None if threshold_index is None else stored.config.thresholds[threshold_index]
    config = dataclasses.replace(stored.config, steps=REDUCED_STEPS)
    rerun = train(0, threshold, config)
    saved = stored.run(0, threshold)
    np.testing.assert_allclose(rerun.losses, saved.losses[:REDUCED_STEPS], rtol=REPRODUCE_RTOL)
    np.testing.assert_allclose(rerun.grad_norms, saved.grad_norms[:REDUCED_STEPS],
                               rtol=REPRODUCE_RTOL)


def test_clipped_training_keeps_the_norm_at_the_threshold():
    config = ExperimentConfig(steps=30, thresholds=(0.05,))
    clipped = train(1, 0.05, config)
    unclipped = train(1, None, config)
    assert clipped.clipped_fraction > 0.5
    assert unclipped.clipped_fraction == 0.0
    # same weights and batch at step 0, so the first loss and gradient norm agree
    assert clipped.losses[0] == unclipped.losses[0]
    assert clipped.grad_norms[0] == unclipped.grad_norms[0]
    assert not np.array_equal(clipped.losses, unclipped.losses)


def test_main_writes_a_record_with_the_command_line(tmp_path, capsys):
    output = tmp_path / "runs.json"
    assert main(["--seeds", "3", "--steps", "12", "--output", str(output)]) == 0
    record = json.loads(output.read_text())
    assert record["command"] == (f"python -m rnnbook.experiments.clipping --seeds 3 --steps 12 "
                                 f"--output {output}")
    assert record["seeds"] == [3]
    results = results_from_record(record)
    assert len(results.runs) == 1 + len(results.config.thresholds)
    assert results.run(3, None).losses.size == 12
    assert "wrote" in capsys.readouterr().out


def test_plot_shows_both_runs(stored):
    fig = plot_clipping_comparison(stored.compare(0))
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    assert len(render_png(fig)) < 30_000
    text = describe_clipping_comparison(stored.compare(0))
    assert "Without clipping: 8 loss spikes" in text and "Clipped at 3: 0 spikes" in text


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: ExperimentConfig(delay=25, T=25), ValueError, "delay"),
        (lambda: ExperimentConfig(steps=0), ValueError, "steps"),
        (lambda: ExperimentConfig(thresholds=()), TypeError, "thresholds"),
        (lambda: ExperimentConfig(thresholds=(3.0, -1.0)), ValueError, r"thresholds\[1\]"),
        (lambda: ExperimentConfig(learning_rate=np.nan), ValueError, "learning_rate"),
        (lambda: ExperimentConfig(spike_factor=1.0), ValueError, "spike_factor"),
        (lambda: train(-1, None), ValueError, "seed"),
        (lambda: train(0, 0.0), ValueError, "threshold"),
        (lambda: train(0, None, config={"steps": 3}), TypeError, "ExperimentConfig"),
        (lambda: find_spikes(np.ones((3, 3))), ValueError, "one-dimensional"),
        (lambda: find_spikes(np.ones(5), factor=0.5), ValueError, "factor"),
        (lambda: find_spikes(np.ones(5), window=0), ValueError, "window"),
        (lambda: results_from_record({"runs": []}), ValueError, "record"),
    ],
)
def test_bad_inputs_raise(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_missing_runs_and_mismatched_plots_raise(stored):
    with pytest.raises(ValueError, match="no stored run for seed 99"):
        stored.compare(99)
    pair = stored.compare(0)
    with pytest.raises(ValueError, match="different seeds"):
        plot_clipping_comparison(ClippingComparison(pair.unclipped, stored.run(1, 3.0)))
    with pytest.raises(ValueError, match="without clipping"):
        plot_clipping_comparison(ClippingComparison(pair.clipped, pair.unclipped))
    with pytest.raises(TypeError, match="ClippingComparison"):
        plot_clipping_comparison((pair.unclipped, pair.clipped))
