"""The committed notebooks are in the shape nbval needs, and nbval really fails a wrong claim."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
SANITIZE = ROOT / "tests" / "sanitize.cfg"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_carries_text_outputs_only(path):
    notebook = nbformat.read(path, as_version=4)
    assert "widgets" not in notebook.metadata, "widget state must not be committed"
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code_cells), (
        f"{path.name} has unexecuted cells: run `make outputs`"
    )
    for cell in code_cells:
        for output in cell.outputs:
            assert output.output_type != "error", f"{path.name} stores an error output"
            kinds = set(output.get("data", {}))
            assert not any(k.startswith("image/") for k in kinds), "images must not be committed"
    printed = [o for cell in code_cells for o in cell.outputs if o.output_type == "stream"]
    assert printed, f"{path.name} prints no number for nbval to check"
    hidden = [cell for cell in code_cells if "remove-cell" in cell.metadata.get("tags", [])]
    assert hidden, f"{path.name} has no hidden cell asserting its claims"


def run_nbval(notebook: nbformat.NotebookNode, tmp_path: Path) -> subprocess.CompletedProcess:
    path = tmp_path / "probe.ipynb"
    nbformat.write(notebook, path)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--nbval", str(path), "--nbval-current-env",
         "--nbval-sanitize-with", str(SANITIZE), "-p", "no:cacheprovider"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )


def probe(source: str, stored_output: str, tags: list[str] | None = None):
    cell = nbformat.v4.new_code_cell(source, execution_count=1,
                                     metadata={"tags": tags or []})
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=stored_output)]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    return notebook


def test_nbval_passes_a_matching_number(tmp_path):
    result = run_nbval(probe("print(round(0.1 + 0.2, 6))", "0.3\n"), tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]


def test_nbval_fails_a_changed_number(tmp_path):
    result = run_nbval(probe("print(round(0.1 + 0.2, 6))", "0.31\n"), tmp_path)
    assert result.returncode != 0


def test_nbval_fails_a_false_hidden_assertion(tmp_path):
    result = run_nbval(probe("assert 1 + 1 == 3", "", tags=["remove-cell"]), tmp_path)
    assert result.returncode != 0


def test_notebooks_import_the_installed_package_without_path_hacks():
    for path in NOTEBOOKS:
        sources = [cell["source"] for cell in json.loads(path.read_text())["cells"]
                   if cell["cell_type"] == "code"]
        assert not any("sys.path" in source for source in sources), path.name
