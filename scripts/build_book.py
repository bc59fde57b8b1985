"""Build the book into _build/html, re-executing notebooks whenever rnnbook's source changed.

jupyter-cache keys a notebook's cached outputs on its code cells only, so an edit under
src/rnnbook/ would otherwise leave stale outputs on the pages. This script hashes the
package's files and clears the execution cache when the hash differs from the last build's.
It then executes the notebooks the table of contents lists that are not cached yet, in
parallel (one process per core), into the same cache; jupyter-book finds them there.

With ``--zh`` it also builds the Chinese edition (``scripts/build_zh.py``) once the cache is
full, at the same time as the English one: the execution uses both cores, but each Sphinx
build is one process, so the two run side by side (the Chinese build only reads the cache).

Usage: python scripts/build_book.py [--zh] [extra jupyter-book arguments]
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "rnnbook"
BUILD = ROOT / "_build"
CACHE = BUILD / ".jupyter_cache"
HASH_FILE = BUILD / ".rnnbook-source-hash"
#: What renders the pages besides the notebooks: Sphinx tracks sources and configuration, not
#: the code of the book's own extensions, its templates, its static files (a build with no
#: page out of date does not copy them) or the widget manager's source.
RENDERING = tuple(ROOT / "book" / name for name in ("_ext", "_templates", "_static", "_js"))
PAGES_HASH_FILE = BUILD / ".rnnbook-pages-hash"


def source_hash(package: Path = PACKAGE) -> str:
    """Return a SHA-256 over the relative paths and contents of the package's files."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def invalidate_stale_cache(package: Path = PACKAGE, cache: Path = CACHE,
                           hash_file: Path = HASH_FILE) -> bool:
    """Return True, after deleting ``cache``, if the package changed since the last build."""
    current = source_hash(package)
    previous = hash_file.read_text().strip() if hash_file.exists() else None
    stale = previous != current
    if stale and cache.exists():
        shutil.rmtree(cache)
    hash_file.parent.mkdir(parents=True, exist_ok=True)
    hash_file.write_text(current + "\n")
    return stale


def pages_changed(folders: tuple[Path, ...] = (PACKAGE, *RENDERING),
                  hash_file: Path = PAGES_HASH_FILE) -> bool:
    """Return whether anything that renders the pages (the package, which makes the outputs,
    and ``RENDERING``) changed since the last build; record the new state in ``hash_file``.

    Sphinx would keep a page whose source did not change, even when an extension that renders
    it did (a page built before ``build_math`` kept loading MathJax): a change means every
    page is written again, in both editions (``scripts/build_zh.py`` reads ``hash_file``).
    """
    current = hashlib.sha256("".join(source_hash(f) for f in folders).encode()).hexdigest()
    previous = hash_file.read_text().strip() if hash_file.exists() else None
    hash_file.parent.mkdir(parents=True, exist_ok=True)
    hash_file.write_text(current + "\n")
    return previous != current


def toc_notebooks(toc: Path = ROOT / "_toc.yml") -> list[Path]:
    """Return the notebooks (.ipynb) that the table of contents lists."""
    files = re.findall(r"^\s*-?\s*(?:file|root):\s*(\S+)", toc.read_text(), flags=re.M)
    return [ROOT / f"{name}.ipynb" for name in files if (ROOT / f"{name}.ipynb").exists()]


def execute_uncached(notebooks: list[Path], cache: Path = CACHE, timeout: int = 300) -> None:
    """Execute the notebooks missing from the jupyter-cache at ``cache``, in parallel."""
    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor

    project = get_cache(str(cache))
    for notebook in notebooks:
        project.add_nb_to_project(str(notebook))
    wanted = {str(nb) for nb in notebooks}
    pending = [record.uri for record in project.list_unexecuted() if record.uri in wanted]
    if not pending:
        return
    print(f"Executing {len(pending)} notebook(s) on {os.cpu_count()} processes")
    result = load_executor("local-parallel", project).run_and_cache(
        filter_uris=pending, timeout=timeout, allow_errors=False)
    if result.errored:
        raise SystemExit(f"notebook execution failed: {result.errored}")


def main(argv: list[str]) -> int:
    with_zh = "--zh" in argv
    argv = [arg for arg in argv if arg != "--zh"]
    fresh = []
    if invalidate_stale_cache():
        print("rnnbook's source changed since the last build: notebooks will be re-executed.")
        # Sphinx re-reads only pages whose source changed; new outputs need every page re-read.
        fresh = ["--all"]
    if pages_changed() and not fresh:
        print("The book's extensions, templates or static files changed: "
              "every page is written again.")
        fresh = ["--all"]
    execute_uncached(toc_notebooks())
    command = [sys.executable, "-m", "jupyter_book", "build", str(ROOT), "-W", "-n",
               "--keep-going", *fresh, *argv]
    # jupyter-book 1.x has no `python -m jupyter_book`; call its console script beside python.
    command[:3] = [str(Path(sys.executable).with_name("jupyter-book"))]
    # Every notebook is in the cache now: the Chinese build never executes, so it can run
    # beside the English one.
    chinese = (subprocess.Popen([sys.executable, str(ROOT / "scripts" / "build_zh.py")],
                                cwd=ROOT) if with_zh else None)
    result = subprocess.run(command, cwd=ROOT)
    zh_code = chinese.wait() if chinese else 0
    if result.returncode != 0:
        # A failed build must not mark the cache or the pages as fresh.
        HASH_FILE.unlink(missing_ok=True)
        PAGES_HASH_FILE.unlink(missing_ok=True)
        return result.returncode
    if zh_code != 0:
        print("The Chinese edition failed to build (scripts/build_zh.py).", file=sys.stderr)
        return zh_code
    print(f"\nThe book is built. Open {BUILD / 'html' / 'index.html'} in a browser, "
          "or run `make serve` and visit http://127.0.0.1:8000")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
