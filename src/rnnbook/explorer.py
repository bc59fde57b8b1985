"""Interactive figures that work live in Jupyter and in the static HTML site.

An explorer joins one compute function and one plot function. Every point of a one- or
two-parameter grid is computed and drawn ahead of time; the frames sit in an
``ipywidgets.Stack`` whose ``selected_index`` is bound to a ``SelectionSlider``'s ``index`` with
``jslink``. The link runs in the browser, so the slider moves the figure with no kernel.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from rnnbook.checks import check_count

#: Bytes one explorer's frames may add to a page, counted as embedded (base64) text.
#: Chapter pages must stay under 1.5 MB with all their explorers.
DEFAULT_BUDGET = 700_000
#: Image pixels per CSS pixel of every frame: frames are drawn at ``PIXEL_RATIO * dpi`` and shown
#: at the size ``dpi`` gives, so that they are sharp on high-density screens.
PIXEL_RATIO = 2
#: Palette size of the frames (fewer colours keep the 2x frames small; line plots need few).
FRAME_COLORS = 32
MAX_PARAMETERS = 2


class _SharedCanvas:
    """One Agg canvas that draws every frame, so that its renderer and the text-layout and
    mathtext caches tied to the renderer are reused (frames of an explorer share a size);
    drawing a frame is about a quarter faster, with identical pixels."""

    canvas: FigureCanvasAgg | None = None

    @classmethod
    def draw(cls, fig: Figure) -> FigureCanvasAgg:
        original = fig.canvas
        if cls.canvas is None:
            cls.canvas = FigureCanvasAgg(fig)
        else:
            cls.canvas.figure = fig
            fig.set_canvas(cls.canvas)
        try:
            cls.canvas.draw()
        finally:
            fig.set_canvas(original)
        return cls.canvas


def render_png(fig: Figure, *, dpi: int = 80, colors: int = 96) -> bytes:
    """Return the figure as a palette PNG (quantized to ``colors`` colours)."""
    if not isinstance(fig, Figure):
        raise TypeError(f"expected a matplotlib Figure, got {type(fig).__name__}")
    fig.set_dpi(dpi)
    canvas = _SharedCanvas.draw(fig)
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    palette = image.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _label(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:g}"
    return str(value)


def _check_grids(grids: Mapping[str, Sequence]) -> dict[str, list]:
    if not isinstance(grids, Mapping):
        raise TypeError(f"grids must be a mapping of parameter name to values, got "
                        f"{type(grids).__name__}")
    if not 1 <= len(grids) <= MAX_PARAMETERS:
        raise ValueError(f"an explorer takes one or two parameters, got {len(grids)} "
                         f"({', '.join(grids) or 'none'}); fix the others with functools.partial")
    checked = {}
    for name, values in grids.items():
        if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray):
            raise TypeError(f"grid {name!r} must be a list of values, got {type(values).__name__}")
        values = list(values)
        if not values:
            raise ValueError(f"grid {name!r} is empty; give it at least one value")
        labels = [_label(v) for v in values]
        if len(set(labels)) != len(labels):
            raise ValueError(f"grid {name!r} has repeated values: {labels}")
        checked[name] = values
    return checked


def _alt_text(alt: str | Callable[[Any], str], params: dict, result: Any) -> str:
    text = alt(result) if callable(alt) else alt.format(**params)
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"alt text for {params} is empty; every frame needs a description")
    return text


def render_frames(
    compute: Callable[..., Any],
    plot: Callable[[Any], Figure],
    grids: Mapping[str, Sequence],
    *,
    alt: str | Callable[[Any], str],
    max_bytes: int = DEFAULT_BUDGET,
    dpi: int = 80,
) -> dict[tuple[int, ...], tuple[bytes, str]]:
    """Return ``{grid index tuple: (png bytes, alt text)}`` for every point of the grids.

    Raises
    ------
    ValueError
        If ``compute`` raises, the frames exceed ``max_bytes``, or alt text is empty.
    TypeError
        If ``plot`` does not return a matplotlib ``Figure``.
    """
    grids = _check_grids(grids)
    if not callable(compute) or not callable(plot):
        raise TypeError("compute and plot must be callables")
    dpi = check_count("dpi", dpi, 10, 600)
    max_bytes = check_count("max_bytes", max_bytes)
    if not callable(alt):
        if not isinstance(alt, str):
            raise TypeError(f"alt must be a str or a callable, got {type(alt).__name__}")
        try:
            alt.format(**{name: values[0] for name, values in grids.items()})
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f"alt {alt!r} names a field that is not a grid ({error!r}); its "
                             f"fields can be {sorted(grids)}") from None
    names = list(grids)
    frames: dict[tuple[int, ...], tuple[bytes, str]] = {}
    total = 0
    for index in itertools.product(*(range(len(grids[n])) for n in names)):
        params = {n: grids[n][i] for n, i in zip(names, index, strict=True)}
        try:
            result = compute(**params)
        except Exception as error:
            raise ValueError(f"compute failed at {params}: {error}") from error
        fig = plot(result)
        if not isinstance(fig, Figure):
            raise TypeError(f"plot must return a matplotlib Figure, got {type(fig).__name__} "
                            f"at {params}")
        png = render_png(fig, dpi=PIXEL_RATIO * dpi, colors=FRAME_COLORS)
        total += 4 * ((len(png) + 2) // 3)  # the page embeds frames as base64
        if total > max_bytes:
            n_frames = int(np.prod([len(v) for v in grids.values()]))
            raise ValueError(
                f"{n_frames} frames exceed the page budget of {max_bytes // 1000} kB "
                f"({total // 1000} kB after {len(frames) + 1}); use a coarser grid, a smaller "
                f"figure or a lower dpi"
            )
        frames[index] = (png, _alt_text(alt, params, result))
    return frames


def _frame_widget(png: bytes, alt: str) -> widgets.HTML:
    data = base64.b64encode(png).decode("ascii")
    width = int.from_bytes(png[16:20], "big") // PIXEL_RATIO  # the PNG header's width
    return widgets.HTML(
        f'<img class="rnnbook-frame" src="data:image/png;base64,{data}" width="{width}" '
        f'alt="{html.escape(alt, quote=True)}" style="max-width:100%;height:auto">'
    )


def _stack(children: list, slider: widgets.SelectionSlider, links: list) -> widgets.Stack:
    stack = widgets.Stack(children, selected_index=slider.index)
    links.append(widgets.jslink((slider, "index"), (stack, "selected_index")))
    return stack


def explorer(
    compute: Callable[..., Any],
    plot: Callable[[Any], Figure],
    grids: Mapping[str, Sequence],
    *,
    alt: str | Callable[[Any], str],
    labels: Mapping[str, str] | None = None,
    start: Mapping[str, Any] | None = None,
    max_bytes: int = DEFAULT_BUDGET,
    dpi: int = 80,
) -> widgets.VBox:
    """Return a VBox of sliders and a figure that follows them, live and in static HTML.

    The box's ``links`` attribute lists the ``jslink`` objects that bind sliders to frames.

    Parameters
    ----------
    compute : callable
        ``compute(**params)`` returns a result (arrays or a small dataclass).
    plot : callable
        ``plot(result)`` returns a matplotlib ``Figure``.
    grids : mapping
        One or two ``name: values`` pairs; each becomes a slider showing the real values.
    alt : str or callable
        Alt text of each frame: a format string over the parameter names, or a describe
        function, ``alt(result) -> str`` (the package's ``describe_*`` functions, passed as
        they are).
    labels : mapping, optional
        Slider descriptions; default the parameter names.
    start : mapping, optional
        Initial value of each slider; default the first value of each grid.
    max_bytes : int
        Budget for the PNG frames; exceeding it raises ``ValueError``.
    dpi : int
        Resolution of the frames in CSS pixels per inch; they are drawn at ``PIXEL_RATIO``
        times it.
    """
    frames = render_frames(compute, plot, grids, alt=alt, max_bytes=max_bytes, dpi=dpi)
    grids = _check_grids(grids)
    labels = dict(labels or {})
    start = dict(start or {})
    sliders = []
    for name, values in grids.items():
        options = [(_label(v), v) for v in values]
        initial = start.get(name, values[0])
        if initial not in values:
            raise ValueError(f"start value {initial!r} is not in grid {name!r}")
        slider = widgets.SelectionSlider(
            options=options,
            value=initial,
            description=labels.get(name, name),
            continuous_update=True,
            style={"description_width": "initial"},
            layout=widgets.Layout(width="420px"),
        )
        sliders.append(slider)
    sizes = [len(v) for v in grids.values()]
    links: list = []
    if len(sizes) == 1:
        display = _stack([_frame_widget(*frames[(i,)]) for i in range(sizes[0])], sliders[0],
                         links)
    else:
        inner = [
            _stack([_frame_widget(*frames[(i, j)]) for j in range(sizes[1])], sliders[1], links)
            for i in range(sizes[0])
        ]
        display = _stack(inner, sliders[0], links)
    box = widgets.VBox([*sliders, display])
    box.add_class("rnnbook-explorer")
    box.links = links
    return box
