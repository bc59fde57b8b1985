"""Chapter 7's figures: they draw what they are given, mark overflow and reject bad input."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from rnnbook.experiments.speed import BenchmarkConfig, results_from_record
from rnnbook.plots.gru import (
    NORM_LIMITS,
    plot_interpolation,
    plot_step_times,
    plot_update_flow,
)
from rnnbook.update_gate import UpdateGateFlow, interpolation_demo, update_bias_gradient_flow


def synthetic_record(hiddens=(8, 16), rounds=3):
    """A speed record with made-up, known timings (GRU = 1.5 x LSTM, fused or not)."""
    config = BenchmarkConfig(hiddens=hiddens, rounds=rounds)
    timings = []
    for model, hidden, fused in config.combinations():
        base = 0.001 * hidden * (1.5 if model == "gru" else 1.0) * (1 if fused else 2)
        seconds = [base * (1 + 0.1 * r) for r in range(rounds)]
        timings.append({"model": model, "hidden": hidden, "fused": fused, "seconds": seconds,
                        "cpu_seconds": seconds})
    return {"description": "synthetic", "command": "python -m rnnbook.speed", "created": "now",
            "versions": {"python": "3", "numpy": "2", "torch": "2"},
            "machine": {"cpu": "test", "logical_cores": 1, "platform": "test"},
            "load_average": {"before": [0, 0, 0], "after": [0, 0, 0]},
            "config": {k: list(v) if isinstance(v, tuple) else v
                       for k, v in config.__dict__.items()},
            "timings": timings}


@pytest.mark.parametrize("update_bias, scale", [(-2.0, 1.0), (4.0, 1.0), (0.0, 4.0)])
def test_update_flow_figure(update_bias, scale):
    result = update_bias_gradient_flow(update_bias, scale, T=40, n=8)
    fig = plot_update_flow(result)
    assert isinstance(fig, Figure)
    left, right = fig.axes
    assert left.get_yscale() == "log" and left.get_ylim() == pytest.approx(NORM_LIMITS)
    assert len(left.get_lines()) >= 3
    assert sum(p.get_height() for p in right.patches) == result.update_gates.size


def test_update_flow_figure_marks_values_off_the_scale():
    result = update_bias_gradient_flow(0.0, T=10, n=4)
    blown = UpdateGateFlow(update_bias=0.0, g=9.0, distance=result.distance,
                           gru=result.gru, update_path=result.update_path,
                           rnn=np.where(result.distance > 5, np.inf, 1e12),
                           update_gates=result.update_gates)
    texts = [t.get_text() for t in plot_update_flow(blown).axes[0].texts]
    assert any("off the scale" in t for t in texts)
    assert any("overflow" in t for t in texts)


def test_interpolation_figure_has_one_line_per_gate():
    demo = interpolation_demo((0.0, 0.5, 0.9), T=30)
    ax = plot_interpolation(demo).axes[0]
    assert len(ax.get_lines()) == 1 + 3 + 1  # candidate dots, three states, zero line
    assert np.array_equal(ax.get_lines()[1].get_ydata(), demo.states[0])


def test_step_time_figure_labels_the_ratios():
    results = results_from_record(synthetic_record())
    fig = plot_step_times(results)
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert [t.get_text() for t in ax.texts] == ["1.50x", "1.50x"]
        heights = sorted(p.get_height() for p in ax.patches)
        assert len(heights) == 4
    assert fig.axes[1].patches[0].get_height() == pytest.approx(2 * fig.axes[0].patches[0]
                                                                 .get_height())


@pytest.mark.parametrize("plot", [plot_update_flow, plot_interpolation, plot_step_times])
def test_wrong_result_type_raises(plot):
    with pytest.raises(TypeError, match="expected"):
        plot({"not": "a result"})
