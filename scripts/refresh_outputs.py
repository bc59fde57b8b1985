"""Execute the chapter notebooks in place and keep only what nbval should compare.

Committed notebooks carry their text outputs and execution counts (nbval compares those);
images, widget views and widget state are dropped (nbval skips them, and they would bloat the
repository). Usage: python scripts/refresh_outputs.py [book/ch01_*.ipynb ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
DROPPED_MIME = ("image/", "text/html")


def strip(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return ``notebook`` without images, widget views and widget state."""
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.outputs:
            if "data" in output:
                if WIDGET_VIEW in output["data"]:
                    continue
                output["data"] = {k: v for k, v in output["data"].items()
                                  if not k.startswith(DROPPED_MIME)}
                if not output["data"]:
                    continue
            kept.append(output)
        cell.outputs = kept
    return notebook


def refresh(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(strip(notebook), path)
    print(f"refreshed {path.relative_to(ROOT)}")


if __name__ == "__main__":
    paths = [Path(p).resolve() for p in sys.argv[1:]] or sorted((ROOT / "book").glob("*.ipynb"))
    for notebook_path in paths:
        refresh(notebook_path)
