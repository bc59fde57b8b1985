"""references.bib holds exactly the works the book cites (the build checks the converse:
a citation of a missing key is a warning, and warnings are errors)."""

import json
import re

from conftest import ROOT

BOOK = ROOT / "book"


def cited_keys() -> set[str]:
    texts = [path.read_text() for path in BOOK.glob("*.md")]
    for path in BOOK.glob("*.ipynb"):
        cells = json.loads(path.read_text())["cells"]
        texts += ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown"]
    keys = set()
    for text in texts:
        for group in re.findall(r"\{cite(?::[a-z]+)?\}`([^`]+)`", text):
            keys.update(key.strip() for key in group.split(","))
    return keys


def test_every_bibliography_entry_is_cited():
    entries = set(re.findall(r"^@\w+\{([^,\s]+),", (BOOK / "references.bib").read_text(), re.M))
    unused = entries - cited_keys()
    assert not unused, f"entries never cited: {sorted(unused)}"


def test_every_citation_has_an_entry():
    entries = set(re.findall(r"^@\w+\{([^,\s]+),", (BOOK / "references.bib").read_text(), re.M))
    missing = cited_keys() - entries
    assert not missing, f"cited but missing from references.bib: {sorted(missing)}"


def test_bibliography_parses_as_the_build_reads_it():
    # sphinxcontrib-bibtex reads the file with pybtex: a missing brace stops the build.
    from pybtex.database import parse_file

    keys = set(re.findall(r"^@\w+\{([^,\s]+),", (BOOK / "references.bib").read_text(), re.M))
    assert set(parse_file(BOOK / "references.bib").entries) == keys
