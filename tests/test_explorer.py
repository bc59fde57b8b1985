"""The explorer: precomputed frames bound to sliders by jslink, and its error messages."""

import ipywidgets as widgets
import numpy as np
import pytest

from rnnbook.explorer import explorer, render_frames, render_png
from rnnbook.plots.common import new_figure


def compute(scale, kind="sin"):
    x = np.linspace(0, 6, 50)
    return x, scale * (np.sin(x) if kind == "sin" else np.cos(x))


def plot(result):
    fig, ax = new_figure(3, 2)
    ax.plot(*result)
    ax.set_ylim(-3, 3)
    return fig


def frame_sources(stack):
    return [child.value.split('src="')[1].split('"')[0] for child in stack.children]


def test_one_parameter_frames_follow_the_slider_by_jslink():
    box = explorer(compute, plot, {"scale": [0.5, 1.0, 2.0]}, alt="a wave of amplitude {scale}",
                   start={"scale": 1.0})
    slider, stack = box.children
    assert isinstance(slider, widgets.SelectionSlider)
    assert [label for label, _ in slider.options] == ["0.5", "1", "2"]
    assert slider.value == 1.0 and stack.selected_index == slider.index == 1
    assert len(box.links) == 1
    assert any(link.source == (slider, "index") and link.target == (stack, "selected_index")
               for link in box.links)
    sources = frame_sources(stack)
    assert len(set(sources)) == 3, "every grid point must give a different frame"
    assert 'alt="a wave of amplitude 2.0"' in stack.children[2].value


def test_two_parameters_nest_stacks_with_one_link_per_inner_stack():
    def describe(result):
        x, y = result
        return f"starts at {y[0]:.1f}"

    box = explorer(compute, plot, {"scale": [1.0, 2.0], "kind": ["sin", "cos", "sin2"]},
                   alt=describe,
                   labels={"scale": "amplitude"})
    outer_slider, inner_slider, outer = box.children
    assert outer_slider.description == "amplitude"
    assert len(outer.children) == 2
    assert all(len(inner.children) == 3 for inner in outer.children)
    assert sum(link.source == (inner_slider, "index") for link in box.links) == 2
    assert sum(link.source == (outer_slider, "index") for link in box.links) == 1
    assert all(link.target[1] == "selected_index" for link in box.links)
    assert 'alt="starts at 2.0"' in outer.children[1].children[1].value  # 2 cos(0)


def test_frames_are_small_palette_pngs():
    png = render_png(plot(compute(1.0)))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) < 30_000


@pytest.mark.parametrize(
    ("grids", "error", "message"),
    [
        ({}, ValueError, "one or two parameters, got 0"),
        ({"a": [1], "b": [1], "c": [1]}, ValueError, "one or two parameters, got 3"),
        ({"scale": []}, ValueError, "grid 'scale' is empty"),
        ({"scale": "abc"}, TypeError, "must be a list of values"),
        ({"scale": [1.0, 1.0]}, ValueError, "repeated values"),
        ([("scale", [1.0])], TypeError, "grids must be a mapping"),
    ],
)
def test_bad_grids_raise(grids, error, message):
    with pytest.raises(error, match=message):
        explorer(compute, plot, grids, alt="x")


def test_a_failing_compute_names_the_parameters():
    def broken(scale):
        raise RuntimeError("diverged")

    with pytest.raises(ValueError, match=r"compute failed at \{'scale': 2\}: diverged"):
        explorer(broken, plot, {"scale": [2]}, alt="x")


def test_plot_must_return_a_figure():
    with pytest.raises(TypeError, match="plot must return a matplotlib Figure, got NoneType"):
        explorer(compute, lambda result: None, {"scale": [1.0]}, alt="x")


def test_page_budget_is_enforced():
    with pytest.raises(ValueError, match="exceed the page budget of 20 kB.*coarser grid"):
        explorer(compute, plot, {"scale": list(np.linspace(0.1, 3, 12))}, alt="x",
                 max_bytes=20_000)


def test_alt_text_and_start_value_are_checked():
    with pytest.raises(ValueError, match="alt text .* is empty"):
        render_frames(compute, plot, {"scale": [1.0]}, alt=lambda result: " ")
    with pytest.raises(ValueError, match="start value 3 is not in grid 'scale'"):
        explorer(compute, plot, {"scale": [1.0]}, alt="x", start={"scale": 3})


def fresh_canvas_png(fig, dpi=80, colors=96):
    """The reference: draw ``fig`` on a canvas of its own."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    buffer = io.BytesIO()
    image.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT).save(
        buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def test_shared_canvas_draws_the_same_pixels_and_gives_the_figure_back():
    def wide(scale):
        fig, ax = new_figure(5, 2, ncols=2)
        ax[0].semilogy(np.arange(1, 30), scale ** np.arange(1, 30))
        ax[1].set_title(rf"$\rho(W) = {scale:g}$")
        return fig

    # A constrained layout drawn twice can shift by a pixel, so each side draws its own copy.
    makers = [lambda: plot(compute(1.0)), lambda: wide(1.5),
              lambda: plot(compute(2.0, "cos")), lambda: wide(0.5)]
    for make in makers:
        fig = make()
        canvas_before = fig.canvas
        shared = render_png(fig)
        assert fig.canvas is canvas_before
        assert shared == fresh_canvas_png(make())
