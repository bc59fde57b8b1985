"""Put the Colab setup cell first in every notebook that imports rnnbook.

On Colab the cell installs rnnbook from the repository URL in ``_config.yml``, pinning the
torch, numpy and matplotlib that Colab already has so pip replaces none of them. Wherever
rnnbook is importable (a local clone, Binder, the book build) it does nothing. The cell is
tagged ``remove-cell``: it is hidden in the HTML. Run this after changing the repository URL.

Usage: python scripts/setup_cell.py [--check]
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
CELL_ID = "rnnbook-setup"
TEMPLATE = '''\
# Colab: install the book's package, keeping Colab's own torch, numpy and matplotlib.
# Anywhere rnnbook is already installed (a local clone, Binder) this cell does nothing.
import importlib.util
import sys

if importlib.util.find_spec("rnnbook") is None and "google.colab" in sys.modules:
    import subprocess
    from importlib.metadata import version

    from google.colab import output

    keep = [f"{{name}}=={{version(name)}}" for name in ("torch", "numpy", "matplotlib")]
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *keep,
                    "rnnbook @ git+{url}@{branch}"], check=True)
    importlib.invalidate_caches()
    output.enable_custom_widget_manager()'''


def source(config: Path = ROOT / "_config.yml") -> str:
    """Return the setup cell's code for the repository named in ``config``."""
    repository = yaml.safe_load(config.read_text())["repository"]
    return TEMPLATE.format(url=repository["url"].rstrip("/"), branch=repository["branch"])


def notebooks() -> list[Path]:
    """Return the book's notebooks that import rnnbook."""
    return [path for path in sorted((ROOT / "book").glob("*.ipynb"))
            if "rnnbook" in path.read_text()]


def with_setup_cell(notebook: nbformat.NotebookNode, code: str) -> bool:
    """Make ``code`` the first code cell of ``notebook``; return whether it changed."""
    cell = nbformat.v4.new_code_cell(code, id=CELL_ID, metadata={"tags": ["remove-cell"]})
    existing = [c for c in notebook.cells if c.get("id") == CELL_ID]
    first_code = next(c for c in notebook.cells if c.cell_type == "code")
    if existing and existing[0] is first_code and first_code.source == code:
        return False
    notebook.cells = [c for c in notebook.cells if c.get("id") != CELL_ID]
    position = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")
    notebook.cells.insert(position, cell)
    return True


def main(argv: list[str]) -> int:
    code, stale = source(), []
    for path in notebooks():
        notebook = nbformat.read(path, as_version=4)
        if with_setup_cell(notebook, code):
            stale.append(path.relative_to(ROOT))
            if "--check" not in argv:
                nbformat.write(notebook, path)
    verb = "out of date" if "--check" in argv else "updated"
    for path in stale:
        print(f"{verb}: {path}")
    return 1 if stale and "--check" in argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
