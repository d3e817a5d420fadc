"""The UI is bilingual: zh-CN by default, English complete, nothing left untranslated.

- every message the sources mark for translation is translated in every catalogue,
  with the same placeholders, none fuzzy;
- the compiled .mo files say what the .po files say;
- no template carries literal text that bypasses gettext;
- the pages really come out in Chinese by default and in English on request, and a
  signed-in user's choice is kept on the account.

Workflow when this fails: README, "Translations".
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import nodes
from sqlalchemy import select

from coordination.auth.models import User
from coordination.config import SUPPORTED_LOCALES
from coordination.extensions import db

from .support import csrf_from

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "coordination" / "translations"
TEMPLATES = ROOT / "templates"
# The README's extraction command, minus the output file and the input directory.
EXTRACT = ["extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
           "-k", "lazy_ngettext:1,2", "-k", "_lp:1c,2", "-k", "lazy_pgettext:1c,2",
           "--no-location", "--omit-header"]
FIX = "see README, Translations: extract, update, translate, compile"


# --- helpers -----------------------------------------------------------------


def _po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def _read_po(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


# %(name)s, %(n)d, %s … (python-format) and {actor}, {payload.text} … (brace format).
_PY_FORMAT = re.compile(
    r"%(?:\([^)]*\))?[#0 +\-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa]"
)
_BRACE = re.compile(r"\{[^{}]*\}")


def placeholders(text: str) -> Counter[str]:
    """The placeholders in a message, as a multiset (order may change in translation)."""
    return Counter(_PY_FORMAT.findall(text.replace("%%", ""))) + Counter(_BRACE.findall(text))


def _has_letter(text: str) -> bool:
    """A letter of any script: Latin, Han, Cyrillic … (Unicode category L*)."""
    return any(unicodedata.category(ch).startswith("L") for ch in text)


def _has_han(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


def _forms(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _label(message: Message) -> str:
    ident = _forms(message.id)[0]
    return f"{ident!r}" + (f" (context {message.context!r})" if message.context else "")


# --- a. every extracted message is translated in every catalogue ---------------


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """Messages extracted from the current sources, exactly as the README's command does."""
    out = tmp_path_factory.mktemp("i18n") / "messages.pot"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        CommandLineInterface().run(["pybabel", "-q", *EXTRACT, "-o", str(out), "."])
    catalog = _read_po(out)
    assert len([m for m in catalog if m.id]) > 50, "extraction found almost nothing"
    return catalog


def _check_catalogue(locale: str, catalogue: Catalog, source: Catalog) -> list[str]:
    problems: list[str] = []
    if catalogue.fuzzy:
        problems.append(f"{locale}: the catalogue header is marked fuzzy (compile skips it)")
    for wanted in source:
        if not wanted.id:
            continue
        label = _label(wanted)
        got = catalogue.get(wanted.id, context=wanted.context)
        if got is None:
            problems.append(f"{locale}: missing {label}")
            continue
        if got.fuzzy:
            problems.append(f"{locale}: fuzzy {label}")
        if got.pluralizable != wanted.pluralizable or _forms(got.id) != _forms(wanted.id):
            problems.append(f"{locale}: singular/plural msgid differs from the source for {label}")
            continue
        strings = _forms(got.string)
        expected_count = catalogue.num_plurals if wanted.pluralizable else 1
        if len(strings) != expected_count:
            problems.append(f"{locale}: {len(strings)} msgstr forms, want {expected_count}, "
                            f"for {label}")
        ids = _forms(wanted.id)
        allowed = [placeholders(i) for i in ids]
        for n, text in enumerate(strings):
            if not text.strip():
                problems.append(f"{locale}: empty msgstr[{n}] for {label}")
                continue
            if placeholders(text) not in allowed:
                problems.append(
                    f"{locale}: placeholders of {text!r} are {sorted(placeholders(text))}, "
                    f"the msgid has {sorted(allowed[-1])}"
                )
            if locale == "en" and text != ids[min(n, len(ids) - 1)]:
                problems.append(f"en: msgstr {text!r} is not the English source text {label}")
            if locale == "zh_CN" and not _has_han(text) and _has_letter(_BRACE.sub("", ids[0])):
                problems.append(f"zh_CN: msgstr {text!r} for {label} has no Chinese in it")
    return problems


def test_every_message_is_translated_in_every_catalogue(extracted: Catalog) -> None:
    problems: list[str] = []
    for locale in SUPPORTED_LOCALES:
        path = _po_path(locale)
        if not path.exists():
            problems.append(f"{locale}: no catalogue at {path.relative_to(ROOT)}")
            continue
        problems += _check_catalogue(locale, _read_po(path), extracted)
    assert not problems, (
        f"{len(problems)} translation problem(s) ({FIX}):\n  " + "\n  ".join(problems)
    )


