"""One meaning per symbol (issue 16): retired symbols stay out of the book's math, and
Appendix D (book/notation.md) lists each symbol once."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
#: Inline math may wrap over lines but not over a blank line.
MATH = re.compile(r"\$\$.+?\$\$|\$(?:[^$\n]|\n(?!\s*\n))+?\$"
                  r"|\\begin\{(\w+\*?)\}.+?\\end\{\1\}", re.S)
#: Cells that quote a seed's formula in the seed's own letters (seed 001 calls its prediction
#: o_t); they are exempt from the rules about the book's output.
SEED_QUOTES = {("ch02_bptt", "9298e466"), ("ch02_bptt", "924cf804"),
               ("appendix_misconceptions", "638e4030")}

#: (pattern, what it used to mean, what the book writes now, pages allowed to use it).
RETIRED = [
    (r"(?<![\\a-zA-Z])g_", "g_k, g_t, g_U: gradient terms, LSTM candidate, gradient blocks",
     "G_k, \\tilde c_t, \\nabla_U L (g is the scale of W)", ()),
    (r"(?<![\\a-zA-Z])g\s*\(", "g(o_t): the output function", "\\phi(\\bar y_t)", ()),
    (r"\\hat\s*g(?![a-zA-Z])", "the clipped gradient", "\\hat\\nabla", ()),
    (r"(?<![a-zA-Z])[UWb]_g(?![a-zA-Z])", "weights of the LSTM candidate g_t", "U_c, W_c, b_c", ()),
    (r"\\eta\s*(?:=\s*\\gamma|[<>]|\\le\b|\^)", "eta = gamma sigma_max", "\\kappa", ()),
    (r"\\eta\s*\\lambda", "weight decay lambda", "\\mu", ()),
    (r"(?<![a-zA-Z])q\s*=\s*\\gamma", "q = gamma sigma_max", "\\kappa", ()),
    (r"(?<![\\a-zA-Z])n_(?:t|s|\{)", "n_t: the GRU candidate", "\\tilde h_t (n is the hidden size)",
     ()),
    (r"(?<![a-zA-Z])[UWb]'?_[nz](?![a-zA-Z])", "GRU weights U_n, W_z, ...", "U_h, W_u, ...", ()),
    (r"\\operatorname\{diag\}\((?:1 - )?z_t\)|1 - z_t", "z_t: the GRU update gate",
     "u_t (z_t is the pre-activation)", ()),
    (r"T\s*-\s*d(?![a-zA-Z])|(?<!\})\^\{?d(?![a-zA-Z])|s\(d\)|(?<![\\a-zA-Z])d'",
     "d: the distance T - k", "\\ell (d is the input size)", ()),
    (r"(?<![\\a-zA-Z])o_\w+\s*=\s*V|\\partial\s*o_|V h_\w+\s*\+\s*c(?![a-zA-Z_])",
     "o_t = V h_t + c: the RNN output", "\\bar y_t = V h_t + b_y (o_t is the output gate)", ()),
    (r"(?<![\\a-zA-Z])dc(?![a-zA-Z])", "dc: gradient of the output bias c", "db_y", ()),
    (r"(?<![\\a-zA-Z])D_", "D_t: ch6's diag(o_t tanh'(c_t))",
     "\\Gamma_t (D_t is chapter 4's slopes)", ("ch04_jacobian", "notation")),
    (r"(?<![\\a-zA-Z])G(?![_a-zA-Z])", "G = dL/dY in chapter 8", "\\partial L/\\partial Y", ()),
    (r"(?<![\\a-zA-Z{])(?<!\\mathsf )[KQ](?![a-zA-Z_])", "K, Q: attention keys and queries",
     "\\mathsf K, \\mathsf Q (K is the truncation window)",
     ("ch02_bptt", "ch05_remedies", "notation")),
    (r"\\gamma\s*=\s*\\sqrt", "gamma: the LRU's normalisation", "\\psi (gamma = sup |f'|)", ()),
    (r"\\exp\(\\theta\)|\\theta_\{\\max", "theta: the LRU's phase parameter",
     "\\omega (theta: the parameters)", ()),
]


def notebook_cells() -> list[tuple[str, dict]]:
    """Return (page, cell) for every cell of the book's notebooks."""
    return [(path.stem, cell) for path in sorted(BOOK.glob("*.ipynb"))
            for cell in json.loads(path.read_text())["cells"]]


def pages() -> list[tuple[str, str, str]]:
    """Return (page, cell id, markdown) for every markdown cell and page of the book."""
    found = [(page, cell.get("id", ""), "".join(cell["source"]))
             for page, cell in notebook_cells() if cell["cell_type"] == "markdown"]
    for path in sorted(BOOK.glob("*.md")):
        found.append((path.stem, "", path.read_text()))
    return found


