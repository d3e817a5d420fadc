"""One vocabulary: every code a person sees has a name in both languages, and messages
about bad input come in one language, the reader's."""

from __future__ import annotations

import re

from flask_babel import force_locale

from coordination import vocab
from coordination.plans import registry
from coordination.plans.schema import AGENCIES, PPE, UnitType

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_code_plans_use_has_a_name_in_both_languages(app):
    with app.test_request_context():
        plans = registry.plan_set().plans
        used = {st.responsible for lr in plans.values() for _p, t in lr.plan.tasks()
                for st in t.checklist}
        assert used <= set(vocab.positions())
        for code, kind in ([(c, "agency") for c in AGENCIES] + [(c, "position") for c in used]
                           + [(p.value, "ppe") for p in PPE]
                           + [(u.value, "unit_type") for u in UnitType]):
            with force_locale("zh_CN"):
                zh = vocab.label(kind, code)
            with force_locale("en"):
                en = vocab.label(kind, code)
            assert zh != code and en != code and "_" not in zh + en, (kind, code)
            assert CJK.search(zh), (kind, code, zh)
            assert not CJK.search(en), (kind, code, en)


def test_event_types_are_named_from_their_feed_sentence(app):
    with app.test_request_context():
        with force_locale("zh_CN"):
            assert vocab.label("event_type", "auth.login") == "已登录"
        with force_locale("en"):
            assert vocab.label("event_type", "auth.login") == "signed in"
        assert vocab.label("event_type", "no.such_type") == "no.such type"


def test_the_roster_names_win_over_the_built_in_agency_names(app):
    from coordination.roster import manage

    from .roster_factories import ADMIN

    manage.save_agency(context="live", actor=ADMIN, data={
        "code": "cdc", "name_zh": "集宁区疾控中心", "name_en": "Jining CDC"})
    with app.test_request_context():
        with force_locale("zh_CN"):
            assert vocab.label("agency", "cdc") == "集宁区疾控中心"
            assert vocab.with_code("agency", "cdc") == "集宁区疾控中心 (cdc)"
        assert vocab.names("agency")["cdc"] in ("集宁区疾控中心", "Jining CDC")


def test_api_input_errors_speak_one_language(app, make_user, auth):
    from .conftest import Auth

    make_user("operator", username="op1")  # the default language, zh-CN
    make_user("operator", username="op2", locale="en")
    bad = {"type": "suspected_case", "disease": "plague", "lon": "east", "lat": 41.0}
    auth.login("op1")
    zh = auth.post_json("/api/incidents", bad)
    assert zh.status_code == 400
    body = zh.get_json()
    assert body["error"] == "lon：请输入数字。"
    assert "Input should" not in body["error"]
    assert body["details"][0]["field"] == "lon"  # pydantic's own words, for integrators
    en = Auth(app.test_client())
    en.login("op2")
    body = en.post_json("/api/incidents", bad).get_json()
    assert body["error"] == "lon: enter a number." and not CJK.search(body["error"])
