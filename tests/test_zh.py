"""The Chinese edition (issue 18): catalogues, terminology, and the zh site.

Catalogue tests read ``locale/zh_CN/LC_MESSAGES/book/*.po`` (no build needed): every page has a
catalogue, finished catalogues have no untranslated or fuzzy entry, every translation keeps the
math, code, numbers, citations and cross-reference targets of its English source, and the
terminology table ``locale/terminology.tsv`` holds. Site tests read ``_build/html/zh`` (built by
``scripts/build_zh.py``): ``lang="zh-CN"``, at least 90% of each page's prose paragraphs in
Chinese, the language switch resolving both ways, and, in Chromium, the checks of
tests/test_site.py (sliders, math, alt text, axe, no JavaScript error, size budget).
"""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from pathlib import Path

import pytest

from conftest import ROOT, SITE, new_page, serve

spec = importlib.util.spec_from_file_location("alt_text", ROOT / "scripts" / "alt_text.py")
alt_text = importlib.util.module_from_spec(spec)
spec.loader.exec_module(alt_text)

LOCALE = ROOT / "locale"
CATALOGUES = LOCALE / "zh_CN" / "LC_MESSAGES"
TERMINOLOGY = LOCALE / "terminology.tsv"
ZH_SITE = SITE / "zh"
CJK = re.compile(r"[\u3400-\u9fff]")
MATH = re.compile(r"\$\$.*?\$\$|\$[^$]+\$|\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.S)
CODE = re.compile(r"``?[^`]+``?")
ROLE = re.compile(r"\{([\w:-]+)\}`([^`]*)`")
NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")
#: The alt texts' catalogue (scripts/alt_text.py), beside the pages' catalogues.
ALT = "alt"


def toc_pages() -> list[str]:
    toc = (ROOT / "_toc.yml").read_text()
    return re.findall(r"^\s*-?\s*(?:file|root):\s*(\S+)", toc, flags=re.M)


def read_catalogue(name: str):
    from babel.messages.pofile import read_po

    with open(CATALOGUES / f"{name}.po", "rb") as handle:
        return [message for message in read_po(handle) if message.id]


def role_targets(text: str) -> Counter:
    """Return the (role, target) pairs of ``text``; ``title <target>`` counts as its target."""
    pairs = Counter()
    for role, content in ROLE.findall(text):
        explicit = re.fullmatch(r"(.*?)\s*<([^<>]+)>", content, flags=re.S)
        pairs[(role, explicit.group(2) if explicit and role != "cite:p" else content)] += 1
    return pairs


def untouchables(text: str) -> tuple[Counter, Counter, set]:
    """Return the math, the inline code and the numbers (outside both) of a message."""
    maths = Counter(match.group(0) for match in MATH.finditer(text))
    rest = MATH.sub(" ", text)
    codes = Counter(CODE.findall(ROLE.sub(" ", rest)))
    rest = ROLE.sub(" ", CODE.sub(" ", rest))
    return maths, codes, set(NUMBER.findall(rest))


def terminology() -> list[tuple[re.Pattern, str, list[str]]]:
    rows = []
    for line in TERMINOLOGY.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or line.startswith("english\t"):
            continue
        english, chinese, *rest = line.split("\t")
        forbidden = [v for v in (rest[0].split(",") if rest else []) if v]
        rows.append((re.compile(rf"\b(?:{english})\b", re.I), chinese, forbidden))
    return rows


# ---- catalogues -------------------------------------------------------------------------


def test_every_page_has_a_catalogue():
    missing = [page for page in toc_pages() if not (CATALOGUES / f"{page}.po").exists()]
    assert missing == [], f"no catalogue for {missing}: run `make catalogues`"


@pytest.mark.parametrize("name", [*toc_pages(), ALT])
def test_finished_catalogue_is_complete(name):
    messages = read_catalogue(name)
    untranslated = [m.id[:60] for m in messages if not m.string]
    fuzzy = [m.id[:60] for m in messages if m.fuzzy]
    assert untranslated == [], f"{name}.po: {len(untranslated)} untranslated: {untranslated[:3]}"
    assert fuzzy == [], f"{name}.po: {len(fuzzy)} fuzzy (English changed): {fuzzy[:3]}"


def translated_messages():
    for name in [*toc_pages(), ALT]:
        for message in read_catalogue(name):
            if message.string and message.string != message.id:
                yield name, message


def test_translations_keep_math_code_numbers_and_references():
    problems = []
    for name, message in translated_messages():
        source, target = untouchables(message.id), untouchables(message.string)
        for kind, want, got in zip(("math", "code", "numbers"), source, target, strict=True):
            if want != got:
                problems.append(f"{name}: {kind} differ in {message.id[:50]!r}: "
                                f"{sorted(set(want) ^ set(got))[:4]}")
        if role_targets(message.id) != role_targets(message.string):
            problems.append(f"{name}: roles differ in {message.id[:50]!r}: "
                            f"{set(role_targets(message.id)) ^ set(role_targets(message.string))}")
    assert problems == [], "\n".join(problems[:20])


def test_translated_headings_are_not_list_items():
    # MyST reads a message "1. Title" as an ordered list, and Sphinx then silently keeps the
    # English heading: numbered headings are written "1\\. 标题" in the catalogue.
    lists = [f"{name}: {m.string[:40]!r}" for name, m in translated_messages()
             if re.match(r"\d+\. ", m.string) and "\n" not in m.string]
    assert lists == [], "escape the number's dot (1\\. ...):\n" + "\n".join(lists)


def test_terminology_is_consistent():
    # An English glossary term is translated one way only (locale/terminology.tsv).
    problems = []
    rows = terminology()
    assert len(rows) >= 20
    for name, message in translated_messages():
        english = ROLE.sub(lambda m: m.group(2), CODE.sub(" ", message.id))
        for pattern, chinese, forbidden in rows:
            if pattern.search(english) and chinese not in message.string:
                problems.append(f"{name}: {pattern.pattern!r} not as {chinese} in "
                                f"{message.string[:50]!r}")
            for variant in forbidden:
                if variant in message.string and variant not in message.id:
                    problems.append(f"{name}: {variant} instead of {chinese} in "
                                    f"{message.string[:50]!r}")
    assert problems == [], "\n".join(problems[:20])


# ---- the alt texts' catalogue (scripts/alt_text.py) ---------------------------------------


def test_alt_translations_use_each_placeholder_once():
    # {n} stands for the n-th number of the English alt text; a translation that drops or
    # repeats one would show a wrong or missing number.
    problems = []
    for message in read_catalogue(ALT):
        if message.string:
            want = Counter(alt_text.PLACEHOLDER.findall(message.id))
            got = Counter(alt_text.PLACEHOLDER.findall(message.string))
            if want != got:
                problems.append(f"{message.id[:50]!r}: {sorted((want ^ got).elements())}")
    assert problems == [], "\n".join(problems)


def test_alt_template_masks_numbers_not_symbols():
    text = ("Seed 3, bias -2.8 and +1, norm 7.4e-05 at d = 40 (99% of it); h_{t-1}, x_(T-4), "
            "L2 and J_t^T stay.")
    msgid, numbers = alt_text.template(text)
    assert numbers == ["3", "-2.8", "+1", "7.4e-05", "40", "99"]
    assert msgid == ("Seed {1}, bias {2} and {3}, norm {4} at d = {5} ({6}% of it); h_{t-1}, "
                     "x_(T-4), L2 and J_t^T stay.")
    assert alt_text.fill(msgid, numbers) == text
    assert alt_text.fill("{2} 与 {1}", ["a", "b"]) == "b 与 a"
    with pytest.raises(ValueError, match="placeholder"):
        alt_text.fill("{3}", ["a", "b"])
    with pytest.raises(ValueError, match="literal"):
        alt_text.template("a set {2} of")


def widget_page(alt: str) -> str:
    """Return a page as myst-nb writes it: one explorer frame in the widget state, one image."""
    import html
    import json

    frame = f'<img class="rnnbook-frame" src="data:image/png;base64,AA" alt="{html.escape(alt)}">'
    state = {"version_major": 2, "version_minor": 0,
             "state": {"m1": {"model_name": "HTMLModel", "state": {"value": frame}}}}
    return (f'<html><body><img alt="Binder logo" src="b.svg">'
            f'<script type="application/vnd.jupyter.widget-state+json">{json.dumps(state)}'
            f'</script></body></html>')


def test_a_changed_alt_sentence_is_caught(tmp_path):
    # A describe_* sentence reworded after alt.po was translated: extraction offers the new
    # template (untranslated after `make catalogues`), and the Chinese build reports it and
    # leaves it English rather than showing a stale translation.
    site = tmp_path / "html"
    (site / "book").mkdir(parents=True)
    reworded = "Hidden units and the pulse's trace, reworded, for g = 0.5: 3.2 at step 1."
    (site / "book" / "ch01.html").write_text(widget_page(reworded), encoding="utf-8")
    assert alt_text.extract(site, tmp_path / "alt.pot") == 2
    pot = (tmp_path / "alt.pot").read_text(encoding="utf-8")
    template = "Hidden units and the pulse's trace, reworded, for g = {1}: {2} at step {3}."
    assert f'msgid "{template}"' in pot
    # `make catalogues` merges it as build_zh.py does: the new template is untranslated, which
    # test_finished_catalogue_is_complete reports.
    import shutil
    import subprocess

    from babel.messages.pofile import read_po

    po = shutil.copy(CATALOGUES / f"{ALT}.po", tmp_path / "alt.po")
    subprocess.run(["msgmerge", "--quiet", "--update", "--backup=none", "--no-wrap",
                    "--previous", str(po), str(tmp_path / "alt.pot")], check=True)
    with open(po, "rb") as handle:
        merged = {m.id: m for m in read_po(handle) if m.id}
    assert not merged[template].string or merged[template].fuzzy
    mo = tmp_path / "alt.mo"
    subprocess.run(["msgfmt", "-o", str(mo), str(CATALOGUES / f"{ALT}.po")], check=True)
    assert alt_text.translate_site(site, mo) == [reworded]
    page = (site / "book" / "ch01.html").read_text(encoding="utf-8")
    assert 'alt="Binder 标志"' in page and alt_text.page_alt_texts(page)[0] == reworded


def test_alt_translation_puts_the_numbers_back(tmp_path):
    # A frame whose template is in alt.po comes out Chinese with the English numbers.
    site = tmp_path / "html"
    (site / "book").mkdir(parents=True)
    english = ("Seed 2, loss and gradient norm over 1500 training steps. Without clipping: 4 "
               "loss spikes, largest gradient norm 812, final loss 0.0213. Clipped at 3: 0 "
               "spikes, clipping on 17% of steps, final loss 0.0101.")
    (site / "book" / "ch05.html").write_text(widget_page(english), encoding="utf-8")
    mo = tmp_path / "alt.mo"
    import subprocess

    subprocess.run(["msgfmt", "-o", str(mo), str(CATALOGUES / f"{ALT}.po")], check=True)
    assert alt_text.translate_site(site, mo) == []
    frame, logo = alt_text.page_alt_texts((site / "book" / "ch05.html").read_text("utf-8"))
    assert CJK.search(frame) and CJK.search(logo)
    assert alt_text.template(frame)[1] == alt_text.template(english)[1]


# ---- tables inside directives (book/_ext/i18n_fixes.py) --------------------------------


def gettext_messages(tmp_path, extensions: list[str]) -> str:
    """Return the .pot text Sphinx's gettext builder writes for a page with a table in a
    dropdown (MyST, sphinx-design), with ``extensions`` added."""
    from sphinx.application import Sphinx

    source = tmp_path / "src"
    source.mkdir()
    (source / "conf.py").write_text(
        f"extensions = ['myst_parser', 'sphinx_design', *{extensions!r}]\n"
        "myst_enable_extensions = ['colon_fence']\n")
    (source / "index.md").write_text(
        "# Page\n\n| top header | top cell |\n|---|---|\n| a | b |\n\n"
        "::::{dropdown} Details\n| nested header | value |\n|---|---|\n"
        "| nested cell text | 5 |\n::::\n")
    out = tmp_path / "out"
    import sys

    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        app = Sphinx(str(source), str(source), str(out), str(tmp_path / "doctrees"), "gettext",
                     status=None, warning=None, freshenv=True)
        app.build()
    finally:
        sys.path.remove(str(ROOT / "book" / "_ext"))
    return (out / "index.pot").read_text(encoding="utf-8")


def test_tables_in_dropdowns_are_extracted(tmp_path):
    pot = gettext_messages(tmp_path, ["i18n_fixes"])
    for text in ("top header", "nested header", "nested cell text", "Details"):
        assert f'msgid "{text}"' in pot, text


def test_without_the_fix_dropdown_tables_are_skipped(tmp_path):
    # The cause that book/_ext/i18n_fixes.py works around (if MyST or Sphinx fix it, this
    # test fails and the extension can go).
    pot = gettext_messages(tmp_path, [])
    assert 'msgid "top header"' in pot and 'msgid "nested header"' not in pot


def test_terminology_follows_the_glossary():
    glossary = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
    absent = [chinese for _, chinese, _ in terminology()
              if chinese not in glossary and chinese not in {"注意力", "损失", "单步雅可比矩阵"}]
    assert absent == [], f"terminology.tsv terms not in book/glossary.md: {absent}"


def test_terminology_check_can_fail():
    # A wrong term is caught (guards the matching itself, not the catalogues).
    pattern, chinese, forbidden = next(row for row in terminology() if row[1] == "梯度消失")
    assert pattern.search("the vanishing gradient problem")
    assert chinese not in "梯度弥散问题" and "梯度弥散" in forbidden


# ---- the built zh site --------------------------------------------------------------------


def built_pages() -> list[str]:
    pages = sorted((ZH_SITE / "book").glob("*.html")) if ZH_SITE.exists() else []
    return [page.relative_to(ZH_SITE).as_posix() for page in pages]


def finished_pages() -> list[str]:
    return [f"{name}.html" for name in toc_pages() if f"{name}.html" in built_pages()]


#: Tests that read the built Chinese site run with the site tests (`-m "browser or slow"`),
#: after `make book`; the unit tests run before the build.
needs_zh_site = pytest.mark.slow


@needs_zh_site
def test_zh_site_is_built():
    assert built_pages(), f"{ZH_SITE} has no pages: run `make book`"


def article(html: str) -> str:
    match = re.search(r'<article class="bd-article"[^>]*>(.*)</article>', html, re.S)
    return match.group(1) if match else html


def prose_paragraphs(html: str) -> list[str]:
    """Return the text of the article's paragraphs that hold prose (not only math or code).

    Bibliography entries (authors and English titles) are not prose; links to other pages
    carry those pages' titles, which their own catalogues translate.
    """
    texts = []
    body = re.sub(r'<div class="citation".*?</div>', " ", article(html), flags=re.S)
    body = re.sub(r'<a class="reference internal"[^>]*><span class="doc">.*?</a>', " ", body,
                  flags=re.S)
    for paragraph in re.findall(r"<p\b[^>]*>(.*?)</p>", body, re.S):
        paragraph = re.sub(r'<span class="math[^"]*">.*?</span>', " ", paragraph, flags=re.S)
        paragraph = re.sub(r"<code.*?</code>", " ", paragraph, flags=re.S)
        text = re.sub(r"<[^>]+>", " ", paragraph)
        text = re.sub(r"\\\(.*?\\\)", " ", text)
        if len(re.findall(r"[A-Za-z\u3400-\u9fff]", text)) >= 12:
            texts.append(text)
    return texts


@needs_zh_site
def test_every_english_page_has_a_chinese_twin():
    english = sorted(p.relative_to(SITE).as_posix() for p in (SITE / "book").glob("*.html"))
    assert english and english == built_pages()


@needs_zh_site
@pytest.mark.parametrize("path", built_pages())
def test_zh_page_declares_its_language(path):
    html = (ZH_SITE / path).read_text(encoding="utf-8")
    assert re.search(r'<html[^>]*\blang="zh-CN"', html), f"{path} has no lang=zh-CN"


@needs_zh_site
@pytest.mark.parametrize("path", built_pages())
def test_zh_sidebar_captions_are_chinese(path):
    # The table of contents' part captions are inserted after Sphinx's translation step;
    # book/_ext/language_switch.py translates them.
    html = (ZH_SITE / path).read_text(encoding="utf-8")
    captions = re.findall(r'class="caption-text">([^<]+)<', html)
    assert captions and all(CJK.search(caption) for caption in captions), captions


@needs_zh_site
@pytest.mark.parametrize("path", finished_pages())
def test_zh_page_prose_is_chinese(path):
    paragraphs = prose_paragraphs((ZH_SITE / path).read_text(encoding="utf-8"))
    assert paragraphs, f"{path} has no prose paragraph"
    english = [p.strip()[:80] for p in paragraphs if len(CJK.findall(p)) < 4]
    share = 1 - len(english) / len(paragraphs)
    assert share >= 0.9, f"{path}: {share:.0%} Chinese paragraphs; English: {english[:3]}"


def switch_target(page: Path) -> Path:
    html = page.read_text(encoding="utf-8")
    match = re.search(r'class="rnnbook-language-switch"[^>]*><a href="([^"]+)"', html)
    assert match, f"{page} has no language switch"
    return (page.parent / match.group(1)).resolve()


@needs_zh_site
@pytest.mark.parametrize("path", built_pages())
def test_language_switch_links_both_ways(path):
    english, chinese = (SITE / path).resolve(), (ZH_SITE / path).resolve()
    assert switch_target(english) == chinese
    assert switch_target(chinese) == english


@needs_zh_site
@pytest.mark.parametrize("path", built_pages())
def test_zh_page_fits_the_size_budget(path):
    from test_site import PAGE_LIMIT

    size = (ZH_SITE / path).stat().st_size
    assert size <= PAGE_LIMIT, f"zh/{path} is {size / 1e6:.2f} MB > 1.5 MB"


@needs_zh_site
@pytest.mark.parametrize("path", built_pages())
def test_zh_alt_texts_are_translated(path):
    # Every image's alt text on a Chinese page, explorer frames included, is Chinese, and is
    # the catalogue's translation of the English twin's alt text with the same numbers; the
    # English page keeps English alt text.
    english = alt_text.page_alt_texts((SITE / path).read_text(encoding="utf-8"))
    chinese = alt_text.page_alt_texts((ZH_SITE / path).read_text(encoding="utf-8"))
    assert not [text for text in english if CJK.search(text)], f"{path}: English page changed"
    assert len(chinese) == len(english), (path, len(chinese), len(english))
    untranslated = [text[:80] for text in chinese if alt_text.needs_translation(text)]
    assert untranslated == [], f"zh/{path}: English alt text: {untranslated[:3]}"
    for en, zh in zip(english, chinese, strict=True):
        numbers = Counter(alt_text.NUMBER.findall(en))
        assert Counter(alt_text.NUMBER.findall(zh)) == numbers, f"zh/{path}: {zh[:70]!r}"


@needs_zh_site
@pytest.mark.parametrize("path", built_pages())
def test_zh_tables_in_dropdowns_are_translated(path):
    # Every header cell with words, of every table inside a dropdown, is Chinese.
    html = article((ZH_SITE / path).read_text(encoding="utf-8"))
    english = []
    for dropdown in re.findall(r'<details class="[^"]*sd-dropdown.*?</details>', html, re.S):
        for cell in re.findall(r"<th\b[^>]*>(.*?)</th>", dropdown, re.S):
            cell = re.sub(r'<span class="math[^"]*">.*?</span>|<code.*?</code>', " ", cell,
                          flags=re.S)
            text = re.sub(r"<[^>]+>", " ", cell).strip()
            if re.search(r"[A-Za-z]{3}", text) and not CJK.search(text):
                english.append(text)
    assert english == [], f"zh/{path}: English table headers in dropdowns: {english[:3]}"


@pytest.fixture(scope="module")
def zh_site_url():
    yield from serve(ZH_SITE)


@pytest.mark.browser
@needs_zh_site
@pytest.mark.parametrize("path", built_pages())
def test_zh_page_works_without_a_kernel(browser, zh_site_url, path):
    from test_site import check_accessibility, check_alt_text, check_math, check_sliders, open_page

    context, page = new_page(browser, zh_site_url)
    try:
        open_page(page, zh_site_url, path)
        check_math(page, path)
        check_alt_text(page, path)
        moved = check_sliders(page, f"zh-{path}")
        if Path(path).name.startswith("ch"):
            assert moved >= 1, f"zh/{path} has no explorer slider"
        check_accessibility(page, path)
        assert page.errors == [], f"JavaScript errors on zh/{path}: {page.errors}"
        assert page.blocked == [], f"zh/{path} tried the network: {page.blocked[:5]}"
    finally:
        context.close()
