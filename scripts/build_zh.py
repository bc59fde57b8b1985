"""Build the Chinese edition (zh_CN) from the English sources with Sphinx's own i18n.

The ``jupyter-book`` CLI cannot pass ``-D language=``, so this script asks Jupyter Book for the
Sphinx configuration it would use (``jupyter-book config sphinx``), writes it to
``_build/zh/conf/conf.py`` with absolute paths, and runs ``sphinx-build`` on it:

``python scripts/build_zh.py``
    HTML with ``language = zh_CN`` into ``_build/html/zh/`` (same page paths as the English
    site). Notebooks come from the English execution cache ``_build/.jupyter_cache``
    (``make book`` fills it first); a notebook missing from the cache is an error, never
    re-executed here.
``python scripts/build_zh.py --catalogues``
    Extract the gettext templates (``sphinx-build -b gettext``, one ``.pot`` per page) into
    ``_build/gettext`` and merge them into ``locale/zh_CN/LC_MESSAGES/**/*.po`` with
    ``msgmerge``: new English paragraphs arrive untranslated, changed ones fuzzy, and
    ``tests/test_zh.py`` fails until a translator fixes both.

Extra arguments after ``--`` go to ``sphinx-build``. ``--allow-uncached`` (for iterating on a
partial English cache) shows the stored outputs of notebooks that are not cached.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import alt_text

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
CACHE = BUILD / ".jupyter_cache"
WORK = BUILD / "zh"
CONF_DIR = WORK / "conf"
GETTEXT = BUILD / "gettext"
HTML_ZH = BUILD / "html" / "zh"
LOCALE = ROOT / "locale"
LANGUAGE = "zh_CN"
CATALOGUES = LOCALE / LANGUAGE / "LC_MESSAGES"
#: The alt texts' catalogue (scripts/alt_text.py): one template per sentence, numbers as {n}.
ALT_DOMAIN = "alt"

#: Settings appended to Jupyter Book's configuration for both builds.
I18N_SETTINGS = f"""
# --- appended by scripts/build_zh.py ---------------------------------------------------------
# One catalogue per page (book/ch01_rnn_structure.po, ...), so translators can work in parallel.
gettext_compact = False
# Paragraphs keep their inline markup ({{doc}}, $math$, **bold**) inside one message.
gettext_uuid = False
gettext_location = True
gettext_additional_targets = []
locale_dirs = [{str(WORK / 'locale')!r}]
# The English execution cache; never execute here.
nb_execution_mode = "cache"
nb_execution_cache_path = {str(CACHE)!r}
nb_execution_raise_on_error = True
nb_code_prompt_show = "显示代码"
nb_code_prompt_hide = "隐藏代码"
# Tables nested in directives (dropdowns) get a source, or gettext skips their cells.
extensions = [*extensions, "i18n_fixes"]
"""


def uncached_notebooks(cache: Path = CACHE) -> list[Path]:
    """Return the table of contents' notebooks whose code has no record in the cache."""
    import nbformat
    from jupyter_cache import get_cache

    sys.path.insert(0, str(ROOT / "scripts"))
    from build_book import toc_notebooks

    if not cache.exists():
        return toc_notebooks()
    project = get_cache(str(cache))
    missing = []
    for notebook in toc_notebooks():
        try:
            project.match_cache_notebook(nbformat.read(notebook, as_version=4))
        except KeyError:
            missing.append(notebook)
    return missing


def execution_settings(allow_uncached: bool) -> str:
    """Return the configuration lines that keep Sphinx from executing anything.

    Every notebook must be in the English cache; with ``allow_uncached`` (a partial build
    while iterating) the missing ones are shown with their stored outputs instead.
    """
    missing = uncached_notebooks()
    if missing and not allow_uncached:
        names = ", ".join(nb.name for nb in missing)
        raise SystemExit(f"not in the execution cache: {names}. Build the English edition "
                         "first (make book); the Chinese build never executes notebooks.")
    if missing:
        print("stored outputs (not cached) for: " + ", ".join(nb.name for nb in missing))
        patterns = [nb.relative_to(ROOT).as_posix() for nb in missing]
        return f"nb_execution_excludepatterns = {patterns!r}\n"
    return ""


def jupyter_book(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("jupyter-book")), *args]


