"""Translate the alt text of the built site's images with a gettext catalogue (``alt.po``).

Sphinx's gettext translates the prose, the captions and the alt text written in Markdown, but
not the alt text that reaches the page another way: each explorer frame's description, which a
``describe_*`` function wrote into the widget state when the notebook was executed; the alt text
set in a cell's ``mystnb`` metadata; and the theme's own images. Those are translated here, on
the built HTML, with one catalogue, ``locale/zh_CN/LC_MESSAGES/alt.po``.

An alt text's message is a *template*: the text with every number replaced by a numbered
placeholder, ``{1}``, ``{2}``, ... in order of appearance, so that the 25 frames of one explorer
share one message::

    msgid "Seed {1}, loss and gradient norm over {2} training steps. ..."
    msgstr "种子 {1}：{2} 个训练步的损失和梯度范数。..."

A translation uses each placeholder once, in any order; the numbers are put back verbatim.

- ``extract(site)`` collects the templates of every alt text of the English site (image
  ``alt`` attributes and the ``alt`` of the frames in the widget state) and writes ``alt.pot``;
  ``scripts/build_zh.py --catalogues`` (``make catalogues``) merges it into ``alt.po``, so a
  changed ``describe_*`` sentence arrives there untranslated (and ``tests/test_zh.py`` fails
  until it is translated).
- ``translate_site(site, mo)`` rewrites the Chinese site's pages in place with the compiled
  catalogue; ``scripts/build_zh.py`` runs it after ``sphinx-build``. It returns the alt texts it
  found no translation for.
"""

from __future__ import annotations

import gettext
import html
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

#: A number as the describe functions print it: 4, -2.8, +1, 0.30, 7.4e-05, 1.3e+17. A digit
#: that is part of a symbol (x_t, h_{t-1}, x_(T-4), L2) is not a number.
NUMBER = re.compile(r"(?<![\w.^_{}\-+])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?!\w)")
PLACEHOLDER = re.compile(r"\{(\d+)\}")
HEADER = (
    "Alt text of the book's images that Sphinx's gettext does not extract (scripts/alt_text.py):",
    "explorer frames (the describe_* functions), images set in cell metadata, the theme's images.",
    "{1}, {2}, ... stand for the English text's numbers, in order: use each exactly once.",
)
CJK = re.compile(r"[\u3400-\u9fff]")
IMG_ALT = re.compile(r'(<img\b[^>]*?\balt=")([^"]*)(")', re.S)
WIDGET_STATE = re.compile(
    r'(<script type="application/vnd\.jupyter\.widget-state\+json">)(.*?)(</script>)', re.S)


def template(text: str) -> tuple[str, list[str]]:
    """Return ``text`` with its numbers replaced by ``{1}``, ``{2}``, ... and the numbers.

    Raises
    ------
    ValueError
        If ``text`` already holds a placeholder-like ``{n}`` (it could not be told apart).
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if PLACEHOLDER.search(text):
        raise ValueError(f"alt text {text[:60]!r} contains a literal {{n}}; reword it")
    numbers: list[str] = []

    def mask(match: re.Match) -> str:
        numbers.append(match.group(0))
        return f"{{{len(numbers)}}}"

    return NUMBER.sub(mask, text), numbers


def fill(translation: str, numbers: list[str]) -> str:
    """Return ``translation`` with each placeholder ``{k}`` replaced by ``numbers[k - 1]``."""
    def put(match: re.Match) -> str:
        index = int(match.group(1))
        if not 1 <= index <= len(numbers):
            raise ValueError(f"placeholder {{{index}}} in {translation[:60]!r}: the English "
                             f"text has {len(numbers)} numbers")
        return numbers[index - 1]

    return PLACEHOLDER.sub(put, translation)


def needs_translation(text: str) -> bool:
    """Return whether an alt text is English prose (letters, no Chinese)."""
    return bool(re.search(r"[A-Za-z]{2}", text)) and not CJK.search(text)


# ---- reading and rewriting the alt texts of a page ----------------------------------------


def _rewrite_frames(value: str, change: Callable[[str], str]) -> str:
    """Apply ``change`` to the alt texts of the ``<img>`` tags in an HTML widget's value."""
    return IMG_ALT.sub(lambda m: m.group(1) + html.escape(change(html.unescape(m.group(2))),
                                                          quote=True) + m.group(3), value)


