"""Stored experiment results: where they live, how they are written and read back.

Every long experiment in the book (see BOOK_PLAN "Long experiments") stores one JSON record in
``rnnbook/data/``: its configuration, the software versions, the command that made it and the
runs. A record is written with one line per top-level key and one line per row of its long
lists, so that a regenerated file gives a readable ``git diff``.
"""

from __future__ import annotations

import importlib.resources
import json
import platform
from collections.abc import Collection
from pathlib import Path

import numpy as np


def software_versions() -> dict[str, str]:
    """Return the versions of Python, numpy and torch, for a record's provenance."""
    import torch

    return {"python": platform.python_version(), "numpy": np.__version__,
            "torch": torch.__version__}


def dump_record(record: dict, row_keys: Collection[str], *, allow_nan: bool = True) -> str:
    """Return ``record`` as JSON text: one line per key, and one per row of ``row_keys``' lists.

    ``allow_nan=False`` rejects NaN and infinity (``ValueError``) instead of writing the
    non-standard ``NaN``/``Infinity`` tokens.
    """
    parts = []
    for key, value in record.items():
        if key in row_keys and isinstance(value, list):
            rows = ",\n  ".join(json.dumps(row, allow_nan=allow_nan) for row in value)
            parts.append(f" {json.dumps(key)}: [\n  {rows}\n ]")
        else:
            parts.append(f" {json.dumps(key)}: {json.dumps(value, allow_nan=allow_nan)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def data_path(file_name: str) -> Path:
    """Return the path of ``rnnbook/data/<file_name>`` in the (editable) source tree."""
    return Path(__file__).resolve().parent / "data" / file_name


def load_record(file_name: str, command: str) -> dict:
    """Return the JSON record ``rnnbook/data/<file_name>`` shipped with the package.

    Raises ``FileNotFoundError`` naming ``command``, the command that regenerates the file.
    """
    resource = importlib.resources.files("rnnbook").joinpath("data", file_name)
    if not resource.is_file():
        raise FileNotFoundError(f"{file_name} is missing from the rnnbook package; regenerate "
                                f"it with `{command}`")
    return json.loads(resource.read_text(encoding="utf-8"))


def write_record(path: Path, text: str) -> None:
    """Write a dumped record to ``path``, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
