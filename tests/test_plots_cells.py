"""Cell diagrams: each returns a figure, has alt text, and follows what it is given."""

import base64

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from rnnbook.bptt import bptt
from rnnbook.decomposition import scaled_rnn_problem
from rnnbook.explorer import render_frames
from rnnbook.lstm import forget_bias_gradient_flow
from rnnbook.plots.cells import (
    GRU_CELL_ALT,
    LSTM_CELL_ALT,
    backward_flow_alt,
    describe_lstm_gradient_path,
    describe_terms_by_distance,
    fit_log_limits,
    plot_backward_flow,
    plot_gru_cell,
    plot_lstm_cell,
    plot_lstm_gradient_path,
    plot_terms_by_distance,
)


def texts(fig: Figure) -> str:
    FigureCanvasAgg(fig).draw()
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts + [ax.title])


def test_lstm_cell_names_every_gate():
    fig = plot_lstm_cell()
    assert isinstance(fig, Figure)
    words = texts(fig)
    for name in ("$f_t$", "$i_t$", r"$\tilde c_t$", "$o_t$", "$c_{t-1}$", "$c_t$", "$h_t$",
                 "$x_t$"):
        assert name in words
    for name in ("f_t", "i_t", "c̃_t", "o_t", "c_{t-1}", "h_t"):
        assert name in LSTM_CELL_ALT
    # The candidate is c~_t in the book (notation.md); g is the scale of W.
    assert "$g_t$" not in words and "g_t" not in LSTM_CELL_ALT


def test_gru_cell_names_every_gate():
    fig = plot_gru_cell()
    assert isinstance(fig, Figure)
    words = texts(fig)
    for name in ("$r_t$", "$u_t$", r"$\tilde h_t$", "$h_{t-1}$", "$h_t$", "$x_t$", "1−"):
        assert name in words
    for name in ("r_t", "u_t", "h̃_t", "1 - u_t"):
        assert name in GRU_CELL_ALT
    # z_t is the pre-activation and n the hidden size in the book (notation.md).
    assert "$z_t$" not in words and "$n_t$" not in words


def carousel_width(fig: Figure) -> float:
    """Width of the thickest arrow of the cell panel (the cell state)."""
    return max(p.get_linewidth() for p in fig.axes[0].patches if isinstance(p, FancyArrowPatch))


def test_gradient_path_follows_the_forget_gate():
    shut, open_ = (forget_bias_gradient_flow(b, T=30, n=8) for b in (-2.0, 5.0))
    assert shut.mean_forget < 0.3 < 0.9 < open_.mean_forget
    thin, thick = plot_lstm_gradient_path(shut), plot_lstm_gradient_path(open_)
    assert carousel_width(thin) < 2.5 < 5.5 < carousel_width(thick)
    # The norm panel's axis fits the data: its bottom is within two decades of the smallest
    # plotted value, its top within two decades of the largest.
    for result, fig in ((shut, thin), (open_, thick)):
        low, high = fig.axes[1].get_ylim()
        values = np.concatenate([result.lstm, result.forget_path])
        values = values[values > 1e-30]
        assert values.min() / 100 < low <= values.min()
        assert max(values.max(), 1.0) <= high < 100 * max(values.max(), 1.0)
    assert "thin and faint" in describe_lstm_gradient_path(shut)
    assert "thick and solid" in describe_lstm_gradient_path(open_)
    assert f"{open_.lstm[29]:.2g}" in describe_lstm_gradient_path(open_)


def test_gradient_path_works_as_an_explorer():
    frames = render_frames(lambda forget_bias: forget_bias_gradient_flow(forget_bias, T=20, n=4),
                           plot_lstm_gradient_path, {"forget_bias": [0.0, 3.0]},
                           alt=describe_lstm_gradient_path)
    assert len(frames) == 2
    (png0, alt0), (png1, alt1) = frames[(0,)], frames[(1,)]
    assert png0 != png1 and alt0 != alt1


def test_backward_flow():
    fig = plot_backward_flow(4)
    words = texts(fig)
    assert "$J_{2}^\\top$" in words and "$J_{T}^\\top$" in words and "$J_{1}" not in words
    assert "delta_k h_{k-1}^T" in backward_flow_alt(4)
    with pytest.raises(ValueError, match="steps"):
        plot_backward_flow(1)
    with pytest.raises(ValueError, match="steps"):
        plot_backward_flow(9)


def test_terms_by_distance_draws_one_bar_per_term():
    params, x, h0, y = scaled_rnn_problem(0.9, 30)
    norms = bptt(params, x, y, h0=h0).W_term_norms[::-1]
    fig = plot_terms_by_distance(norms, title="tanh")
    bars = fig.axes[0].patches
    assert len(bars) == 30
    assert np.allclose([b.get_height() for b in bars], norms)
    assert bars[0].get_alpha() > bars[-1].get_alpha()
    assert "30 terms" in describe_terms_by_distance(norms)
    with pytest.raises(ValueError, match="term_norms"):
        plot_terms_by_distance([1.0])
    with pytest.raises(ValueError, match="term_norms"):
        plot_terms_by_distance([1.0, np.nan])


def test_fitted_log_limits():
    assert fit_log_limits(np.array([0.5, 2.0])) == (0.1, 10.0)
    assert fit_log_limits(np.array([1e-40, np.inf, 3e8])) == (1e-30, 1e6)
    assert fit_log_limits(np.array([np.nan, 0.0])) == (1e-30, 1e6)


def test_book_style_is_applied_on_import():
    import matplotlib as mpl

    from rnnbook.plots import BOOK_STYLE, use_book_style

    assert all(mpl.rcParams[key] == value for key, value in BOOK_STYLE.items())
    with pytest.raises(TypeError, match="retina"):
        use_book_style(retina="yes")


def test_explorer_frames_are_drawn_at_twice_their_css_width():
    from rnnbook.explorer import PIXEL_RATIO, explorer

    box = explorer(lambda forget_bias: forget_bias_gradient_flow(forget_bias, T=20, n=4),
                   plot_lstm_gradient_path, {"forget_bias": [0.0]},
                   alt=describe_lstm_gradient_path, dpi=80)
    html = box.children[-1].children[0].value
    png = base64.b64decode(html.split("base64,")[1].split('"')[0])
    natural = int.from_bytes(png[16:20], "big")
    assert PIXEL_RATIO == 2 and natural == int(7.6 * 160)
    assert f'width="{natural // 2}"' in html


@pytest.mark.parametrize(("notebook", "cell_id", "alt"),
                         [("ch06_lstm", "ch06-cell-fig", LSTM_CELL_ALT),
                          ("ch07_gru", "ch07-cell-fig", GRU_CELL_ALT)])
def test_chapter_figure_of_a_cell_carries_its_diagrams_alt_text(notebook, cell_id, alt):
    # The chapters set the figure's alt text in cell metadata (MyST-NB reads it from there);
    # it must stay the diagram's own, which once kept the retired letters g_t, z_t, n_t.
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "book" / f"{notebook}.ipynb"
    cells = {cell.get("id"): cell for cell in json.loads(path.read_text())["cells"]}
    assert cells[cell_id]["metadata"]["mystnb"]["image"]["alt"] == alt