def test_the_template_catalogue_matches_the_sources(extracted: Catalog) -> None:
    pot = _read_po(TRANSLATIONS / "messages.pot")
    have = {(m.id, m.context) for m in pot if m.id}
    want = {(m.id, m.context) for m in extracted if m.id}
    assert have == want, (
        f"messages.pot is stale ({FIX}); new in the sources: {sorted(map(str, want - have))}; "
        f"gone from the sources: {sorted(map(str, have - want))}"
    )


def test_the_completeness_check_can_fail() -> None:
    """The checker itself flags what it must: missing, empty, fuzzy, wrong placeholders."""
    source = Catalog(locale="zh_CN", fuzzy=False)
    for msgid in ("Sign in", "Welcome, %(name)s", "{actor} signed in", "Save", "Duty log"):
        source.add(msgid)
    zh = Catalog(locale="zh_CN", fuzzy=False)
    zh.add("Sign in", "登录")                        # fine
    zh.add("Welcome, %(name)s", "欢迎，%(user)s")    # wrong python-format name
    zh.add("{actor} signed in", "{user} 已登录")      # wrong brace name
    zh.add("Save", "保存", flags=["fuzzy"])           # fuzzy
    problems = _check_catalogue("zh_CN", zh, source)  # "Duty log" is missing
    assert len(problems) == 4, problems
    en = Catalog(locale="en", fuzzy=False)
    en.add("Sign in", "")
    assert any("empty" in p for p in _check_catalogue("en", en, source))
    zh_english = Catalog(locale="zh_CN", fuzzy=False)
    zh_english.add("Sign in", "Sign in")
    assert any("no Chinese" in p for p in _check_catalogue("zh_CN", zh_english, source))


# --- b. the compiled catalogues say what the .po files say ---------------------


def _compiled_view(catalog: Catalog) -> dict[tuple[object, str | None], tuple[str, ...]]:
    """What `pybabel compile` writes: translated, non-fuzzy messages (the header aside)."""
    return {
        # read_mo gives a plural id as a list, read_po as a tuple: compare as tuples.
        (tuple(m.id) if isinstance(m.id, list | tuple) else m.id, m.context): _forms(m.string)
        for m in catalog
        if m.id and not m.fuzzy and any(_forms(m.string))
    }


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_mo_file_is_compiled_from_the_current_po_file(locale: str) -> None:
    po_path = _po_path(locale)
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path.relative_to(ROOT)} is missing ({FIX})"
    po = _read_po(po_path)
    with mo_path.open("rb") as f:
        mo = read_mo(f)
    from_po, from_mo = _compiled_view(po), _compiled_view(mo)
    stale = sorted(
        str(key[0]) for key in from_po.keys() | from_mo.keys()
        if from_po.get(key) != from_mo.get(key)
    )
    assert not stale, f"{mo_path.relative_to(ROOT)} is stale ({FIX}); differs for: {stale}"
    assert mo.plural_forms == po.plural_forms


# --- c. no literal text in templates --------------------------------------------

# Literal strings that are not language and so are not translated. Keep it tiny.
# Strings without any letter ("#", "·", "—", "…", digits) pass anyway.
ALLOWED_LITERALS = {
    # Examples of the literal values typed into the audit filters: the live
    # context's identifier and the subject syntax "type:id". Identifiers, not words.
    ("admin/audit.html", "live"),
    ("admin/audit.html", "user:1"),
}
VISIBLE_ATTRIBUTES = frozenset({
    "title", "placeholder", "aria-label", "alt", "label", "aria-placeholder",
    "aria-roledescription", "aria-valuetext",
})