def math_spans(text: str) -> list[str]:
    return [m.group(0) for m in MATH.finditer(text)]


def test_math_is_found():
    spans = [s for _, _, text in pages() for s in math_spans(text)]
    assert len(spans) > 2000
    assert any("\\tilde c_t" in s for s in spans) and any("u_t" in s for s in spans)


@pytest.mark.parametrize(("pattern", "old", "new", "allowed"), RETIRED,
                         ids=[r[1].split(":")[0] for r in RETIRED])
def test_retired_symbols_stay_out_of_the_math(pattern, old, new, allowed):
    rx = re.compile(pattern)
    hits = []
    for page, cell, text in pages():
        if page in allowed or (page, cell) in SEED_QUOTES:
            continue
        if page == "notation":  # the seeds' table quotes the seeds' own letters
            text = text.split("(notation-seeds)=")[0]
            text = text.split("## Where the book's letters differ")[0]
        hits += [(page, cell, span[:80]) for span in math_spans(text) if rx.search(span)]
    assert hits == [], f"{old} is retired; write {new}: {hits}"


def retired_pattern_detects(pattern: str, sample: str) -> bool:
    return re.search(pattern, sample) is not None


@pytest.mark.parametrize(("index", "sample"), [
    (0, "$g_t = \\tanh(\\cdot)$"), (1, "$\\hat y_t = g(o_t)$"), (4, "$\\eta = \\gamma\\sigma$"),
    (7, "$n_t$"), (10, "$x_{T-d}$"), (11, "$o_t = V h_t + c$"), (13, "$D_{t-1}$"),
])
def test_the_rules_catch_the_old_notation(index, sample):
    assert retired_pattern_detects(RETIRED[index][0], sample)


def symbol_table() -> list[str]:
    """Return the symbol cells of Appendix D's table of the book's symbols."""
    text = (BOOK / "notation.md").read_text()
    section = text.split("## The book's symbols", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return [row.split(" | ")[0].lstrip("| ").strip() for row in rows[1:]]


def symbols_of(cell: str) -> list[str]:
    """The symbols a table cell defines: each $...$, up to an '=' if it has one."""
    names = []
    for math in re.findall(r"\$([^$]+)\$", cell):
        head = math.split("=")[0]
        names.append(re.sub(r"\s+", "", head))
    return names


def test_notation_table_lists_each_symbol_once():
    cells = symbol_table()
    assert len(cells) > 40
    names = [name for cell in cells for name in symbols_of(cell)]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    assert duplicates == []
    for needed in ("g", "\\eta", "\\kappa", "\\tildec_t", "\\tildeh_t", "u_t", "\\ell", "K",
                   "G_k", "D_t", "\\Gamma_t", "\\bary_t", "b_y", "\\phi", "n", "d"):
        assert needed in names, needed


def test_notation_table_has_no_retired_symbol():
    names = {name for cell in symbol_table() for name in symbols_of(cell)}
    assert not names & {"g_t", "n_t", "z_t\\text{(GRU)}", "o_t=Vh_t+c", "c", "\\hat g"}
    assert "z_t" in names and "o_t" in names  # once each: pre-activation, LSTM output gate


#: Retired letters in the plain text of figure captions and alt texts set in cell metadata
#: (they are not math, so the rules above do not see them).
RETIRED_IN_TEXT = [
    (r"\b[gn]_t\b", "g_t, n_t: the LSTM and GRU candidates (c̃_t, h̃_t)"),
    (r"\bz_t\b|\bgates? z\b|\bz = \d", "z_t: the GRU update gate (u_t)"),
    (r"\bdistance d\b|T-d\b|power d\b|\bat d = ", "d: the distance (ℓ)"),
]


def figure_texts() -> list[tuple[str, str, str]]:
    """Return (page, cell id, text) for every caption and alt text in the notebooks' metadata."""
    found = []
    for page, cell in notebook_cells():
        mystnb = cell.get("metadata", {}).get("mystnb", {})
        image, figure = mystnb.get("image", {}), mystnb.get("figure", {})
        found += [(page, cell.get("id", ""), text)
                  for text in (image.get("alt"), figure.get("caption")) if text]
    return found


@pytest.mark.parametrize(("pattern", "old"), RETIRED_IN_TEXT, ids=lambda x: x[:12])
def test_retired_letters_stay_out_of_captions_and_alt_text(pattern, old):
    texts = figure_texts()
    assert len(texts) > 20
    hits = [(page, cell, m.group(0)) for page, cell, text in texts
            for m in re.finditer(pattern, text)]
    assert hits == [], f"{old} in figure text: {hits[:5]}"
