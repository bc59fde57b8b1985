"""Stored experiment results: where they live, how they are written and read back.

Every long experiment in the book stores one JSON record in ``rnnbook/data/``: its
configuration, the software versions, the command that made it and the runs. One convention
for all of them:

- A record is written by :func:`dump_record`, with one line per top-level key and one line per
  row of its long lists, so that a regenerated file gives a readable ``git diff``.
- The JSON is strict: ``dump_record`` refuses NaN and infinity (``ValueError``). Curves that
  may hold them go through :func:`json_floats`, which writes the strings ``"nan"``, ``"inf"``
  and ``"-inf"``, and are read back by :func:`read_floats`.
- Each experiment module names its file and command once, in a :class:`StoredExperiment`, which
  also gives it the shared command-line skeleton (:meth:`StoredExperiment.parser`, ``--output``)
  and the loader its module exposes as ``load_runs()``.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.resources
import json
import math
import os
import platform
import sys
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from rnnbook.checks import (
    MAX_SEED,
    MAX_STEPS,
    check_array,
    check_count,
    check_flag,
    check_inside,
)

#: The strings that stand for non-finite floats in a stored curve.
NON_FINITE = ("nan", "inf", "-inf")


def software_versions() -> dict[str, str]:
    """Return the versions of Python, numpy and torch, for a record's provenance."""
    import torch

    return {"python": platform.python_version(), "numpy": np.__version__,
            "torch": torch.__version__}


def json_floats(values: ArrayLike, *, float32: bool = False) -> list:
    """Return ``values`` as a JSON-ready list: finite floats, and "nan", "inf", "-inf" strings.

    Parameters
    ----------
    values : array_like, shape (S,)
    float32 : bool
        Write each finite value as the shortest decimal that reads back as the same float32
        (for curves of float32 runs: exact and compact).
    """
    float32 = check_flag("float32", float32)
    out = []
    for value in check_array("values", values, ndim=1, finite=False).tolist():
        if not math.isfinite(value):
            out.append(str(value))
        elif float32:
            out.append(float(str(np.float32(value))))
        else:
            out.append(float(value))
    return out


def read_floats(values, name: str = "values") -> np.ndarray:
    """Return the float64 array of a list written by :func:`json_floats`.

    Raises ``ValueError`` naming ``name`` unless ``values`` is a list of numbers (not bools) and
    the strings "nan", "inf", "-inf".
    """
    if not isinstance(values, list) or any(
        isinstance(v, bool) or not (isinstance(v, int | float) or v in NON_FINITE)
        for v in values
    ):
        raise ValueError(f"{name} must be a list of numbers or the strings 'nan', 'inf', '-inf'")
    return np.array([float(v) for v in values], dtype=np.float64)


def base_config(configs: Sequence, varying: Collection[str] = ("model", "T", "seed")) -> dict:
    """Return the settings a grid's run configs (dataclasses) share: the first one's fields
    without the ``varying`` ones."""
    if not configs:
        raise ValueError("configs must not be empty")
    base = dataclasses.asdict(configs[0])
    for name in varying:
        base.pop(name)
    return base


def table_rows(rows: Sequence[dict]) -> list[dict]:
    """Return the rows of a results table as a list; a dict or a non-sequence is a TypeError."""
    if isinstance(rows, dict) or not isinstance(rows, Sequence):
        raise TypeError(f"rows must be a sequence of dicts, got {type(rows).__name__}")
    return list(rows)


def check_record_keys(record: dict, keys: Collection[str], what: str) -> dict:
    """Return ``record`` if it is a dict with exactly ``keys``; else raise naming ``what``.

    Raises ``TypeError`` for a non-dict and ``ValueError`` listing the missing and unexpected
    keys.
    """
    if not isinstance(record, dict):
        raise TypeError(f"{what} must be a dict, got {type(record).__name__}")
    expected = set(keys)
    if set(record) != expected:
        raise ValueError(f"not a valid {what}: missing {sorted(expected - set(record))}, "
                         f"unexpected {sorted(set(record) - expected)}")
    return record


