"""Plan routes that had no functional test: activating a plan, changing its level and
standing it down from the pages, and the major events' overview over the API."""

from __future__ import annotations

from coordination.plans import service as plans

from .roster_factories import crew

PLAN = "food-poisoning"


def _agencies() -> None:
    # Every agency the plan's roles name, each with someone on duty: no task to nobody.
    for code in ("cdc", "ems", "food_hygiene", "food_testing", "health_commission", "hospital",
                 "market_regulation"):
        crew("live", code, users=False)


def test_an_operator_activates_raises_and_stands_a_plan_down_from_the_pages(make_user, auth):
    _agencies()
    make_user("operator", username="op-plan", locale="en")
    auth.login("op-plan")
    form = {"csrf_token": auth.csrf}
    bogus = auth.client.post(f"/plans/{PLAN}/activate",
                             data=form | {"level": "V", "subject_ref": "FP-1"})
    assert bogus.status_code == 400 and 'id="activate-form"' in bogus.text
    assert plans.list_activations(context="live") == []
    r = auth.client.post(f"/plans/{PLAN}/activate",
                         data=form | {"level": "IV", "subject_ref": "FP-1", "note": "两校"})
    assert r.status_code == 302 and "/plans/activations/" in r.headers["Location"]
    (active,) = plans.list_activations(context="live")
    aid = active["id"]
    assert active["level"] == "IV" and r.headers["Location"].endswith(f"/activations/{aid}")
    twice = auth.client.post(f"/plans/{PLAN}/activate",
                             data=form | {"level": "IV", "subject_ref": "FP-1"})
    assert twice.status_code == 409 and len(plans.list_activations(context="live")) == 1

    r = auth.client.post(f"/plans/activations/{aid}/level", data=form | {"level": "III",
                                                                        "reason": "病例增加"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/activations/{aid}")
    view = plans.activation_view(context="live", activation_id=aid)
    assert view["level"] == "III" and "trace-supply" in auth.client.get(
        f"/plans/activations/{aid}").text
    bad = auth.client.post(f"/plans/activations/{aid}/level", data=form | {"level": "VI"})
    assert bad.status_code == 302
    assert plans.activation_view(context="live", activation_id=aid)["level"] == "III"

    empty = auth.client.post(f"/plans/activations/{aid}/stand-down", data=form | {"reason": ""})
    assert empty.status_code == 302
    assert plans.activation_view(context="live", activation_id=aid)["status"] == "active"
    r = auth.client.post(f"/plans/activations/{aid}/stand-down",
                         data=form | {"reason": "病例均已出院"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/activations/{aid}")
    assert plans.activation_view(context="live", activation_id=aid)["status"] == "stood_down"


def test_the_plan_forms_need_the_activating_role(make_user, auth):
    make_user("logistics", username="lg-plan")
    auth.login("lg-plan")
    form = {"csrf_token": auth.csrf, "level": "IV", "subject_ref": "X", "reason": "x"}
    for url in (f"/plans/{PLAN}/activate", "/plans/activations/1/level",
                "/plans/activations/1/stand-down"):
        assert auth.client.post(url, data=form).status_code == 403, url
    assert plans.list_activations(context="live") == []


def test_the_major_events_overview_over_the_api(make_user, auth):
    make_user("liaison", username="li-events")
    auth.login("li-events")
    body = auth.client.get("/api/plans/events").get_json()
    games = next(e for e in body["events"] if e["id"] == "14th-winter-games-ulanqab")
    assert games["gaps"] == 1 and games["sessions"] > 1  # d3-alpine is uncovered
    assert "invalid" not in body  # the files' errors are for administrators
    auth.client.post("/logout", data={"csrf_token": auth.csrf})
    make_user("admin", username="ad-events")
    auth.login("ad-events")
    assert auth.client.get("/api/plans/events").get_json()["invalid"] == []