class _Flattener:
    """A template's literal markup with every Jinja construct replaced by one space.

    Inheritance is resolved first (a child's blocks are put where its parent has
    them), so a block filled in inside a parent's attribute, such as
    ``<body class="{% block body_class %}">``, is seen in that attribute. Each
    piece of text remembers the file and line it came from.
    """

    def __init__(self, env: jinja2.Environment) -> None:
        self.env = env
        self.pieces: list[tuple[int, str, int, str]] = []  # offset, file, line, text
        self.length = 0

    def flatten(self, name: str) -> str:
        overrides: dict[str, tuple[str, nodes.Block]] = {}
        while True:
            tree = self.env.parse(self.env.loader.get_source(self.env, name)[0], name)
            for block in tree.find_all(nodes.Block):
                overrides.setdefault(block.name, (name, block))  # the child wins
            extends = tree.find(nodes.Extends)
            if extends is None or not isinstance(extends.template, nodes.Const):
                break
            name = extends.template.value
        self._emit(tree, name, overrides)
        return "".join(text for _o, _f, _l, text in self.pieces)

    def _add(self, text: str, name: str, line: int) -> None:
        self.pieces.append((self.length, name, line, text))
        self.length += len(text)

    def _emit(self, node: nodes.Node, name: str,
              overrides: dict[str, tuple[str, nodes.Block]]) -> None:
        if isinstance(node, nodes.TemplateData):
            self._add(node.data, name, node.lineno)
        elif isinstance(node, nodes.Block):
            owner, block = overrides.get(node.name, (name, node))
            for child in block.body:
                self._emit(child, owner, overrides)
        elif isinstance(node, nodes.Expr | nodes.Extends | nodes.Include | nodes.Import
                        | nodes.FromImport):
            self._add(" ", name, node.lineno)
        else:
            for child in node.iter_child_nodes():
                self._emit(child, name, overrides)

    def origin(self, offset: int) -> tuple[str, int]:
        index = bisect.bisect_right([p[0] for p in self.pieces], offset) - 1
        start, name, line, text = self.pieces[max(index, 0)]
        return name, line + text.count("\n", 0, offset - start)


class _LiteralText(HTMLParser):
    """Collects user-visible literal text: text nodes and visible attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[tuple[int, int], int, str]] = []  # position, lead, text
        self._raw: str | None = None  # inside <script>/<style>: code, not text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            visible = name in VISIBLE_ATTRIBUTES or (
                name == "value"
                and (tag == "button" or (tag == "input" and (values.get("type") or "").lower()
                                         in ("submit", "button", "reset")))
            )
            if visible and value:
                self._add(value, 0)
        if tag in ("script", "style"):
            self._raw = tag

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style"):
            self._raw = None

    def handle_endtag(self, tag: str) -> None:
        if tag == self._raw:
            self._raw = None

    def handle_data(self, data: str) -> None:
        if self._raw is None:
            self._add(data, len(data) - len(data.lstrip()))

    def _add(self, text: str, lead: int) -> None:
        text = " ".join(text.split())
        if _has_letter(text):
            self.found.append((self.getpos(), lead, text))


def literal_text(env: jinja2.Environment, name: str) -> list[tuple[str, int, str]]:
    """(file, line, text) for each piece of literal, user-visible text in a template."""
    flattener = _Flattener(env)
    markup = flattener.flatten(name)
    line_starts = [0] + [m.end() for m in re.finditer("\n", markup)]
    parser = _LiteralText()
    parser.feed(markup)
    parser.close()
    return [
        (*flattener.origin(line_starts[line - 1] + col + lead), text)
        for (line, col), lead, text in parser.found
    ]


def test_templates_have_no_literal_text() -> None:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES))
    names = sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html"))
    assert len(names) >= 5, f"no templates found under {TEMPLATES}"
    problems: set[str] = set()
    used: set[tuple[str, str]] = set()
    for name in names:
        for origin, line, text in literal_text(env, name):
            if (origin, text) in ALLOWED_LITERALS:
                used.add((origin, text))
            else:
                problems.add(f"templates/{origin}:{line}: {text!r}")
    assert not problems, (
        "literal text in templates; wrap it in {{ _(\"…\") }} and re-extract:\n  "
        + "\n  ".join(sorted(problems))
    )
    assert used == ALLOWED_LITERALS, f"stale allow-list entries: {ALLOWED_LITERALS - used}"


def _texts(source: str, **others: str) -> list[str]:
    env = jinja2.Environment(loader=jinja2.DictLoader({"t.html": source, **others}))
    return [text for _name, _line, text in literal_text(env, "t.html")]


def test_the_template_check_can_fail() -> None:
    assert _texts('<p>{{ _("Sign in") }}</p><p>{# Sign in #}</p>') == []
    assert _texts("<th>#</th><small>— {{ name }}</small><code>…{{ h }}</code>") == []
    assert _texts("<p>Sign in</p>") == ["Sign in"]
    assert _texts("<h1>{{ _('x') }} 登录</h1>") == ["登录"]
    assert _texts('<input placeholder="Name" title="{{ t }}">') == ["Name"]
    assert _texts('<nav aria-label="主导航">') == ["主导航"]
    assert _texts('<input type="submit" value="Go">') == ["Go"]
    assert _texts('<input type="hidden" name="next" value="home">') == []
    assert _texts("<script>var label = 'code, not text';</script>") == []
    assert _texts("{% if x %}<p>{% else %}<p>Else{% endif %}") == ["Else"]
    assert _texts("{% for x in y %}{% else %}None{% endfor %}") == ["None"]
    assert _texts("{% raw %}Raw{% endraw %}") == ["Raw"]
    base = '<body class="{% block cls %}{% endblock %}"><main>{% block main %}{% endblock %}</main>'
    child = '{% extends "b.html" %}{% block cls %}wide{% endblock %}'
    assert _texts(child, **{"b.html": base}) == []
    env = jinja2.Environment(loader=jinja2.DictLoader({
        "b.html": base, "t.html": '{% extends "b.html" %}\n{% block main %}\nHello{% endblock %}',
    }))
    assert literal_text(env, "t.html") == [("t.html", 3, "Hello")]


# --- d. the pages speak zh-CN by default and English on request ------------------


class _IsolatedClient(FlaskClient):
    """Each request in its own app context, as under a real server.

    The ``app`` fixture keeps one app context open for the whole test and Flask
    reuses it for test-client requests, so ``g`` would be shared by every request
    and every client of the test: Flask-Babel's cached locale, Flask-Login's user
    and Flask-WTF's CSRF token would leak from one request (and client) into the
    next, and a language switch or a "fresh" login would prove nothing.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """conftest's client (and so its ``auth``), isolated per request; so is app.test_client()."""
    app.test_client_class = _IsolatedClient
    return app.test_client()