def write_conf(extra: str = "") -> Path:
    """Write Jupyter Book's Sphinx configuration, with absolute paths, to ``CONF_DIR``."""
    generated = ROOT / "conf.py"
    existed = generated.exists()
    previous = generated.read_text() if existed else None
    subprocess.run(jupyter_book("config", "sphinx", str(ROOT)), cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    text = generated.read_text()
    if existed:
        generated.write_text(previous)
    else:
        generated.unlink()
    text = absolutise(text)
    CONF_DIR.mkdir(parents=True, exist_ok=True)
    conf = CONF_DIR / "conf.py"
    conf.write_text(text + I18N_SETTINGS + extra)
    return conf


def absolutise(conf: str) -> str:
    """Return ``conf`` with the paths Sphinx resolves against the conf folder made absolute."""
    for key in ("html_static_path", "bibtex_bibfiles"):
        def fix(match: re.Match) -> str:
            items = re.findall(r"'([^']*)'", match.group(2))
            return f"{match.group(1)}{[str(ROOT / item) for item in items]!r}"
        conf = re.sub(rf"^({key} = )(\[.*\])$", fix, conf, flags=re.M)
    conf = re.sub(r"^(external_toc_path = )'(.*)'$",
                  lambda m: f"{m.group(1)}{str(ROOT / m.group(2))!r}", conf, flags=re.M)
    # Jupyter Book puts the local extensions' folders on sys.path itself; a plain conf.py must.
    folders = sorted({str(ROOT / folder) for folder in local_extension_folders()})
    return f"import sys\nsys.path[:0] = {folders!r}\n" + conf


def local_extension_folders(config: Path = ROOT / "_config.yml") -> list[str]:
    """Return the folders of ``sphinx: local_extensions:`` in Jupyter Book's _config.yml."""
    import yaml

    sphinx_config = yaml.safe_load(config.read_text()).get("sphinx", {})
    return list((sphinx_config.get("local_extensions") or {}).values())


def sphinx(builder: str, out: Path, doctrees: Path, *extra: str) -> None:
    command = [sys.executable, "-m", "sphinx", "-b", builder, "-c", str(CONF_DIR),
               "-d", str(doctrees), "-q", *extra, str(ROOT), str(out)]
    subprocess.run(command, cwd=ROOT, check=True)


def compile_catalogues() -> bool:
    """Compile the .po files into the build's locale folder; return whether any .mo changed.

    Sphinx does not re-read a page whose catalogue changed (its environment tracks the
    sources, not the .mo files), so a changed catalogue must force a fresh environment.
    """
    target = WORK / "locale" / LANGUAGE / "LC_MESSAGES"
    previous = {mo: mo.read_bytes() for mo in target.rglob("*.mo")} if target.exists() else {}
    if target.exists():
        shutil.rmtree(target)
    for po in sorted(CATALOGUES.rglob("*.po")):
        mo = target / po.relative_to(CATALOGUES).with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["msgfmt", "--check-format", "-o", str(mo), str(po)], check=True)
    return {mo: mo.read_bytes() for mo in target.rglob("*.mo")} != previous


def extract_and_merge(allow_uncached: bool = False) -> list[Path]:
    """Extract .pot templates and merge them into the .po catalogues; return the catalogues."""
    write_conf(execution_settings(allow_uncached))
    if GETTEXT.exists():
        shutil.rmtree(GETTEXT)
    # Figure captions exist only where the cached outputs hold the figures, so the templates
    # are extracted from the same cache as the HTML.
    sphinx("gettext", GETTEXT, WORK / "doctrees-gettext")
    # The alt texts that Sphinx does not see (explorer frames, cell metadata, the theme's),
    # read from the English site that `make catalogues` has just built.
    alt_text.extract(BUILD / "html", GETTEXT / f"{ALT_DOMAIN}.pot")
    written = []
    for pot in sorted(GETTEXT.rglob("*.pot")):
        po = CATALOGUES / pot.relative_to(GETTEXT).with_suffix(".po")
        po.parent.mkdir(parents=True, exist_ok=True)
        if po.exists():
            subprocess.run(["msgmerge", "--quiet", "--update", "--backup=none", "--no-wrap",
                            "--previous", str(po), str(pot)], check=True)
        else:
            subprocess.run(["msginit", "--no-translator", "--no-wrap", "--locale", LANGUAGE,
                            "-i", str(pot), "-o", str(po)], check=True,
                           stderr=subprocess.DEVNULL)
        written.append(po)
    for po in CATALOGUES.rglob("*.po"):
        if po not in written:
            print(f"obsolete catalogue (its page is gone): {po.relative_to(ROOT)}")
    return written


def pages_changed(pages_hash: Path = BUILD / ".rnnbook-pages-hash",
                  marker: Path = WORK / ".rnnbook-pages-hash") -> bool:
    """Return whether the English build's pages changed since this build's last success.

    ``scripts/build_book.py`` writes ``pages_hash`` (of the package, which makes the outputs,
    and of the book's extensions and templates); Sphinx would keep serving pages whose source
    did not change, so a new hash means a fresh environment here. ``mark_built`` records it.
    """
    current = pages_hash.read_text() if pages_hash.exists() else ""
    return not marker.exists() or marker.read_text() != current


def mark_built(pages_hash: Path = BUILD / ".rnnbook-pages-hash",
               marker: Path = WORK / ".rnnbook-pages-hash") -> None:
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(pages_hash.read_text() if pages_hash.exists() else "")


def build_html(extra: list[str], allow_uncached: bool = False) -> None:
    write_conf(execution_settings(allow_uncached))
    changed = compile_catalogues()
    fresh = ["-E"] if pages_changed() or changed else []
    sphinx("html", HTML_ZH, WORK / "doctrees", "-D", f"language={LANGUAGE}", *fresh, *extra)
    mark_built()
    mo = WORK / "locale" / LANGUAGE / "LC_MESSAGES" / f"{ALT_DOMAIN}.mo"
    missing = alt_text.translate_site(HTML_ZH, mo) if mo.exists() else ["(no alt.po)"]
    if missing:
        print(f"warning: {len(missing)} alt text(s) not in {ALT_DOMAIN}.po (run `make "
              f"catalogues` and translate them), e.g. {missing[0][:100]!r}", file=sys.stderr)
    print(f"The Chinese edition is built: {HTML_ZH / 'index.html'}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalogues", action="store_true",
                        help="extract .pot templates and merge them into locale/zh_CN")
    parser.add_argument("--allow-uncached", action="store_true",
                        help="while iterating: show stored outputs for notebooks not cached")
    parser.add_argument("sphinx_args", nargs="*", help="extra sphinx-build arguments")
    args = parser.parse_args(argv)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    if args.catalogues:
        for po in extract_and_merge(args.allow_uncached):
            print(po.relative_to(ROOT))
        return 0
    build_html(args.sphinx_args, args.allow_uncached)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
