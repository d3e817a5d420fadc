"""Facilities and capacity reports at the service level: history, stale, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from coordination.errors import NotFound, ValidationFailed
from coordination.events import Event
from coordination.extensions import db
from coordination.facilities import service
from coordination.facilities.models import CapacityReport, Facility
from coordination.facilities.schemas import CapacityReportIn, NewFacility

from . import map_factories as mf

STALE = timedelta(hours=4)


def _count(model, *where):
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_reports_keep_history_and_merge_figures(app):
    f = mf.facility(initial={"figures": {"isolation_room": {"capacity": 10, "occupied": 2},
                                         "general_bed": {"capacity": 20, "occupied": 5}}})
    body = service.report_capacity(
        facility_id=f.id, actor=mf.ACTOR,
        data=CapacityReportIn(status="full", figures={"isolation_room": {"capacity": 10,
                                                                         "occupied": 10}}))
    assert body["status"] == "full"
    # The kinds not reported stay as they were.
    assert body["figures"] == {"isolation_room": {"capacity": 10, "occupied": 10},
                               "general_bed": {"capacity": 20, "occupied": 5}}
    detail = service.get_facility(facility_id=f.id, stale_after=STALE)
    assert [h["status"] for h in detail["history"]] == ["full", "open"]
    assert detail["history"][0]["reported"] == {"isolation_room": {"capacity": 10,
                                                                   "occupied": 10}}
    assert _count(CapacityReport, CapacityReport.facility_id == f.id) == 2
    with db.reading() as s:
        ev = s.scalars(select(Event).where(Event.type == "facility.capacity_reported")).one()
    assert ev.payload["id"] == f.id and ev.payload["status"] == "full"
    assert "role:operator" in ev.audience


def test_a_facility_without_a_recent_report_is_stale(app):
    old = datetime.now(UTC) - timedelta(hours=8)
    f = mf.facility(initial={"figures": {"general_bed": {"capacity": 5, "occupied": 1}}},
                    reported_at=old)
    never = mf.facility(kind="township_health_centre")
    station = mf.facility(kind="ems_station")
    shown = {feat["id"]: feat["properties"]["shown_status"]
             for feat in service.facilities_geojson(stale_after=STALE)["features"]}
    assert shown[f.id] == "stale"
    assert shown[never.id] == "stale"
    assert shown[station.id] == "open"  # stations report no beds, so never go stale
    assert service.facilities_geojson(stale_after=timedelta(hours=9))["features"][0][
        "properties"]["shown_status"] == "open"
    service.report_capacity(facility_id=f.id, data=CapacityReportIn(status="diverting"),
                            actor=mf.ACTOR)
    assert service.get_facility(facility_id=f.id, stale_after=STALE)["shown_status"] == \
        "diverting"


@pytest.mark.parametrize("figures", [
    {"icu_bed": {"capacity": 2, "occupied": 3}},
    {"icu_bed": {"capacity": 2, "occupied": -1}},
    {"icu_bed": {"capacity": -2, "occupied": 0}},
    {"sofa": {"capacity": 2, "occupied": 0}},
])
def test_impossible_figures_are_refused(figures):
    with pytest.raises(ValidationError):
        CapacityReportIn(status="open", figures=figures)


def test_unknown_facility_changes_nothing(app):
    before = _count(Event)
    with pytest.raises(NotFound):
        service.report_capacity(facility_id=999, data=CapacityReportIn(), actor=mf.ACTOR)
    assert _count(Event) == before and _count(CapacityReport) == 0


def test_a_bad_row_in_a_load_writes_nothing(app):
    good = NewFacility(code="A", name="好", kind="fever_clinic", lon=113.1, lat=41.0)
    swapped = NewFacility(code="B", name="坏", kind="fever_clinic", lon=41.0, lat=113.1)
    with pytest.raises(ValidationFailed):
        service.create_facilities(items=[good, swapped], actor=mf.ACTOR, region=mf.REGION)
    assert _count(Facility) == 0
    unknown_area = NewFacility(code="C", name="x", kind="cdc_lab", lon=113.1, lat=41.0,
                               area="999999")
    with pytest.raises(ValidationFailed):
        service.create_facilities(items=[unknown_area], actor=mf.ACTOR, region=mf.REGION)
    assert _count(Facility) == 0


def test_loading_twice_adds_only_what_is_missing(app):
    item = NewFacility(code="A", name="好", kind="fever_clinic", lon=113.1, lat=41.0)
    assert service.create_facilities(items=[item], actor=mf.ACTOR, region=mf.REGION) == 1
    assert service.create_facilities(items=[item], actor=mf.ACTOR, region=mf.REGION) == 0
    assert _count(Facility) == 1
