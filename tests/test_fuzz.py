"""Hostile input on every route: nothing a client sends may reach a 5xx.

The walk is over ``app.url_map``, so a route added tomorrow is fuzzed the day it lands
(``test_a_new_route_is_fuzzed_too`` proves it). Every JSON route gets every hostile
body; the field names come from the code itself (every pydantic schema's fields and
every ``.get("...")`` in the web adapters), so a body reaches past "must be an object"
into the schema and service. Path ids are real (demo data), absent and out of range;
query parameters get the same treatment. The caller holds every role, so no route
stops at its permission check.

What each route reads is watched rather than guessed (``Watched``, the app's own request
class with a recorder): a first plain request shows whether the route reads its body
and which query parameters it asks for, and only those get the hostile values (again
with any parameter the hostile answers asked for next). Sending every body to routes
that never read one, and every parameter to routes that read none, was most of the
90 seconds this test took.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pydantic
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import ImmutableMultiDict

import coordination
from coordination.auth import service as auth_service
from coordination.auth.roles import Role
from coordination.events import Actor

PACKAGE = Path(coordination.__file__).parent
BIG = 2**63
HUGE_DIGITS = "9" * 5000
NESTED = "[" * 100_000 + "]" * 100_000
MEGA = "x" * (1024 * 1024)

#: Bodies that are not a well-formed, reasonable JSON object.
RAW_BODIES = [
    NESTED,
    '{"a": ' + "[" * 5000 + "]" * 5000 + "}",
    '{"a": 1',
    "NaN",
    '{"a": NaN, "b": Infinity}',
    "[1, 2, 3]",
    '"text"',
    "null",
    HUGE_DIGITS,
    '{"a": 1e999}',
    b'{"a": "\xff\xfe"}',
    "",
]

#: Values every known field gets, one body per value.
FIELD_VALUES: list[Any] = [
    BIG, -BIG - 1, 2**64, -1, 0, 1.5, 1e308, True, None, "", "\x00", "\ud800", "x\x00y",
    [], [1, "a", None], {}, {"a": {"b": [{}]}}, "2026-13-45T99:99", "NaN",
]

NESTED_VALUES: list[Any] = [BIG, -1, 1.5, None, "", [], {}, "2026-13-45T99:99"]

#: The fields a megabyte of text goes into (all of them at once would pass the body limit).
TEXT_FIELDS = ("name", "title", "text")

QUERY_VALUES = ["9223372036854775808", HUGE_DIGITS, "%00", "%ED%A0%80", "1e999", "-1",
                "abc,1,2,3,4,5,6"]

#: Path values for ``<int:...>``: a demo row, nothing, and beyond any id column.
INT_PATHS = ["1", "999999", str(BIG), "9" * 40]


def _source() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py"))


def _schema_fields() -> set[str]:
    """Every field of every pydantic model the app defines (imports the web layer)."""
    names: set[str] = set()
    seen: set[type] = set()
    todo = list(pydantic.BaseModel.__subclasses__())
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        todo.extend(model.__subclasses__())
        if model.__module__.startswith("coordination"):
            names.update(model.model_fields)
    return names


def field_names() -> list[str]:
    code = _source()
    found = set(re.findall(r"""(?:data|body|f|_json\(\))\.get\(["'](\w+)["']""", code))
    return sorted(found | _schema_fields())


def _paths(rule: str) -> Iterator[tuple[str, bool]]:
    """``(url, real)`` for each way to fill the rule's variables; ``real`` is the
    variant where every id is 1 (the one worth sending every body to)."""
    choices = re.findall(r"<any\(([^)]*)\):\w+>", rule)
    options = [c.replace(" ", "").split(",") for c in choices] or [[""]]
    for pick in _product(options):
        url = rule
        for option in pick:
            url = re.sub(r"<any\([^)]*\):\w+>", option, url, count=1)
        url = re.sub(r"<(?:string:|path:)?\w+>", "x", url)
        for value in INT_PATHS:
            yield re.sub(r"<int:\w+>", value, url), value == "1"


def _product(options: list[list[str]]) -> Iterable[tuple[str, ...]]:
    import itertools

    return itertools.product(*options)


def _post(client: FlaskClient, method: str, url: str, headers: dict[str, str],
          body: str | bytes) -> Any:
    return client.open(url, method=method, data=body, headers=headers,
                       content_type="application/json")


class _Seen:
    """What the last request's route read: parameter names, and whether its body."""

    keys: set[str] = set()
    body = False

    @classmethod
    def reset(cls) -> None:
        cls.keys, cls.body = set(), False


class _WatchedArgs(ImmutableMultiDict):  # type: ignore[type-arg]
    def get(self, key: Any, *args: Any, **kw: Any) -> Any:
        _Seen.keys.add(str(key))
        return super().get(key, *args, **kw)

    def __getitem__(self, key: Any) -> Any:
        _Seen.keys.add(str(key))
        return super().__getitem__(key)

    def getlist(self, key: Any, *args: Any, **kw: Any) -> Any:
        _Seen.keys.add(str(key))
        return super().getlist(key, *args, **kw)

    def __contains__(self, key: object) -> bool:
        _Seen.keys.add(str(key))
        return super().__contains__(key)


def _watched(app: Flask) -> type:
    """The app's request class, recording what a route reads (``_Seen``)."""
    base = app.request_class

    class Watched(base):  # type: ignore[valid-type,misc]
        parameter_storage_class = _WatchedArgs

        def get_data(self, *args: Any, **kw: Any) -> Any:
            _Seen.body = True
            return super().get_data(*args, **kw)

        @property
        def form(self) -> Any:  # type: ignore[override]
            _Seen.body = True
            return super().form

        @property
        def files(self) -> Any:  # type: ignore[override]
            _Seen.body = True
            return super().files

    return Watched


def fuzz(app: Flask, client: FlaskClient, headers: dict[str, str],
         only: str | None = None) -> list[str]:
    """Send the hostile set to every route (or those starting with ``only``); the
    5xx answers, as ``METHOD url -> status (what was sent)``."""
    fields = field_names()
    bodies = [(repr(b)[:40], b) for b in RAW_BODIES]
    for value in FIELD_VALUES:
        text = json.dumps(dict.fromkeys(fields, value))
        bodies.append((f"every field = {repr(value)[:30]}", text))
    for value in NESTED_VALUES:  # list-of-object fields (batches, request lines)
        row = dict.fromkeys(fields, value)
        bodies.append((f"rows of {repr(value)[:20]}",
                       json.dumps(dict.fromkeys(("positions", "lines", "items", "rows"),
                                                [row]))))
    bodies.append(("a megabyte of text", json.dumps(dict.fromkeys(TEXT_FIELDS, MEGA))))
    failures: list[str] = []
    plain = app.request_class
    app.request_class = _watched(app)
    try:
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static" or (only and not rule.rule.startswith(only)):
                continue
            is_api = rule.rule.startswith("/api/")
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                for url, real in _paths(rule.rule):
                    sent = _send(client, method, url, headers, real=real, is_api=is_api,
                                 bodies=bodies)
                    failures.extend(f"{method} {url[:80]} -> {resp.status_code} ({what})"
                                    for what, resp in sent if resp.status_code >= 500)
    finally:
        app.request_class = plain
    return failures


def _send(client: FlaskClient, method: str, url: str, headers: dict[str, str], *,
          real: bool, is_api: bool, bodies: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """One route, one filled path: a plain request first, then the hostile values for
    what that route was seen to read."""
    _Seen.reset()
    if method == "GET":
        sent = [("", client.get(url, headers=headers))]
        asked: set[str] = set()
        while real and _Seen.keys - asked:  # the parameters read, then any read next
            asked |= _Seen.keys
            names = sorted(asked)
            for value in QUERY_VALUES:
                query = "&".join(f"{p}={value}" for p in names)
                sent.append((f"?{query[:40]}", client.get(f"{url}?{query}", headers=headers)))
        return sent
    if not is_api:  # a form: out-of-range ids and a hostile field or two
        return [("form", client.open(url, method=method, headers=headers,
                                     data={"csrf_token": "x", "name": "\x00"}))]
    sent = [("{}", _post(client, method, url, headers, "{}"))]
    if real and _Seen.body:
        sent += [(what, _post(client, method, url, headers, body)) for what, body in bodies]
    return sent


def _all_roles_token() -> dict[str, str]:
    for n in range(3):  # decoys: a fuzzed revoke of token 1 must not revoke ours
        auth_service.create_token(name=f"decoy{n}", roles=["liaison"], actor=Actor.system("t"))
    _tok, secret = auth_service.create_token(name="fuzz", roles=[r.value for r in Role],
                                             actor=Actor.system("t"))
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def seeded(app: Flask) -> Flask:
    from coordination.demo import load_demo

    load_demo()
    return app


@pytest.mark.slow
def test_no_route_answers_5xx_to_hostile_input(seeded: Flask) -> None:
    client = seeded.test_client()
    failures = fuzz(seeded, client, _all_roles_token())
    assert not failures, f"{len(failures)} answers were 5xx:\n" + "\n".join(failures[:60])


def test_a_new_route_is_fuzzed_too(app: Flask) -> None:
    """A route that trusts its body (``title + 1`` on whatever came) is caught by the walk."""
    from coordination.auth.roles import Permission
    from coordination.extensions import csrf
    from coordination.web.access import api
    from coordination.web.jsonbody import json_object

    @app.post("/api/fuzz-probe/<int:thing_id>")
    @api(Permission.VIEW_OPS)
    def _probe(thing_id: int) -> Any:
        return {"n": json_object().get("title", 0) + 1}

    @app.get("/api/fuzz-probe/<int:thing_id>/count")
    @api(Permission.VIEW_OPS)
    def _probe_count(thing_id: int) -> Any:
        from flask import request

        if "since" in request.args:  # read only once another parameter is there
            return {"n": int(request.args.get("limit", "0")) + 1}
        return {"n": 0}

    csrf.exempt(_probe)  # as the API blueprints are
    client = app.test_client()
    failures = fuzz(app, client, _all_roles_token(), only="/api/fuzz-probe/")
    assert any(f.startswith("POST /api/fuzz-probe/1 ") for f in failures), failures
    assert any(f.startswith("GET /api/fuzz-probe/1/count") for f in failures), failures
    assert all("/api/fuzz-probe/1" in f for f in failures)


def test_hostile_bodies_get_a_message(app: Flask) -> None:
    from flask_babel import gettext

    from coordination.limits import JSON_MAX_DEPTH

    client = app.test_client()
    headers = _all_roles_token()
    too_large = gettext("The number %(value)s is too large.", value="9223372036854775808")
    for body, message in [
            (NESTED, gettext("The JSON nests deeper than %(n)d levels.", n=JSON_MAX_DEPTH)),
            ('{"a": NaN}', gettext("%(value)s is not a number JSON allows.", value="NaN")),
            (HUGE_DIGITS, gettext("The number %(value)s is too large.", value=HUGE_DIGITS[:24])),
            ('{"unit_id": 9223372036854775808}', too_large),
            ('{"a": "\\u0000"}', gettext("Text may not contain NUL characters.")),
            ('{"a": "\\ud800"}', gettext("Text may not contain lone surrogate characters.")),
            ('{"a": ', gettext("The body is not valid JSON: %(msg)s", msg="")),
            ("x" * (5 * 1024 * 1024), gettext("The JSON body is larger than %(n)d MB.", n=4))]:
        resp = _post(client, "POST", "/api/duty-log", headers, body)
        assert resp.status_code == 400, body[:30]
        assert resp.get_json()["error"].startswith(message), (body[:30], resp.get_json())


@pytest.mark.parametrize("url", ["/api/incidents/9223372036854775808", "/api/units/" + "9" * 30,
                                 "/api/tasks/9223372036854775807"])
def test_ids_beyond_64_bits_are_404(app: Flask, url: str) -> None:
    resp = app.test_client().get(url, headers=_all_roles_token())
    assert resp.status_code == 404


def test_ogc_offset_beyond_64_bits_is_400(app: Flask) -> None:
    resp = app.test_client().get("/ogc/collections/incidents/items?offset=9223372036854775808",
                                 headers=_all_roles_token())
    assert resp.status_code in (400, 404), resp.status_code


def test_task_times_of_the_wrong_type_are_400(app: Flask) -> None:
    client = app.test_client()
    headers = _all_roles_token()
    for value in (12345, [1], {"a": 1}, True):
        resp = client.post("/api/tasks", json={"agency_code": "x", "title": "t",
                                               "due_at": value}, headers=headers)
        assert resp.status_code == 400, value
        resp = client.post("/api/tasks", json={"agency_code": "x", "title": "t",
                                               "ack_deadline": value}, headers=headers)
        assert resp.status_code == 400, value


@pytest.mark.parametrize("name", ["a\x00b.yaml", "\ud800.yaml", "é" * 200 + ".yaml",
                                  "../../etc/passwd", ""])
def test_scenario_names_that_no_file_can_have(app: Flask, name: str) -> None:
    body = json.dumps({"scenario": name}, ensure_ascii=True)
    resp = _post(app.test_client(), "POST", "/api/drills/runs", _all_roles_token(), body)
    assert resp.status_code in (400, 404), resp.status_code
    assert resp.get_json()["error"]


@pytest.mark.parametrize("name", ["a\x00b.yaml", "\ud800.yaml", "é" * 200 + ".yaml"])
def test_catalogue_refuses_impossible_names_as_not_found(tmp_path: Path, name: str) -> None:
    from coordination.drills import catalogue
    from coordination.errors import NotFound

    with pytest.raises(NotFound):
        catalogue.resolve(tmp_path, name)
