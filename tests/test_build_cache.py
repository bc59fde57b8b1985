"""A change under src/rnnbook/ must re-execute the notebooks on the next build."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from conftest import ROOT

spec = importlib.util.spec_from_file_location("build_book", ROOT / "scripts" / "build_book.py")
build_book = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_book)


@pytest.fixture()
def tree(tmp_path):
    package = tmp_path / "src" / "rnnbook"
    package.mkdir(parents=True)
    (package / "rnn.py").write_text("SCALE = 1\n")
    cache = tmp_path / "_build" / ".jupyter_cache"
    hash_file = tmp_path / "_build" / ".rnnbook-source-hash"
    return package, cache, hash_file


def fill(cache):
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "global.db").write_text("cached outputs")


def test_cache_survives_when_the_package_is_unchanged(tree):
    package, cache, hash_file = tree
    build_book.invalidate_stale_cache(package, cache, hash_file)
    fill(cache)
    assert build_book.invalidate_stale_cache(package, cache, hash_file) is False
    assert (cache / "global.db").exists()


@pytest.mark.parametrize("change", ["edit", "new file", "rename"])
def test_cache_is_cleared_when_the_package_changes(tree, change):
    package, cache, hash_file = tree
    build_book.invalidate_stale_cache(package, cache, hash_file)
    fill(cache)
    if change == "edit":
        (package / "rnn.py").write_text("SCALE = 2\n")
    elif change == "new file":
        (package / "data.json").write_text("{}")
    else:
        (package / "rnn.py").rename(package / "rnn2.py")
    assert build_book.invalidate_stale_cache(package, cache, hash_file) is True
    assert not cache.exists()


def test_bytecode_caches_do_not_count(tree):
    package, cache, hash_file = tree
    before = build_book.source_hash(package)
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "rnn.cpython-311.pyc").write_bytes(b"\x00")
    assert build_book.source_hash(package) == before


@pytest.mark.slow
def test_last_build_used_the_current_package():
    hash_file = ROOT / "_build" / ".rnnbook-source-hash"
    assert hash_file.exists(), "build the book with `make book` (scripts/build_book.py)"
    assert hash_file.read_text().strip() == build_book.source_hash()


def test_pages_are_written_again_when_an_extension_changes(tmp_path):
    # Sphinx keeps a page whose source is unchanged even if an extension that renders it
    # changed (pages built before build_math kept loading MathJax).
    package, extensions = tmp_path / "rnnbook", tmp_path / "_ext"
    for folder in (package, extensions):
        folder.mkdir()
    (package / "rnn.py").write_text("SCALE = 1\n")
    (extensions / "build_math.py").write_text("RENDERER = 'mathjax'\n")
    hash_file = tmp_path / "_build" / ".rnnbook-pages-hash"
    folders = (package, extensions)
    assert build_book.pages_changed(folders, hash_file) is True  # first build
    assert build_book.pages_changed(folders, hash_file) is False
    (extensions / "build_math.py").write_text("RENDERER = 'katex'\n")
    assert build_book.pages_changed(folders, hash_file) is True
    assert build_book.pages_changed(folders, hash_file) is False
    (package / "rnn.py").write_text("SCALE = 2\n")
    assert build_book.pages_changed(folders, hash_file) is True


def load_script(name, monkeypatch):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)  # the scripts import each other by name
    spec.loader.exec_module(module)
    return module


def test_the_chinese_build_is_fresh_until_it_has_built_the_current_pages(tmp_path, monkeypatch):
    load_script("alt_text", monkeypatch)
    build_zh = load_script("build_zh", monkeypatch)
    pages_hash, marker = tmp_path / "pages-hash", tmp_path / "zh" / "pages-hash"
    pages_hash.write_text("a\n")
    assert build_zh.pages_changed(pages_hash, marker) is True
    assert build_zh.pages_changed(pages_hash, marker) is True  # a failed build marks nothing
    build_zh.mark_built(pages_hash, marker)
    assert build_zh.pages_changed(pages_hash, marker) is False
    pages_hash.write_text("b\n")
    assert build_zh.pages_changed(pages_hash, marker) is True
