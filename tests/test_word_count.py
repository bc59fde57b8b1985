"""The main-path word count leaves out code, outputs, math, dropdowns and solutions."""

import importlib.util

import pytest

from conftest import ROOT

spec = importlib.util.spec_from_file_location("main_path_words",
                                              ROOT / "scripts" / "main_path_words.py")
words = importlib.util.module_from_spec(spec)
spec.loader.exec_module(words)

PAGE = """<html><body><nav>Menu entries here</nav><main><article class="bd-article">
<h1>Title words<a class="headerlink" href="#t">#</a></h1>
<p>One two three, four's 1.5e-3 and <code>inline</code> <span class="math">\\(x_t + y\\)</span>.</p>
<div class="cell"><div class="cell_input"><pre>print("not counted")</pre></div>
<div class="cell_output"><pre>1 2 3</pre></div></div>
<details><summary>Details</summary><p>hidden in a dropdown</p></details>
<div class="solution dropdown"><p>a solution is not main path</p></div>
<div class="highlight"><pre>code block</pre></div>
</article></main></body></html>"""


def test_counts_prose_only():
    # "Title words", "One two three, four's 1.5e-3 and inline" -> 2 + 7 words.
    assert words.main_path_words(PAGE) == 9


def test_rejects_bytes():
    with pytest.raises(TypeError, match="html"):
        words.main_path_words(PAGE.encode())
