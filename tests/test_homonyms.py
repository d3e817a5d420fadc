"""One English word, two meanings, one msgid: the catalogue cannot translate both.

"Critical" is an incident priority (危急) and a stock item flag (重点物资);
"Open" a facility status, a link and a count of open tasks. With one bare
msgid each page gets whichever translation was written first. The glossary
``coordination/translations/homonyms.yaml`` lists such words with the message
context of each meaning and its zh-CN word; this test fails when a source
uses a listed word with no context or an unlisted one, or when the zh-CN
catalogue's word for a context is not the glossary's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from .test_i18n import EXTRACT, ROOT, TRANSLATIONS

GLOSSARY = TRANSLATIONS / "homonyms.yaml"
Glossary = dict[str, dict[str, str]]


def load_glossary(path: Path = GLOSSARY) -> Glossary:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and data, f"{path}: expected a mapping of words"
    for word, meanings in data.items():
        assert isinstance(meanings, dict) and len(meanings) >= 2, (
            f"{path}: {word!r} needs two or more meanings (context: zh-CN word)")
    return data


def homonym_problems(source: Catalog, zh: Catalog, glossary: Glossary) -> list[str]:
    """Every use of a glossary word that can be mistranslated, as one line each."""
    problems: list[str] = []
    for m in source:
        if not isinstance(m.id, str) or m.id not in glossary:
            continue
        meanings = glossary[m.id]
        if m.context is None:
            problems.append(f"{m.id!r} is used with no context; it means one of "
                            f"{sorted(meanings)}: use pgettext(context, {m.id!r})")
            continue
        if m.context not in meanings:
            problems.append(f"{m.id!r} has the context {m.context!r}, not in the glossary "
                            f"{sorted(meanings)}")
            continue
        got = zh.get(m.id, context=m.context)
        want = meanings[m.context]
        if got is None or got.string != want:
            problems.append(f"zh_CN: {m.id!r} ({m.context}) is "
                            f"{got.string if got else None!r}, the glossary says {want!r}")
    return problems


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    out = tmp_path_factory.mktemp("homonyms") / "messages.pot"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        CommandLineInterface().run(["pybabel", "-q", *EXTRACT, "-o", str(out), "."])
    with out.open("rb") as f:
        return read_po(f)


def test_no_homonym_shares_one_msgid_across_meanings(extracted: Catalog) -> None:
    with (TRANSLATIONS / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        zh = read_po(f)
    problems = homonym_problems(extracted, zh, load_glossary())
    assert not problems, "\n  ".join(["homonyms (see homonyms.yaml):", *problems])


def test_every_glossary_meaning_is_in_use(extracted: Catalog) -> None:
    """A meaning no source uses is a stale glossary line (or a context misspelt)."""
    used = {(m.id, m.context) for m in extracted if isinstance(m.id, str)}
    stale = [f"{w!r} ({c})" for w, ms in load_glossary().items() for c in ms
             if (w, c) not in used]
    assert not stale, f"glossary meanings no source uses: {stale}"


def test_the_homonym_check_can_fail() -> None:
    glossary = {"Open": {"facility status": "正常接诊", "link": "查看"}}
    source = Catalog(locale="zh_CN")
    source.add("Open")                           # bare: which meaning?
    source.add("Open", context="link")           # fine
    source.add("Open", context="door")           # not in the glossary
    source.add("Open", context="facility status")
    zh = Catalog(locale="zh_CN")
    zh.add("Open", "查看", context="link")
    zh.add("Open", "查看", context="facility status")  # wrong word for this meaning
    problems = homonym_problems(source, zh, glossary)
    assert len(problems) == 3, problems
    assert any("no context" in p for p in problems)
    assert any("'door'" in p for p in problems)
    assert any("正常接诊" in p for p in problems)