def _lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', html)
    assert match, "no <html lang> on the page"
    return match.group(1)


def _h1(html: str) -> str:
    match = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert match, "no <h1> on the page"
    return match.group(1).strip()


def _flash(html: str) -> str:
    match = re.search(r'class="flash flash-\w+"[^>]*>([^<]*)<', html)
    return match.group(1) if match else ""


def test_login_page_is_chinese_by_default_and_english_on_request(client: FlaskClient) -> None:
    page = client.get("/login")
    assert _lang(page.text) == "zh-CN"
    assert _h1(page.text) == "登录"
    assert "Sign in" not in page.text

    wrong = client.post("/login", data={"username": "nobody", "password": "x" * 10,
                                        "csrf_token": csrf_from(page.text)})
    assert _flash(wrong.text) == "用户名或密码错误。"  # a lazy string from the service layer

    switched = client.post("/locale", data={"locale": "en", "next": "/login",
                                            "csrf_token": csrf_from(page.text)})
    assert switched.status_code == 302
    page = client.get("/login")
    assert _lang(page.text) == "en"
    assert _h1(page.text) == "Sign in"
    assert "登录" not in page.text
    wrong = client.post("/login", data={"username": "nobody", "password": "x" * 10,
                                        "csrf_token": csrf_from(page.text)})
    assert _flash(wrong.text) == "Invalid username or password."

    client.post("/locale", data={"locale": "zh_CN", "next": "/login",
                                 "csrf_token": csrf_from(page.text)})
    page = client.get("/login")
    assert _lang(page.text) == "zh-CN" and _h1(page.text) == "登录"


def test_signed_in_choice_is_kept_on_the_account(app: Flask, client: FlaskClient, auth: Any,
                                                 make_user: Any) -> None:
    password = "an operator's passphrase"
    make_user("operator", username="zhao.lei", password=password)
    auth.login("zhao.lei", password)
    me = client.get("/me")
    assert _lang(me.text) == "zh-CN" and _h1(me.text) == "我的账号"

    client.post("/locale", data={"locale": "en", "next": "/me", "csrf_token": auth.csrf})
    me = client.get("/me")
    assert _lang(me.text) == "en" and _h1(me.text) == "My account"
    with db.reading() as s:
        assert s.scalar(select(User.locale).where(User.username == "zhao.lei")) == "en"

    # A new browser: the sign-in page is in the default language, and the
    # account's choice applies as soon as the user has signed in.
    fresh = app.test_client()
    page = fresh.get("/login")
    assert _lang(page.text) == "zh-CN"
    signed_in = fresh.post("/login", data={"username": "zhao.lei", "password": password,
                                           "csrf_token": csrf_from(page.text)})
    assert signed_in.status_code == 302, _flash(signed_in.text)
    me = fresh.get("/me")
    assert _lang(me.text) == "en" and _h1(me.text) == "My account"
    assert "Command room" in fresh.get("/ops").text

    # Signing out says so in the user's language.
    out = client.post("/logout", data={"csrf_token": auth.csrf}, follow_redirects=True)
    assert out.status_code == 200 and _flash(out.text) == "You have signed out."
    assert _lang(out.text) == "en" and _h1(out.text) == "Sign in"