def _rewrite_state(script: str, change: Callable[[str], str]) -> str:
    state = json.loads(script)
    for model in state.get("state", {}).values():
        values = model.get("state", {})
        if isinstance(values.get("value"), str) and "<img" in values["value"]:
            values["value"] = _rewrite_frames(values["value"], change)
    # As myst-nb writes it: a "</script>" inside the JSON must not end the script element.
    return json.dumps(state, ensure_ascii=False).replace("</script>", r"<\/script>")


def rewrite_page(page: str, change: Callable[[str], str]) -> str:
    """Return ``page`` with ``change`` applied to every alt text: the ``alt`` attributes of its
    images and of the explorer frames held in its widget state."""
    page = WIDGET_STATE.sub(lambda m: m.group(1) + _rewrite_state(m.group(2), change)
                            + m.group(3), page)
    return IMG_ALT.sub(lambda m: m.group(1) + html.escape(change(html.unescape(m.group(2))),
                                                          quote=True) + m.group(3), page)


def page_alt_texts(page: str) -> list[str]:
    """Return the alt texts of a page: widget-state frames first, then ``<img>`` tags."""
    found: list[str] = []

    def keep(text: str) -> str:
        found.append(text)
        return text

    rewrite_page(page, keep)
    return found


def site_pages(site: Path) -> Iterator[Path]:
    """Yield the HTML pages of one edition (the English site excludes ``zh/``)."""
    for path in sorted(site.rglob("*.html")):
        if path.relative_to(site).parts[0] not in {"zh", "_static", "_sources"}:
            yield path


# ---- extraction ---------------------------------------------------------------------------


def _po_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def extract(site: Path, pot: Path) -> int:
    """Write ``pot`` with the template of every alt text of the English ``site``.

    Each message lists the pages it appears on and, as a comment for the translator, its
    first English instance with the numbers in place. Returns the number of messages.
    """
    # The widget state lists an explorer's frames in the order of their (random) model ids,
    # so the messages are sorted (by first page, then text) and each one's example is the
    # smallest instance: the template does not change from one execution to the next.
    messages: dict[str, tuple[list[str], str]] = {}
    for path in site_pages(site):
        name = path.relative_to(site).as_posix()
        for text in page_alt_texts(path.read_text(encoding="utf-8")):
            if not needs_translation(text):
                continue
            msgid, _ = template(text)
            pages, example = messages.setdefault(msgid, ([], text))
            messages[msgid] = (pages, min(example, text))
            if name not in pages:
                pages.append(name)
    messages = dict(sorted(messages.items(), key=lambda item: (item[1][0][0], item[0])))
    lines = [*(f"# {line}" for line in HEADER), 'msgid ""', 'msgstr ""',
             '"Project-Id-Version: rnnbook alt text\\n"',
             '"Content-Type: text/plain; charset=UTF-8\\n"', ""]
    for msgid, (pages, example) in messages.items():
        if example != msgid:
            lines.append(f"#. e.g. {example}")
        lines.extend(f"#: {page}" for page in pages)
        lines += [f"msgid {_po_string(msgid)}", 'msgstr ""', ""]
    pot.parent.mkdir(parents=True, exist_ok=True)
    pot.write_text("\n".join(lines), encoding="utf-8")
    return len(messages)


# ---- translation --------------------------------------------------------------------------


class AltTranslator:
    """Translate alt texts with a compiled catalogue (``alt.mo``); remember the misses."""

    def __init__(self, mo: Path):
        with open(mo, "rb") as handle:
            self.catalogue = gettext.GNUTranslations(handle)
        self.missing: list[str] = []

    def __call__(self, text: str) -> str:
        if not needs_translation(text):
            return text
        msgid, numbers = template(text)
        translation = self.catalogue.gettext(msgid)
        if translation == msgid:
            self.missing.append(text)
            return text
        return fill(translation, numbers)


def translate_site(site: Path, mo: Path) -> list[str]:
    """Translate the alt texts of every page of ``site`` in place; return the untranslated."""
    translate = AltTranslator(mo)
    for path in site_pages(site):
        page = path.read_text(encoding="utf-8")
        translated = rewrite_page(page, translate)
        if translated != page:
            path.write_text(translated, encoding="utf-8")
    return translate.missing
