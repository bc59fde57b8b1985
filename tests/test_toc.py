"""The table of contents lists the appendices in the order of their letters."""

from __future__ import annotations

import json
import re

import yaml

from conftest import ROOT


def title(file: str) -> str:
    path = ROOT / f"{file}.md"
    if path.exists():
        return path.read_text().splitlines()[0]
    cells = json.loads((ROOT / f"{file}.ipynb").read_text())["cells"]
    return "".join(cells[0]["source"]).splitlines()[0]


def test_appendices_are_listed_in_letter_order():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    appendices = next(p for p in toc["parts"] if p["caption"] == "Appendices")["chapters"]
    titles = [title(chapter["file"]) for chapter in appendices]
    letters = [m[1] for t in titles if (m := re.match(r"# Appendix ([A-Z])\.", t))]
    assert len(letters) >= 4
    assert letters == sorted(letters), letters
