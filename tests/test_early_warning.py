"""Early warning: rules on hand-built case series, one alert per set of cases, the plan and
level from the plan's own triggers, bad rule files refused with file:line, and activation
from the alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from coordination.alerts import early_warning, warning_rules
from coordination.alerts.models import Alert
from coordination.events import Actor, Event
from coordination.extensions import db
from coordination.geo.places import PlaceIn, upsert_places
from coordination.incidents import service as incidents
from coordination.incidents.confirm import confirm_case
from coordination.incidents.schemas import IncidentIn, StatusChangeIn
from coordination.plans.models import PlanActivation

from . import map_factories as mf
from .roster_factories import crew

ACTOR = mf.ACTOR
SIZIWANG = (111.706, 41.533)  # 四子王旗 (150929)
JINING = (113.123, 41.000)  # 集宁区 (150902)
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)


# Every agency the plague plan's roles name (plans/plague-human-case.yaml).
PLAGUE_AGENCIES = ("army", "cdc", "civil_aviation", "customs", "designated_hospital",
                   "disinfection", "ems", "fever_clinic", "health_commission",
                   "public_security", "railway")


def case(day: float, *, disease: str = "influenza", where=SIZIWANG, patients: int = 1,
         type_: str = "suspected_case", dx: float = 0.0):
    data = IncidentIn.model_validate({
        "type": type_, "disease": disease, "lon": where[0] + dx, "lat": where[1],
        "patients": patients, "found_at": (T0 + timedelta(days=day)).isoformat(),
        "address": "四子王旗乌兰花镇"})
    return incidents.create_incident(context="live", data=data, actor=ACTOR, region=mf.REGION)


def ew_alerts(rule: str | None = None) -> list[Alert]:
    with db.reading() as s:
        rows = list(s.scalars(select(Alert).where(Alert.kind == "early_warning")
                              .order_by(Alert.id)))
    return [a for a in rows if rule is None or a.suggestion["rule"] == rule]


def events(type_: str) -> list[Event]:
    with db.reading() as s:
        return list(s.scalars(select(Event).where(Event.type == type_).order_by(Event.seq)))


def test_three_cases_in_one_banner_within_seven_days_trip_two_do_not(app):
    case(0)
    case(2)
    case(1, where=JINING)  # another area: not counted
    assert ew_alerts("area-3-in-7d") == []
    third = case(6.5)
    [alert] = ew_alerts("area-3-in-7d")
    sug = alert.suggestion
    assert sug["figures"]["cases"] == 3 and sug["figures"]["area"] == "150929"
    assert sug["figures"]["area_name"] == {"zh": "四子王旗", "en": "Siziwang Banner"}
    assert len(sug["incidents"]) == 3 and third["id"] in sug["incidents"]
    assert "四子王旗" in alert.title_zh and "Siziwang Banner" in alert.title_en
    assert "influenza" not in alert.title_en and "流行性感冒" in alert.title_zh
    assert alert.key == "ew:area-3-in-7d:influenza:150929"
    # Influenza has no plan in plans/: no plan is suggested, and the alert says so.
    assert sug["plan"] is None and sug["level"] is None


def test_the_window_slides(app):
    case(0)
    case(5)
    case(9)  # 0..9 is nine days: every 7-day window holds two
    assert ew_alerts("area-3-in-7d") == []
    latest = case(11)  # 5, 9, 11 fit in one window; day 0 does not
    [alert] = ew_alerts("area-3-in-7d")
    with db.reading() as s:
        days = sorted(round((i.found_at - T0).total_seconds() / 86400) for i in s.scalars(
            select(incidents_model()).where(incidents_model().id.in_(
                alert.suggestion["incidents"]))))
    assert days == [5, 9, 11] and latest["id"] in alert.suggestion["incidents"]
    # A case logged late but found on day 3 joins the window it belongs to (0, 3, 5):
    # the open alert of the area is updated, not doubled.
    case(3)
    [alert] = ew_alerts("area-3-in-7d")
    with db.reading() as s:
        days = sorted(round((i.found_at - T0).total_seconds() / 86400) for i in s.scalars(
            select(incidents_model()).where(incidents_model().id.in_(
                alert.suggestion["incidents"]))))
    assert days == [0, 3, 5, 9, 11]  # the alert keeps every case of both windows
    assert alert.suggestion["figures"]["cases"] == 3  # the window the new case trips
    assert len(events("alert.updated")) == 1


def incidents_model():
    from coordination.incidents.models import Incident

    return Incident


def test_the_same_cases_firing_again_are_one_alert_updated_when_a_case_joins(app):
    ids = [case(d)["id"] for d in (0, 1, 2)]
    assert len(ew_alerts("area-3-in-7d")) == 1
    before = len(events("alert.raised")) + len(events("alert.updated"))
    for incident_id in ids:  # judged again: the same cases, nothing recorded
        assert early_warning.evaluate(context="live", incident_id=incident_id) == []
    assert len(events("alert.raised")) + len(events("alert.updated")) == before
    fourth = case(3)
    [alert] = ew_alerts("area-3-in-7d")
    assert alert.suggestion["figures"]["cases"] == 4
    assert sorted(alert.suggestion["incidents"]) == sorted([*ids, fourth["id"]])
    [updated] = events("alert.updated")
    assert updated.payload["gained"] == [fourth["id"]] and updated.payload["id"] == alert.id
    # A cancelled call is not a case: judged again, the alert's figures drop back to 3.
    incidents.change_status(incident_id=fourth["id"], actor=ACTOR,
                            data=StatusChangeIn(status="cancelled"))
    [again] = early_warning.evaluate(context="live", incident_id=ids[0])
    assert again["id"] == alert.id and again["suggestion"]["figures"]["cases"] == 3
    assert len(ew_alerts()) == 1


def test_a_single_class_a_case_is_critical_with_the_plague_plan_at_its_level(app):
    plague = case(29, disease="plague")
    [alert] = ew_alerts("class-a-case")
    sug = alert.suggestion
    assert alert.severity == "critical" and sug["incidents"] == [plague["id"]]
    # Suspected, not yet confirmed: the plan's level IV trigger (1 case in 6 days).
    assert sug["plan"] == "plague-human-case" and sug["level"] == "IV" and sug["level_met"]
    assert sug["level_basis"]["criterion"]["zh"] == "发现疑似人间鼠疫病例，尚待实验室确认"
    # The laboratory confirms it: the same case, but the plan's level III now applies.
    confirm_case(context="live", incident_id=plague["id"], actor=ACTOR)
    [alert] = ew_alerts("class-a-case")
    assert alert.suggestion["level"] == "III" and alert.suggestion["figures"]["confirmed"] == 1
    assert len(events("alert.updated")) == 1


def test_five_confirmed_plague_cases_in_a_banner_suggest_level_two(app):
    for n in range(4):
        case(25 + n * 0.5, disease="plague", type_="confirmed_case")
    last = case(27.5, disease="plague", type_="confirmed_case")
    [area] = ew_alerts("area-3-in-7d")
    assert area.suggestion["plan"] == "plague-human-case"
    assert area.suggestion["level"] == "II"
    assert area.suggestion["level_basis"]["cases"] == 5
    [single] = [a for a in ew_alerts("class-a-case") if a.suggestion["incidents"] == [last["id"]]]
    assert single.suggestion["level"] == "II"  # the banner's count, not the one case


def test_a_cluster_at_one_school(app):
    mf.area()
    upsert_places(places=[PlaceIn(code="SCH-1", name="乌兰花第一中学", kind="school",
                                  population=1200, lon=SIZIWANG[0], lat=SIZIWANG[1])],
                  actor=ACTOR, region=mf.REGION)
    case(28, disease="fever", dx=0.001)  # about 80 m away
    assert ew_alerts("school-cluster") == []
    case(28.5, disease="fever", where=(SIZIWANG[0] + 0.05, SIZIWANG[1]))  # 4 km: not there
    assert ew_alerts("school-cluster") == []
    case(29, disease="fever", dx=-0.002)
    [alert] = ew_alerts("school-cluster")
    assert alert.suggestion["figures"]["place"]["name"] == "乌兰花第一中学"
    assert alert.suggestion["figures"]["cases"] == 2
    assert "乌兰花第一中学" in alert.title_zh


GOOD = warning_rules.RULES_FILE.read_text(encoding="utf-8")


@pytest.mark.parametrize("change, line, words", [
    (("diseases: [plague, cholera,", "diseases: [dragonpox, plague, cholera,"), 46,
     "unknown disease dragonpox"),
    (("window: 7d\n        title: {zh: 同一旗县区", "window: 0m\n        title: {zh: 同一旗县区"),
     58, "impossible window"),
    (("window: 7d\n        title: {zh: 同一旗县区", "window: 400d\n        title: {zh: 同一旗县区"),
     58, "impossible window"),
    (("        at_least: 3\n        window: 7d\n        title: {zh: 同一旗县区",
      "        at_least: 3\n        areas: ['150929', '999999']\n        window: 7d\n"
      "        title: {zh: 同一旗县区"), 58, "unknown area 999999"),
])
def test_a_bad_rule_file_is_refused_with_file_and_line(change, line, words):
    bad = GOOD.replace(*change, 1)
    assert bad != GOOD
    loaded = warning_rules.parse(bad, name="plans/warning.yaml")
    assert not loaded.ok
    [error] = [e for e in loaded.errors if words in e.message]
    assert str(error).startswith(f"plans/warning.yaml:{line}: ")


def test_the_previous_rules_stay_in_force_when_an_edit_is_bad(tmp_path: Path):
    path = tmp_path / "rules.yaml"
    path.write_text(GOOD, encoding="utf-8")
    book = warning_rules.RuleBook()
    first = book.load(path)
    assert first is not None and book.refused == ()
    path.write_text(GOOD.replace("at_least: 3", "at_least: 2", 1)
                    .replace("window: 7d", "window: -1d", 1), encoding="utf-8")
    assert book.load(path) is first
    assert book.refused and "rules.yaml:" in str(book.refused[0])
    fixed = GOOD.replace("at_least: 3", "at_least: 2", 1)
    path.write_text(fixed, encoding="utf-8")
    now = book.load(path)
    assert now is not first and book.refused == ()
    rule = next(r for r in now.data.rule_sets[0].rules if r.id == "area-3-in-7d")
    assert rule.at_least == 2


def test_one_click_activates_the_suggested_plan_with_the_incidents(app, make_user, auth):
    make_user("operator", username="op-ew", display_name="王芳")
    auth.login("op-ew")
    first = case(28, disease="plague")
    case(28.2, disease="plague")
    alerts = ew_alerts("area-3-in-7d")
    assert alerts == []
    [a1, a2] = ew_alerts("class-a-case")
    # Nobody on duty for the plan's roles: refused before anything is written, with the
    # tasks and the choices (no task to nobody), and the alert stays to be acted on.
    refused = auth.post_json(f"/api/alerts/{a1.id}/activate", {})
    assert refused.status_code == 409 and refused.get_json()["code"] == "recipients_needed"
    assert refused.get_json()["details"]["tasks"]
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(PlanActivation)) == 0
    for code in PLAGUE_AGENCIES:
        crew("live", code, users=False)
    resp = auth.post_json(f"/api/alerts/{a1.id}/activate", {})
    assert resp.status_code == 201, resp.text
    body = resp.get_json()
    activation = body["activation"]
    assert activation["plan_id"] == "plague-human-case" and activation["level"] == "IV"
    assert activation["subject_ref"] == str(first["id"])
    with db.reading() as s:
        row = s.get(PlanActivation, activation["id"])
        assert f"#{first['id']}" in row.note and "class-a-case" in row.note
    assert body["alert"]["open"] is False and body["alert"]["acked_by"] == "王芳"
    [acted] = events("alert.acted")
    assert acted.actor_name == "op-ew" and acted.actor_display == "王芳"
    assert acted.payload["acted"]["activated_by"] == "王芳"
    assert acted.payload["suggestion"]["rule"] == "class-a-case"
    assert acted.payload["suggestion"]["figures"]["cases"] == 1
    assert acted.payload["acted"]["activation_id"] == activation["id"]
    # Twice: refused with the activation named; nothing new.
    again = auth.post_json(f"/api/alerts/{a1.id}/activate", {})
    assert again.status_code == 409
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(PlanActivation)) == 1
    # A liaison may not activate plans.
    make_user("liaison", username="li-ew")
    auth.login("li-ew")
    assert auth.post_json(f"/api/alerts/{a2.id}/activate", {}).status_code == 403


def test_a_non_warning_alert_or_bad_level_activates_nothing(app, make_user, auth):
    from coordination.alerts import service
    from coordination.alerts.models import AlertKind
    from coordination.alerts.service import AlertIn

    make_user("operator", username="op-ew2")
    auth.login("op-ew2")
    plain = service.raise_alert(data=AlertIn(kind=AlertKind.FACILITY_FULL, key="f:1",
                                             title_zh="满", title_en="full"),
                                actor=Actor.system("test"))
    assert auth.post_json(f"/api/alerts/{plain['id']}/activate", {}).status_code == 400
    case(29, disease="plague")
    [alert] = ew_alerts("class-a-case")
    assert auth.post_json(f"/api/alerts/{alert.id}/activate",
                          {"level": "V"}).status_code == 400
    assert auth.post_json("/api/alerts/99999/activate", {}).status_code == 404
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(PlanActivation)) == 0


def test_cli_check_and_show(tmp_path: Path):
    from click.testing import CliRunner

    from coordination.cli import main

    runner = CliRunner()
    ok = runner.invoke(main, ["warnings", "check"])
    assert ok.exit_code == 0 and ok.output.startswith("OK: 1 rule sets, 5 rules")
    bad = tmp_path / "warning.yaml"
    bad.write_text(GOOD.replace("window: 7d", "window: 0m", 1), encoding="utf-8")
    result = runner.invoke(main, ["warnings", "check", str(bad)])
    assert result.exit_code == 1 and f"{bad}:58: rule_sets.0.rules.2.window" in result.output
    shown = runner.invoke(main, ["warnings", "show", "--at", "2026-06-01T08:00:00+08:00"])
    assert shown.exit_code == 0 and '"id": "ew-2026"' in shown.output
    before = runner.invoke(main, ["warnings", "show", "--at", "2025-06-01T08:00:00+08:00"])
    assert before.exit_code == 1