def dump_record(record: dict, row_keys: Collection[str]) -> str:
    """Return ``record`` as strict JSON text: one line per key, and one per row of ``row_keys``.

    NaN and infinity are refused (``ValueError``): store curves with :func:`json_floats`.
    """
    parts = []
    for key, value in record.items():
        if key in row_keys and isinstance(value, list):
            rows = ",\n  ".join(json.dumps(row, allow_nan=False) for row in value)
            parts.append(f" {json.dumps(key)}: [\n  {rows}\n ]")
        else:
            parts.append(f" {json.dumps(key)}: {json.dumps(value, allow_nan=False)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def data_path(file_name: str) -> Path:
    """Return the path of ``rnnbook/data/<file_name>`` in the (editable) source tree.

    ``file_name`` must stay inside the data folder (no absolute path, no ``..`` out of it).
    """
    return check_inside("file_name", file_name, Path(__file__).resolve().parent.parent / "data")


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
    """Write a dumped record to ``path`` (a ``Path`` or str), creating its folder."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or a Path, got {type(path).__name__}")
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@dataclass(frozen=True, eq=False)
class StoredExperiment:
    """Where one experiment's record lives, how it is dumped, and its command line.

    Attributes
    ----------
    module : str
        The module that regenerates the record, ``python -m <module>``.
    file_name : str
        The record's file in ``rnnbook/data/``.
    row_keys : tuple of str
        Top-level keys whose lists are written one row per line.
    """

    module: str
    file_name: str
    row_keys: tuple[str, ...]

    @property
    def command(self) -> str:
        """The command that regenerates the record with its default options."""
        return f"python -m {self.module}"

    def command_line(self, argv: Sequence[str]) -> str:
        """Return the command line to record: :attr:`command` followed by ``argv``."""
        return " ".join([self.command, *argv])

    def default_output(self) -> Path:
        """Return the path of the data file inside the (editable) source tree."""
        return data_path(self.file_name)

    def dump(self, record: dict) -> str:
        """Return the record as JSON text (:func:`dump_record` with :attr:`row_keys`)."""
        return dump_record(record, self.row_keys)

    def load(self) -> dict:
        """Return the stored record (:func:`load_record`)."""
        return load_record(self.file_name, self.command)

    def write(self, path: Path, record: dict) -> None:
        """Dump ``record`` and write it to ``path``."""
        write_record(path, self.dump(record))

    def parser(self, description: str, argv: Sequence[str] | None = None,
               ) -> tuple[argparse.ArgumentParser, list[str]]:
        """Return ``(parser, argv)``: the shared command-line skeleton of an experiment.

        The parser has ``--output`` (default None: the book's data file, see :meth:`output`)
        and ``--overwrite``; ``argv`` defaults to ``sys.argv[1:]`` and is returned as a list,
        to be recorded with :meth:`command_line`.
        """
        argv = list(sys.argv[1:] if argv is None else argv)
        parser = argparse.ArgumentParser(prog=self.command, description=description)
        parser.add_argument("--output", type=Path, default=None,
                            help="where to write the record (default: the book's data file, "
                                 "which is replaced only with --overwrite)")
        parser.add_argument("--overwrite", action="store_true",
                            help="replace the book's data file if it exists")
        return parser, argv

    def output(self, parser: argparse.ArgumentParser, args: argparse.Namespace,
               default: Path | None = None) -> Path:
        """Return where to write, checked before any work: ``--output``, else ``default``.

        ``default`` is the book's data file (:meth:`default_output`) unless given. Writing over
        an existing default file needs ``--overwrite``; otherwise the parser exits with a
        message (status 2), so a mistyped command never replaces the stored data.
        """
        if args.output is not None:
            return Path(args.output)
        path = self.default_output() if default is None else Path(default)
        if path.exists() and not getattr(args, "overwrite", False):
            parser.error(f"{path} exists; pass --overwrite to replace it, or --output PATH to "
                         "write elsewhere")
        return path


def count_arg(minimum: int = 1, maximum: int = MAX_STEPS) -> Callable[[str], int]:
    """Return an ``argparse`` type: an integer in [minimum, maximum], refused before any work."""
    minimum = check_count("minimum", minimum, 0, MAX_SEED)
    maximum = check_count("maximum", maximum, 0, MAX_SEED)
    if maximum < minimum:
        raise ValueError(f"minimum must be <= maximum, got minimum {minimum} and maximum "
                         f"{maximum}")

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(
                f"expected an integer between {minimum} and {maximum}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse
