"""The Colab setup cell (scripts/setup_cell.py): first in every chapter, and it installs rnnbook
only on Colab, without replacing Colab's torch, numpy or matplotlib."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import types
from importlib.metadata import version

import nbformat
import pytest
import yaml

from conftest import ROOT

spec = importlib.util.spec_from_file_location("setup_cell", ROOT / "scripts" / "setup_cell.py")
setup_cell = importlib.util.module_from_spec(spec)
spec.loader.exec_module(setup_cell)


def test_every_chapter_starts_with_the_hidden_setup_cell():
    paths = setup_cell.notebooks()
    assert {p.name[:4] for p in paths} >= {f"ch0{k}" for k in range(1, 8)}
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        first = next(c for c in notebook.cells if c.cell_type == "code")
        assert first.source == setup_cell.source(), f"{path.name}: run scripts/setup_cell.py"
        assert "remove-cell" in first.metadata.get("tags", []), path.name


def test_check_mode_reports_nothing_stale():
    assert setup_cell.main(["--check"]) == 0


def run_cell(monkeypatch, *, colab: bool, installed: bool) -> tuple[list, list]:
    """Execute the cell with a simulated environment; return (pip commands, widget calls)."""
    commands, widget_calls = [], []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: commands.append((cmd, kw)))
    if colab:
        output = types.SimpleNamespace(
            enable_custom_widget_manager=lambda: widget_calls.append("enabled"))
        monkeypatch.setitem(sys.modules, "google.colab", types.SimpleNamespace(output=output))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args):
        return None if name == "rnnbook" and not installed else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    exec(compile(setup_cell.source(), "setup-cell", "exec"), {})
    return commands, widget_calls


def test_on_colab_installs_from_the_configured_repository_keeping_colabs_versions(monkeypatch):
    commands, widget_calls = run_cell(monkeypatch, colab=True, installed=False)
    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    assert commands == [(
        [sys.executable, "-m", "pip", "install", "--quiet",
         f"torch=={version('torch')}", f"numpy=={version('numpy')}",
         f"matplotlib=={version('matplotlib')}",
         f"rnnbook @ git+{repository['url']}@{repository['branch']}"],
        {"check": True},
    )]
    assert widget_calls == ["enabled"]


@pytest.mark.parametrize(("colab", "installed"), [(False, True), (True, True), (False, False)])
def test_elsewhere_the_cell_runs_nothing(monkeypatch, colab, installed):
    assert run_cell(monkeypatch, colab=colab, installed=installed) == ([], [])


def test_launch_urls_have_no_dot_segment():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["repository"]["path_to_book"].strip("/") in ("", "book")
    assert not config["repository"]["url"].endswith("/")
